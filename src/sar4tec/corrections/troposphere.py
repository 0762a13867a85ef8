"""Tropospheric path delay from ERA5 pressure-level fields.

Refractivity (Smith & Weintraub 1953; Thayer 1974) split into a hydrostatic and a wet part
(Davis et al. 1985)::

    N = k1 Rd rho + k2' e/T + k3 e/T^2,   k1 = 0.776 K/Pa, k2' = 0.233 K/Pa, k3 = 3750 K^2/Pa

The zenith delay of a point at ellipsoidal height h is ``1e-6 * integral of N from h to the top``:

* hydrostatic: with ``dP = -rho g dz`` the integral is exact in pressure,
  ``1e-6 k1 Rd * integral_0^P(h) dP / g(z)``, summed over the levels with the gravity of each level;
* wet: ``1e-6 * integral (k2' e/T + k3 e/T^2) dz`` with the integrand taken as exponential
  between levels (its natural shape; water vapour has a ~2 km scale height).

ERA5 gives geopotential ``z`` on pressure levels.  Geopotential height ``H = z / g0`` becomes
geometric height above mean sea level with the latitude-dependent normal gravity and effective
Earth radius, ``h = R(phi) H / (g(phi)/g0 R(phi) - H)`` (Mahoney 2001, WGS84 Somigliana gravity),
and ellipsoidal height by adding the geoid undulation (a raster, a constant, or 0; see
``docs/corrections.md``).  For every weather node the delay is tabulated on a fine vertical grid
spanning the frame's heights; pixels take it by trilinear interpolation (lat, lon, height), and
linear interpolation in time between the two ERA5 hours that bracket the acquisition.  The slant
delay is the zenith delay divided by ``cos(incidence)``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numba
import numpy as np

from sar4tec.constants import WGS84_A, WGS84_E2, WGS84_F
from sar4tec.corrections.weather import WeatherFields, read_weather
from sar4tec.files import to_utc

log = logging.getLogger(__name__)

K1 = 0.776  # K/Pa
K2_PRIME = 0.233  # K/Pa, k2 - k1 Rd/Rv
K3 = 3750.0  # K^2/Pa
RD = 287.05  # J/(kg K), dry air
RV = 461.495  # J/(kg K), water vapour
EPSILON = RD / RV
G0 = 9.80665  # m/s^2, standard gravity (defines geopotential height)
GAMMA_E = 9.7803253359  # m/s^2, WGS84 normal gravity at the equator
SOMIGLIANA_K = 0.00193185265241
GRAVITY_RATIO_M = 0.00344978650684  # omega^2 a^2 b / GM of WGS84

#: vertical spacing of the delay tables (m); linear interpolation between them errs < 0.05 mm
TABLE_STEP = 20.0
#: ERA5 times further apart than this never bracket an acquisition
MAX_BRACKET = 6 * 3600.0

WeatherSource = str | os.PathLike | WeatherFields | Sequence[str | os.PathLike | WeatherFields]


def normal_gravity(lat_deg) -> np.ndarray:
    """WGS84 normal gravity on the ellipsoid (Somigliana), m/s²."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    return GAMMA_E * (1.0 + SOMIGLIANA_K * s2) / np.sqrt(1.0 - WGS84_E2 * s2)


def effective_radius(lat_deg) -> np.ndarray:
    """Radius (m) for the free-air gravity decrease ``g(h) = g(phi) (R/(R+h))^2`` (Mahoney 2001)."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    return WGS84_A / (1.0 + WGS84_F + GRAVITY_RATIO_M - 2.0 * WGS84_F * s2)


def geometric_height(geopotential, lat_deg) -> np.ndarray:
    """Geometric height above mean sea level (m) of a geopotential (m²/s²) at a latitude."""
    h_geopot = np.asarray(geopotential) / G0
    radius = effective_radius(lat_deg)
    return radius * h_geopot / (normal_gravity(lat_deg) / G0 * radius - h_geopot)


def vapour_pressure(q, pressure) -> np.ndarray:
    """Water-vapour partial pressure (Pa) from specific humidity (kg/kg) and pressure (Pa)."""
    q = np.asarray(q)
    return q * pressure / (EPSILON + (1.0 - EPSILON) * q)


@numba.njit(cache=True, inline="always")
def _layer_integral(wa: float, wb: float, dz: float) -> float:
    """Integral over ``dz`` of a quantity going exponentially from ``wa`` to ``wb``."""
    if wa > 0.0 and wb > 0.0 and abs(wa - wb) > 1e-9 * wa:
        return (wa - wb) * dz / np.log(wa / wb)
    return 0.5 * (wa + wb) * dz


@numba.njit(cache=True, parallel=True)
def _delay_tables(h, lnp, inv_g, w, heights, hyd, wet):  # pragma: no cover - numba
    """Hydrostatic integral (Pa·s²/m) and wet delay (m) at ``heights`` for every node.

    ``h``, ``inv_g``, ``w`` are ``(level, node)`` with level 0 the top (lowest pressure);
    ``lnp`` is ``(level,)``.  Below the lowest level, the lowest layer is extrapolated.
    """
    nlev, nnode = h.shape
    for n in numba.prange(nnode):
        cum_h = np.empty(nlev)
        cum_w = np.empty(nlev)
        cum_h[0] = np.exp(lnp[0]) * inv_g[0, n]
        cum_w[0] = 0.0
        for lev in range(1, nlev):
            dp = np.exp(lnp[lev]) - np.exp(lnp[lev - 1])
            cum_h[lev] = cum_h[lev - 1] + dp * 0.5 * (inv_g[lev - 1, n] + inv_g[lev, n])
            cum_w[lev] = cum_w[lev - 1] + _layer_integral(
                w[lev - 1, n], w[lev, n], h[lev - 1, n] - h[lev, n]
            )
        above = 0  # deepest level at or above the current table height
        for k in range(heights.size - 1, -1, -1):  # from the top of the table down
            hk = heights[k]
            while above + 1 < nlev and h[above + 1, n] >= hk:
                above += 1
            up = min(above, nlev - 2)
            s = (hk - h[up, n]) / (h[up + 1, n] - h[up, n])
            pk = np.exp(lnp[up] + s * (lnp[up + 1] - lnp[up]))
            gk = inv_g[up, n] + s * (inv_g[up + 1, n] - inv_g[up, n])
            wu, wd = w[up, n], w[up + 1, n]
            wk = wu * (wd / wu) ** s if wu > 0.0 and wd > 0.0 else wu + s * (wd - wu)
            pa = np.exp(lnp[above])
            hyd[k, n] = cum_h[above] + (pk - pa) * 0.5 * (inv_g[above, n] + gk)
            wet[k, n] = cum_w[above] + _layer_integral(w[above, n], wk, h[above, n] - hk)


@numba.njit(cache=True, inline="always")
def _trilinear_at(table, origin, inv_step, lat, lon, hgt):  # pragma: no cover - numba
    """Trilinear interpolation of ``table[height, lat, lon]`` at a point (clamped at the edges)."""
    nk, ny, nx = table.shape
    fk = min(max((hgt - origin[0]) * inv_step[0], 0.0), nk - 1.000001)
    fy = min(max((lat - origin[1]) * inv_step[1], 0.0), ny - 1.000001)
    fx = min(max((lon - origin[2]) * inv_step[2], 0.0), nx - 1.000001)
    if np.isnan(fk + fy + fx):
        return np.nan
    k, i, j = int(fk), int(fy), int(fx)
    a, b, c = fk - k, fy - i, fx - j
    v = 0.0
    for dk in range(2):
        wk = a if dk else 1.0 - a
        for di in range(2):
            wi = b if di else 1.0 - b
            for dj in range(2):
                wj = c if dj else 1.0 - c
                v += wk * wi * wj * table[k + dk, i + di, j + dj]
    return v


@numba.njit(cache=True, parallel=True)
def _trilinear(table, origin, inv_step, wrap, lat, lon, hgt, out):  # pragma: no cover - numba
    """``table`` at points; ``wrap`` (360 or 0) is added to negative longitudes."""
    for p in numba.prange(lat.size):
        lon_p = lon[p] + wrap if lon[p] < 0.0 else lon[p]
        out[p] = _trilinear_at(table, origin, inv_step, lat[p], lon_p, hgt[p])


@numba.njit(cache=True, parallel=True)
def _slant(table, origin, inv_step, wrap, lat, lon, hgt, inc, out):  # pragma: no cover - numba
    """``table`` at points divided by the cosine of the incidence (degrees)."""
    for p in numba.prange(lat.size):
        lon_p = lon[p] + wrap if lon[p] < 0.0 else lon[p]
        zenith = _trilinear_at(table, origin, inv_step, lat[p], lon_p, hgt[p])
        out[p] = zenith / np.cos(np.radians(inc[p]))


def geoid_undulation(geoid, lat, lon) -> np.ndarray:
    """Geoid undulation (m) at points: ``geoid`` is None (0), a number, or a raster path.

    The raster (any GDAL format, EPSG:4326 degrees, e.g. PROJ's ``us_nga_egm96_15.tif``)
    is sampled bilinearly at the points.
    """
    lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
    if geoid is None:
        return np.zeros(lat.shape)
    if isinstance(geoid, int | float):
        return np.full(lat.shape, float(geoid))
    import rasterio
    from scipy.interpolate import RegularGridInterpolator

    with rasterio.open(geoid) as src:
        if src.crs is not None and not src.crs.is_geographic:
            raise ValueError(f"geoid raster {geoid} must be in geographic coordinates")
        band = src.read(1).astype(np.float64)
        tr = src.transform
        xs = tr.c + (np.arange(src.width) + 0.5) * tr.a
        ys = tr.f + (np.arange(src.height) + 0.5) * tr.e
    if ys[0] > ys[-1]:
        ys, band = ys[::-1], band[::-1]
    lon_q = np.where(lon < xs[0], lon + 360.0, np.where(lon > xs[-1], lon - 360.0, lon))
    inside = (lat >= ys[0]) & (lat <= ys[-1]) & (lon_q >= xs[0]) & (lon_q <= xs[-1])
    if not inside.all():
        raise ValueError(
            f"geoid raster {geoid} (lat {ys[0]:.3f}..{ys[-1]:.3f}, lon {xs[0]:.3f}..{xs[-1]:.3f})"
            " does not cover the weather nodes"
        )
    return RegularGridInterpolator((ys, xs), band)(np.stack([lat, lon_q], -1))


def _as_fields(source: WeatherSource) -> list[WeatherFields]:
    items = [source] if isinstance(source, str | os.PathLike | WeatherFields) else list(source)
    if not items:
        raise ValueError("no weather-model file given")
    return [s if isinstance(s, WeatherFields) else read_weather(s) for s in items]


def bracketing_times(
    fields: Sequence[WeatherFields], when: datetime
) -> list[tuple[WeatherFields, int, float]]:
    """The weather times to interpolate ``when`` from: ``[(fields, time index, weight), ...]``.

    One entry when a file time equals ``when``; otherwise the nearest earlier and later times
    (at most 6 h apart) with linear weights.

    Raises
    ------
    ValueError
        If no pair of times brackets ``when`` (the message lists the times available).
    """
    when = to_utc(when)
    entries = sorted(((t, f, i) for f in fields for i, t in enumerate(f.times)), key=lambda e: e[0])
    for t, f, i in entries:
        if t == when:
            return [(f, i, 1.0)]
    before = [e for e in entries if e[0] < when]
    after = [e for e in entries if e[0] > when]
    if before and after:
        (t0, f0, i0), (t1, f1, i1) = before[-1], after[0]
        span = (t1 - t0).total_seconds()
        if span <= MAX_BRACKET:
            w1 = (when - t0).total_seconds() / span
            return [(f0, i0, 1.0 - w1), (f1, i1, w1)]
    available = ", ".join(f"{e[0]:%Y-%m-%dT%H:%M}Z ({e[1].path.name})" for e in entries)
    raise ValueError(
        f"no weather-model times bracket {when:%Y-%m-%dT%H:%M:%S}Z within 6 h; "
        f"available: {available}"
    )


class DelayModel:
    """Zenith delay tables of one acquisition time over a region, for evaluating many pixels.

    Parameters
    ----------
    weather : path, WeatherFields or sequence of them
        ERA5 pressure-level files; the times inside them are used, not their names.
    when : datetime
        Acquisition time (UTC); interpolated linearly between the bracketing weather times.
    bounds : (west, south, east, north)
        Region of the pixels, degrees.
    height_range : (min, max)
        Ellipsoidal heights of the pixels, m.
    geoid : None, float or path
        Geoid undulation for converting ERA5 heights above mean sea level to ellipsoidal
        heights (see :func:`geoid_undulation`).
    """

    def __init__(
        self,
        weather: WeatherSource,
        when: datetime,
        bounds: tuple[float, float, float, float],
        height_range: tuple[float, float],
        geoid=None,
    ):
        picks = bracketing_times(_as_fields(weather), when)
        grid0 = picks[0][0]
        for f, _, _ in picks[1:]:
            if not (np.array_equal(f.lat, grid0.lat) and np.array_equal(f.lon, grid0.lon)):
                raise ValueError(f"{grid0.path} and {f.path} are on different grids")
        self.sources = sorted({str(f.path) for f, _, _ in picks})
        lat, lon = grid0.lat, grid0.lon
        west, south, east, north = bounds
        self.wrap = 360.0 if lon[-1] > 180.0 and west < 0.0 else 0.0
        west, east = west + self.wrap * (west < 0), east + self.wrap * (east < 0)
        tol = 1e-6
        if (
            south < lat[0] - tol
            or north > lat[-1] + tol
            or west < lon[0] - tol
            or east > lon[-1] + tol
        ):
            raise ValueError(
                f"{grid0.path}: weather grid lat {lat[0]}..{lat[-1]}, lon {lon[0]}..{lon[-1]} does "
                f"not cover the pixels (lat {south:.3f}..{north:.3f}, lon {west:.3f}..{east:.3f})"
            )
        iy = slice(
            max(np.searchsorted(lat, south, "right") - 1, 0), np.searchsorted(lat, north) + 1
        )
        ix = slice(max(np.searchsorted(lon, west, "right") - 1, 0), np.searchsorted(lon, east) + 1)
        lat, lon = lat[iy], lon[ix]
        if lat.size < 2 or lon.size < 2:  # a frame between two nodes still gets a cell
            iy = slice(max(iy.start - (lat.size < 2), 0), iy.stop + (lat.size < 2))
            ix = slice(max(ix.start - (lon.size < 2), 0), ix.stop + (lon.size < 2))
            lat, lon = grid0.lat[iy], grid0.lon[ix]
        for axis, name in ((lat, "latitude"), (lon, "longitude")):
            if not np.allclose(np.diff(axis), axis[1] - axis[0], rtol=1e-6, atol=1e-9):
                raise ValueError(f"{grid0.path}: {name} nodes are not evenly spaced")
        lo_h = np.floor(height_range[0] / TABLE_STEP) * TABLE_STEP - TABLE_STEP
        hi_h = np.ceil(height_range[1] / TABLE_STEP) * TABLE_STEP + TABLE_STEP
        self.heights = np.arange(lo_h, hi_h + TABLE_STEP / 2, TABLE_STEP)
        glat, glon = np.meshgrid(lat, lon, indexing="ij")
        undulation = geoid_undulation(geoid, glat, glon - self.wrap * (glon > 180.0))
        shape = (self.heights.size, lat.size, lon.size)
        self.hydrostatic = np.zeros(shape)
        self.wet = np.zeros(shape)
        for fields, index, weight in picks:
            z, t, q = (a[:, iy, ix] for a in fields.at(index))
            hyd, wet = _node_tables(fields.pressure, z, t, q, glat, undulation, self.heights)
            self.hydrostatic += weight * hyd
            self.wet += weight * wet
        self.total = self.hydrostatic + self.wet
        self.origin = np.array([self.heights[0], lat[0], lon[0]])
        self.step = np.array([TABLE_STEP, lat[1] - lat[0], lon[1] - lon[0]])

    def zenith(self, lat, lon, height) -> tuple[np.ndarray, np.ndarray]:
        """Hydrostatic and wet zenith delays (m) at points (arrays broadcast together)."""
        shape, flat = _flat_points(lat, lon, height)
        out = []
        for table in (self.hydrostatic, self.wet):
            values = np.empty(flat[0].size)
            _trilinear(table, self.origin, 1.0 / self.step, self.wrap, *flat, values)
            out.append(values.reshape(shape))
        return out[0], out[1]

    def slant(self, lat, lon, height, incidence_deg) -> np.ndarray:
        """Slant path delay (m, positive = longer path): zenith delay / cos(incidence)."""
        shape, flat = _flat_points(lat, lon, height, incidence_deg)
        values = np.empty(flat[0].size)
        _slant(self.total, self.origin, 1.0 / self.step, self.wrap, *flat, values)
        return values.reshape(shape)


def _flat_points(*arrays) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """The broadcast shape of arrays and their flat, contiguous float64 copies (or views)."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    return arrays[0].shape, [np.ascontiguousarray(a).ravel() for a in arrays]


def _node_tables(pressure, z, t, q, lat, undulation, heights):
    """Hydrostatic and wet delay (m) at ``heights`` for each node: ``(height, lat, lon)``."""
    nlev = pressure.size
    h = geometric_height(z, lat) + undulation  # (level, lat, lon)
    radius = effective_radius(lat)
    inv_g = 1.0 / (normal_gravity(lat) * (radius / (radius + h)) ** 2)
    e = vapour_pressure(q, pressure[:, None, None])
    w = K2_PRIME * e / t + K3 * e / t**2
    if np.any(np.diff(h, axis=0) >= 0):
        raise ValueError("geopotential does not decrease with pressure at every node")
    shape = (heights.size, *lat.shape)
    hyd = np.empty((heights.size, lat.size))
    wet = np.empty((heights.size, lat.size))
    _delay_tables(
        np.ascontiguousarray(h.reshape(nlev, -1)),
        np.log(pressure),
        np.ascontiguousarray(inv_g.reshape(nlev, -1)),
        np.ascontiguousarray(w.reshape(nlev, -1)),
        heights,
        hyd,
        wet,
    )
    return (1e-6 * K1 * RD * hyd).reshape(shape), (1e-6 * wet).reshape(shape)


def _extent(lat, lon, height) -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    lat, lon, height = (np.asarray(a, dtype=np.float64) for a in (lat, lon, height))
    return (
        (
            float(np.nanmin(lon)),
            float(np.nanmin(lat)),
            float(np.nanmax(lon)),
            float(np.nanmax(lat)),
        ),
        (float(np.nanmin(height)), float(np.nanmax(height))),
    )


def zenith_delay(
    weather_file: WeatherSource, lat, lon, height, when: datetime, *, geoid=None
) -> tuple[np.ndarray, np.ndarray]:
    """Hydrostatic and wet zenith delays (m) at points of ellipsoidal ``height`` (m).

    See :class:`DelayModel` for the parameters.
    """
    bounds, heights = _extent(lat, lon, height)
    return DelayModel(weather_file, when, bounds, heights, geoid).zenith(lat, lon, height)


def slant_delay(
    weather_file: WeatherSource, lat, lon, height, incidence_deg, when: datetime, *, geoid=None
) -> np.ndarray:
    """Slant tropospheric path delay in metres (positive = longer path), arrays broadcast.

    Parameters
    ----------
    weather_file : path, WeatherFields, or a sequence of them
        ERA5 pressure-level files (GRIB, legacy or new-CDS NetCDF) holding times that bracket
        ``when``.
    lat, lon : array_like
        Pixel coordinates, degrees.
    height : array_like
        Pixel ellipsoidal heights, m.
    incidence_deg : array_like
        Incidence angle at the pixel, degrees.
    when : datetime
        Acquisition time (naive = UTC).
    geoid : None, float or path, optional
        Geoid undulation used to turn ERA5 heights above mean sea level into ellipsoidal heights
        (None = 0: ERA5 heights taken as ellipsoidal).

    Returns
    -------
    ndarray
        The zenith delay mapped to the line of sight with ``1 / cos(incidence)``.
    """
    bounds, heights = _extent(lat, lon, height)
    model = DelayModel(weather_file, when, bounds, heights, geoid)
    return model.slant(lat, lon, height, incidence_deg)


def weather_files_for(paths: Sequence[str | os.PathLike]) -> list[WeatherFields]:
    """Read every ERA5 file once, for reuse across acquisition dates."""
    return [read_weather(Path(p)) for p in paths]
