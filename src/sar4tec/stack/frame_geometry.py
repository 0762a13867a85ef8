"""Per-pixel geometry of a frame from its orbit and DEM: heights, LOS vectors, angles, water.

Written for the SLC grid (``work/{frame}/stack/geometry.h5``) block by block, and then for
the output grid of phase linking (``work/{frame}/geometry.h5``) by taking the SLC pixels at the
output pixel centres.  Datasets: ``height`` (m above WGS84), ``incidence_angle``, ``heading``
(degrees), ``los_east``, ``los_north``, ``los_up`` (unit vector ground → satellite),
``water_mask`` (uint8, 1 = water), ``slant_range`` (m).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid
from sar4tec.raster import read_onto_grid
from sar4tec.sentinel1.geometry import zero_doppler_geometry
from sar4tec.sentinel1.orbit import Orbit
from sar4tec.stack.blocks import iter_blocks

LAYERS = {
    "height": ("m", "height above the WGS84 ellipsoid"),
    "incidence_angle": ("degree", "incidence angle at the target from the ellipsoid normal"),
    "heading": ("degree", "satellite heading, clockwise from north"),
    "los_east": ("1", "east component of the unit vector ground to satellite"),
    "los_north": ("1", "north component of the unit vector ground to satellite"),
    "los_up": ("1", "up component of the unit vector ground to satellite"),
    "slant_range": ("m", "distance ground to satellite at zero Doppler"),
    "water_mask": ("1", "1 = water, 0 = land"),
}


def perpendicular_baselines(
    orbits: Sequence[Orbit], lat: float, lon: float, height: float
) -> np.ndarray:
    """Perpendicular baseline (m) of each orbit to the first, at one target.

    The baseline is the separation of the two zero-Doppler positions, projected on the unit
    vector perpendicular to the line of sight in the vertical plane through it, positive when
    the other orbit sees the target at a larger look angle (farther from nadir).
    """
    ref = zero_doppler_geometry(orbits[0], lat, lon, height)
    ref_pos, _ = orbits[0].interpolate(ref.azimuth_time)
    from sar4tec.geometry.ellipsoid import enu_to_ecef_vectors, geodetic_to_ecef

    target = geodetic_to_ecef(lat, lon, height)
    los = (ref_pos - target) / np.linalg.norm(ref_pos - target)
    up = enu_to_ecef_vectors(np.array([0.0, 0.0, 1.0]), lat, lon)
    away = los - up * (los @ up)  # horizontal, from the target toward the satellite's nadir
    toward_larger_look = away - los * (away @ los)
    toward_larger_look /= np.linalg.norm(toward_larger_look)
    out = []
    for orbit in orbits:
        geo = zero_doppler_geometry(orbit, lat, lon, height)
        pos, _ = orbit.interpolate(geo.azimuth_time)
        out.append(float((pos - ref_pos) @ toward_larger_look))
    return np.array(out)


def write_slc_geometry(
    out_path: str | Path,
    grid: Grid,
    orbit: Orbit,
    dem_path: str | Path,
    water_mask_path: str | Path | None,
    *,
    block_size: int = 256,
    attrs: dict | None = None,
) -> Path:
    """Compute the geometry layers on ``grid`` block by block and write them."""
    with atomic_output(out_path) as tmp, h5py.File(tmp, "w") as f:
        chunks = (min(block_size, grid.rows), min(block_size, grid.cols))
        dsets = {}
        for name, (units, description) in LAYERS.items():
            dtype = np.uint8 if name == "water_mask" else np.float32
            dsets[name] = f.create_dataset(name, shape=grid.shape, dtype=dtype, chunks=chunks)
            dsets[name].attrs.update(units=units, description=description)
        for block in iter_blocks(grid.shape, (block_size, grid.cols)):
            sub = grid.window(*block.core)
            height = read_onto_grid(dem_path, sub, resampling="bilinear")
            if np.isnan(height).any():
                raise ValueError(f"{dem_path} has no data over part of the frame")
            lat, lon = sub.meshgrid()
            geo = zero_doppler_geometry(orbit, lat, lon, height)
            values = {
                "height": height,
                "incidence_angle": geo.incidence,
                "heading": geo.heading,
                "los_east": geo.los_enu[..., 0],
                "los_north": geo.los_enu[..., 1],
                "los_up": geo.los_enu[..., 2],
                "slant_range": geo.slant_range,
                "water_mask": (
                    read_onto_grid(water_mask_path, sub, resampling="nearest") > 0.5
                    if water_mask_path is not None
                    else np.zeros(sub.shape, bool)
                ),
            }
            for name, value in values.items():
                dsets[name][block.core] = value
        f.attrs.update(grid.to_attrs())
        f.attrs.update(attrs or {})
    return Path(out_path)


def output_pixel_indices(size: int, stride: int) -> np.ndarray:
    """SLC indices of the output pixel centres along one axis (clipped at the last pixel)."""
    return np.minimum(np.arange(-(-size // stride)) * stride + stride // 2, size - 1)


def write_output_geometry(
    slc_geometry_path: str | Path,
    out_path: str | Path,
    strides: tuple[int, int],
    *,
    block_rows: int = 256,
) -> Path:
    """Geometry on the output grid: the SLC-grid layers at the output pixel centres."""
    with h5py.File(slc_geometry_path, "r") as src, atomic_output(out_path) as tmp:
        slc_grid = Grid.from_attrs(src.attrs)
        out_grid = slc_grid.decimate(strides)
        rows = output_pixel_indices(slc_grid.rows, strides[0])
        cols = output_pixel_indices(slc_grid.cols, strides[1])
        with h5py.File(tmp, "w") as f:
            for name in LAYERS:
                dset = f.create_dataset(name, shape=out_grid.shape, dtype=src[name].dtype)
                for r0 in range(0, out_grid.rows, block_rows):
                    picked = rows[r0 : r0 + block_rows]
                    dset[r0 : r0 + picked.size] = src[name][picked, :][:, cols]
                dset.attrs.update(src[name].attrs)
            f.attrs.update(src.attrs)
            f.attrs.update(out_grid.to_attrs())
    return Path(out_path)


def acquisition_orbit(orbits: Sequence[Orbit], start: datetime, stop: datetime) -> Orbit:
    """The orbit covering ``[start, stop]`` with a margin of a minute on each side."""
    from datetime import timedelta

    from sar4tec.sentinel1.orbit import select_orbit

    margin = timedelta(seconds=60)
    return select_orbit(orbits, start - margin, stop + margin)
