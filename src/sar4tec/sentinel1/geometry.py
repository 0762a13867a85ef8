"""Zero-Doppler radar geometry: geo2rdr (ground → radar) and rdr2geo (radar → ground).

**geo2rdr** (:func:`zero_doppler_time`, :func:`zero_doppler_range`,
:func:`zero_doppler_geometry`): for a target ``X`` (ECEF) the zero-Doppler azimuth time ``t``
solves ``(X - P(t)) · V(t) = 0`` with the orbit position ``P`` and velocity ``V``; it is found
by Newton iterations started from the closest approach of the scene centre.  The line of sight
is the unit vector from the target to ``P(t)``, expressed in the local east-north-up frame of
the target, from which the incidence angle (from the ellipsoid normal) and the heading (the
satellite's velocity direction, clockwise from north) follow.

**rdr2geo** (:func:`radar_to_geo`): for an azimuth time ``t`` and slant range ``R`` the target
lies on the zero-Doppler plane ``(X - P) · V = 0``, on the range sphere ``|X - P| = R`` and on
the surface of a given height above the WGS84 ellipsoid (constant, or a DEM).  Newton
iterations on the geodetic latitude and longitude solve the first two equations with the
height evaluated at the current position, so the third holds exactly.

:func:`geocentric_look_angles` gives the angles in the convention of the Sentinel-1
annotation's geolocation grid (from the geocentric radius, not the ellipsoid normal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from sar4tec.constants import WGS84_A, WGS84_E2
from sar4tec.geometry.ellipsoid import ecef_to_enu_vectors, geodetic_to_ecef
from sar4tec.geometry.los import incidence_heading_from_los
from sar4tec.grid import Grid
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


def zero_doppler_solve(
    orbit: Orbit,
    lat,
    lon,
    height,
    *,
    tolerance_s: float = 1e-7,
    max_iterations: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """geo2rdr of many targets in parallel: zero-Doppler time (s since the orbit epoch) and range.

    The same solution as :func:`zero_doppler_range` (Newton on ``(X - P(t)) · V(t) = 0`` with
    the Hermite orbit), computed per target in a numba kernel that evaluates the orbit inline
    and runs on numba's threads (:func:`numba.set_num_threads`), with no temporary arrays
    beyond the outputs.  Each target starts from the solution of the previous target of its
    chunk of 1024 (neighbouring pixels of a grid have nearly the same time), the first from the
    closest approach of the targets' centre; it stops when its own step is below
    ``tolerance_s``.  The chunks do not depend on the thread count, so neither do the results.

    Parameters
    ----------
    orbit : Orbit
        Earth-fixed orbit spanning the targets' zero-Doppler times.
    lat, lon, height : array_like
        Geodetic coordinates (degrees, metres above the WGS84 ellipsoid), broadcast together.
        Targets with a non-finite coordinate (e.g. no DEM height) get NaN.
    tolerance_s : float
        Newton stops when the step is below this (s).
    max_iterations : int
        Most Newton steps per target.

    Returns
    -------
    azimuth_time, slant_range : ndarray
        Seconds since ``orbit.reference_epoch`` and metres, the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If the orbit does not pass the targets' centre, or a target is seen outside the time
        span of the orbit.
    RuntimeError
        If a target does not converge in ``max_iterations`` steps.
    """
    lat, lon, height = (
        np.ascontiguousarray(v, dtype=np.float64)
        for v in np.broadcast_arrays(
            np.asarray(lat, np.float64), np.asarray(lon, np.float64), np.asarray(height, np.float64)
        )
    )
    shape = lat.shape
    t = np.full(shape, np.nan)
    r = np.full(shape, np.nan)
    finite = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(height)
    if not finite.any():
        return t, r
    centre = geodetic_to_ecef(lat[finite].mean(), lon[finite].mean(), height[finite].mean())
    start = _closest_approach_time(orbit, centre)
    status = _geo2rdr(
        lat.reshape(-1),
        lon.reshape(-1),
        height.reshape(-1),
        orbit.time,
        np.ascontiguousarray(orbit.position),
        np.ascontiguousarray(orbit.velocity),
        start,
        tolerance_s,
        max_iterations,
        t.reshape(-1),
        r.reshape(-1),
    )
    if status == 2:
        raise ValueError("some targets are seen outside the time span of the orbit")
    if status == 1:
        raise RuntimeError("zero-Doppler iterations did not converge")
    return t, r


#: targets per chunk of :func:`_geo2rdr` (each chunk is solved in order by one thread)
_GEO2RDR_CHUNK = 1024


@numba.njit(cache=True)
def _hermite(times, position, velocity, t, p, v, a):  # pragma: no cover - numba
    """Position, velocity, acceleration of the cubic Hermite orbit at ``t`` (into p, v, a)."""
    k = np.searchsorted(times, t, side="right") - 1
    k = min(max(k, 0), times.size - 2)
    h = times[k + 1] - times[k]
    s = (t - times[k]) / h
    s2 = s * s
    s3 = s2 * s
    for c in range(3):
        p0, p1 = position[k, c], position[k + 1, c]
        v0, v1 = velocity[k, c] * h, velocity[k + 1, c] * h
        p[c] = (
            (2 * s3 - 3 * s2 + 1) * p0
            + (s3 - 2 * s2 + s) * v0
            + (-2 * s3 + 3 * s2) * p1
            + (s3 - s2) * v1
        )
        v[c] = (
            (6 * s2 - 6 * s) * p0
            + (3 * s2 - 4 * s + 1) * v0
            + (-6 * s2 + 6 * s) * p1
            + (3 * s2 - 2 * s) * v1
        ) / h
        a[c] = ((12 * s - 6) * p0 + (6 * s - 4) * v0 + (6 - 12 * s) * p1 + (6 * s - 2) * v1) / (
            h * h
        )


@numba.njit(cache=True, parallel=True)
def _geo2rdr(
    lat, lon, height, times, position, velocity, start, tol, max_iter, t_out, r_out
):  # pragma: no cover - numba
    """Per-target Newton geo2rdr; returns 0, 1 (not converged) or 2 (outside the orbit)."""
    n = lat.size
    chunk = _GEO2RDR_CHUNK
    chunks = (n + chunk - 1) // chunk
    status = np.zeros(chunks, dtype=np.int64)
    t_min, t_max = times[0], times[-1]
    for c in numba.prange(chunks):
        p = np.empty(3)
        v = np.empty(3)
        a = np.empty(3)
        x = np.empty(3)
        guess = start
        for i in range(c * chunk, min((c + 1) * chunk, n)):
            h = height[i]
            if not (np.isfinite(lat[i]) and np.isfinite(lon[i]) and np.isfinite(h)):
                continue
            phi = math.radians(lat[i])
            lam = math.radians(lon[i])
            sl = math.sin(phi)
            cl = math.cos(phi)
            nr = WGS84_A / math.sqrt(1.0 - WGS84_E2 * sl * sl)
            x[0] = (nr + h) * cl * math.cos(lam)
            x[1] = (nr + h) * cl * math.sin(lam)
            x[2] = (nr * (1.0 - WGS84_E2) + h) * sl
            t = guess
            converged = False
            for _ in range(max_iter):
                _hermite(times, position, velocity, min(max(t, t_min), t_max), p, v, a)
                doppler = 0.0
                slope = 0.0
                for k in range(3):
                    rel = x[k] - p[k]
                    doppler += rel * v[k]
                    slope += rel * a[k] - v[k] * v[k]
                step = -doppler / slope
                t += step
                if abs(step) < tol:
                    converged = True
                    break
            if not converged:
                status[c] = max(status[c], 1)
                continue
            if t < t_min or t > t_max:
                status[c] = 2
                continue
            _hermite(times, position, velocity, t, p, v, a)
            t_out[i] = t
            r_out[i] = math.sqrt((p[0] - x[0]) ** 2 + (p[1] - x[1]) ** 2 + (p[2] - x[2]) ** 2)
            guess = t
    return status.max() if chunks else 0


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


def geocentric_look_angles(satellite, target) -> tuple[np.ndarray, np.ndarray]:
    """Elevation and incidence angles (degrees) measured from geocentric radii.

    This is the convention of the ``elevationAngle`` and ``incidenceAngle`` of a Sentinel-1
    annotation's geolocation grid: the elevation (off-nadir look) angle at the satellite is
    measured from the direction to the Earth's centre, the incidence angle at the target from
    the target's geocentric radius.  The project's ``incidence`` (:func:`zero_doppler_geometry`)
    is measured from the ellipsoid normal instead; the two differ by the projection of the
    normal's tilt from the radius (up to 0.19° at 45° latitude) on the look direction.

    Parameters
    ----------
    satellite, target : array_like, shape S + (3,)
        ECEF positions (m) of the satellite and the target.
    """
    sat = np.asarray(satellite, dtype=np.float64)
    tgt = np.asarray(target, dtype=np.float64)
    look = tgt - sat
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    nadir = -sat / np.linalg.norm(sat, axis=-1, keepdims=True)
    radius = tgt / np.linalg.norm(tgt, axis=-1, keepdims=True)
    elevation = np.degrees(np.arccos(np.clip(np.sum(look * nadir, -1), -1.0, 1.0)))
    incidence = np.degrees(np.arccos(np.clip(-np.sum(look * radius, -1), -1.0, 1.0)))
    return elevation, incidence


def radar_to_geo(
    orbit: Orbit,
    azimuth_time,
    slant_range,
    height=None,
    *,
    dem: tuple[np.ndarray, Grid] | None = None,
    look: str = "right",
    tolerance_m: float = 1e-5,
    max_iterations: int = 30,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rdr2geo: geodetic position of radar samples (zero-Doppler time, slant range).

    Parameters
    ----------
    orbit : Orbit
        Earth-fixed orbit spanning the azimuth times.
    azimuth_time : array_like
        Zero-Doppler times, seconds since ``orbit.reference_epoch``.
    slant_range : array_like
        Distances satellite–target (m); broadcast with ``azimuth_time``.
    height : array_like, optional
        Target heights above the WGS84 ellipsoid (m), broadcast with the samples; 0 if neither
        ``height`` nor ``dem`` is given.
    dem : (ndarray, Grid), optional
        Ellipsoidal heights (m) on an EPSG:4326 grid, interpolated bilinearly; the target lies
        on this surface.  Samples whose solution leaves the DEM (or hits NaN) are NaN.
    look : {"right", "left"}
        Look side (Sentinel-1 looks right); picks the solution on that side of the track.
    tolerance_m : float
        Newton iterations stop when the horizontal step is below this.
    max_iterations : int
        Samples not converged after this many steps are NaN.

    Returns
    -------
    lat, lon, height : ndarray
        Geodetic latitude and longitude (degrees) and ellipsoidal height (m), the samples'
        broadcast shape.

    Notes
    -----
    Newton iterations on ``(lat, lon)`` of ``g1 = (X - P)·V/|V|`` and ``g2 = |X - P| - R`` with
    ``X = X(lat, lon, h(lat, lon))``; the Jacobian uses ``∂X/∂lat = (M + h) n + h_lat u`` and
    ``∂X/∂lon = (N + h) cos(lat) e + h_lon u`` (meridian and prime-vertical radii ``M``, ``N``,
    local east/north/up ``e, n, u``; ``h_lat, h_lon`` from the DEM, 0 for a given height).
    The start is the intersection of the range sphere with a sphere of the ellipsoid's radius
    under the satellite.  Converges in 3–5 steps.  In layover, where several ground points
    share ``(t, R)``, the solution is one of them.
    """
    if look not in ("right", "left"):
        raise ValueError(f"look must be 'right' or 'left', got {look!r}")
    if dem is not None and height is not None:
        raise ValueError("give either height or dem, not both")
    t, r = np.broadcast_arrays(
        np.asarray(azimuth_time, dtype=np.float64), np.asarray(slant_range, dtype=np.float64)
    )
    shape = t.shape
    h = np.broadcast_to(np.asarray(0.0 if height is None else height, np.float64), shape)
    position, velocity = orbit.interpolate(t.reshape(-1))
    if dem is None:
        dem_values = np.empty((1, 1))
        transform = np.zeros(4)
    else:
        values, grid = dem
        if grid.crs != "EPSG:4326":
            raise ValueError(f"the DEM grid must be EPSG:4326 (lon/lat), got {grid.crs}")
        if values.shape != grid.shape:
            raise ValueError(f"DEM array shape {values.shape} differs from its grid {grid.shape}")
        dem_values = np.ascontiguousarray(values, dtype=np.float64)
        x0, dx, _, y0, _, dy = grid.transform
        transform = np.array([x0, dx, y0, dy])
        h = np.full(shape, np.nanmean(dem_values))  # only the starting guess
    lat, lon, h_out = _rdr2geo(
        position,
        velocity,
        r.reshape(-1).copy(),
        h.reshape(-1).copy(),
        dem_values,
        transform,
        dem is not None,
        look == "right",
        tolerance_m,
        max_iterations,
    )
    return lat.reshape(shape), lon.reshape(shape), h_out.reshape(shape)


@numba.njit(cache=True)
def _dem_height(dem, transform, lat_deg, lon_deg):  # pragma: no cover - numba
    """Bilinear DEM height and its derivatives (m per degree of lat and lon); NaN outside."""
    x0, dx, y0, dy = transform[0], transform[1], transform[2], transform[3]
    col = (lon_deg - x0) / dx - 0.5
    row = (lat_deg - y0) / dy - 0.5
    rows, cols = dem.shape
    if not (0.0 <= row <= rows - 1 and 0.0 <= col <= cols - 1):
        return np.nan, 0.0, 0.0
    r0 = min(int(row), rows - 2) if rows > 1 else 0
    c0 = min(int(col), cols - 2) if cols > 1 else 0
    r1, c1 = min(r0 + 1, rows - 1), min(c0 + 1, cols - 1)
    fr, fc = row - r0, col - c0
    z00, z01, z10, z11 = dem[r0, c0], dem[r0, c1], dem[r1, c0], dem[r1, c1]
    top = z00 + fc * (z01 - z00)
    bottom = z10 + fc * (z11 - z10)
    value = top + fr * (bottom - top)
    d_col = (1.0 - fr) * (z01 - z00) + fr * (z11 - z10)
    d_row = bottom - top
    return value, d_row / dy, d_col / dx


@numba.njit(cache=True)
def _ecef_to_geodetic(x, y, z):  # pragma: no cover - numba
    """Geodetic latitude, longitude (radians) of an ECEF point (a few fixed-point steps)."""
    p = math.hypot(x, y)
    lon = math.atan2(y, x)
    lat = math.atan2(z, p * (1.0 - WGS84_E2))
    for _ in range(5):
        s = math.sin(lat)
        n = WGS84_A / math.sqrt(1.0 - WGS84_E2 * s * s)
        h = p / math.cos(lat) - n
        lat = math.atan2(z, p * (1.0 - WGS84_E2 * n / (n + h)))
    return lat, lon


@numba.njit(cache=True, parallel=True)
def _rdr2geo(
    position, velocity, slant_range, height, dem, transform, use_dem, right, tol, max_iter
):  # pragma: no cover - numba
    n = slant_range.size
    lat_out = np.full(n, np.nan)
    lon_out = np.full(n, np.nan)
    h_out = np.full(n, np.nan)
    b = WGS84_A * math.sqrt(1.0 - WGS84_E2)
    for i in numba.prange(n):
        p = position[i]
        v = velocity[i] / np.linalg.norm(velocity[i])
        rng = slant_range[i]
        p_norm = np.linalg.norm(p)
        nadir = -p / p_norm
        side = np.cross(nadir, v)  # to the right of the flight direction
        side /= np.linalg.norm(side)
        if not right:
            side = -side
        down = np.cross(v, side) if right else np.cross(side, v)  # nadir, normal to v
        cos_lat_c2 = (p[0] * p[0] + p[1] * p[1]) / (p_norm * p_norm)
        r_t = b / math.sqrt(1.0 - WGS84_E2 * cos_lat_c2) + height[i]
        cos_look = (p_norm * p_norm + rng * rng - r_t * r_t) / (2.0 * p_norm * rng)
        cos_look = min(max(cos_look, -1.0), 1.0)
        x = p + rng * (cos_look * down + math.sqrt(1.0 - cos_look * cos_look) * side)
        lat, lon = _ecef_to_geodetic(x[0], x[1], x[2])
        h = height[i]
        for _ in range(max_iter):
            h_lat = 0.0
            h_lon = 0.0
            if use_dem:
                h, h_lat, h_lon = _dem_height(dem, transform, math.degrees(lat), math.degrees(lon))
                if math.isnan(h):
                    break
                h_lat *= 180.0 / math.pi
                h_lon *= 180.0 / math.pi
            sl, cl = math.sin(lat), math.cos(lat)
            so, co = math.sin(lon), math.cos(lon)
            w = 1.0 - WGS84_E2 * sl * sl
            n_radius = WGS84_A / math.sqrt(w)
            m_radius = WGS84_A * (1.0 - WGS84_E2) / (w * math.sqrt(w))
            x = np.array(
                [
                    (n_radius + h) * cl * co,
                    (n_radius + h) * cl * so,
                    (n_radius * (1.0 - WGS84_E2) + h) * sl,
                ]
            )
            east = np.array([-so, co, 0.0])
            north = np.array([-sl * co, -sl * so, cl])
            up = np.array([cl * co, cl * so, sl])
            d_lat = (m_radius + h) * north + h_lat * up
            d_lon = (n_radius + h) * cl * east + h_lon * up
            rel = x - p
            dist = np.linalg.norm(rel)
            u = rel / dist
            g1 = np.dot(rel, v)
            g2 = dist - rng
            a11, a12 = np.dot(v, d_lat), np.dot(v, d_lon)
            a21, a22 = np.dot(u, d_lat), np.dot(u, d_lon)
            det = a11 * a22 - a12 * a21
            step_lat = (a22 * g1 - a12 * g2) / det
            step_lon = (a11 * g2 - a21 * g1) / det
            lat -= step_lat
            lon -= step_lon
            moved = math.hypot(step_lat * (m_radius + h), step_lon * (n_radius + h) * cl)
            if moved < tol:
                if use_dem:
                    h = _dem_height(dem, transform, math.degrees(lat), math.degrees(lon))[0]
                lat_out[i] = math.degrees(lat)
                lon_out[i] = (math.degrees(lon) + 180.0) % 360.0 - 180.0
                h_out[i] = h
                break
    return lat_out, lon_out, h_out


def geolocation_residuals(annotation, orbit: Orbit | None = None) -> dict[str, np.ndarray]:
    """Our geo2rdr/rdr2geo/angles minus the annotation's geolocation grid, per grid point.

    Parameters
    ----------
    annotation : bytes or xml.etree.ElementTree.Element
        A Sentinel-1 product annotation (one sub-swath and polarisation).
    orbit : Orbit, optional
        Orbit to use; default the annotation's own state vectors.

    Returns
    -------
    dict of ndarray
        ``azimuth_time`` (s) and ``slant_range`` (m): geo2rdr of the point's (lat, lon, height)
        minus its ``azimuthTime`` and ``slantRangeTime·c/2``; ``horizontal`` (m): distance
        between rdr2geo of (azimuthTime, slantRangeTime, height) and the point's lat/lon;
        ``vertical`` (m); ``incidence`` and ``elevation`` (degrees): :func:`geocentric_look_angles`
        minus ``incidenceAngle`` and ``elevationAngle``; ``incidence_ellipsoid`` (degrees): the
        project's incidence (from the ellipsoid normal) minus ``incidenceAngle``.
    """
    import xml.etree.ElementTree as ET

    from sar4tec.constants import SPEED_OF_LIGHT
    from sar4tec.files import parse_time
    from sar4tec.sentinel1.safe import annotation_orbit

    root = ET.fromstring(annotation) if isinstance(annotation, bytes) else annotation
    orbit = annotation_orbit(root) if orbit is None else orbit
    points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    if not points:
        raise ValueError("the annotation has no geolocationGrid points")
    keys = ("latitude", "longitude", "height", "slantRangeTime", "incidenceAngle")
    v = {k: np.array([float(p.findtext(k)) for p in points]) for k in keys + ("elevationAngle",)}
    t = np.array([orbit.seconds_since_epoch(parse_time(p.findtext("azimuthTime"))) for p in points])
    slant_range = v["slantRangeTime"] * SPEED_OF_LIGHT / 2.0
    geo = zero_doppler_geometry(orbit, v["latitude"], v["longitude"], v["height"])
    lat, lon, height = radar_to_geo(orbit, t, slant_range, v["height"])
    target = geodetic_to_ecef(v["latitude"], v["longitude"], v["height"])
    offset = ecef_to_enu_vectors(
        geodetic_to_ecef(lat, lon, height) - target, v["latitude"], v["longitude"]
    )
    position, _ = orbit.interpolate(geo.azimuth_time)
    elevation, incidence = geocentric_look_angles(position, target)
    return {
        "azimuth_time": geo.azimuth_time - t,
        "slant_range": geo.slant_range - slant_range,
        "horizontal": np.hypot(offset[:, 0], offset[:, 1]),
        "vertical": offset[:, 2],
        "incidence": incidence - v["incidenceAngle"],
        "elevation": elevation - v["elevationAngle"],
        "incidence_ellipsoid": geo.incidence - v["incidenceAngle"],
    }
