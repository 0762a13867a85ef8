"""The simulated frame's grid: geographic (EPSG:4326, degrees) or projected (UTM, metres).

Everything physical in the simulator works on per-pixel geodetic latitude and longitude
(:meth:`sar4tec.grid.Grid.latlon`); only the lengths of a pixel and the placement of points in
the grid's own coordinates depend on the CRS, and they are gathered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sar4tec.grid import Grid

GEOGRAPHIC = "EPSG:4326"


def frame_grid(sim: Mapping[str, Any]) -> Grid:
    """The SLC grid of the ``simulation`` config section.

    ``grid_crs`` is ``EPSG:4326`` (``spacing`` in degrees, the grid's outer bounds are exactly
    ``bounds``), ``utm`` (the UTM zone of the centre of ``bounds``) or an explicit
    ``EPSG:326zz``/``EPSG:327zz`` (``spacing`` in metres; the grid covers ``bounds``, snapped
    outward to whole multiples of the spacing).
    """
    crs, spacing = str(sim.get("grid_crs", GEOGRAPHIC)), float(sim["spacing"])
    if crs == GEOGRAPHIC:
        return Grid.from_bounds(*sim["bounds"], spacing)
    west, south, east, north = (float(v) for v in sim["bounds"])
    if crs == "utm":
        crs = Grid.utm_crs((south + north) / 2, (west + east) / 2)
    if spacing < 1.0:
        raise ValueError(
            f"simulation.spacing = {spacing} is in metres for simulation.grid_crs = "
            f"{sim['grid_crs']!r}: use e.g. 200"
        )
    return Grid.from_lonlat_bounds((west, south, east, north), (spacing, spacing), crs)


def pixel_size(grid: Grid, lat, per_degree: float, metre: float = 1.0) -> tuple[Any, Any]:
    """North and east size of a pixel of ``grid`` at latitude ``lat`` (degrees).

    ``per_degree`` is the length of one degree of latitude and ``metre`` the length of one
    metre, both in the unit wanted (e.g. ``111.195`` and ``1e-3`` for km). A geographic grid's
    east size shrinks as ``cos(lat)`` (sphere); a projected grid's spacing is metres already
    (UTM's scale factor, within 0.1 % of 1 in a zone, is neglected).
    """
    dy, dx = abs(grid.spacing[0]), abs(grid.spacing[1])
    if grid.crs != GEOGRAPHIC:
        return dy * metre, dx * metre
    return dy * per_degree, dx * per_degree * np.cos(np.radians(lat))


def grid_coordinates(grid: Grid, lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """``(y, x)`` in the CRS of ``grid`` of geodetic ``lat``, ``lon`` (degrees)."""
    if grid.crs == GEOGRAPHIC:
        return np.asarray(lat), np.asarray(lon)
    row, col = grid.index_latlon(lat, lon)
    x0, dx, _, y0, _, dy = grid.transform
    return y0 + (row + 0.5) * dy, x0 + (col + 0.5) * dx


def geodetic(grid: Grid, y, x) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic ``(lat, lon)`` (degrees) of points ``(y, x)`` in the CRS of ``grid``."""
    if grid.crs == GEOGRAPHIC:
        return np.asarray(y), np.asarray(x)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(grid.crs, GEOGRAPHIC, always_xy=True).transform(x, y)
    return np.asarray(lat), np.asarray(lon)


def nearest_pixel_latlon(grid: Grid, lat: float, lon: float) -> tuple[int, int]:
    """Integer ``(row, col)`` of the pixel of ``grid`` containing a geodetic point."""
    y, x = grid_coordinates(grid, lat, lon)
    return grid.nearest_pixel(float(y), float(x))
