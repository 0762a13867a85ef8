"""GNSS velocities along the radar line of sight, and InSAR averaged around each station.

The LOS velocity of a station is ``v_los = l . v`` with the ground-to-satellite unit vector
``l = (l_e, l_n, l_u)`` of the frame at the station; its variance follows from the ENU
covariance, ``l_e^2 s_e^2 + l_n^2 s_n^2 + l_u^2 s_u^2 + 2 l_e l_n r_en s_e s_n`` (the
east/up and north/up correlations of GNSS solutions are small and most formats omit them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sar4tec.constants import WGS84_A
from sar4tec.grid import Grid


def enu_to_los(
    east, north, up, sigma_east, sigma_north, sigma_up, corr_en, los_east, los_north, los_up
) -> tuple[np.ndarray, np.ndarray]:
    """LOS velocity (+ toward the satellite) and its 1-sigma from ENU velocities.

    Parameters
    ----------
    east, north, up : array_like
        Velocity components (any unit, e.g. m/yr).
    sigma_east, sigma_north, sigma_up : array_like
        Their 1-sigma uncertainties, same unit.
    corr_en : array_like
        East-north correlation coefficient.
    los_east, los_north, los_up : array_like
        Ground-to-satellite unit vector at the stations.

    Returns
    -------
    los, sigma : numpy.ndarray
    """
    le, ln, lu = (np.asarray(v, dtype=np.float64) for v in (los_east, los_north, los_up))
    se, sn, su = (np.asarray(v, dtype=np.float64) for v in (sigma_east, sigma_north, sigma_up))
    los = le * np.asarray(east) + ln * np.asarray(north) + lu * np.asarray(up)
    var = (
        (le * se) ** 2
        + (ln * sn) ** 2
        + (lu * su) ** 2
        + 2 * le * ln * np.asarray(corr_en) * se * sn
    )
    return los, np.sqrt(np.maximum(var, 0.0))


@dataclass(frozen=True)
class StationSample:
    """Raster values averaged within a radius of each station.

    Attributes
    ----------
    mean : numpy.ndarray
        ``(n_stations, n_layers)`` mean over the valid pixels within the radius (NaN if none).
    count : numpy.ndarray
        ``(n_stations,)`` number of valid pixels averaged.
    inside : numpy.ndarray
        ``(n_stations,)`` True where the station lies inside the grid.
    """

    mean: np.ndarray
    count: np.ndarray
    inside: np.ndarray


def sample_around(grid: Grid, layers, valid, lat, lon, radius_m: float) -> StationSample:
    """Average raster layers over the valid pixels within ``radius_m`` of each station.

    Parameters
    ----------
    grid : Grid
        Grid of the layers (EPSG:4326 or projected, e.g. UTM).
    layers : sequence of 2-D arrays
        Images on ``grid`` (e.g. velocity, velocity_std, los_east, ...).
    valid : 2-D bool array
        Pixels that may be averaged (finite in every layer is required as well).
    lat, lon : array_like
        Station coordinates in degrees.
    radius_m : float
        Averaging radius; at least the pixel containing the station is used.
    """
    layers = [np.asarray(a) for a in layers]
    valid = np.asarray(valid, bool) & np.logical_and.reduce([np.isfinite(a) for a in layers])
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    dy, dx = (abs(v) for v in grid.spacing)
    geographic = grid.crs == "EPSG:4326"
    metres_per_unit = np.pi * WGS84_A / 180.0 if geographic else 1.0  # degrees or metres
    mean = np.full((lat.size, len(layers)), np.nan)
    count = np.zeros(lat.size, int)
    row_f, col_f = grid.index_latlon(lat, lon)
    rows_c = np.floor(row_f + 0.5).astype(int)
    cols_c = np.floor(col_f + 0.5).astype(int)
    inside = (rows_c >= 0) & (rows_c < grid.rows) & (cols_c >= 0) & (cols_c < grid.cols)
    for k in np.flatnonzero(inside):
        m_per_dx = metres_per_unit * (np.cos(np.radians(lat[k])) if geographic else 1.0) * dx
        m_per_dy = metres_per_unit * dy
        hr = int(np.ceil(radius_m / m_per_dy))
        hc = int(np.ceil(radius_m / m_per_dx))
        r0, r1 = max(rows_c[k] - hr, 0), min(rows_c[k] + hr + 1, grid.rows)
        c0, c1 = max(cols_c[k] - hc, 0), min(cols_c[k] + hc + 1, grid.cols)
        rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        dist = np.hypot((rr - row_f[k]) * m_per_dy, (cc - col_f[k]) * m_per_dx)
        near = (dist <= radius_m) | ((rr == rows_c[k]) & (cc == cols_c[k]))
        use = near & valid[r0:r1, c0:c1]
        count[k] = int(use.sum())
        if count[k]:
            mean[k] = [float(a[r0:r1, c0:c1][use].mean()) for a in layers]
    return StationSample(mean, count, inside)
