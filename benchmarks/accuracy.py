"""Accuracy of the synthetic demo's products against its truth.

    snakemake --cores 2                 # process the demo (config/config.yaml)
    python benchmarks/accuracy.py       # -> benchmarks/results/accuracy.json

Options: --frame NAME, --data/--work/--results folders, --output PATH.
"""

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from sar4tec import __version__
from sar4tec.validation import evaluate_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame", default="demo")
    parser.add_argument("--data", default="data")
    parser.add_argument("--work", default="work")
    parser.add_argument("--results", default="results")
    parser.add_argument("--output", default="benchmarks/results/accuracy.json")
    args = parser.parse_args()
    report = evaluate_frame(
        Path(args.results) / args.frame,
        Path(args.data) / args.frame / "truth.h5",
        Path(args.work) / args.frame,
    )
    report = {
        "frame": args.frame,
        "units": "mm/yr",
        "sar4tec_version": __version__,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **report,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
