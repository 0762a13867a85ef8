"""Peak RSS of phase linking and inversion at a fixed block size for growing frame sizes.

Each measurement runs in a fresh subprocess (``resource.getrusage(RUSAGE_CHILDREN)`` after it
exits gives its peak RSS), so frames do not share a heap.  Phase linking: a synthetic stack
written to HDF5 and ``link_tile`` on one tile covering the frame (the job of the workflow).
Inversion: the block arrays of the model, allocated and filled per block as the stage does.
The memory models (``sar4tec.phaselink.memory``, ``sar4tec.timeseries.memory``) are printed
next to the measurement.

    python benchmarks/memory.py            # 256^2, 512^2, 1024^2 px, 30 dates
    python benchmarks/memory.py --quick    # 128^2, 256^2 px, 15 dates

Writes ``benchmarks/results/memory.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "memory.json"
BLOCK = 128

PHASE_LINKING = """
import sys, h5py, numpy as np
from datetime import UTC, datetime, timedelta
from sar4tec.files import write_times
from sar4tec.grid import Grid
from sar4tec.phaselink import PhaseLinkOptions
from sar4tec.phaselink.tiles import link_tile, write_tile_plan
size, n, block, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(0)
grid = Grid((30.0, 0.001, 0.0, 41.0, 0.0, -0.001), (size, size))
with h5py.File(f"{tmp}/stack.h5", "w") as f:
    ds = f.create_dataset("slc", (n, size, size), np.complex64, chunks=(1, 128, 128))
    for k in range(n):  # one date at a time: the writer stays small too
        ds[k] = (rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size))).astype(
            np.complex64)
    write_times(f, [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=12 * k) for k in range(n)])
    f.attrs.update(grid.to_attrs())
opts = PhaseLinkOptions(ministack_size=15, half_window=(5, 5))
write_tile_plan(f"{tmp}/stack.h5", f"{tmp}/plan.json", opts, tile_size=size)
link_tile(f"{tmp}/stack.h5", f"{tmp}/plan.json", "t0000", f"{tmp}/tile.h5", opts,
          block_size=block)
"""

INVERSION = """
import sys, numpy as np
from sar4tec.stack import iter_blocks
size, n, block = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
n_ifg, n_corr = 3 * n, 3
for b in iter_blocks((size, size), (block, block)):
    p = (b.core[0].stop - b.core[0].start) * (b.core[1].stop - b.core[1].start)
    ifg = [np.random.default_rng(0).normal(size=(n_ifg, p)) for _ in range(6)]
    dates = [np.ones((n, p)) for _ in range(4 + n_corr)]
    del ifg, dates
"""


def peak_rss_mb(code: str, *args: str) -> float:
    """Peak RSS (MiB) of ``python -c code args`` in a fresh child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        raise RuntimeError("child peak RSS not above an earlier child's; run one per process")
    return after / 1024.0  # ru_maxrss is KiB on Linux


def measure(kind: str, size: int, n_dates: int) -> float:
    """Run one measurement in a separate interpreter (RUSAGE_CHILDREN keeps a running max)."""
    out = subprocess.run(
        [sys.executable, __file__, "--one", kind, str(size), str(n_dates)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", nargs=3, metavar=("KIND", "SIZE", "DATES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, size, n = args.one
        with tempfile.TemporaryDirectory() as tmp:
            code = PHASE_LINKING if kind == "phase_linking" else INVERSION
            print(peak_rss_mb(code, size, n, str(BLOCK), tmp))
        return
    from sar4tec.phaselink import PhaseLinkOptions
    from sar4tec.phaselink.memory import phase_linking_peak_mb
    from sar4tec.timeseries.memory import inversion_peak_mb

    sizes, n_dates = ([128, 256], 15) if args.quick else ([256, 512, 1024], 30)
    opts = PhaseLinkOptions(ministack_size=15, half_window=(5, 5))
    rows = []
    for kind in ("phase_linking", "inversion"):
        model = (
            phase_linking_peak_mb(BLOCK, n_dates, opts, 1)
            if kind == "phase_linking"
            else inversion_peak_mb(BLOCK, n_dates, 3 * n_dates, 3)
        )
        for size in sizes:
            rss = measure(kind, size, n_dates)
            rows.append({"job": kind, "frame_px": f"{size}^2", "dates": n_dates,
                         "block": BLOCK, "peak_rss_mb": round(rss, 1),
                         "model_mb": round(model, 1)})  # fmt: skip
            print(rows[-1], flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "command": "python benchmarks/memory.py" + (" --quick" if args.quick else ""),
        "host": {"machine": platform.machine(), "python": platform.python_version(),
                 "note": "shared 2-core development machine; RSS does not depend on load"},
        "results": rows,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
