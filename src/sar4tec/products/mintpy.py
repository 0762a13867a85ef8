"""MintPy-compatible HDF5 products: ``timeseries.h5``, ``velocity.h5``, ``geometryGeo.h5``.

The layout follows what MintPy's readers and viewers (``readfile``, ``view.py``, ``tsview.py``)
expect of geocoded files (Yunjun et al. 2019, doi:10.1016/j.cageo.2019.104331): datasets
``timeseries`` (N, L, W) in m with ``date`` (``S8``) and ``bperp``; ``velocity`` and
``velocityStd`` in m/year; ``height``, ``latitude``, ``longitude``, ``incidenceAngle``,
``azimuthAngle``, ``waterMask``; and root attributes as strings: ``FILE_TYPE``, ``UNIT``,
``LENGTH``, ``WIDTH``, ``X_FIRST``/``Y_FIRST`` (outer corner of the first pixel),
``X_STEP``/``Y_STEP``, ``X_UNIT``/``Y_UNIT`` (degrees, or meters for a UTM grid, with
``UTM_ZONE``), ``EPSG``, ``REF_DATE``, ``REF_Y``/``REF_X``,
``REF_LAT``/``REF_LON``, ``WAVELENGTH``, ``ORBIT_DIRECTION``, ``HEADING``, ``START_DATE``,
``END_DATE``.  MintPy's ``azimuthAngle`` is the azimuth of the ground-to-satellite LOS measured
from north, anti-clockwise positive (about +102 deg for ascending Sentinel-1).  No MintPy code
is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid


def mintpy_attributes(
    grid: Grid,
    times: Sequence[datetime],
    reference: Mapping[str, object],
    wavelength: float,
    orbit_direction: str,
    heading: float,
    extra: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """Root attributes common to the three files (strings, as MintPy writes them).

    Parameters
    ----------
    grid : Grid
        Output grid: EPSG:4326 (``X_FIRST``... in degrees) or UTM (in metres, with
        ``UTM_ZONE`` such as ``35N``, as MintPy writes for projected HyP3 products).
    times : sequence of datetime
        Sensing times.
    reference : mapping
        ``reference_row``, ``reference_col``, ``reference_lat``, ``reference_lon``,
        ``reference_date`` (YYYYMMDD) of the time series.
    wavelength : float
        Radar wavelength (m).
    orbit_direction : str
        ``ascending`` or ``descending``.
    heading : float
        Mean platform heading (deg, clockwise from north).
    extra : mapping, optional
        More attributes (e.g. the reference frame).
    """
    x0, dx, _, y0, _, dy = grid.transform
    epsg = int(grid.crs.split(":")[-1])
    unit = "degrees" if grid.crs == "EPSG:4326" else "meters"
    utm = {}
    if 32601 <= epsg <= 32660 or 32701 <= epsg <= 32760:  # MintPy's UTM zone, e.g. "35N"
        utm["UTM_ZONE"] = f"{epsg % 100}{'N' if epsg < 32700 else 'S'}"
    mean_time = times[len(times) // 2]
    attrs = {
        "LENGTH": grid.rows,
        "WIDTH": grid.cols,
        "X_FIRST": repr(x0),
        "Y_FIRST": repr(y0),
        "X_STEP": repr(dx),
        "Y_STEP": repr(dy),
        "X_UNIT": unit,
        "Y_UNIT": unit,
        "EPSG": str(epsg),
        "REF_DATE": reference["reference_date"],
        "REF_Y": int(reference["reference_row"]),
        "REF_X": int(reference["reference_col"]),
        "REF_LAT": float(reference["reference_lat"]),
        "REF_LON": float(reference["reference_lon"]),
        "WAVELENGTH": wavelength,
        "ORBIT_DIRECTION": orbit_direction.upper(),
        "HEADING": float(heading),
        "PLATFORM": "Sen",
        "PROCESSOR": "sar4tec",
        "START_DATE": times[0].strftime("%Y%m%d"),
        "END_DATE": times[-1].strftime("%Y%m%d"),
        "CENTER_LINE_UTC": mean_time.hour * 3600 + mean_time.minute * 60 + mean_time.second,
        "DATA_TYPE": "float32",
        **utm,
        **(extra or {}),
    }
    return {k: str(v) for k, v in attrs.items()}


def write_timeseries_h5(
    path: str | Path,
    attrs: Mapping[str, str],
    times: Sequence[datetime],
    bperp: np.ndarray,
    read_rows: Callable[[slice], np.ndarray],
    shape: tuple[int, int],
    block_rows: int = 128,
) -> Path:
    """Write MintPy ``timeseries.h5``: ``read_rows(rows)`` gives (N, rows, W) displacement in m."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({**attrs, "FILE_TYPE": "timeseries", "UNIT": "m"})
        f.create_dataset("date", data=np.array([t.strftime("%Y%m%d") for t in times], "S8"))
        f.create_dataset("bperp", data=np.asarray(bperp, np.float32))
        ds = f.create_dataset(
            "timeseries", (len(times), *shape), np.float32,
            chunks=(len(times), min(shape[0], 64), min(shape[1], 64)), compression="gzip",
            compression_opts=1, shuffle=True,
        )  # fmt: skip
        for r0 in range(0, shape[0], block_rows):
            rows = slice(r0, min(r0 + block_rows, shape[0]))
            ds[:, rows, :] = np.asarray(read_rows(rows), np.float32)
    return Path(path)


def write_velocity_h5(
    path: str | Path, attrs: Mapping[str, str], velocity: np.ndarray, velocity_std: np.ndarray
) -> Path:
    """Write MintPy ``velocity.h5`` (m/year)."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        date12 = f"{attrs['START_DATE']}_{attrs['END_DATE']}"
        f.attrs.update({**attrs, "FILE_TYPE": "velocity", "UNIT": "m/year", "DATE12": date12})
        for name, data in (("velocity", velocity), ("velocityStd", velocity_std)):
            d = f.create_dataset(name, data=np.asarray(data, np.float32), compression="gzip")
            d.attrs["UNIT"] = "m/year"
    return Path(path)


def mintpy_azimuth_angle(los_east, los_north) -> np.ndarray:
    """MintPy ``azimuthAngle``: LOS (ground to satellite) azimuth from north, anti-clockwise."""
    return -np.degrees(np.arctan2(np.asarray(los_east), np.asarray(los_north)))


def write_geometry_h5(
    path: str | Path,
    attrs: Mapping[str, str],
    grid: Grid,
    height: np.ndarray,
    incidence: np.ndarray,
    los_east: np.ndarray,
    los_north: np.ndarray,
    water_mask: np.ndarray,
) -> Path:
    """Write MintPy ``geometryGeo.h5`` (``waterMask`` True = land, as MintPy uses it)."""
    lat, lon = grid.latlon()
    layers = {
        "height": (height, "m"),
        "latitude": (lat, "degrees"),
        "longitude": (lon, "degrees"),
        "incidenceAngle": (incidence, "degrees"),
        "azimuthAngle": (mintpy_azimuth_angle(los_east, los_north), "degrees"),
    }
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({**attrs, "FILE_TYPE": "geometry", "UNIT": "1"})
        for name, (data, unit) in layers.items():
            d = f.create_dataset(name, data=np.asarray(data, np.float32), compression="gzip")
            d.attrs["UNIT"] = unit
        f.create_dataset("waterMask", data=~np.asarray(water_mask, bool), compression="gzip")
    return Path(path)
