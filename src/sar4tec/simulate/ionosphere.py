"""A global vertical TEC model and the thin-shell ionospheric range change of the radar signal.

VTEC (TECU) = scale · d(t) · S(t) · [n + (1 - n) D(LT)] · L(φ_m) · A(doy) / L(38°), where

- ``S(t) = 8 + 0.2 R(t)`` TECU follows a sunspot number ``R(t)`` made of two Hathaway et al.
  (1994) cycle shapes (cycle 24 from Dec 2008, peak ≈ 116 in 2014; cycle 25 from Dec 2019), so
  TEC falls from 2016 to the 2019–2020 minimum and rises again through 2022;
- ``D(LT)`` is the diurnal cycle in local solar time, peaking at 14 h, with a night floor ``n``;
- ``L(φ_m)`` depends on the (dipole) geomagnetic latitude, with the equatorial-anomaly crests
  at ±15° and a decrease to the poles; ``A`` is a semi-annual (equinox) modulation;
- ``d(t)`` is a random day-to-day factor (log-normal, interpolated between local noons).

The range change of a signal crossing the thin shell (radius ``R + H``, ``R`` = 6371 km,
``H`` = 450 km) at the pierce point of the line of sight is ``40.31 STEC / f²`` metres with
``STEC = VTEC(pierce point) / cos z'``, ``sin z' = R / (R + H) sin θ``; a phase advance, i.e.
an apparent displacement toward the satellite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from sar4tec.constants import SENTINEL1_FREQUENCY
from sar4tec.simulate.fields import rng
from sar4tec.simulate.timeline import day_of_year

BASE_RADIUS = 6_371_000.0  # m, IONEX base radius
TECU = 1e16  # electrons / m^2
#: dipole geomagnetic north pole (deg), close to IGRF for 2015-2020
DIPOLE_POLE = (80.6, -72.6)


def sunspot_number(decimal_year) -> np.ndarray:
    """Smoothed sunspot-number model of solar cycles 24 and 25 (Hathaway et al. 1994 shape)."""
    t = np.asarray(decimal_year, dtype=np.float64)
    total = np.zeros_like(t)
    # (start year, amplitude, width in months) fitted to the smoothed sunspot number (SILSO v2)
    # of cycle 24 and early cycle 25 within about 10
    for start, amplitude, width in ((2008.9, 0.00187, 48.7), (2019.95, 0.00185, 55.5)):
        months = np.clip((t - start) * 12.0, 0.0, None)
        total += amplitude * months**3 / (np.exp(months**2 / width**2) - 0.71)
    return total


def _decimal_year(when: datetime) -> float:
    start = datetime(when.year, 1, 1, tzinfo=UTC)
    end = datetime(when.year + 1, 1, 1, tzinfo=UTC)
    return when.year + (when - start).total_seconds() / (end - start).total_seconds()


def geomagnetic_latitude(lat, lon) -> np.ndarray:
    """Dipole geomagnetic latitude (deg)."""
    lat_p, lon_p = np.radians(DIPOLE_POLE)
    lat, lon = np.radians(lat), np.radians(lon)
    s = np.sin(lat) * np.sin(lat_p) + np.cos(lat) * np.cos(lat_p) * np.cos(lon - lon_p)
    return np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))


def _latitude_shape(mag_lat) -> np.ndarray:
    crest = 0.8 * np.exp(-(((np.abs(mag_lat) - 15.0) / 8.0) ** 2))
    return 0.25 + 0.75 * np.cos(np.radians(mag_lat)) ** 2 + crest


class TecModel:
    """Vertical TEC (TECU) at any place and UTC time; seeded day-to-day variability."""

    def __init__(self, seed: int, scale: float = 1.0, day_to_day: float = 0.15) -> None:
        self.seed = int(seed)
        self.scale = float(scale)
        self.day_to_day = float(day_to_day)
        self._norm = float(_latitude_shape(38.0))

    def day_factor(self, when: datetime) -> float:
        """Random factor of the day, linear between values drawn at 12 UTC of each day."""
        noon = when.replace(hour=12, minute=0, second=0, microsecond=0)
        if when < noon:
            noon -= timedelta(days=1)
        weight = (when - noon).total_seconds() / 86400.0
        values = []
        for day in (noon, noon + timedelta(days=1)):
            g = rng(self.seed, "tec", day.toordinal())
            s = self.day_to_day
            values.append(np.exp(s * g.standard_normal() - s * s / 2))
        return float((1.0 - weight) * values[0] + weight * values[1])

    def vtec(self, lat, lon, when: datetime) -> np.ndarray:
        """Vertical TEC (TECU) at geographic points and UTC time ``when``."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        level = 8.0 + 0.2 * sunspot_number(_decimal_year(when))
        hours = when.hour + when.minute / 60.0 + when.second / 3600.0
        local_time = hours + lon / 15.0
        kappa = 1.0 / (2.0 * np.pi * 3.5 / 24.0) ** 2  # 3.5 h wide daytime bump
        diurnal = np.exp(kappa * (np.cos(2.0 * np.pi * (local_time - 14.0) / 24.0) - 1.0))
        night = 0.25
        season = 1.0 + 0.15 * np.cos(4.0 * np.pi * (day_of_year(when) - 80.0) / 365.25)
        shape = _latitude_shape(geomagnetic_latitude(lat, lon)) / self._norm
        return (
            self.scale
            * self.day_factor(when)
            * level
            * season
            * (night + (1.0 - night) * diurnal)
            * shape
        )


def pierce_point(lat, lon, los_enu, shell_height: float, radius: float = BASE_RADIUS):
    """Pierce point (lat, lon, deg) of the LOS with the shell and the zenith angle (rad) there.

    Spherical Earth of ``radius``; the LOS leaves the ground point with the incidence angle
    and azimuth of the ground-to-satellite unit vector ``los_enu`` (last axis e, n, u).
    """
    los = np.asarray(los_enu, dtype=np.float64)
    incidence = np.arccos(np.clip(los[..., 2], -1.0, 1.0))
    azimuth = np.arctan2(los[..., 0], los[..., 1])
    zenith = np.arcsin(radius / (radius + shell_height) * np.sin(incidence))
    psi = incidence - zenith  # Earth-central angle between ground point and pierce point
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    lat_p = np.arcsin(np.sin(lat_r) * np.cos(psi) + np.cos(lat_r) * np.sin(psi) * np.cos(azimuth))
    lon_p = lon_r + np.arctan2(
        np.sin(azimuth) * np.sin(psi) * np.cos(lat_r), np.cos(psi) - np.sin(lat_r) * np.sin(lat_p)
    )
    return np.degrees(lat_p), np.degrees(lon_p), zenith


def range_change(
    model: TecModel,
    lat,
    lon,
    los_enu,
    when: datetime,
    shell_height: float,
    frequency: float = SENTINEL1_FREQUENCY,
) -> np.ndarray:
    """Apparent LOS displacement (m, + toward the satellite) of the ionosphere at ``when``."""
    lat_p, lon_p, zenith = pierce_point(lat, lon, los_enu, shell_height)
    stec = model.vtec(lat_p, lon_p, when) / np.cos(zenith)
    return 40.31 * stec * TECU / frequency**2
