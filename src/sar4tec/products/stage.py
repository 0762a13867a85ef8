"""The products stage: what users open, per frame under ``results/{frame}/``.

From the calibrated velocities and time series (``calibrated.h5``), the quality layers
(``timeseries.h5``, ``linked.h5``), the geometry, the correction layers and the GNSS residuals,
it writes the files of :data:`PRODUCT_FILES` (``docs/products.md``): cloud-optimised GeoTIFFs
in mm/yr, CF-NetCDF time series and corrections in mm, MintPy-compatible HDF5, a STAC item and
two figures.  Units: mm and mm/yr; LOS positive toward the satellite; the reference frame of
``calibrated.h5`` is stated in every file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import sar4tec
from sar4tec.constants import SENTINEL1_WAVELENGTH
from sar4tec.files import read_times
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest
from sar4tec.products import provenance
from sar4tec.products.cog import write_cog
from sar4tec.products.mintpy import (
    mintpy_attributes,
    write_geometry_h5,
    write_timeseries_h5,
    write_velocity_h5,
)
from sar4tec.products.netcdf import write_cube_netcdf
from sar4tec.products.plots import plot_quicklook, plot_timeseries_points
from sar4tec.products.stac import make_item, valid_footprint, write_item
from sar4tec.reference.stage import read_residuals, section_settings

log = logging.getLogger(__name__)

#: every file the stage writes (workflow/rules/products.smk takes its outputs from here)
PRODUCT_FILES = (
    "velocity.tif",
    "velocity_std.tif",
    "temporal_coherence.tif",
    "ps_mask.tif",
    "mask.tif",
    "los_east.tif",
    "los_north.tif",
    "los_up.tif",
    "plate_velocity.tif",
    "timeseries.nc",
    "corrections.nc",
    "timeseries.h5",
    "velocity.h5",
    "geometryGeo.h5",
    "item.json",
    "quicklook.png",
    "timeseries.png",
    "provenance.json",
)
SIGN = "positive = motion toward the satellite (range decrease)"


def products_settings(section: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``products`` config section validated against its schema, defaults filled in."""
    return section_settings("products", section)


def _read(path, names) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        missing = [n for n in names if n not in f]
        if missing:
            raise KeyError(f"{path}: missing dataset(s) {missing}")
        return {n: f[n][()] for n in names}


def _rereferenced_layer(ds, ref_rc: tuple[int, int], ref_index: int):
    """Reader of a correction layer re-referenced to the reference pixel and date, in mm."""
    at_pixel = ds[:, ref_rc[0], ref_rc[1]].astype(np.float32)
    at_pixel -= at_pixel[ref_index]

    def read(rows: slice) -> np.ndarray:
        block = ds[:, rows, :].astype(np.float32)
        block -= block[ref_index][None]
        block -= at_pixel[:, None, None]
        block *= 1e3
        return block

    return read


def run_products(
    calibrated: str | Path,
    timeseries: str | Path,
    linked: str | Path,
    geometry: str | Path,
    residuals: str | Path,
    manifest: str | Path,
    corrections: Sequence[str | Path],
    outdir: str | Path,
    settings: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    slc_stack: str | Path | None = None,
    workflow_dir: str | Path | None = None,
    checksum_memo: str | Path | None = None,
    provenance_html: str | Path | None = None,
) -> dict[str, Path]:
    """Write every product of a frame into ``outdir``.

    Parameters
    ----------
    calibrated, timeseries, linked, geometry : str or Path
        ``calibrated.h5``, ``timeseries.h5``, ``phase_linking/linked.h5``, ``geometry.h5``.
    residuals : str or Path
        ``gnss_residuals.csv`` of the reference stage.
    manifest : str or Path
        The frame's ``manifest.json``.
    corrections : sequence of str or Path
        Correction layer files (``corrections/{kind}.h5``).
    outdir : str or Path
        ``results/{frame}``.
    settings : mapping, optional
        The ``products`` config section.
    config : mapping, optional
        The configuration the frame was processed with (recorded with its hash).
    slc_stack : str or Path, optional
        ``stack/slc_stack.h5`` for the perpendicular baselines, wavelength, orbit direction.
    workflow_dir : str or Path, optional
        The workflow checkout, whose git commit every product records (``unknown`` if None).
    checksum_memo : str or Path, optional
        JSON file remembering input checksums between runs (:mod:`sar4tec.products.provenance`).
    provenance_html : str or Path, optional
        Also write the provenance as an HTML page here (the ``snakemake --report`` panel).

    Returns
    -------
    dict
        Product name → path.
    """
    settings = products_settings(settings)
    outdir = Path(outdir)
    out = {name: outdir / name for name in PRODUCT_FILES}
    man = read_manifest(manifest, check_files=False)
    with h5py.File(calibrated, "r") as f:
        grid = Grid.from_attrs(f.attrs)
        attrs = dict(f.attrs)
        times = read_times(f)
    cal = _read(calibrated, ["velocity", "velocity_std", "plate_velocity", "calibration_surface"])
    quality = _read(timeseries, ["mask"])
    with h5py.File(timeseries, "r") as f:
        if Grid.from_attrs(f.attrs) != grid or read_times(f) != times:
            raise ValueError(f"{timeseries}: grid or dates differ from {calibrated}")
        applied = str(f.attrs.get("corrections_applied", "")).split(",")
    lk = _read(linked, ["temporal_coherence", "ps_mask"])
    geo = _read(geometry, ["los_east", "los_north", "los_up", "height", "incidence_angle",
                           "heading", "water_mask"])  # fmt: skip
    stack_info = _stack_info(slc_stack, man, len(times))
    frame_name = attrs["reference_frame"]
    ref = {k: attrs[k] for k in ("reference_row", "reference_col", "reference_lat",
                                 "reference_lon", "reference_date")}  # fmt: skip
    ref_index = [t.strftime("%Y%m%d") for t in times].index(str(ref["reference_date"]))
    record = provenance.collect(config or {}, manifest, workflow_dir, checksum_memo)
    provenance.write_json(record, out["provenance.json"])
    if provenance_html is not None:
        provenance.write_html(record, provenance_html, f"Provenance of frame {man.frame}")
    common_tags = {
        "frame": man.frame,
        "reference_frame": frame_name,
        "sign_convention": SIGN,
        "reference_point": f"lat {float(ref['reference_lat']):.6f} lon "
        f"{float(ref['reference_lon']):.6f} (row {ref['reference_row']}, "
        f"col {ref['reference_col']})",
        "reference_date": ref["reference_date"],
        "software": f"sar4tec {sar4tec.__version__}",
        **provenance.attributes(record),
    }
    cog = {"compress": settings["compress"], "blocksize": settings["blocksize"]}
    mm = 1e3
    rasters = [
        ("velocity", cal["velocity"] * mm, f"LOS velocity, {frame_name}", "mm/yr"),
        ("velocity_std", cal["velocity_std"] * mm, "LOS velocity 1-sigma", "mm/yr"),
        ("temporal_coherence", lk["temporal_coherence"], "temporal coherence", "1"),
        ("ps_mask", lk["ps_mask"].astype(np.uint8), "persistent scatterer (1)", "1"),
        ("mask", quality["mask"].astype(np.uint8), "valid pixel (1)", "1"),
        ("los_east", geo["los_east"], "LOS unit vector east (ground to satellite)", "1"),
        ("los_north", geo["los_north"], "LOS unit vector north (ground to satellite)", "1"),
        ("los_up", geo["los_up"], "LOS unit vector up (ground to satellite)", "1"),
        ("plate_velocity", cal["plate_velocity"] * mm,
         f"LOS velocity of the rigid motion of {attrs['plate']} ({attrs['plate_model']}) in ITRF",
         "mm/yr"),
    ]  # fmt: skip
    for name, image, description, units in rasters:
        integer = np.issubdtype(image.dtype, np.integer)
        write_cog(
            out[f"{name}.tif"], image if integer else image.astype(np.float32), grid,
            description=description, units=units, tags=common_tags,
            resampling="NEAREST" if integer else "AVERAGE", **cog,
        )  # fmt: skip

    summary = attrs.get("calibration_summary", "{}")
    nc_attrs = {
        "title": f"sar4tec LOS displacement time series, frame {man.frame}",
        "institution": "sar4tec",
        "source": f"Sentinel-1 IW SLC, PS/DS InSAR, sar4tec {sar4tec.__version__}",
        "references": "docs/products.md of the sar4tec repository",
        **common_tags,
        "reference_lat": float(ref["reference_lat"]),
        "reference_lon": float(ref["reference_lon"]),
        "orbit_direction": stack_info["orbit_direction"],
        "track": stack_info["track"] if stack_info["track"] is not None else "unknown",
        "wavelength": stack_info["wavelength"],
        "gnss_calibration": summary,
    }
    block_rows = settings["block_rows"]
    level = settings["netcdf_compression_level"]
    mp_attrs = mintpy_attributes(grid, times, ref, stack_info["wavelength"],
                                 stack_info["orbit_direction"], np.nanmean(geo["heading"]),
                                 {"REFERENCE_FRAME": frame_name,
                                  **provenance.attributes(record)})  # fmt: skip
    with h5py.File(calibrated, "r") as f:
        disp = f["displacement"]
        write_cube_netcdf(
            out["timeseries.nc"], grid, times,
            [("displacement",
              {"units": "mm", "long_name": f"LOS displacement relative to the reference point "
               f"and date, {frame_name}", "comment": SIGN},
              lambda rows: disp[:, rows, :] * mm)],
            nc_attrs, block_rows, level,
        )  # fmt: skip
        write_timeseries_h5(
            out["timeseries.h5"], mp_attrs, times, stack_info["bperp"],
            lambda rows: disp[:, rows, :], grid.shape, block_rows,
        )  # fmt: skip
    write_velocity_h5(out["velocity.h5"], mp_attrs, cal["velocity"], cal["velocity_std"])
    write_geometry_h5(
        out["geometryGeo.h5"], mp_attrs, grid, geo["height"], geo["incidence_angle"],
        geo["los_east"], geo["los_north"], geo["water_mask"] == 1,
    )  # fmt: skip

    _write_corrections(out["corrections.nc"], corrections, applied, grid, times, ref, ref_index,
                       cal, nc_attrs, block_rows, level)  # fmt: skip

    stations = read_residuals(residuals)
    plot_quicklook(
        out["quicklook.png"], cal["velocity"] * mm, grid, stations,
        f"sar4tec {man.frame}: LOS velocity {times[0]:%Y-%m-%d} to {times[-1]:%Y-%m-%d}",
        frame_name, (float(ref["reference_lon"]), float(ref["reference_lat"])),
        settings["quicklook_percentile"], settings["quicklook_dpi"], common_tags,
    )  # fmt: skip
    series, rates = _points(calibrated, grid, cal["velocity"], stations, ref,
                            settings["timeseries_points"])  # fmt: skip
    plot_timeseries_points(
        out["timeseries.png"], times, series, rates, times[ref_index],
        f"sar4tec {man.frame}: LOS displacement ({frame_name})", settings["quicklook_dpi"],
        common_tags,
    )  # fmt: skip

    valid = np.isfinite(cal["velocity"])
    assets = _assets(residuals)
    properties = {
        "sar4tec:frame": man.frame,
        "sar4tec:reference_frame": frame_name,
        "sar4tec:sign_convention": SIGN,
        "sar4tec:units": {"velocity": "mm/yr", "displacement": "mm"},
        "sar4tec:reference_point": {k: _plain(v) for k, v in ref.items()},
        "sar4tec:gnss_calibration": _json(summary),
        "sar4tec:config_hash": record["config_hash"],
        "sar4tec:provenance": record,
        "processing:software": record["packages"],
        "sar4tec:inputs": {
            "manifest": str(man.path),
            "source": man.source,
            "slc_count": len(man.slc),
            "gnss": str(man.gnss.path) if man.gnss else None,
            "gnss_reference_frame": attrs.get("gnss_reference_frame", ""),
        },
        "sar4tec:valid_fraction": round(float(valid.mean()), 4),
        "processing:lineage": "sar4tec stages: stack, phase linking, unwrapping, corrections "
        f"({','.join(k for k in applied if k)}), inversion, GNSS reference, products",
    }
    item = make_item(
        man.frame, grid, valid_footprint(grid, valid), times, assets, properties,
        stack_info["orbit_direction"], stack_info["track"], sar4tec.__version__,
    )  # fmt: skip
    write_item(item, out["item.json"])
    log.info("products of frame %s written to %s", man.frame, outdir)
    return out


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _json(text: str):
    return json.loads(text) if text else {}


def _stack_info(slc_stack, man, n_dates: int) -> dict[str, Any]:
    """Wavelength, orbit direction, track and perpendicular baselines of the frame."""
    info = {
        "wavelength": SENTINEL1_WAVELENGTH,
        "orbit_direction": str(man.extra.get("orbit_direction", "unknown")),
        "track": man.extra.get("track"),
        "bperp": np.zeros(n_dates, np.float32),
    }
    if slc_stack is not None:
        with h5py.File(slc_stack, "r") as f:
            info["wavelength"] = float(f.attrs.get("wavelength", info["wavelength"]))
            info["orbit_direction"] = str(f.attrs.get("orbit_direction", info["orbit_direction"]))
            if "track" in f.attrs:
                info["track"] = int(f.attrs["track"])
            if "bperp" in f and f["bperp"].shape == (n_dates,):
                info["bperp"] = f["bperp"][()]
    return info


def _write_corrections(path, corrections, applied, grid, times, ref, ref_index, cal, nc_attrs,
                       block_rows, level) -> None:  # fmt: skip
    """``corrections.nc``: each correction layer as subtracted (mm), and the GNSS/plate terms."""
    ref_rc = (int(ref["reference_row"]), int(ref["reference_col"]))
    files = [h5py.File(p, "r") for p in corrections]
    try:
        variables = []
        for p, f in zip(corrections, files, strict=True):
            kind = str(f.attrs.get("kind", Path(p).stem))
            if f["correction"].shape != (len(times), *grid.shape) or read_times(f) != times:
                raise ValueError(f"{p}: /correction does not match the time series")
            reader = _rereferenced_layer(f["correction"], ref_rc, ref_index)
            variables.append((
                kind,
                {"units": "mm", "long_name": f"{kind} correction: apparent LOS displacement, "
                 "re-referenced to the reference point and date",
                 "applied": int(kind in applied), "source": str(f.attrs.get("source", "")),
                 "comment": SIGN},
                reader,
            ))  # fmt: skip
        for name, long_name in (
            ("calibration_surface", "GNSS calibration surface subtracted from the velocity"),
            ("plate_velocity", "LOS velocity of the reference plate's rigid motion (ITRF)"),
        ):
            variables.append(
                (name, {"units": "mm/yr", "long_name": long_name},
                 lambda rows, a=cal[name]: a[rows] * 1e3)
            )  # fmt: skip
        undo = (
            "uncorrected displacement = displacement + sum of the applied corrections + "
            "(calibration_surface + plate_velocity if reference_frame is plate-fixed) * "
            "(t - reference_date) in years"
        )
        write_cube_netcdf(path, grid, times, variables, {**nc_attrs, "how_to_undo": undo,
                          "title": nc_attrs["title"].replace("time series", "corrections")},
                          block_rows, level)  # fmt: skip
    finally:
        for f in files:
            f.close()


def _points(calibrated, grid: Grid, velocity, stations, ref, n_points: int):
    """Time series (mm, 3 x 3 pixel mean) and GNSS LOS rates (mm/yr) shown in timeseries.png."""
    points: dict[str, tuple[int, int]] = {}
    rates: dict[str, float] = {}
    if stations:
        used = np.flatnonzero(stations["status"] == "used")
        for k in used[: max(n_points - 1, 0)]:
            rc = tuple(
                int(np.floor(v + 0.5))
                for v in grid.index_latlon(stations["lat"][k], stations["lon"][k])
            )
            inside = 0 <= rc[0] < grid.rows and 0 <= rc[1] < grid.cols
            if inside and np.isfinite(velocity[rc]):
                name = str(stations["station"][k])
                points[name] = rc
                rates[name] = float(stations["gnss_los"][k])
    if np.isfinite(velocity).any() and len(points) < n_points:
        rc = np.unravel_index(np.nanargmax(np.abs(velocity)), velocity.shape)
        lat, lon = grid.window(slice(rc[0], rc[0] + 1), slice(rc[1], rc[1] + 1)).latlon()
        points[f"max |v| ({lat.item():.3f}N {lon.item():.3f}E)"] = (int(rc[0]), int(rc[1]))
    if len(points) < n_points:
        points["reference point"] = (int(ref["reference_row"]), int(ref["reference_col"]))
    series = {}
    with h5py.File(calibrated, "r") as f:
        for name, (r, c) in points.items():  # mean of the valid pixels of a 3 x 3 window
            window = f["displacement"][:, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
            window = window.reshape(window.shape[0], -1).astype(np.float64)
            count = np.isfinite(window).sum(axis=1)
            total = np.nansum(window, axis=1)
            series[name] = np.where(count > 0, total / np.maximum(count, 1), np.nan) * 1e3
    return series, rates


def _assets(residuals) -> dict[str, dict[str, Any]]:
    """Asset descriptions of every product (hrefs relative to ``item.json``)."""
    float_band = {"nodata": "nan", "data_type": "float32"}
    assets: dict[str, dict[str, Any]] = {
        "velocity": {"title": "LOS velocity", "unit": "mm/yr", **float_band},
        "velocity_std": {"title": "LOS velocity 1-sigma", "unit": "mm/yr", **float_band},
        "temporal_coherence": {"title": "temporal coherence", "unit": "1", **float_band},
        "ps_mask": {"title": "persistent scatterers", "unit": "1", "data_type": "uint8"},
        "mask": {"title": "valid pixels", "unit": "1", "data_type": "uint8"},
        "los_east": {"title": "LOS unit vector east", "unit": "1", **float_band},
        "los_north": {"title": "LOS unit vector north", "unit": "1", **float_band},
        "los_up": {"title": "LOS unit vector up", "unit": "1", **float_band},
        "plate_velocity": {"title": "plate LOS velocity", "unit": "mm/yr", **float_band},
    }
    for key in assets:
        assets[key]["href"] = f"./{key}.tif"
    files = {
        "timeseries_nc": ("timeseries.nc", "LOS displacement time series (mm), CF-NetCDF"),
        "corrections_nc": ("corrections.nc", "correction layers (mm), CF-NetCDF"),
        "mintpy_timeseries": ("timeseries.h5", "MintPy time series (m)"),
        "mintpy_velocity": ("velocity.h5", "MintPy velocity (m/year)"),
        "mintpy_geometry": ("geometryGeo.h5", "MintPy geometry"),
        "gnss_residuals": (Path(residuals).name, "GNSS stations and residuals (mm/yr)"),
        "quicklook": ("quicklook.png", "velocity map with GNSS residuals"),
        "timeseries_plot": ("timeseries.png", "displacement at a few points"),
        "provenance": ("provenance.json", "software, git commit, configuration, input checksums"),
    }
    for key, (name, title) in files.items():
        assets[key] = {"href": f"./{name}", "title": title}
    return assets
