"""Zero-Doppler radar geometry: for ground points, the satellite position that sees them.

For a target ``X`` (ECEF) the zero-Doppler azimuth time ``t`` solves
``(X - P(t)) · V(t) = 0`` with the orbit position ``P`` and velocity ``V``; it is found by
Newton iterations started from the closest approach of the scene centre.  The line of sight
is the unit vector from the target to ``P(t)``, expressed in the local east-north-up frame of
the target, from which the incidence angle (from the ellipsoid normal) and the heading (the
satellite's velocity direction, clockwise from north) follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sar4tec.geometry.ellipsoid import ecef_to_enu_vectors, geodetic_to_ecef
from sar4tec.geometry.los import incidence_heading_from_los
from sar4tec.sentinel1.orbit import Orbit


@dataclass(frozen=True)
class ZeroDopplerGeometry:
    """Geometry of ground points seen from an orbit (all arrays of the points' shape).

    Attributes
    ----------
    los_enu : ndarray, shape S + (3,)
        Unit vector target → satellite in (east, north, up).
    incidence : ndarray
        Incidence angle at the target, degrees from the ellipsoid normal.
    heading : ndarray
        Satellite heading, degrees clockwise from north, in (-180, 180].
    azimuth_time : ndarray
        Zero-Doppler time, seconds since the orbit's reference epoch.
    slant_range : ndarray
        Distance target–satellite in metres.
    """

    los_enu: np.ndarray
    incidence: np.ndarray
    heading: np.ndarray
    azimuth_time: np.ndarray
    slant_range: np.ndarray


def _closest_approach_time(orbit: Orbit, target: np.ndarray) -> float:
    """Zero-Doppler time of one target from a coarse search over the state vectors."""
    rel = target - orbit.position
    doppler = np.einsum("ij,ij->i", rel, orbit.velocity)
    crossings = np.flatnonzero((doppler[:-1] > 0) & (doppler[1:] <= 0))
    if crossings.size == 0:
        raise ValueError("the orbit does not pass the scene (no zero-Doppler crossing)")
    distance = np.linalg.norm(rel[crossings], axis=1)
    k = crossings[np.argmin(distance)]
    # linear interpolation of the Doppler function between the bracketing vectors
    frac = doppler[k] / (doppler[k] - doppler[k + 1])
    return float(orbit.time[k] + frac * (orbit.time[k + 1] - orbit.time[k]))


def zero_doppler_time(
    orbit: Orbit,
    target: np.ndarray,
    *,
    tolerance_s: float = 1e-7,
    max_iterations: int = 20,
) -> np.ndarray:
    """Zero-Doppler azimuth times (seconds since the orbit epoch) of ECEF targets (..., 3).

    Newton iterations on ``f(t) = (X - P(t)) · V(t)`` with the exact derivative
    ``f'(t) = -|V|² + (X - P) · A`` of the Hermite orbit converge quadratically (2–4 steps).
    """
    points = np.asarray(target, dtype=np.float64).reshape(-1, 3)
    t = np.full(points.shape[0], _closest_approach_time(orbit, points.mean(axis=0)))
    t_min, t_max = orbit.time[0], orbit.time[-1]
    for _ in range(max_iterations):
        position, velocity, acceleration = orbit.interpolate_with_acceleration(
            np.clip(t, t_min, t_max)
        )
        rel = points - position
        doppler = np.einsum("ij,ij->i", rel, velocity)
        slope = np.einsum("ij,ij->i", rel, acceleration) - np.einsum("ij,ij->i", velocity, velocity)
        step = -doppler / slope
        t = t + step
        if np.max(np.abs(step)) < tolerance_s:
            break
    else:
        raise RuntimeError("zero-Doppler iterations did not converge")
    if np.any(t < t_min) or np.any(t > t_max):
        raise ValueError("some targets are seen outside the time span of the orbit")
    return t.reshape(np.shape(target)[:-1])


def zero_doppler_range(orbit: Orbit, lat, lon, height) -> tuple[np.ndarray, np.ndarray]:
    """Zero-Doppler azimuth time (s since the orbit epoch) and slant range (m) of targets."""
    target = geodetic_to_ecef(lat, lon, height)
    t = zero_doppler_time(orbit, target)
    position, _ = orbit.interpolate(t)
    return t, np.linalg.norm(position - target, axis=-1)


def zero_doppler_geometry(
    orbit: Orbit,
    lat,
    lon,
    height,
    *,
    look: str = "right",
) -> ZeroDopplerGeometry:
    """LOS vector, incidence, heading, azimuth time and range of ground points.

    Parameters
    ----------
    orbit : Orbit
        Earth-fixed orbit spanning the scene's acquisition.
    lat, lon, height : array_like
        Geodetic coordinates of the targets (degrees, metres above the WGS84 ellipsoid);
        broadcast together.
    look : {"right", "left"}
        Look side used to express the heading (Sentinel-1 looks right).
    """
    target = geodetic_to_ecef(lat, lon, height)
    shape = target.shape[:-1]
    points = target.reshape(-1, 3)
    t = zero_doppler_time(orbit, points)
    position, velocity = orbit.interpolate(t)
    rel = position - points
    slant_range = np.linalg.norm(rel, axis=1)
    lat_b, lon_b = (
        np.broadcast_to(np.asarray(v, dtype=np.float64), shape).reshape(-1) for v in (lat, lon)
    )
    los_enu = ecef_to_enu_vectors(rel / slant_range[:, None], lat_b, lon_b)
    incidence, _ = incidence_heading_from_los(los_enu, look=look)
    vel_enu = ecef_to_enu_vectors(velocity, lat_b, lon_b)
    heading = np.degrees(np.arctan2(vel_enu[:, 0], vel_enu[:, 1]))
    return ZeroDopplerGeometry(
        los_enu=los_enu.reshape(shape + (3,)),
        incidence=incidence.reshape(shape),
        heading=heading.reshape(shape),
        azimuth_time=t.reshape(shape),
        slant_range=slant_range.reshape(shape),
    )
