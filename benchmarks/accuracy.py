"""Accuracy of the synthetic demo's products against its truth, for one run or several seeds.

    snakemake --cores 2                 # process the demo (config/config.yaml)
    python benchmarks/accuracy.py       # -> benchmarks/results/accuracy.json

    # several realisations, each processed through Snakemake in RUNS/seed<S> (a folder that
    # is already complete is only evaluated) -> benchmarks/results/accuracy_seeds.json
    python benchmarks/accuracy.py --seeds 0 1 2 3 --runs /tmp/seeds

Options: --frame NAME, --data/--work/--results folders, --output PATH, --cores N.
Each report holds the velocity's and the relative velocities' error statistics, the noise
floor (the velocity of the turbulence and ramps no correction removes) and the GNSS tie's
stated 1-sigma (``sar4tec.validation.evaluate_frame``).
"""

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sar4tec import __version__
from sar4tec.validation import evaluate_frame

REPO = Path(__file__).resolve().parents[1]


def process_seed(seed: int, workdir: Path, cores: int) -> None:
    """Run the demo with ``seed`` through Snakemake in ``workdir`` (nothing to do if done)."""
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(REPO / "config/config.yaml"),
        "--config", f"seed={seed}", "--cores", str(cores),
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=sys.stderr)


def evaluate(frame: str, data: Path, work: Path, results: Path) -> dict:
    return evaluate_frame(results / frame, data / frame / "truth.h5", work / frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame", default="demo")
    parser.add_argument("--data", default="data", type=Path)
    parser.add_argument("--work", default="work", type=Path)
    parser.add_argument("--results", default="results", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", help="process these seeds of the demo")
    parser.add_argument("--runs", type=Path, help="folder of the seeds' runs (with --seeds)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    meta = {
        "frame": args.frame,
        "units": "mm/yr",
        "sar4tec_version": __version__,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.seeds:
        if args.runs is None:
            parser.error("--seeds needs --runs")
        reports = {}
        for seed in args.seeds:
            workdir = args.runs / f"seed{seed}"
            print(f"seed {seed}: {workdir}", file=sys.stderr)
            process_seed(seed, workdir, args.cores)
            reports[str(seed)] = evaluate(
                args.frame, workdir / "data", workdir / "work", workdir / "results"
            )
        report = meta | {"seeds": reports}
        output = args.output or Path("benchmarks/results/accuracy_seeds.json")
    else:
        report = meta | evaluate(args.frame, args.data, args.work, args.results)
        output = args.output or Path("benchmarks/results/accuracy.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
