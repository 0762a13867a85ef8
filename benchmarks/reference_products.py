"""GNSS calibration accuracy per surface, and speed/memory of the reference and products stages.

Run from the repository root::

    python benchmarks/reference_products.py [--seeds 10] [--size 1400 1800] [--dates 60]

1. Accuracy: the synthetic frame of ``tests/test_reference_stage.py`` (a fault and a
   subsidence bowl in a Eurasia-fixed frame plus the Eurasia rigid motion, an orbital ramp,
   0.5 mm/yr pixel noise, 40 GNSS stations with 0.4/0.4/0.8 mm/yr noise and one corrupted
   station) is calibrated with each surface type for ``--seeds`` noise realisations; bias and
   RMSE of the plate-fixed velocity against the truth and the leave-one-out RMSE over stations
   are reported (mm/yr).
2. Speed and peak memory: the same scene on a ``--size`` grid with ``--dates`` acquisitions;
   ``run_reference`` and ``run_products`` are timed, and their peak traced memory
   (``tracemalloc``, numpy allocations included) is reported next to the size of one float64
   image and of the displacement cube, to show that memory follows images, not the cube.

Results: ``benchmarks/results/reference_products.json``.  Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_reference_stage import GRID, run, write_frame  # noqa: E402

from sar4tec import __version__  # noqa: E402
from sar4tec.files import read_times, write_times  # noqa: E402
from sar4tec.grid import Grid  # noqa: E402
from sar4tec.products.stage import run_products  # noqa: E402


def accuracy(seeds: int) -> dict:
    out = {}
    for surface in ("auto", "offset", "plane", "quadratic", "smooth"):
        rows = []
        for seed in range(seeds):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                truth = write_frame(folder, seed=seed)
                summary = run(folder, output_frame="plate", surface=surface)
                with h5py.File(folder / "calibrated.h5") as f:
                    v = f["velocity"][()].astype(float)
                err = (v - truth["plate"])[truth["mask"]] * 1e3
                rows.append((err.mean(), np.sqrt(np.mean(err**2)), summary["cv_rmse_mm_yr"]))
        r = np.array(rows)
        out[surface] = {
            "bias_mean": round(float(r[:, 0].mean()), 4),
            "bias_std": round(float(r[:, 0].std()), 4),
            "bias_max_abs": round(float(np.abs(r[:, 0]).max()), 4),
            "rmse_mean": round(float(r[:, 1].mean()), 4),
            "cv_rmse_mean": round(float(r[:, 2].mean()), 4),
        }
        print(surface, out[surface], flush=True)
    return out


def _timed(func, *args, **kwargs):
    tracemalloc.start()
    start = time.perf_counter()
    func(*args, **kwargs)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(elapsed, 2), round(peak / 2**20, 1)


def speed(size: tuple[int, int], dates: int) -> dict:
    x0, _, _, y0, _, _ = GRID.transform
    west, south, east, north = GRID.bounds
    grid = Grid((x0, (east - west) / size[1], 0.0, y0, 0.0, -(north - south) / size[0]), size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_frame(folder, grid=grid, n_dates=dates)
        with h5py.File(folder / "timeseries.h5") as f:
            times = read_times(f)
        with h5py.File(folder / "linked.h5", "w") as f:
            f.attrs.update(grid.to_attrs())
            write_times(f, times)
            f["temporal_coherence"] = np.ones(grid.shape, np.float32)
            f["ps_mask"] = np.zeros(grid.shape, np.uint8)
        corrections = []
        for kind in ("troposphere", "ionosphere", "tides"):
            corrections.append(folder / f"{kind}.h5")
            with h5py.File(corrections[-1], "w") as f:
                f.attrs.update({**grid.to_attrs(), "kind": kind})
                write_times(f, times)
                f.create_dataset("correction", (len(times), *grid.shape), np.float32,
                                 chunks=(len(times), 64, 64), fillvalue=0.0)  # fmt: skip
        t_ref, m_ref = _timed(run, folder, output_frame="plate", insar_radius_m=500.0)
        (folder / "results").mkdir()
        (folder / "gnss_residuals.csv").rename(folder / "results" / "gnss_residuals.csv")
        t_prod, m_prod = _timed(
            run_products, folder / "calibrated.h5", folder / "timeseries.h5",
            folder / "linked.h5", folder / "geometry.h5",
            folder / "results" / "gnss_residuals.csv", folder / "manifest.json", corrections,
            folder / "results", {}, {},
        )  # fmt: skip
    image_mb = grid.rows * grid.cols * 8 / 2**20
    return {
        "grid": list(grid.shape),
        "dates": dates,
        "float64_image_mib": round(image_mb, 1),
        "float32_cube_mib": round(image_mb / 2 * dates, 1),
        "reference_seconds": t_ref,
        "reference_peak_traced_mib": m_ref,
        "products_seconds": t_prod,
        "products_peak_traced_mib": m_prod,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--size", type=int, nargs=2, default=(1400, 1800))
    parser.add_argument("--dates", type=int, default=60)
    parser.add_argument("--output", default="benchmarks/results/reference_products.json")
    args = parser.parse_args()
    report = {
        "sar4tec_version": __version__,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "shared 2-core machine: timings are noisy",
        "accuracy_mm_yr": accuracy(args.seeds),
        "speed": speed(tuple(args.size), args.dates),
    }
    print(json.dumps(report["speed"], indent=2))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
