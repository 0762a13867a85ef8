"""Ingesting an ISCE2 topsStack onto a frame grid: time and peak memory per date.

    python benchmarks/ingest.py             # writes benchmarks/results/ingest.json

A synthetic topsStack (:func:`sar4tec.ingest.synthetic.write_topsstack`) of ``--lines`` x
``--samples`` radar samples per date at the ground spacing of Sentinel-1 IW SLCs (13.9 m along
track, 3.7 m across at 39 deg incidence: 2.33 m slant range) is ingested onto the project's
default CSLC grid (0.0001 x 0.00005 deg) covering its footprint.  The ingestion runs in a child
process so its peak resident memory (``VmHWM``) is its own; the baseline after the imports
is reported too.  Options: ``--dates``, ``--block-size``, ``--output``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
SPACING_M = (13.9, 3.7)  # ground metres per radar line and sample (IW, ~39 deg incidence)
FRAME_SPACING = (0.0001, 0.00005)  # stack.cslc_spacing default


def _peak_rss_mb() -> float:
    """This process's peak resident memory (Linux ``VmHWM``: unlike ``ru_maxrss`` it does not
    carry over the parent's peak across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child(stack: str, manifest: str, out: str, block_size: int) -> None:
    """Ingest and print time and memory as JSON (run in its own process)."""
    from sar4tec.ingest import IngestSettings, ingest_frame

    baseline = _peak_rss_mb()
    settings = IngestSettings("isce2", stack, spacing=FRAME_SPACING, block_size=block_size)
    t0 = time.perf_counter()
    ingest_frame(settings, manifest, out)
    seconds = time.perf_counter() - t0
    print(
        json.dumps({"seconds": seconds, "rss_baseline_mb": baseline, "rss_peak_mb": _peak_rss_mb()})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1500)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--dates", type=int, default=3)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--child", nargs=3, metavar=("STACK", "MANIFEST", "OUT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.block_size)
        return

    import h5py
    import numpy as np

    from sar4tec.ingest.isce2 import Isce2Source
    from sar4tec.ingest.synthetic import write_frame_inputs, write_topsstack

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        write_topsstack(
            tmp / "stack", shape=(args.lines, args.samples), n_dates=args.dates, spacing_m=SPACING_M
        )
        source = Isce2Source(tmp / "stack")
        manifest = write_frame_inputs(
            tmp / "data", [d.start for d in source.dates], source.footprint()
        )
        prepared = time.perf_counter() - t0
        run = subprocess.run(
            [sys.executable, __file__, "--block-size", str(args.block_size), "--child",
             str(tmp / "stack"), str(manifest), str(tmp / "work")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        measured = json.loads(run.stdout.strip().splitlines()[-1])
        with h5py.File(tmp / "work" / f"{source.dates[0].date}.h5") as f:
            slc = f["data/VV"]
            frame_shape = slc.shape
            valid = float(np.isfinite(slc[()]).mean())
        slc_mb = args.lines * args.samples * 8 / 2**20
    pixels = frame_shape[0] * frame_shape[1]
    report = {
        "what": "ISCE2 topsStack ingestion (nearest radar sample, k-d tree per block)",
        "radar_samples_per_date": [args.lines, args.samples],
        "radar_ground_spacing_m": list(SPACING_M),
        "dates": args.dates,
        "frame_grid": list(frame_shape),
        "frame_spacing_deg": list(FRAME_SPACING),
        "frame_pixels_with_data": round(valid, 3),
        "block_size": args.block_size,
        "seconds_total": round(measured["seconds"], 2),
        "seconds_per_date": round(measured["seconds"] / args.dates, 2),
        "frame_pixels_per_second": round(pixels * args.dates / measured["seconds"]),
        "rss_peak_mb": round(measured["rss_peak_mb"], 1),
        "rss_after_imports_mb": round(measured["rss_baseline_mb"], 1),
        "one_source_slc_mb": round(slc_mb, 1),
        "synthetic_stack_written_in_s": round(prepared, 1),
        "machine": f"{platform.node()} ({os.cpu_count()} cores, {platform.processor() or '?'})",
        "note": "shared 2-core machine under load from other jobs: timings are noisy",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
