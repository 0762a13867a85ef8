"""The simulated atmosphere and its true radar path delay.

The atmosphere at a point and hour is a column of temperature ``T(z)`` and specific humidity
``q(z)`` on a fine grid of geometric heights above the geoid, with pressure from hydrostatic
equilibrium::

    d ln P / dz = -g(φ, z) / (R_d T_v),     T_v = T (1 + (1/ε - 1) q)

- temperature: sea-level value (climatology + seasonal + diurnal + long-wavelength weather
  anomaly), a lapse rate up to the tropopause, then the layer rates of the US Standard
  Atmosphere 1976 above it;
- humidity: ``q = q_s exp(-z/H)`` with a seasonal cycle of ``q_s``, a day-to-day log-normal
  factor, long-wavelength anomalies and ``H`` ≈ 2 km, capped at 95 % relative humidity;
- sea-level pressure: climatology + seasonal term + long-wavelength anomaly.

Weather anomalies are :class:`~sar4tec.simulate.fields.PlaneWaveField` s (wavelengths 200–2000
km) advected by a wind, drawn anew for every acquisition. The same continuous model is sampled
by the ERA5 writer on its 0.25° pressure-level grid and by the truth at every pixel.

The delay uses the refractivity ``N = k1 R_d ρ + k2' e/T + k3 e/T²`` (Thayer 1974; Davis et al.
1985) with k1 = 0.776 K/Pa, k2' = 0.233 K/Pa, k3 = 3750 K²/Pa, integrated from each height to
the top of the grid (85 km, plus the hydrostatic remainder ``k1 R_d P_top / g`` above it).
Since ``R_d ρ = P / T_v``, the hydrostatic part is ``k1 P / T_v``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sar4tec.simulate.fields import PlaneWaveField, local_km, rng
from sar4tec.simulate.timeline import day_of_year

K1 = 0.776  # K/Pa
K2_PRIME = 0.233  # K/Pa
K3 = 3750.0  # K^2/Pa
R_DRY = 287.0531  # J/(kg K)
R_VAPOUR = 461.5250  # J/(kg K)
EPSILON = R_DRY / R_VAPOUR
EARTH_RADIUS = 6_371_008.8  # m, mean radius for the height dependence of gravity

#: fine vertical grid (m above the geoid): 20 m to 15 km, 250 m to 85 km
HEIGHT_STEP = 20.0
HEIGHTS = np.concatenate(
    [np.arange(-1000.0, 15000.0, HEIGHT_STEP), np.arange(15000.0, 85001.0, 250.0)]
)
_SEA_LEVEL = int(np.flatnonzero(HEIGHTS == 0.0)[0])
#: temperature change (K) above 20 km, from the layer rates of the US Standard Atmosphere 1976
_LAYERS = (
    (20000.0, 32000.0, 1.0e-3),
    (32000.0, 47000.0, 2.8e-3),
    (51000.0, 71000.0, -2.8e-3),
    (71000.0, np.inf, -2.0e-3),
)
_UPPER_WARMING = sum(
    r * np.clip(np.minimum(HEIGHTS, top) - base, 0.0, None) for base, top, r in _LAYERS
)


def normal_gravity(lat_deg) -> np.ndarray:
    """WGS84 normal gravity on the ellipsoid (Somigliana formula), m/s²."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    return 9.7803253359 * (1 + 0.00193185265241 * s2) / np.sqrt(1 - 0.00669437999013 * s2)


def gravity(lat_deg, height) -> np.ndarray:
    """Gravity (m/s²) at a height above the geoid (inverse-square decrease)."""
    return normal_gravity(lat_deg) * (EARTH_RADIUS / (EARTH_RADIUS + np.asarray(height))) ** 2


def geopotential(lat_deg, height) -> np.ndarray:
    """Geopotential (m²/s²) above the geoid: ``∫ g dz = g_s R z / (R + z)``."""
    z = np.asarray(height, dtype=np.float64)
    return normal_gravity(lat_deg) * EARTH_RADIUS * z / (EARTH_RADIUS + z)


def saturation_vapour_pressure(temperature) -> np.ndarray:
    """Saturation vapour pressure over water (Pa), Bolton (1980)."""
    celsius = np.asarray(temperature) - 273.15
    return 611.2 * np.exp(17.67 * celsius / (celsius + 243.5))


def vapour_pressure(q, pressure) -> np.ndarray:
    """Partial pressure of water vapour (Pa) from specific humidity and pressure."""
    return q * pressure / (EPSILON + (1.0 - EPSILON) * q)


def temperature_profile(t_sea_level, lapse_rate, tropopause) -> np.ndarray:
    """Temperature (K) on :data:`HEIGHTS` for columns given by arrays of shape S; out S + (nz,)."""
    t0 = np.asarray(t_sea_level, dtype=np.float64)[..., None]
    lapse = np.asarray(lapse_rate, dtype=np.float64)[..., None]
    z_tp = np.asarray(tropopause, dtype=np.float64)[..., None]
    return t0 - lapse * np.minimum(HEIGHTS, z_tp) + _UPPER_WARMING


def hydrostatic_pressure(p_sea_level, temperature, q, lat_deg) -> np.ndarray:
    """Pressure (Pa) on :data:`HEIGHTS` by integrating hydrostatic equilibrium from sea level."""
    tv = temperature * (1.0 + (1.0 / EPSILON - 1.0) * q)
    rate = gravity(np.asarray(lat_deg)[..., None], HEIGHTS) / (R_DRY * tv)
    steps = 0.5 * (rate[..., 1:] + rate[..., :-1]) * np.diff(HEIGHTS)
    log_p = np.concatenate([np.zeros(rate.shape[:-1] + (1,)), -np.cumsum(steps, axis=-1)], -1)
    log_p -= log_p[..., _SEA_LEVEL : _SEA_LEVEL + 1]
    return np.asarray(p_sea_level)[..., None] * np.exp(log_p)


def refractivity(pressure, temperature, q) -> tuple[np.ndarray, np.ndarray]:
    """Hydrostatic ``k1 P/T_v`` and wet ``k2' e/T + k3 e/T²`` refractivity (N units, ppm)."""
    tv = temperature * (1.0 + (1.0 / EPSILON - 1.0) * q)
    e = vapour_pressure(q, pressure)
    return K1 * pressure / tv, K2_PRIME * e / temperature + K3 * e / temperature**2


def delay_above(refractivity_profile) -> np.ndarray:
    """``1e-6 ∫_z^top N dz'`` on :data:`HEIGHTS` (trapezoid), metres."""
    steps = (
        0.5 * (refractivity_profile[..., 1:] + refractivity_profile[..., :-1]) * np.diff(HEIGHTS)
    )
    above = np.cumsum(steps[..., ::-1], axis=-1)[..., ::-1]
    return 1e-6 * np.concatenate([above, np.zeros(above.shape[:-1] + (1,))], axis=-1)


@dataclass(frozen=True)
class Column:
    """Atmospheric columns on :data:`HEIGHTS`: arrays of shape S + (nz,)."""

    temperature: np.ndarray
    q: np.ndarray
    pressure: np.ndarray
    lat: np.ndarray

    def zenith_delays(self) -> tuple[np.ndarray, np.ndarray]:
        """Hydrostatic and wet zenith delay (m) from every height of the grid to the top."""
        hydro_n, wet_n = refractivity(self.pressure, self.temperature, self.q)
        top = (
            1e-6 * K1 * R_DRY * self.pressure[..., -1:] / gravity(self.lat[..., None], HEIGHTS[-1])
        )
        return delay_above(hydro_n) + top, delay_above(wet_n)

    def on_pressure_levels(self, levels_pa) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Geopotential (m²/s²), temperature (K) and q (kg/kg) at pressure levels, S + (L,)."""
        flat_p = self.pressure.reshape(-1, HEIGHTS.size)
        flat_t = self.temperature.reshape(-1, HEIGHTS.size)
        flat_q = self.q.reshape(-1, HEIGHTS.size)
        log_levels = np.log(np.asarray(levels_pa, dtype=np.float64))
        z = np.empty((flat_p.shape[0], log_levels.size))
        t = np.empty_like(z)
        q = np.empty_like(z)
        for i in range(flat_p.shape[0]):
            log_p = np.log(flat_p[i, ::-1])  # increasing
            z[i] = np.interp(log_levels, log_p, HEIGHTS[::-1])
            t[i] = np.interp(z[i], HEIGHTS, flat_t[i])
            q[i] = np.interp(z[i], HEIGHTS, flat_q[i])
        shape = self.pressure.shape[:-1] + (log_levels.size,)
        phi = geopotential(self.lat.reshape(-1, 1), z)
        return phi.reshape(shape), t.reshape(shape), q.reshape(shape)


@dataclass(frozen=True)
class Weather:
    """The weather around one acquisition: climatology plus that day's random state.

    Use :meth:`column` to evaluate the atmosphere at points and a UTC time; times within a few
    hours of ``epoch`` differ through the diurnal cycle and the advection of the anomalies.
    """

    epoch: datetime
    centre: tuple[float, float]
    lapse_rate: float
    tropopause: float
    scale_height: float
    humidity_factor: float
    temperature_anomaly: PlaneWaveField
    pressure_anomaly: PlaneWaveField
    humidity_anomaly: PlaneWaveField
    config: Mapping[str, Any]

    def column(self, lat, lon, when: datetime) -> Column:
        """Atmospheric columns at points ``(lat, lon)`` (any shape S) at UTC time ``when``."""
        cfg = self.config
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        east, north = local_km(lat, lon, *self.centre)
        hours = (when - self.epoch).total_seconds() / 3600.0
        season = np.cos(2.0 * np.pi * (day_of_year(when) - 205.0) / 365.25)
        local_hour = when.hour + when.minute / 60.0 + lon / 15.0
        t_sea = (
            287.6
            - 0.6 * (lat - 40.7)
            + 9.5 * season
            + 3.0 * np.cos(2.0 * np.pi * (local_hour - 15.0) / 24.0)
            + cfg["temperature_std"] * self.temperature_anomaly(east, north, hours)
        )
        p_sea = (
            101325.0
            - 350.0 * season
            + cfg["pressure_std"] * self.pressure_anomaly(east, north, hours)
        )
        q_sea = (
            (cfg["q_surface_mean"] + cfg["q_surface_amplitude"] * season)
            * self.humidity_factor
            * np.exp(0.1 * self.humidity_anomaly(east, north, hours))
        )
        tropopause = self.tropopause + 1000.0 * season
        temperature = temperature_profile(t_sea, self.lapse_rate, tropopause)
        q = np.maximum(q_sea[..., None] * np.exp(-HEIGHTS / self.scale_height), 2.5e-6)
        pressure = hydrostatic_pressure(p_sea, temperature, q, lat)
        # cap at 95 % relative humidity, then redo the (slightly changed) hydrostatic integral
        e_sat = 0.95 * saturation_vapour_pressure(temperature)
        dry = np.maximum(pressure - (1.0 - EPSILON) * e_sat, e_sat)  # e_sat > P aloft: no cap
        q = np.minimum(q, EPSILON * e_sat / dry)
        pressure = hydrostatic_pressure(p_sea, temperature, q, lat)
        return Column(temperature, q, pressure, lat)


def draw_weather(
    troposphere: Mapping[str, Any],
    when: datetime,
    centre: tuple[float, float],
    seed: int,
    index: int,
) -> Weather:
    """The random weather of acquisition ``index`` (its own stream of ``seed``)."""
    g = rng(seed, "weather", index)
    spread = float(troposphere["humidity_std"])
    wind = g.uniform(15.0, 45.0)  # km/h
    return Weather(
        epoch=when,
        centre=centre,
        lapse_rate=6.5e-3 + 0.4e-3 * g.standard_normal(),
        tropopause=11500.0 + 300.0 * g.standard_normal(),
        scale_height=float(troposphere["humidity_scale_height"])
        * np.exp(0.15 * g.standard_normal()),
        humidity_factor=float(np.exp(spread * g.standard_normal() - spread**2 / 2)),
        temperature_anomaly=PlaneWaveField.random(g, wind_speed_kmh=wind),
        pressure_anomaly=PlaneWaveField.random(g, wind_speed_kmh=wind),
        humidity_anomaly=PlaneWaveField.random(g, wind_speed_kmh=wind),
        config=troposphere,
    )


def bracketing_hours(when: datetime) -> tuple[datetime, datetime]:
    """The whole UTC hours before and after ``when``."""
    start = when.replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1)


@dataclass(frozen=True)
class DelayTable:
    """Zenith delay from each grid height to the top at nodes of a regular lat/lon grid.

    Attributes
    ----------
    lat, lon : ndarray
        Increasing node coordinates (deg), regularly spaced.
    delay : ndarray, shape (len(lat), len(lon), nz)
        Total (hydrostatic + wet) zenith delay on :data:`HEIGHTS` (m).
    """

    lat: np.ndarray
    lon: np.ndarray
    delay: np.ndarray

    def __call__(self, lat, lon, height) -> np.ndarray:
        """Bilinear in latitude/longitude, linear in height (m above the geoid, < 15 km)."""
        height = np.asarray(height, dtype=np.float64)
        if np.any(height < HEIGHTS[0]) or np.any(height >= 15000.0 - HEIGHT_STEP):
            raise ValueError("heights outside -1000 ... 14980 m above the geoid")
        fz = (height - HEIGHTS[0]) / HEIGHT_STEP
        iz = np.floor(fz).astype(np.int64)
        wz = fz - iz
        out = np.zeros(np.broadcast(lat, lon, height).shape)
        flat = self.delay.reshape(-1)
        nz = self.delay.shape[-1]
        for (iy, ix), weight in _bilinear(self.lat, self.lon, lat, lon):
            start = (iy * self.lon.size + ix) * nz + iz
            out += weight * (flat[start] * (1.0 - wz) + flat[start + 1] * wz)
        return out


def _bilinear(node_y, node_x, y, x):
    """Yield ``((iy, ix), weight)`` for the four corners around each point."""
    fy = (np.asarray(y) - node_y[0]) / (node_y[1] - node_y[0])
    fx = (np.asarray(x) - node_x[0]) / (node_x[1] - node_x[0])
    iy = np.clip(np.floor(fy).astype(np.int64), 0, node_y.size - 2)
    ix = np.clip(np.floor(fx).astype(np.int64), 0, node_x.size - 2)
    wy, wx = fy - iy, fx - ix
    for dy, weight_y in ((0, 1.0 - wy), (1, wy)):
        for dx, weight_x in ((0, 1.0 - wx), (1, wx)):
            yield (iy + dy, ix + dx), weight_y * weight_x


def delay_table(weather: Weather, bounds, step: float, when: datetime) -> DelayTable:
    """Zenith-delay profiles at nodes every ``step`` degrees covering ``bounds`` (W, S, E, N)."""
    west, south, east, north = bounds
    lat = np.arange(np.floor(south / step) * step, north + step, step)
    lon = np.arange(np.floor(west / step) * step, east + step, step)
    column = weather.column(*np.meshgrid(lat, lon, indexing="ij"), when)
    hydro, wet = column.zenith_delays()
    return DelayTable(lat, lon, hydro + wet)


def true_zenith_delay(weather: Weather, when: datetime, lat, lon, height, step: float = 0.05):
    """Zenith delay (m) at points and time ``when``: linear in time between the whole hours.

    ``height`` is above the geoid. Profiles are computed every ``step`` degrees (the weather has
    no structure shorter than 200 km, so bilinear interpolation between nodes 5 km apart costs
    less than 0.1 mm) and interpolated to the points.
    """
    lat = np.asarray(lat)
    lon = np.asarray(lon)
    bounds = (lon.min(), lat.min(), lon.max(), lat.max())
    first, second = bracketing_hours(when)
    weight = (when - first).total_seconds() / 3600.0
    before = delay_table(weather, bounds, step, first)(lat, lon, height)
    after = delay_table(weather, bounds, step, second)(lat, lon, height)
    return (1.0 - weight) * before + weight * after
