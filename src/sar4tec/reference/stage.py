"""The reference stage: tie a frame's LOS velocities to GNSS and express them in the product frame.

Reads ``work/{frame}/timeseries.h5``, ``work/{frame}/geometry.h5`` and the GNSS file of
``data/{frame}/manifest.json``; writes ``work/{frame}/calibrated.h5`` and
``results/{frame}/gnss_residuals.csv`` (contracts in ``docs/architecture.md``).

Steps: GNSS velocities to ITRF (a plate-fixed input gets its plate's motion back) → LOS with the
frame's unit vectors at the stations → InSAR averaged within a radius → station selection →
surface fitted to InSAR − GNSS with outlier rejection, cross-validated → subtracted from the
velocity (and, scaled by time since the reference date, from the time series) → in a
plate-fixed product frame, the LOS velocity of the reference plate's rigid motion is
subtracted too.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sar4tec.files import atomic_output, decimal_years, read_times, write_times
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest
from sar4tec.reference.calibration import (
    SURFACE_PARAMETERS,
    cross_validate,
    fit_surface,
    select_surface,
)
from sar4tec.reference.plates import get_plate, model_name, plate_velocity_los
from sar4tec.reference.projection import enu_to_los, sample_around
from sar4tec.reference.readers import read_gnss
from sar4tec.reference.selection import USED, select_stations
from sar4tec.reference.stations import StationVelocities, parse_frame

log = logging.getLogger(__name__)

#: rows of the output grid processed at once for images
BLOCK_ROWS = 128
#: bytes of a float64 block of the time series (memory bound of the time-series pass)
BLOCK_BYTES = 64 * 2**20
#: simpler surfaces to fall back to when there are too few stations
_FALLBACK = {"smooth": "plane", "quadratic": "plane", "plane": "offset"}


def section_settings(name: str, section: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A config section validated against ``workflow/schemas/{name}.schema.yaml``, defaults in."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    from sar4tec.config import ConfigError, schema_path

    settings = dict(section or {})
    try:
        validate(settings, str(schema_path(name)), set_default=True)
    except WorkflowError as err:
        raise ConfigError(f"in config section '{name}': {err}") from None
    return settings


def reference_settings(section: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``reference`` config section validated against its schema, defaults filled in."""
    return section_settings("reference", section)


def frame_label(settings: dict[str, Any], gnss_frame: str) -> str:
    """Name of the product frame: ``PLATE/MODEL`` when plate-fixed, else the GNSS's ITRF.

    The ITRF is the realisation of the GNSS velocities (e.g. ``IGS14``), or the ITRF of the
    plate motion model that turned plate-fixed GNSS velocities into ITRF ones.
    """
    model = model_name(settings["plate_model"])
    if settings["output_frame"] == "plate":
        return f"{get_plate(settings['plate'], model).abbrev}/{model}"
    frame = parse_frame(gnss_frame)
    return frame.name if frame.is_itrf else frame.model


@dataclass(frozen=True)
class Calibration:
    """Result of the station part of the reference stage.

    Attributes
    ----------
    stations : StationVelocities
        All stations of the file, in ITRF.
    status : numpy.ndarray of str
        ``used``, ``outlier`` or why a station was left out.
    gnss_los, gnss_sigma : numpy.ndarray
        GNSS LOS velocity (ITRF) and 1-sigma, m/yr.
    insar, insar_sigma : numpy.ndarray
        InSAR velocity (relative to the reference pixel) and its 1-sigma around each station.
    insar_pixels : numpy.ndarray
        Pixels averaged around each station.
    los : numpy.ndarray
        ``(n, 3)`` LOS unit vector averaged around each station (NaN without InSAR).
    surface_at_station, heldout : numpy.ndarray
        Fitted surface and cross-validation held-out residual at each station (m/yr).
    fit : SurfaceFit or None
        The surface (None when no station is usable and the frame stays relative).
    surface_scores : dict
        Cross-validated RMSE (m/yr) of the candidates of ``surface: auto`` (empty otherwise).
    """

    stations: StationVelocities
    status: np.ndarray
    gnss_los: np.ndarray
    gnss_sigma: np.ndarray
    insar: np.ndarray
    insar_sigma: np.ndarray
    insar_pixels: np.ndarray
    los: np.ndarray
    surface_at_station: np.ndarray
    heldout: np.ndarray
    fit: Any
    surface_scores: dict = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts, fit statistics and cross-validation RMSE (mm/yr) for logs and metadata."""
        used = self.status == USED
        out: dict[str, Any] = {
            "n_stations_file": len(self.stations),
            "n_stations_used": int(used.sum()),
            "n_stations_outlier": int(np.sum(self.status == "outlier")),
            "surface": self.fit.surface if self.fit is not None else "none",
            "residual_rms_mm_yr": None,
            "residual_wrms_mm_yr": None,
            "cv_rmse_mm_yr": None,
            "cv_bias_mm_yr": None,
            "cv_n": 0,
            "surface_cv_rmse_mm_yr": {k: _mm(v) for k, v in self.surface_scores.items()},
        }
        if used.any():
            residual = (self.insar - self.surface_at_station - self.gnss_los)[used]
            weights = 1.0 / (self.gnss_sigma[used] ** 2 + self.insar_sigma[used] ** 2)
            out["residual_rms_mm_yr"] = _mm(np.sqrt(np.mean(residual**2)))
            out["residual_wrms_mm_yr"] = _mm(np.sqrt(np.sum(weights * residual**2) / weights.sum()))
        held = self.heldout[used & np.isfinite(self.heldout)]
        if held.size:
            out["cv_rmse_mm_yr"] = _mm(np.sqrt(np.mean(held**2)))
            out["cv_bias_mm_yr"] = _mm(np.mean(held))
            out["cv_n"] = int(held.size)
        return out


def _mm(value: float) -> float:
    return round(float(value) * 1e3, 4)


def calibrate_stations(
    stations: StationVelocities,
    grid: Grid,
    velocity: np.ndarray,
    velocity_std: np.ndarray,
    valid: np.ndarray,
    los: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: dict[str, Any],
) -> Calibration:
    """Select stations, fit the calibration surface (ITRF) and cross-validate it.

    Parameters
    ----------
    stations : StationVelocities
        GNSS velocities (any frame :func:`~sar4tec.reference.stations.parse_frame` knows).
    grid : Grid
        Output grid of the images.
    velocity, velocity_std : numpy.ndarray
        InSAR LOS velocity relative to the reference pixel and its 1-sigma, m/yr.
    valid : numpy.ndarray of bool
        Valid InSAR pixels.
    los : tuple of numpy.ndarray
        ``(los_east, los_north, los_up)`` on the grid.
    settings : dict
        The validated ``reference`` config section.
    """
    itrf = stations.to_itrf()
    sample = sample_around(
        grid, [velocity, velocity_std, *los], valid, itrf.lat, itrf.lon, settings["insar_radius_m"]
    )
    insar, insar_sigma, le, ln, lu = sample.mean.T
    gnss_los, gnss_sigma = enu_to_los(
        itrf.east, itrf.north, itrf.up, itrf.sigma_east, itrf.sigma_north, itrf.sigma_up,
        itrf.corr_en, le, ln, lu,
    )  # fmt: skip
    status = select_stations(
        itrf,
        sample,
        gnss_sigma,
        min_pixels=settings["min_insar_pixels"],
        min_duration_years=settings["min_duration_years"],
        max_sigma_los=settings["max_gnss_sigma_mm_yr"] * 1e-3,
        exclude=settings["exclude_stations"],
    )
    n = len(itrf)
    surface_at = np.full(n, np.nan)
    heldout = np.full(n, np.nan)
    used = np.flatnonzero(status == USED)
    if used.size == 0:
        if settings["on_missing_gnss"] == "error":
            raise ValueError(
                f"no usable GNSS station in the frame (of {n} in {stations.source}): "
                + "; ".join(f"{s}: {r}" for s, r in zip(itrf.station, status, strict=True))
            )
        log.warning("no usable GNSS station: the velocities stay relative to the reference pixel")
        return Calibration(itrf, status, gnss_los, gnss_sigma, insar, insar_sigma, sample.count,
                           np.stack([le, ln, lu], 1), surface_at, heldout, None)  # fmt: skip
    difference = insar[used] - gnss_los[used]
    floor = settings["sigma_floor_mm_yr"] * 1e-3
    sigma = np.sqrt(insar_sigma[used] ** 2 + gnss_sigma[used] ** 2 + floor**2)
    threshold = settings["outlier_threshold"]
    length = settings["smoothing_length_km"]
    lat, lon = itrf.lat[used], itrf.lon[used]
    method = settings["cross_validation"]
    folds = settings["cv_folds"] if method == "kfold" else 0
    surface = settings["surface"]
    scores: dict[str, float] = {}
    if surface == "auto":
        surface, scores = select_surface(lat, lon, difference, sigma, threshold, folds)
        log.info("surface %s chosen by cross-validated RMSE (m/yr) %s", surface, scores)
    while used.size < SURFACE_PARAMETERS[surface] + 1 and surface in _FALLBACK:
        log.warning("%d station(s) cannot constrain a %s surface: using %s", used.size, surface,
                    _FALLBACK[surface])  # fmt: skip
        surface = _FALLBACK[surface]
    fit = fit_surface(lat, lon, difference, sigma, surface, threshold, length)
    status[used[~fit.used]] = "outlier"
    surface_at[used] = fit.evaluate(lat, lon)
    if method != "none":
        kept = fit.used
        heldout[used[kept]] = cross_validate(
            lat[kept], lon[kept], difference[kept], sigma[kept], surface, threshold, length, folds
        )
    return Calibration(itrf, status, gnss_los, gnss_sigma, insar, insar_sigma, sample.count,
                       np.stack([le, ln, lu], 1), surface_at, heldout, fit, scores)  # fmt: skip


def write_residuals(path: str | Path, cal: Calibration, plate_los: np.ndarray, frame: str) -> None:
    """Write ``gnss_residuals.csv``: every station, its status and velocities in mm/yr.

    ``gnss_los`` and ``insar_calibrated`` are in the product ``frame`` (``plate_los`` is the
    plate's LOS velocity at each station, m/yr, subtracted for a plate-fixed frame);
    ``residual = insar_calibrated - gnss_los`` is the same in any frame.
    """
    s = cal.stations
    insar_cal = cal.insar - cal.surface_at_station - plate_los
    gnss = cal.gnss_los - plate_los
    columns = {
        "station": s.station,
        "lon": np.round(s.lon, 6),
        "lat": np.round(s.lat, 6),
        "status": cal.status,
        "frame": np.full(len(s), frame),
        "gnss_east": s.east * 1e3,
        "gnss_north": s.north * 1e3,
        "gnss_up": s.up * 1e3,
        "gnss_los": gnss * 1e3,
        "gnss_los_sigma": cal.gnss_sigma * 1e3,
        "insar_los": cal.insar * 1e3,
        "insar_los_sigma": cal.insar_sigma * 1e3,
        "insar_pixels": cal.insar_pixels,
        "surface": cal.surface_at_station * 1e3,
        "insar_calibrated": insar_cal * 1e3,
        "residual": (insar_cal - gnss) * 1e3,
        "heldout_residual": cal.heldout * 1e3,
    }
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for k in range(len(s)):
            writer.writerow(
                f"{v[k]:.4f}" if isinstance(v[k], float | np.floating) else v[k]
                for v in columns.values()
            )


def read_residuals(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a ``gnss_residuals.csv`` (numbers as float, NaN where empty)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    text = {"station", "status", "frame"}
    return {
        key: np.array([r[key] for r in rows])
        if key in text
        else np.array([float(r[key]) if r[key] not in ("", "nan") else np.nan for r in rows])
        for key in rows[0]
    }


def _reference_time(times, reference_date: str):
    for t in times:
        if t.strftime("%Y%m%d") == str(reference_date):
            return t
    raise ValueError(f"reference_date {reference_date} is not one of the acquisition dates")


def run_reference(
    timeseries_path: str | Path,
    geometry_path: str | Path,
    manifest_path: str | Path,
    calibrated_path: str | Path,
    residuals_path: str | Path,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the reference stage for one frame (see the module docstring).

    Returns
    -------
    dict
        The calibration summary (also stored as attributes of ``calibrated.h5``).
    """
    settings = reference_settings(settings)
    manifest = read_manifest(manifest_path)
    if manifest.gnss is None and settings["on_missing_gnss"] == "error":
        raise ValueError(f"{manifest_path}: no 'gnss' entry, and reference.on_missing_gnss=error")
    with h5py.File(timeseries_path, "r") as ts, h5py.File(geometry_path, "r") as geo:
        grid = Grid.from_attrs(ts.attrs)
        if Grid.from_attrs(geo.attrs) != grid:
            raise ValueError(f"{geometry_path}: grid differs from {timeseries_path}")
        velocity = ts["velocity"][()].astype(np.float64)
        velocity_std = ts["velocity_std"][()].astype(np.float64)
        valid = (ts["mask"][()] == 1) & np.isfinite(velocity) & np.isfinite(velocity_std)
        los = tuple(geo[k][()].astype(np.float64) for k in ("los_east", "los_north", "los_up"))
        height = geo["height"][()].astype(np.float64)
        ts_attrs = dict(ts.attrs)
        times = read_times(ts)
    if manifest.gnss is not None:
        gnss_frame = settings["gnss_reference_frame"] or manifest.gnss.reference_frame
        stations = read_gnss(manifest.gnss.path, manifest.gnss.format, gnss_frame)
    else:
        stations = StationVelocities.empty()
    cal = calibrate_stations(stations, grid, velocity, velocity_std, valid, los, settings)
    summary = cal.summary()
    log.info("GNSS calibration: %s", summary)

    model = model_name(settings["plate_model"])
    model_label = f"{model}-PMM" if model.startswith("ITRF") else model
    plate = get_plate(settings["plate"], model).abbrev
    plate_los = np.empty(grid.shape, np.float32)
    surface = np.zeros(grid.shape, np.float32)
    surface_sigma = np.zeros(grid.shape, np.float32)
    for r0 in range(0, grid.rows, BLOCK_ROWS):  # row blocks: the temporaries stay small
        rows = slice(r0, r0 + BLOCK_ROWS)
        if grid.crs == "EPSG:4326":
            lat, lon = grid.y[rows, None], grid.x[None, :]
        else:
            lat, lon = grid.window(rows, slice(None)).latlon()
        plate_los[rows] = 1e-3 * plate_velocity_los(
            plate, lat, lon, *(v[rows] for v in los), model=model,
            height=np.nan_to_num(height[rows]), origin_rate_bias=settings["plate_origin_rate_bias"],
        )  # fmt: skip
        if cal.fit is not None:
            surface[rows] = cal.fit.evaluate(lat, lon)
            surface_sigma[rows] = cal.fit.sigma(lat, lon)
    if cal.fit is None:
        frame = "relative to the reference pixel (no GNSS tie)"
        to_frame = 0.0
    else:
        frame = frame_label(settings, stations.reference_frame)
        to_frame = plate_los if settings["output_frame"] == "plate" else 0.0
    shift = surface + to_frame  # m/yr subtracted from the velocity
    out_velocity = np.where(valid, velocity - shift, np.nan)
    out_std = np.where(valid, np.sqrt(velocity_std**2 + surface_sigma**2), np.nan)
    ref_time = _reference_time(times, ts_attrs["reference_date"])
    t = decimal_years(times, ref_time)

    station_plate = np.zeros(len(cal.stations))
    if cal.fit is not None and settings["output_frame"] == "plate":
        st = cal.stations
        station_plate = 1e-3 * plate_velocity_los(
            plate, st.lat, st.lon, *cal.los.T, model=model, height=st.height,
            origin_rate_bias=settings["plate_origin_rate_bias"],
        )  # fmt: skip
    write_residuals(residuals_path, cal, np.nan_to_num(station_plate), frame)

    attrs = {
        **ts_attrs,
        "reference_frame": frame,
        "output_frame": settings["output_frame"] if cal.fit is not None else "relative",
        "plate": plate,
        "plate_model": model_label,
        "plate_origin_rate_bias": int(settings["plate_origin_rate_bias"]),
        "gnss_reference_frame": cal.stations.reference_frame if len(cal.stations) else "",
        "gnss_source": stations.source,
        "calibration_surface": summary["surface"],
        "calibration_coefficients": json.dumps(
            [] if cal.fit is None else [float(c) for c in cal.fit.coefficients]
        ),
        "calibration_origin": json.dumps([] if cal.fit is None else list(cal.fit.origin)),
        "cross_validation": settings["cross_validation"],
        "calibration_summary": json.dumps(summary),
        "sign_convention": "positive = motion toward the satellite (range decrease)",
    }
    with h5py.File(timeseries_path, "r") as ts:
        disp_in = ts["displacement"]
        with atomic_output(calibrated_path) as tmp, h5py.File(tmp, "w") as out:
            out.attrs.update(attrs)
            write_times(out, times)
            images = {
                "velocity": out_velocity,
                "velocity_std": out_std,
                "plate_velocity": plate_los,
                "calibration_surface": surface,
                "calibration_surface_std": surface_sigma,
            }
            for name, image in images.items():
                d = out.create_dataset(name, data=image.astype(np.float32))
                d.attrs["units"] = "m/yr"
            out["plate_velocity"].attrs["description"] = (
                f"LOS velocity of the rigid motion of {plate} ({model_label}) in ITRF"
            )
            out["velocity"].attrs["reference_frame"] = frame
            disp = out.create_dataset(
                "displacement", disp_in.shape, np.float32,
                chunks=(disp_in.shape[0], min(grid.rows, 64), min(grid.cols, 64)),
            )  # fmt: skip
            disp.attrs["units"] = "m"
            disp.attrs["reference_frame"] = frame
            step = BLOCK_BYTES // (8 * disp_in.shape[0] * grid.cols)
            step = max(64, step - step % 64)  # whole chunks of 64 rows
            for r0 in range(0, grid.rows, step):
                rows = slice(r0, r0 + step)
                block = disp_in[:, rows, :].astype(np.float64)
                block -= shift[rows][None] * t[:, None, None]
                block[:, ~valid[rows]] = np.nan
                disp[:, rows, :] = block.astype(np.float32)
    return summary
