"""The ``inversion`` stage: unwrapped network → time series, corrections, velocity, masks.

Block by block (memory bounded by the block size): interferograms in the reference pixel's
connected component, relative to the reference pixel, are inverted (L1 or weighted L2) for
the phase of every date; converted to LOS displacement and re-referenced to the reference
date; the correction layers, re-referenced the same way, are subtracted; the time functions
are fitted to the raw and the corrected series; the velocity uncertainty comes from the
residuals (:mod:`sar4tec.timeseries.model`).  Output layout: ``docs/architecture.md``.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from scipy.ndimage import uniform_filter

from sar4tec.constants import phase_to_los
from sar4tec.files import atomic_output, decimal_years, parse_time, read_times, write_times
from sar4tec.grid import Grid
from sar4tec.stack import iter_blocks
from sar4tec.timeseries.corrections import ScatterTable, rereference
from sar4tec.timeseries.inversion import invert_network, phase_variance
from sar4tec.timeseries.memory import inversion_block_size
from sar4tec.timeseries.model import (
    TimeFunctions,
    ar1_velocity_std,
    bootstrap_velocity_std,
    fit_time_functions,
    lag1_sums,
    slant_range,
)
from sar4tec.unwrap.stage import check_times

log = logging.getLogger(__name__)

STD_METHODS = {
    "ar1": (
        "ar1: OLS velocity variance s^2 [G+ S G+^T]_vv for continuous-time AR(1) residuals "
        "S_ij = rho^(|t_i-t_j|/dt); rho from the lag-1 autocorrelation of the time-function "
        "residuals, corrected for its fit bias; s^2 = r'r / tr(M S) (see docs/timeseries.md)"
    ),
    "bootstrap": (
        "bootstrap: standard deviation of the velocity over moving-block bootstrap resamples "
        "of the dates (Fattahi & Amelung 2015; Kuensch 1989)"
    ),
    "white": "white: least-squares sigma from the residuals assuming white noise (optimistic)",
}


def _read_bperp(slc_stack_path: str | Path | None, n_dates: int) -> np.ndarray | None:
    if slc_stack_path is None or not Path(slc_stack_path).exists():
        return None
    with h5py.File(slc_stack_path, "r") as f:
        if "bperp" not in f:
            return None
        bperp = f["bperp"][()].astype(np.float64)
    if bperp.shape != (n_dates,):
        raise ValueError(f"{slc_stack_path}: /bperp has shape {bperp.shape}, expected ({n_dates},)")
    return bperp


def build_model(config: dict, times, ref_time, bperp: np.ndarray | None) -> TimeFunctions:
    """Time functions of the ``inversion.model`` config; steps as years from the reference."""
    cfg = config["model"]
    steps = tuple(float(decimal_years([parse_time(s)], ref_time)[0]) for s in cfg["steps"])
    t = decimal_years(times, ref_time)
    for s, text in zip(steps, cfg["steps"], strict=True):
        if not t.min() < s <= t.max():
            raise ValueError(f"inversion.model.steps: {text} is not inside the time series")
    use_dem = cfg["dem_error"]
    if use_dem == "auto":
        if bperp is None:
            log.info("no perpendicular baselines (/bperp): DEM-error term skipped")
        use_dem = bperp is not None
    elif use_dem and bperp is None:
        raise ValueError("inversion.model.dem_error is true but the stack has no /bperp")
    return TimeFunctions(cfg["annual"], cfg["semiannual"], steps, bperp if use_dem else None)


def reference_date_index(config: dict, times) -> int:
    """Index of ``inversion.reference_date`` (YYYYMMDD) among the dates; 0 if null."""
    ref = config["reference_date"]
    if ref is None:
        return 0
    dates = [t.strftime("%Y%m%d") for t in times]
    if str(ref) not in dates:
        raise ValueError(f"inversion.reference_date {ref} is not an acquisition date")
    return dates.index(str(ref))


def run_inversion(
    unwrapped_path: str | Path,
    linked_path: str | Path,
    geometry_path: str | Path,
    correction_paths: dict[str, str | Path],
    out_path: str | Path,
    stats_path: str | Path,
    config: dict[str, Any],
    slc_stack_path: str | Path | None = None,
) -> dict[str, Any]:
    """Run the inversion stage.

    Parameters
    ----------
    unwrapped_path, linked_path, geometry_path : path
        ``unwrap/unwrapped.h5``, ``phase_linking/linked.h5``, ``geometry.h5``.
    correction_paths : dict
        Correction kind → its ``corrections/<kind>.h5``; those listed in
        ``inversion.corrections`` are subtracted, in that order.
    out_path, stats_path : path
        ``timeseries.h5`` and ``correction_stats.csv`` to write.
    config : dict
        The validated ``inversion`` config section.
    slc_stack_path : path, optional
        Stack whose ``/bperp`` (if any) feeds the DEM-error term.

    Returns
    -------
    dict
        Summary (valid pixels, reference, correction table rows).
    """
    with ExitStack() as stack:
        unw_f = stack.enter_context(h5py.File(unwrapped_path, "r"))
        grid = Grid.from_attrs(unw_f.attrs)
        times = read_times(unw_f)
        n_dates = len(times)
        pairs = unw_f["pairs"][()].astype(np.int64)
        r0, c0 = int(unw_f.attrs["reference_row"]), int(unw_f.attrs["reference_col"])
        wavelength = float(unw_f.attrs["wavelength"])
        unw_ds, cc_ds, coh_ds = (
            unw_f["unwrapped_phase"], unw_f["connected_components"], unw_f["coherence"]
        )  # fmt: skip
        with h5py.File(linked_path, "r") as linked:
            check_times(read_times(linked), times, linked_path)
            if Grid.from_attrs(linked.attrs) != grid:
                raise ValueError(f"{linked_path}: grid differs from {unwrapped_path}")
            tcoh = linked["temporal_coherence"][()].astype(np.float32)
        with h5py.File(geometry_path, "r") as g:
            water = g["water_mask"][()] == 1
            incidence = g["incidence_angle"][()] if "incidence_angle" in g else None
        kinds = list(config["corrections"])
        layers = {}
        for kind in kinds:
            if kind not in correction_paths:
                raise KeyError(f"inversion.corrections lists {kind!r} but no such layer is given")
            f = stack.enter_context(h5py.File(correction_paths[kind], "r"))
            if "correction" not in f:
                raise KeyError(f"{correction_paths[kind]}: no /correction dataset")
            if f["correction"].shape != (n_dates, *grid.shape):
                raise ValueError(
                    f"{correction_paths[kind]}: /correction {f['correction'].shape} does not "
                    f"match the time series ({n_dates}, {grid.shape})"
                )
            check_times(read_times(f), times, correction_paths[kind])
            layers[kind] = f["correction"]
        ref_date = reference_date_index(config, times)
        t = decimal_years(times, times[ref_date])
        bperp = _read_bperp(slc_stack_path, n_dates)
        model = build_model(config, times, times[ref_date], bperp)
        if model.bperp is not None and incidence is None:
            raise KeyError(f"{geometry_path}: no /incidence_angle for the DEM-error term")
        _, names = model.design(t)
        log.info("reference date %s; model %s", times[ref_date].date(), ", ".join(names))
        unw_ref = unw_ds[:, r0, c0].astype(np.float64)
        labels_ref = cc_ds[:, r0, c0].astype(np.int64)
        if np.any(labels_ref == 0):
            log.warning("%d interferograms do not contain the reference pixel: not used",
                        int(np.sum(labels_ref == 0)))  # fmt: skip
        layer_ref = {k: layers[k][:, r0, c0].astype(np.float64) for k in kinds}
        table = ScatterTable(kinds)

        with atomic_output(out_path) as tmp, h5py.File(tmp, "w") as out:
            out.attrs.update(grid.to_attrs())
            write_times(out, times)
            cube = (n_dates, *grid.shape)
            chunks = (n_dates, min(grid.rows, 64), min(grid.cols, 64))
            ds = {
                name: out.create_dataset(name, cube, np.float32, chunks=chunks)
                for name in ("displacement", "displacement_raw")
            }
            images = ["velocity", "velocity_std", "velocity_raw", "velocity_std_white",
                      "inversion_quality", "residual_rms"]  # fmt: skip
            if model.annual:
                images.append("annual_amplitude")
            images += [n for n in names if n.startswith("step_")]
            if model.bperp is not None:
                images.append("dem_error")
            for name in images:
                ds[name] = out.create_dataset(name, grid.shape, np.float32)
            ds["n_interferograms"] = out.create_dataset("n_interferograms", grid.shape, np.uint16)
            ds["mask"] = out.create_dataset("mask", grid.shape, np.uint8)
            if kinds:
                ds["correction_velocity"] = out.create_dataset(
                    "correction_velocity", (len(kinds), *grid.shape), np.float32
                )
            setup = _Setup(pairs, labels_ref, unw_ref, ref_date, wavelength, t, model, config)
            block = inversion_block_size(
                config.get("memory_mb"), n_dates, len(pairs), len(kinds),
                max_block=config["block_size"],
            )  # fmt: skip
            log.info("blocks of %d x %d px", block, block)
            for b in iter_blocks(grid.shape, (block, block)):
                sl = (slice(None), *b.core)
                shape2 = tcoh[b.core].shape
                flat = [ds_[sl].reshape(len(pairs), -1) for ds_ in (unw_ds, cc_ds, coh_ds)]
                layers_b = [
                    rereference(layers[k][sl].reshape(n_dates, -1), layer_ref[k], ref_date)
                    for k in kinds
                ]
                values = _process_block(
                    setup, *flat, layers_b, tcoh[b.core].ravel(), water[b.core].ravel(),
                    None if incidence is None else incidence[b.core].ravel(), shape2, table,
                )  # fmt: skip
                for name, v in values.items():
                    target = ds[name]
                    if v.ndim == 1:
                        target[b.core] = v.reshape(shape2).astype(target.dtype)
                    else:
                        target[sl] = v.reshape(v.shape[0], *shape2).astype(target.dtype)
            _annotate(out, ds, config, names, kinds, times[ref_date], (r0, c0), unw_f.attrs)
            n_mask = int(ds["mask"][()].sum())
        rows = table.rows()
        with atomic_output(stats_path) as tmp:
            table.write_csv(tmp)
    log.info("%d of %d pixels valid", n_mask, grid.rows * grid.cols)
    for row in rows:
        log.info("correction %(correction)s: residual RMS %(residual_rms_before_mm).2f -> "
                 "%(residual_rms_after_mm).2f mm (%(reduction_percent).1f %%)", row)  # fmt: skip
    return {"n_valid": n_mask, "reference": (r0, c0), "corrections": rows}


@dataclass(frozen=True)
class _Setup:
    """What every block needs besides its own arrays."""

    pairs: np.ndarray
    labels_ref: np.ndarray  # component of the reference pixel in each interferogram
    unw_ref: np.ndarray  # unwrapped phase of the reference pixel
    ref_date: int
    wavelength: float
    t: np.ndarray  # years from the reference date
    model: TimeFunctions
    config: dict[str, Any]


def _process_block(
    s: _Setup, unw, cc, coh, layers, tcoh, water, incidence, shape2, table: ScatterTable
) -> dict[str, np.ndarray]:
    """Invert, correct, fit and mask one block of P pixels; returns the output arrays.

    ``unw``, ``cc``, ``coh`` are (M, P); ``layers`` the re-referenced corrections (N, P) each;
    ``tcoh``, ``water``, ``incidence`` (P,); the block's correction statistics go to ``table``.
    """
    cfg, model, t = s.config, s.model, s.t
    n_ifg = len(s.pairs)
    valid = (cc == s.labels_ref[:, None]) & (s.labels_ref[:, None] > 0) & np.isfinite(unw)
    obs = np.where(valid, unw - s.unw_ref[:, None], np.nan)
    weight = 1.0 / phase_variance(coh, cfg["nlooks"])
    series, quality = invert_network(
        obs, weight, s.pairs, len(t), cfg["method"],
        cfg["l1"]["max_iterations"], cfg["l1"]["tolerance"], cfg["l1"]["epsilon"],
    )  # fmt: skip
    raw = phase_to_los(series, s.wavelength)
    raw = raw - raw[s.ref_date]
    disp = raw - sum(layers) if layers else raw
    fit_raw = fit_time_functions(raw, t, model)
    fit = fit_time_functions(disp, t, model)
    ucfg = cfg["uncertainty"]
    if ucfg["method"] == "bootstrap":
        std = bootstrap_velocity_std(disp, t, model, ucfg["bootstrap_samples"],
                                     ucfg["bootstrap_block"], ucfg["seed"])  # fmt: skip
    elif ucfg["method"] == "ar1":
        lag1 = _pooled_lag1(fit.residuals, shape2, ucfg["ar1_window"])
        std = ar1_velocity_std(fit.residuals, t, model, lag1)
    else:
        std = np.sqrt(fit.velocity_var_white)
    n_valid = valid.sum(axis=0)
    mcfg = cfg["mask"]
    mask = (
        (np.nan_to_num(tcoh) >= mcfg["temporal_coherence"])
        & (np.nan_to_num(quality) >= mcfg["inversion_quality"])
        & (n_valid >= mcfg["min_valid_fraction"] * n_ifg)
        & ~water
        & np.isfinite(fit.coefficients[1])
        & np.isfinite(std)
    )
    # correction statistics and velocities, on the same pixels and dates
    keep = np.where(mask[None, :] & np.isfinite(disp), 1.0, np.nan)
    lay_fits = [fit_time_functions(c * keep, t, model) for c in layers]
    table.add(
        fit_raw.residuals * keep,
        [f.residuals for f in lay_fits],
        [c * keep for c in layers],
        [f.coefficients[1] for f in lay_fits],
    )
    coef = dict(zip(fit.names, fit.coefficients, strict=True))
    values = {
        "displacement": disp,
        "displacement_raw": raw,
        "velocity": coef["velocity"],
        "velocity_std": std,
        "velocity_raw": fit_raw.coefficients[1],
        "velocity_std_white": np.sqrt(fit.velocity_var_white),
        "inversion_quality": quality,
        "residual_rms": _rms(fit.residuals),
        "n_interferograms": n_valid,
        "mask": mask,
    }
    if model.annual:
        values["annual_amplitude"] = np.hypot(coef["annual_sin"], coef["annual_cos"])
    values.update({n: c for n, c in coef.items() if n.startswith("step_")})
    if model.bperp is not None:
        rng = slant_range(incidence, cfg["model"]["satellite_height_m"])
        values["dem_error"] = coef["dem_error"] * rng * np.sin(np.radians(incidence))
    if layers:
        values["correction_velocity"] = np.stack([f.coefficients[1] for f in lay_fits])
    return values


def _pooled_lag1(residuals: np.ndarray, shape2: tuple[int, int], window: int) -> np.ndarray:
    """Lag-one autocorrelation of the residuals pooled over ``window`` × ``window`` pixels."""
    num, den = (np.nan_to_num(x).reshape(shape2) for x in lag1_sums(residuals))
    num, den = (uniform_filter(x, window, mode="nearest") for x in (num, den))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0).ravel()


def _rms(residuals: np.ndarray) -> np.ndarray:
    ok = np.isfinite(residuals)
    n = ok.sum(axis=0)
    ss = np.sum(np.where(ok, residuals, 0.0) ** 2, axis=0)
    return np.where(n > 0, np.sqrt(ss / np.maximum(n, 1)), np.nan)


def _annotate(out, ds, config, names, kinds, ref_time, ref_rc, unw_attrs) -> None:
    """Attributes: reference, model, units, uncertainty method."""
    method = config["uncertainty"]["method"]
    out.attrs.update(
        {
            "reference_row": ref_rc[0],
            "reference_col": ref_rc[1],
            "reference_lat": float(unw_attrs["reference_lat"]),
            "reference_lon": float(unw_attrs["reference_lon"]),
            "reference_date": ref_time.strftime("%Y%m%d"),
            "velocity_std_method": STD_METHODS[method],
            "inversion_method": config["method"],
            "corrections_applied": ",".join(kinds),
            "sign_convention": "positive = motion toward the satellite (range decrease)",
        }
    )
    units = {"displacement": "m", "displacement_raw": "m", "velocity": "m/yr",
             "velocity_std": "m/yr", "velocity_raw": "m/yr", "velocity_std_white": "m/yr",
             "residual_rms": "m", "annual_amplitude": "m", "dem_error": "m",
             "correction_velocity": "m/yr", "inversion_quality": "1", "mask": "1"}  # fmt: skip
    for name, d in ds.items():
        if name in units:
            d.attrs["units"] = units[name]
        if name.startswith("step_"):
            d.attrs["units"] = "m"
            d.attrs["date"] = config["model"]["steps"][int(name.split("_")[1])]
    ds["velocity"].attrs["model"] = " + ".join(names)
    ds["velocity_raw"].attrs["description"] = "velocity of the uncorrected time series"
    ds["velocity_std"].attrs["method"] = STD_METHODS[method]
    ds["inversion_quality"].attrs["description"] = "temporal coherence of the network residuals"
    ds["mask"].attrs["description"] = "1 = valid (coherence, inversion quality, network, land)"
    if kinds:
        ds["correction_velocity"].attrs["corrections"] = ",".join(kinds)
        ds["correction_velocity"].attrs["description"] = (
            "velocity of each re-referenced correction layer (what it removed)"
        )
