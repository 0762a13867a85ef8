"""Solid earth tides of the synthetic frame from pysolid (IERS 2010 conventions)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from sar4tec.grid import Grid


def tide_nodes(grid: Grid, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Node latitudes (decreasing) and longitudes (increasing) every ``step`` deg over ``grid``.

    A projected grid is covered by the geodetic box of its pixel centres grown by ``step``.
    """
    if grid.crs == "EPSG:4326":
        west, south, east, north = grid.bounds
    else:
        lat, lon = grid.latlon()
        west, south = lon.min() - step, lat.min() - step
        east, north = lon.max() + step, lat.max() + step
    rows = int(np.ceil((north - south) / step)) + 1
    cols = int(np.ceil((east - west) / step)) + 1
    return north - step * np.arange(rows), west + step * np.arange(cols)


def solid_earth_tide_enu(when: datetime, grid: Grid, step: float = 0.05) -> np.ndarray:
    """East, north, up tide displacement (m) at the pixel centres of ``grid`` at UTC ``when``.

    pysolid computes the tide at nodes every ``step`` degrees covering the grid (its grid mode
    evaluates the point ``(Y_FIRST + i Y_STEP, X_FIRST + j X_STEP)`` for node ``(i, j)``); the
    result is interpolated bilinearly to the pixel centres. The tide varies over thousands of
    km, so a 0.05° node spacing costs nothing in accuracy.

    Returns
    -------
    ndarray, shape (rows, cols, 3)
    """
    import pysolid

    lat, lon = tide_nodes(grid, step)
    attrs = {
        "LENGTH": lat.size,
        "WIDTH": lon.size,
        "Y_FIRST": float(lat[0]),
        "X_FIRST": float(lon[0]),
        "Y_STEP": -float(step),
        "X_STEP": float(step),
    }
    naive = when.replace(tzinfo=None, microsecond=0)  # pysolid takes naive UTC, whole seconds
    # step_size = 1 m keeps pysolid from resampling: we want exactly the nodes above
    enu = pysolid.calc_solid_earth_tides_grid(
        naive, attrs, step_size=1.0, display=False, verbose=False
    )
    yy, xx = grid.latlon()
    points = np.column_stack([yy.ravel(), xx.ravel()])
    out = np.empty(grid.shape + (3,))
    for k, component in enumerate(enu):
        interpolate = RegularGridInterpolator((lat[::-1], lon), np.asarray(component)[::-1])
        out[..., k] = interpolate(points).reshape(grid.shape)
    return out
