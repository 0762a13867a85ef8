"""Solid earth tides (IERS 2010 conventions, via pysolid) projected on the line of sight.

pysolid evaluates the tide displacement (east, north, up) at the nodes of a regular grid whose
first node it is given (``X_FIRST``/``Y_FIRST`` are node positions for it, not GDAL pixel
corners).  We hand it a coarse grid of nodes spanning the points, with the node step as its
``step_size`` so it never resamples internally, then interpolate bilinearly to the points: the
tide varies over thousands of kilometres, so a 0.1° node spacing interpolates to < 1 µm.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from sar4tec.files import to_utc

#: default node spacing of the coarse tide grid, degrees
GRID_STEP = 0.1


def _round_second(when: datetime) -> datetime:
    """UTC time rounded to the second (pysolid takes whole seconds)."""
    when = to_utc(when)
    return (when + timedelta(microseconds=500_000)).replace(microsecond=0)


def enu_grid(
    when: datetime, south: float, north: float, west: float, east: float, step: float = GRID_STEP
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tide displacement (m) at the nodes of a grid covering a box.

    Returns
    -------
    lat, lon : ndarray
        Node coordinates (ascending), at least two per axis, covering the box.
    enu : ndarray
        ``(lat, lon, 3)`` east, north, up displacement in metres.
    """
    import pysolid

    nlat = max(int(np.ceil((north - south) / step - 1e-9)) + 1, 2)
    nlon = max(int(np.ceil((east - west) / step - 1e-9)) + 1, 2)
    lat = south + np.arange(nlat) * step
    lon = west + np.arange(nlon) * step
    atr = {  # first node at the north-west corner, rows going south
        "LENGTH": nlat,
        "WIDTH": nlon,
        "Y_FIRST": lat[-1],
        "X_FIRST": lon[0],
        "Y_STEP": -step,
        "X_STEP": step,
    }
    # step_size in metres below one node spacing keeps pysolid from resampling
    e, n, u = pysolid.calc_solid_earth_tides_grid(
        _round_second(when).replace(tzinfo=None), atr, step_size=1.0, verbose=False
    )
    enu = np.stack([e, n, u], axis=-1)[::-1]
    return lat, lon, enu


def enu_displacement(lat, lon, when: datetime, step: float = GRID_STEP) -> np.ndarray:
    """Tide displacement (east, north, up) in metres at points, shape ``(..., 3)``."""
    lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
    south, north = float(np.nanmin(lat)), float(np.nanmax(lat))
    west, east = float(np.nanmin(lon)), float(np.nanmax(lon))
    glat, glon, enu = enu_grid(when, south, north, west, east, step)
    interp = RegularGridInterpolator((glat, glon), enu)
    return interp(np.stack([lat.ravel(), lon.ravel()], axis=-1)).reshape(*lat.shape, 3)


def los_displacement(lat, lon, when: datetime, los_enu, *, step: float = GRID_STEP) -> np.ndarray:
    """Solid earth tide along the line of sight, metres, positive toward the satellite.

    Parameters
    ----------
    lat, lon : array_like
        Pixel centres, degrees.
    when : datetime
        Acquisition time (UTC; rounded to the second).
    los_enu : array_like
        Ground-to-satellite unit vectors, last axis (east, north, up), broadcast with lat/lon.
    step : float
        Node spacing (degrees) of the grid pysolid evaluates.
    """
    enu = enu_displacement(lat, lon, when, step)
    return np.sum(enu * np.asarray(los_enu, dtype=np.float64), axis=-1)
