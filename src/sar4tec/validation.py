"""Compare a frame's products with the truth of a synthetic frame (``data/{frame}/truth.h5``).

Only benchmarks and tests use this module; no processing stage reads the truth.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import decimal_years, read_times


def _read_tif(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as src:
        values = src.read(1, masked=True).astype(np.float64)
    return values.filled(np.nan)


def error_statistics(
    estimate: np.ndarray, truth: np.ndarray, sigma: np.ndarray | None = None
) -> dict:
    """RMSE, bias, median absolute error (and the 1σ/2σ coverage) over finite pixels."""
    valid = np.isfinite(estimate) & np.isfinite(truth)
    if sigma is not None:
        valid &= np.isfinite(sigma) & (sigma > 0)
    error = (estimate - truth)[valid]
    if error.size == 0:
        raise ValueError("no pixel has both an estimate and a truth value")
    stats = {
        "pixels": int(error.size),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "bias": float(np.mean(error)),
        "std": float(np.std(error)),
        "median_abs": float(np.median(np.abs(error))),
        "p95_abs": float(np.percentile(np.abs(error), 95)),
    }
    if sigma is not None:
        ratio = np.abs(error) / sigma[valid]
        stats["within_1sigma"] = float(np.mean(ratio < 1.0))
        stats["within_2sigma"] = float(np.mean(ratio < 2.0))
        stats["median_sigma"] = float(np.median(sigma[valid]))
    return stats


def untouchable_velocity_noise(truth_path: str | Path, reference: tuple[int, int]) -> np.ndarray:
    """Per-pixel velocity (mm/yr) of the truth's turbulence and orbit ramps, relative to a pixel.

    No correction removes these components, so their velocity is the error floor of any
    processing: the least-squares rate (with annual and semi-annual terms, as the inversion
    fits) of turbulence + ramp, relative to ``reference`` (row, col).
    """
    with h5py.File(truth_path, "r") as f:
        times = read_times(f)
        noise = f["turbulence"][()].astype(np.float64) + f["ramp"][()]
    years = decimal_years(times, times[0])
    noise -= noise[:, reference[0], reference[1]][:, None, None]
    w = 2 * np.pi * years
    design = np.column_stack(
        [np.ones_like(years), years, np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)]
    )
    rate = np.linalg.pinv(design)[1]
    return np.tensordot(rate, noise, axes=(0, 0))


def evaluate_frame(results_dir: str | Path, truth_path: str | Path, work_dir: str | Path) -> dict:
    """Accuracy of a processed synthetic frame against its truth (mm/yr).

    Returns a dictionary with
    ``velocity``            the product ``velocity.tif`` (GNSS-calibrated, product frame) vs the
                            truth in the same frame, with ``velocity_std.tif`` coverage;
    ``relative_corrected``, ``relative_raw``
                            the inversion's velocity with and without corrections, relative to
                            the reference pixel, vs the truth relative to the same pixel;
    ``noise_floor``         RMS over the valid pixels of :func:`untouchable_velocity_noise`;
    ``gnss_tie_sigma``      the 1-sigma the reference stage states for its GNSS tie
                            (``calibrated.h5``), at the median pixel.
    """
    results_dir, work_dir = Path(results_dir), Path(work_dir)
    with h5py.File(truth_path, "r") as f:
        truth = f["velocity"][()].astype(np.float64)
        truth_itrf = f["velocity_itrf"][()].astype(np.float64)
        truth_frame = str(f["velocity"].attrs.get("reference_frame", ""))
    report = {
        "velocity": error_statistics(
            _read_tif(results_dir / "velocity.tif"),
            truth,
            _read_tif(results_dir / "velocity_std.tif"),
        ),
        "truth_reference_frame": truth_frame,
    }
    with h5py.File(work_dir / "timeseries.h5", "r") as f:
        row, col = int(f.attrs["reference_row"]), int(f.attrs["reference_col"])
        mask = f["mask"][()].astype(bool)
        relative_truth = truth_itrf - truth_itrf[row, col]
        for name, dataset in (("relative_corrected", "velocity"), ("relative_raw", "velocity_raw")):
            estimate = np.where(mask, f[dataset][()] * 1000.0, np.nan)
            sigma = np.where(mask, f["velocity_std"][()] * 1000.0, np.nan)
            report[name] = error_statistics(estimate, relative_truth, sigma)
    floor = untouchable_velocity_noise(truth_path, (row, col))[mask]
    report["noise_floor"] = float(np.sqrt(np.mean((floor - floor.mean()) ** 2)))
    with h5py.File(work_dir / "calibrated.h5", "r") as f:
        report["gnss_tie_sigma"] = 1000.0 * float(np.nanmedian(f["calibration_surface_std"][()]))
    return report
