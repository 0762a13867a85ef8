"""WGS84 geodetic ↔ ECEF coordinates and local east-north-up (ENU) frames."""

from __future__ import annotations

import numpy as np

from sar4tec.constants import WGS84_A, WGS84_E2


def geodetic_to_ecef(lat_deg, lon_deg, height_m=0.0) -> np.ndarray:
    """ECEF coordinates (m) of WGS84 geodetic points; the last axis holds (x, y, z).

    Parameters
    ----------
    lat_deg, lon_deg : array_like
        Geodetic latitude and longitude in degrees.
    height_m : array_like
        Height above the WGS84 ellipsoid in metres.
    """
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    h = np.asarray(height_m, dtype=np.float64)
    sin_lat = np.sin(lat)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    x = (n + h) * np.cos(lat) * np.cos(lon)
    y = (n + h) * np.cos(lat) * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def _enu_basis(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors east, north, up (ECEF components on the last axis) at geodetic points."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros(np.broadcast(lat, lon).shape)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return east, north, up


def ecef_to_enu_vectors(vectors, lat_deg, lon_deg) -> np.ndarray:
    """Rotate ECEF vectors (last axis x, y, z) into the local ENU frame at geodetic points."""
    east, north, up = _enu_basis(lat_deg, lon_deg)
    v = np.asarray(vectors, dtype=np.float64)
    return np.stack([np.sum(v * east, -1), np.sum(v * north, -1), np.sum(v * up, -1)], axis=-1)


def enu_to_ecef_vectors(enu, lat_deg, lon_deg) -> np.ndarray:
    """Rotate local ENU vectors (last axis e, n, u) at geodetic points into ECEF."""
    east, north, up = _enu_basis(lat_deg, lon_deg)
    v = np.asarray(enu, dtype=np.float64)
    return v[..., 0:1] * east + v[..., 1:2] * north + v[..., 2:3] * up
