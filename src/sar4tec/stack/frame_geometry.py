"""Per-pixel geometry of a frame from its orbit and DEM: heights, LOS vectors, angles, masks.

Written for the SLC grid (``work/{frame}/stack/geometry.h5``) block by block, and then for
the output grid of phase linking (``work/{frame}/geometry.h5``) by taking the SLC pixels at the
output pixel centres.  Datasets: ``height`` (m above WGS84), ``incidence_angle``, ``heading``
(degrees), ``los_east``, ``los_north``, ``los_up`` (unit vector ground → satellite),
``water_mask`` (uint8, 1 = water), ``slant_range`` (m), ``azimuth_time`` (zero-Doppler time of
the pixel, s since the dataset's ``reference_time`` attribute), ``layover_shadow_mask``
(uint8: 0 clear, 1 shadow, 2 layover, 3 both — the ISCE3/COMPASS values).  The grid may be
EPSG:4326 or projected (UTM).

Layover and shadow (Kropatsch & Strobl 1990, *The generation of SAR layover and shadow maps
from digital elevation models*, IEEE TGRS 28(1)) are decided along the zero-Doppler line of
each pixel ``p``, seen from its satellite position ``P``: ``p`` is in **shadow** if a ground
point nearer to the satellite's track has a larger look angle (it rises above the ray
``P → p``), and in **layover** if a nearer ground point has a larger slant range or a farther
one a smaller slant range (two ground points share ``p``'s range, so their echoes add in one
range cell).  Both the active (steep slopes facing toward/away from the radar) and the passive
parts (the ground that the slopes hide or overlay) are flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import h5py
import numba
import numpy as np

from sar4tec.constants import WGS84_A, WGS84_E2
from sar4tec.files import atomic_output, format_time
from sar4tec.geometry.ellipsoid import enu_to_ecef_vectors, geodetic_to_ecef
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
    "azimuth_time": ("s", "zero-Doppler (acquisition) time of the pixel since reference_time"),
    "layover_shadow_mask": ("1", "0 clear, 1 shadow, 2 layover, 3 layover and shadow"),
}
DTYPES = {"water_mask": np.uint8, "layover_shadow_mask": np.uint8, "azimuth_time": np.float64}
SHADOW, LAYOVER = 1, 2


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
    reference_time: datetime | None = None,
) -> Path:
    """Compute the geometry layers on ``grid`` block by block and write them.

    Parameters
    ----------
    out_path
        HDF5 file to write (datasets :data:`LAYERS`, grid attributes, ``attrs``).
    grid
        The SLC grid (EPSG:4326 or projected, e.g. UTM).
    orbit
        Orbit of the acquisition whose geometry is written (the reference date).
    dem_path, water_mask_path
        Rasters resampled onto the grid (ellipsoidal heights; 1 = water).
    block_size
        Rows per block of the first pass, rows and columns of the layover/shadow blocks.
    attrs
        Extra root attributes.
    reference_time
        Epoch of ``azimuth_time`` (default the orbit's reference epoch), stored as the
        dataset's ``reference_time`` attribute (ISO 8601 UTC).
    """
    epoch = orbit.reference_epoch if reference_time is None else reference_time
    offset = orbit.seconds_since_epoch(epoch)
    with atomic_output(out_path) as tmp, h5py.File(tmp, "w") as f:
        chunks = (min(block_size, grid.rows), min(block_size, grid.cols))
        dsets = {}
        for name, (units, description) in LAYERS.items():
            dtype = DTYPES.get(name, np.float32)
            dsets[name] = f.create_dataset(name, shape=grid.shape, dtype=dtype, chunks=chunks)
            dsets[name].attrs.update(units=units, description=description)
        dsets["azimuth_time"].attrs["reference_time"] = format_time(epoch)
        h_range, inc_range = [np.inf, -np.inf], [np.inf, -np.inf]
        for block in iter_blocks(grid.shape, (block_size, grid.cols)):
            sub = grid.window(*block.core)
            height = read_onto_grid(dem_path, sub, resampling="bilinear")
            if np.isnan(height).any():
                raise ValueError(f"{dem_path} has no data over part of the frame")
            lat, lon = sub.latlon()
            geo = zero_doppler_geometry(orbit, lat, lon, height)
            h_range = [min(h_range[0], height.min()), max(h_range[1], height.max())]
            inc_range = [
                min(inc_range[0], geo.incidence.min()),
                max(inc_range[1], geo.incidence.max()),
            ]
            values = {
                "height": height,
                "incidence_angle": geo.incidence,
                "heading": geo.heading,
                "los_east": geo.los_enu[..., 0],
                "los_north": geo.los_enu[..., 1],
                "los_up": geo.los_enu[..., 2],
                "slant_range": geo.slant_range,
                "azimuth_time": geo.azimuth_time - offset,
                "water_mask": (
                    read_onto_grid(water_mask_path, sub, resampling="nearest") > 0.5
                    if water_mask_path is not None
                    else np.zeros(sub.shape, bool)
                ),
            }
            for name, value in values.items():
                dsets[name][block.core] = value
        reach = search_distance(h_range[1] - h_range[0], *np.radians(inc_range))
        halo = int(np.ceil(reach / min(pixel_size_m(grid)))) + 2
        for block in iter_blocks(grid.shape, (block_size, block_size), (halo, halo)):
            los = np.stack([f[k][block.core] for k in ("los_east", "los_north", "los_up")], -1)
            dsets["layover_shadow_mask"][block.core] = layover_shadow_mask(
                f["height"][block.read],
                grid.window(*block.read),
                los,
                f["slant_range"][block.core],
                core=block.inner,
            )
        f.attrs.update(grid.to_attrs())
        f.attrs.update(attrs or {})
    return Path(out_path)


def pixel_size_m(grid: Grid) -> tuple[float, float]:
    """Smallest pixel height and width on the ground (m) over the grid."""
    if grid.crs != "EPSG:4326":
        return abs(grid.transform[5]), abs(grid.transform[1])
    dy, dx = abs(grid.transform[5]), abs(grid.transform[1])
    lat = np.radians(np.max(np.abs(grid.y)))
    w = 1.0 - WGS84_E2 * np.sin(lat) ** 2
    meridian = WGS84_A * (1.0 - WGS84_E2) / w**1.5
    prime = WGS84_A / np.sqrt(w)
    return float(np.radians(dy) * meridian), float(np.radians(dx) * prime * np.cos(lat))


def search_distance(relief: float, incidence_min: float, incidence_max: float) -> float:
    """Horizontal distance (m) beyond which no point can shadow or overlay a pixel.

    A nearer point shadows ``p`` only if it rises above the ray, ``Δh > d / tan(θ)``; a point
    overlays ``p`` only if ``Δh > d tan(θ)`` (incidence ``θ`` in radians, ``Δh`` at most the
    relief).  20 % margin for the Earth's curvature and the spread of ``θ`` along the path.
    """
    return 1.2 * relief * max(np.tan(incidence_max), 1.0 / np.tan(incidence_min))


def layover_shadow_mask(
    height: np.ndarray,
    grid: Grid,
    los_enu: np.ndarray,
    slant_range: np.ndarray,
    *,
    core: tuple[slice, slice] | None = None,
) -> np.ndarray:
    """Layover/shadow mask (0 clear, 1 shadow, 2 layover, 3 both) of the ``core`` pixels.

    Parameters
    ----------
    height : ndarray (rows, cols)
        Ellipsoidal heights (m) on ``grid``; the area around ``core`` that the search may
        reach (:func:`search_distance`).  The search stops at the array's edge.
    grid : Grid
        Grid of ``height`` (any CRS).
    los_enu : ndarray, core shape + (3,)
        Unit vectors ground → satellite of the core pixels.
    slant_range : ndarray, core shape
        Zero-Doppler slant ranges (m) of the core pixels.
    core : tuple of slice, optional
        The pixels of ``height`` to classify (default all).

    Notes
    -----
    From each pixel ``p`` the search steps (one pixel size, on a bilinear surface of ECEF
    positions) horizontally toward the satellite and away from it along the LOS azimuth,
    which stays in the zero-Doppler plane to within the LOS's tilt from horizontal.  The
    satellite is at ``P = X_p + R_p · los``.  Nearer points with a larger look angle from
    nadir shadow ``p``; nearer points with a larger, or farther points with a smaller, slant
    range overlay it.  Each direction stops after :func:`search_distance` of the local relief.
    """
    core = core or (slice(None), slice(None))
    core_shape = np.empty(np.shape(height))[core].shape
    if np.shape(los_enu) != core_shape + (3,) or np.shape(slant_range) != core_shape:
        raise ValueError(
            f"los_enu {np.shape(los_enu)} and slant_range {np.shape(slant_range)} must have the "
            f"core's shape {core_shape} (+ (3,))"
        )
    h = np.asarray(height, dtype=np.float64)
    lat, lon = grid.latlon()
    xyz = geodetic_to_ecef(lat, lon, h)
    c_lat, c_lon = lat[core], lon[core]
    los = np.asarray(los_enu, dtype=np.float64)
    horizontal = np.hypot(los[..., 0], los[..., 1])
    step = min(pixel_size_m(grid))
    # one step of `step` metres toward the satellite, in fractional (row, col) of the grid
    w = 1.0 - WGS84_E2 * np.sin(np.radians(c_lat)) ** 2
    d_lat = np.degrees(step * los[..., 1] / horizontal * w**1.5 / (WGS84_A * (1 - WGS84_E2)))
    d_lon = np.degrees(
        step * los[..., 0] / horizontal * np.sqrt(w) / (WGS84_A * np.cos(np.radians(c_lat)))
    )
    r0, c0 = grid.index_latlon(c_lat, c_lon)
    r1, c1 = grid.index_latlon(c_lat + d_lat, c_lon + d_lon)
    satellite = xyz[core] + slant_range[..., None] * enu_to_ecef_vectors(los, c_lat, c_lon)
    h_core = h[core]
    tan_inc = horizontal / los[..., 2]
    relief_up = np.nanmax(h) - h_core
    relief_down = h_core - np.nanmin(h)
    # per pixel, the reach of search_distance with the relief above and below the pixel
    near_steps = 1.2 * np.maximum(relief_up * tan_inc, relief_down / tan_inc)
    far_steps = 1.2 * relief_up / tan_inc
    return _march(
        xyz,
        r0.ravel(),
        c0.ravel(),
        (r1 - r0).ravel(),
        (c1 - c0).ravel(),
        satellite.reshape(-1, 3),
        (np.ceil(near_steps / step) + 2).astype(np.int64).ravel(),
        (np.ceil(far_steps / step) + 2).astype(np.int64).ravel(),
    ).reshape(h_core.shape)


@numba.njit(cache=True)
def _bilinear3(xyz, row, col):  # pragma: no cover - numba
    """Bilinear ECEF position at a fractional pixel; NaN outside the array's footprint.

    Within the outer half of the edge pixels the edge value is taken.
    """
    rows, cols = xyz.shape[0], xyz.shape[1]
    out = np.full(3, np.nan)
    if not (-0.5 <= row <= rows - 0.5 and -0.5 <= col <= cols - 0.5):
        return out
    row = min(max(row, 0.0), rows - 1.0)
    col = min(max(col, 0.0), cols - 1.0)
    r0 = min(int(row), max(rows - 2, 0))
    c0 = min(int(col), max(cols - 2, 0))
    r1, c1 = min(r0 + 1, rows - 1), min(c0 + 1, cols - 1)
    fr, fc = row - r0, col - c0
    for k in range(3):
        top = xyz[r0, c0, k] + fc * (xyz[r0, c1, k] - xyz[r0, c0, k])
        bottom = xyz[r1, c0, k] + fc * (xyz[r1, c1, k] - xyz[r1, c0, k])
        out[k] = top + fr * (bottom - top)
    return out


@numba.njit(cache=True, parallel=True)
def _march(
    xyz, row, col, d_row, d_col, satellite, near_steps, far_steps
):  # pragma: no cover - numba
    n = row.size
    out = np.zeros(n, dtype=np.uint8)
    for i in numba.prange(n):
        sat = satellite[i]
        nadir = -sat / np.linalg.norm(sat)
        target = _bilinear3(xyz, row[i], col[i])
        rel = target - sat
        cos_look = np.dot(rel, nadir) / np.linalg.norm(rel)
        rng = np.linalg.norm(rel)
        flag = 0
        for k in range(1, near_steps[i] + 1):  # toward the satellite
            q = _bilinear3(xyz, row[i] + k * d_row[i], col[i] + k * d_col[i])
            if np.isnan(q[0]):
                break
            rel = q - sat
            dist = np.linalg.norm(rel)
            if np.dot(rel, nadir) / dist < cos_look - 1e-12:  # larger look angle: above the ray
                flag |= 1
            if dist > rng + 1e-6:
                flag |= 2
            if flag == 3:
                break
        if flag & 2 == 0:
            for k in range(1, far_steps[i] + 1):  # away from the satellite
                q = _bilinear3(xyz, row[i] - k * d_row[i], col[i] - k * d_col[i])
                if np.isnan(q[0]):
                    break
                if np.linalg.norm(q - sat) < rng - 1e-6:
                    flag |= 2
                    break
        out[i] = flag
    return out


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
