"""Appending acquisitions to a processed frame: incremental rerun vs a full run from scratch.

    python benchmarks/incremental.py                 # 41 -> 51 dates of the demo
    python benchmarks/incremental.py --initial 31 --appended 20 --keep /tmp/inc
    python benchmarks/incremental.py --corrections-only /tmp/inc/full   # layers alone
    # writes benchmarks/results/incremental.json

The demo (``config/config.yaml``) is run through Snakemake with its acquisition range cut to
``initial`` dates; the range is then extended by ``appended`` dates and the same folder rerun
(the incremental run: old dates' simulated files are bit-identical, correction layers of old
dates come from the per-date cache). A second folder runs the extended range from scratch.
Recorded: wall time of each run, the jobs Snakemake reran (``-n`` job stats before the
incremental run), seconds per rule of each run (the region summary), how many correction
dates were computed, and the differences between the incremental and the full products
(velocity RMS/max in mm/yr, time series RMS/max in mm, correction layers).  Numbers from a
shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import h5py
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` with its ``config.yaml`` on 2 cores."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
               "--cores", "2", *args]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} in {workdir} failed:\n{run.stderr[-4000:]}")
    return run


def write_config(workdir: Path, dates: int) -> None:
    """The demo configuration with the acquisition range cut to ``dates`` acquisitions."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    acq = config["simulation"]["acquisitions"]
    step = 12 * int(acq.get("subsample", 1))  # Sentinel-1A repeat cycle x subsample
    end = date.fromisoformat(acq["start"]) + timedelta(days=step * (dates - 1))
    acq["end"] = end.isoformat()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def timed_run(workdir: Path) -> dict:
    """Run the workflow; wall time and the seconds per rule of the region summary."""
    start = time.perf_counter()
    snakemake(workdir)
    seconds = time.perf_counter() - start
    summary = json.loads((workdir / "results/summary.json").read_text())
    return {
        "wall_s": round(seconds, 1),
        "rule_s": {k: round(v["seconds"], 1) for k, v in summary["rules"].items()},
    }


def planned_jobs(workdir: Path) -> dict[str, int]:
    """Jobs per rule that ``snakemake -n`` plans (its job stats table)."""
    out = snakemake(workdir, "-n").stdout
    table = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    jobs = {}
    for line in table.splitlines():
        if m := re.match(r"^(\w+)\s+(\d+)$", line.strip()):
            jobs[m[1]] = int(m[2])
    return jobs


def corrections_computed(workdir: Path) -> dict[str, str]:
    """The ``computed n of m dates`` line of each correction log."""
    out = {}
    for log in sorted((workdir / "logs/demo").glob("correction_*.log")):
        found = re.search(r"computed \d+ of \d+ dates, \d+ from the cache", log.read_text())
        out[log.stem.removeprefix("correction_")] = found[0] if found else "no cache line"
    return out


def _diff(a: np.ndarray, b: np.ndarray) -> dict:
    both = np.isfinite(a) & np.isfinite(b)
    d = (a - b)[both]
    return {
        "rms": float(np.sqrt(np.mean(d**2))) if d.size else None,
        "max": float(np.abs(d).max()) if d.size else None,
        "pixels_compared": int(both.sum()),
        "valid_only_in_one": int((np.isfinite(a) ^ np.isfinite(b)).sum()),
    }


def compare(inc: Path, full: Path) -> dict:
    """Differences of the incremental products from the full run's."""
    import rasterio

    out = {}
    with rasterio.open(inc / "velocity.tif") as a, rasterio.open(full / "velocity.tif") as b:
        out["velocity_mm_yr"] = _diff(a.read(1).astype(float), b.read(1).astype(float))
    with h5py.File(inc / "timeseries.h5") as a, h5py.File(full / "timeseries.h5") as b:
        out["timeseries_mm"] = _diff(1e3 * a["timeseries"][()], 1e3 * b["timeseries"][()])
    return out


def compare_stages(inc: Path, full: Path, initial: int) -> dict:
    """Where the runs part: the SLC stack of the old dates, then the linked phase."""
    with h5py.File(inc / "stack/slc_stack.h5") as a, h5py.File(full / "stack/slc_stack.h5") as b:
        same_slc = bool(np.array_equal(a["slc"][:initial], b["slc"][:initial]))
    with (
        h5py.File(inc / "phase_linking/linked.h5") as a,
        h5py.File(full / "phase_linking/linked.h5") as b,
    ):
        wrapped = np.angle(np.exp(1j * (a["phase"][()] - b["phase"][()])))
    finite = np.isfinite(wrapped)
    return {
        "slc_stack_old_dates_identical": same_slc,
        "linked_phase_rms_rad": float(np.sqrt(np.mean(wrapped[finite] ** 2))),
        "linked_phase_rms_rad_per_date": [
            round(float(np.sqrt(np.nanmean(w**2))), 4) for w in wrapped
        ],
    }


def accuracy(workdir: Path) -> dict:
    """Velocity of the product vs the simulated truth (``sar4tec.validation``)."""
    from sar4tec.validation import evaluate_frame

    report = evaluate_frame(
        workdir / "results/demo", workdir / "data/demo/truth.h5", workdir / "work/demo"
    )
    return report["velocity"]


def compare_layers(inc: Path, full: Path) -> dict[str, bool]:
    """Whether each correction layer of the incremental run equals the full run's, bitwise."""
    out = {}
    for kind in ("troposphere", "ionosphere", "tides"):
        with h5py.File(inc / f"{kind}.h5") as a, h5py.File(full / f"{kind}.h5") as b:
            out[kind] = bool(np.array_equal(a["correction"][()], b["correction"][()]))
    return out


def correction_timings(workdir: Path, initial: int) -> dict:
    """In-process seconds of each correction layer for a processed folder: all dates computed,
    ``initial`` dates from the cache and the rest computed, and every date from the cache."""
    from sar4tec.config import load_config
    from sar4tec.corrections.layers import write_layer

    settings = load_config(workdir / "config.yaml")["corrections"]
    manifest = workdir / "data/demo/manifest.json"
    geometry = workdir / "work/demo/geometry.h5"
    content = json.loads(manifest.read_text())
    first = manifest.with_name("manifest_initial.json")  # same folder: same relative paths
    first.write_text(json.dumps({**content, "slc": content["slc"][:initial]}))
    out = {}
    with tempfile.TemporaryDirectory(prefix="sar4tec-corrections-") as tmp:
        for kind in ("troposphere", "ionosphere", "tides"):
            layer = Path(tmp) / kind / f"{kind}.h5"
            times = {}
            for label, source, cache in (
                ("all_computed_s", manifest, False),
                (None, first, True),  # fills the cache with the initial dates
                ("appended_computed_s", manifest, True),
                ("all_cached_s", manifest, True),
            ):
                start = time.perf_counter()
                write_layer(kind, source, geometry, layer, settings, use_cache=cache)
                if label:
                    times[label] = round(time.perf_counter() - start, 2)
            out[kind] = times
    first.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initial", type=int, default=41, help="dates of the first run")
    parser.add_argument("--appended", type=int, default=10, help="dates appended")
    parser.add_argument("--keep", help="run in this folder and keep it (default: temporary)")
    parser.add_argument(
        "--corrections-only",
        metavar="FOLDER",
        help="only time the correction layers in the processed FOLDER (e.g. KEEP/full) and "
        "update 'corrections_in_process' of the existing results file",
    )
    args = parser.parse_args()
    path = ROOT / "benchmarks/results/incremental.json"
    if args.corrections_only:
        result = json.loads(path.read_text())
        timings = correction_timings(Path(args.corrections_only), result["dates"]["initial"])
        result["corrections_in_process"] = timings
        path.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(timings, indent=1))
        return
    total = args.initial + args.appended
    with tempfile.TemporaryDirectory(prefix="sar4tec-incremental-") as tmp:
        root = Path(args.keep or tmp)
        inc, full = root / "incremental", root / "full"
        write_config(inc, args.initial)
        first = timed_run(inc)
        write_config(inc, total)
        plan = planned_jobs(inc)
        incremental = timed_run(inc)
        incremental["corrections"] = corrections_computed(inc)
        write_config(full, total)
        scratch = timed_run(full)
        products = compare(inc / "results/demo", full / "results/demo")
        layers = compare_layers(inc / "work/demo/corrections", full / "work/demo/corrections")
        stages = compare_stages(inc / "work/demo", full / "work/demo", args.initial)
        truth = {"incremental": accuracy(inc), "full": accuracy(full)}
        in_process = correction_timings(full, args.initial)
    result = {
        "benchmark": "append acquisitions to the demo frame: incremental rerun vs full run",
        "command": f"python benchmarks/incremental.py --initial {args.initial} "
        f"--appended {args.appended}",
        "dates": {"initial": args.initial, "appended": args.appended, "total": total},
        "first_run": first,
        "rerun_plan_jobs": plan,
        "incremental_run": incremental,
        "full_run": scratch,
        "speedup_full_over_incremental": round(scratch["wall_s"] / incremental["wall_s"], 2),
        "difference_incremental_minus_full": products,
        "correction_layers_identical": layers,
        "corrections_in_process": in_process,
        "upstream_of_the_products": stages,
        "velocity_vs_truth_mm_yr": truth,
        "machine": f"{platform.node()}: {platform.processor() or platform.machine()}, "
        "2 cores shared with other jobs (noisy timings)",
    }
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
