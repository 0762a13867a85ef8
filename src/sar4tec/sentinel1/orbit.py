"""Satellite orbits: Sentinel-1 EOF files and state-vector interpolation.

An :class:`Orbit` holds Earth-fixed (ECEF, WGS84) state vectors.  Positions between the
vectors are interpolated with cubic Hermite polynomials that use both the positions and the
velocities of the two neighbouring vectors, which is accurate to millimetres for the 10 s
spacing of Sentinel-1 precise and restituted orbits.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from sar4tec.errors import InputFormatError, reading
from sar4tec.files import parse_time, to_utc


@dataclass(frozen=True)
class Orbit:
    """Earth-fixed state vectors.

    Attributes
    ----------
    reference_epoch : datetime
        UTC epoch that ``time`` counts from.
    time : ndarray, shape (K,)
        Seconds since ``reference_epoch``, strictly increasing.
    position, velocity : ndarray, shape (K, 3)
        ECEF position (m) and velocity (m/s).
    """

    reference_epoch: datetime
    time: np.ndarray
    position: np.ndarray
    velocity: np.ndarray

    def __post_init__(self) -> None:
        if self.time.ndim != 1 or self.time.size < 2:
            raise ValueError("an orbit needs at least two state vectors")
        if np.any(np.diff(self.time) <= 0):
            raise ValueError("orbit state vectors must be strictly increasing in time")
        if self.position.shape != (self.time.size, 3) or self.velocity.shape != self.position.shape:
            raise ValueError("orbit position/velocity must have shape (K, 3)")

    @classmethod
    def from_state_vectors(
        cls, times: Sequence[datetime], position: np.ndarray, velocity: np.ndarray
    ) -> Orbit:
        """Build an orbit from UTC datetimes and (K, 3) position/velocity arrays."""
        times = [to_utc(t) for t in times]
        order = np.argsort([t.timestamp() for t in times])
        epoch = times[order[0]]
        seconds = np.array([(times[i] - epoch).total_seconds() for i in order])
        position = np.asarray(position, dtype=np.float64)[order]
        velocity = np.asarray(velocity, dtype=np.float64)[order]
        keep = np.concatenate([[True], np.diff(seconds) > 0])  # drop duplicated epochs
        return cls(epoch, seconds[keep], position[keep], velocity[keep])

    @property
    def start(self) -> datetime:
        """UTC time of the first state vector."""
        return self.datetime_at(self.time[0])

    @property
    def stop(self) -> datetime:
        """UTC time of the last state vector."""
        return self.datetime_at(self.time[-1])

    def seconds_since_epoch(self, when: datetime) -> float:
        """Seconds from :attr:`reference_epoch` to ``when``."""
        return (to_utc(when) - self.reference_epoch).total_seconds()

    def datetime_at(self, seconds: float) -> datetime:
        """UTC datetime of ``seconds`` since :attr:`reference_epoch`."""
        from datetime import timedelta

        return self.reference_epoch + timedelta(seconds=float(seconds))

    def covers(self, start: datetime, stop: datetime) -> bool:
        """True if the state vectors span ``[start, stop]``."""
        return self.start <= to_utc(start) and to_utc(stop) <= self.stop

    def interpolate(self, seconds) -> tuple[np.ndarray, np.ndarray]:
        """Position (m) and velocity (m/s) at ``seconds`` since the epoch (cubic Hermite).

        Parameters
        ----------
        seconds : array_like
            Times inside the orbit's span; shape ``S``.

        Returns
        -------
        position, velocity : ndarray, shape ``S + (3,)``
        """
        position, velocity, _ = self.interpolate_with_acceleration(seconds)
        return position, velocity

    def interpolate_with_acceleration(self, seconds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Position, velocity and acceleration (m/s²) of the Hermite interpolant."""
        t = np.asarray(seconds, dtype=np.float64)
        if np.any(t < self.time[0]) or np.any(t > self.time[-1]):
            raise ValueError(
                f"time outside the orbit ({self.start} – {self.stop}): "
                f"{self.datetime_at(float(np.min(t)))} – {self.datetime_at(float(np.max(t)))}"
            )
        k = np.clip(np.searchsorted(self.time, t, side="right") - 1, 0, self.time.size - 2)
        t0 = self.time[k]
        h = (self.time[k + 1] - t0)[..., None]
        s = ((t - t0) / (self.time[k + 1] - t0))[..., None]
        p0, p1 = self.position[k], self.position[k + 1]
        v0, v1 = self.velocity[k] * h, self.velocity[k + 1] * h
        s2, s3 = s * s, s * s * s
        position = (
            (2 * s3 - 3 * s2 + 1) * p0
            + (s3 - 2 * s2 + s) * v0
            + (-2 * s3 + 3 * s2) * p1
            + (s3 - s2) * v1
        )
        velocity = (
            (6 * s2 - 6 * s) * p0
            + (3 * s2 - 4 * s + 1) * v0
            + (-6 * s2 + 6 * s) * p1
            + (3 * s2 - 2 * s) * v1
        ) / h
        acceleration = (
            (12 * s - 6) * p0 + (6 * s - 4) * v0 + (6 - 12 * s) * p1 + (6 * s - 2) * v1
        ) / (h * h)
        return position, velocity, acceleration


def read_eof(path: str | Path) -> Orbit:
    """Read a Sentinel-1 EOF orbit file (POEORB or RESORB, Earth-fixed, UTC times).

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the file is not an Earth-fixed EOF orbit, holds no state vectors
        or a state vector is malformed (the message names the file).
    """
    with reading(path, "EOF orbit file"):
        root = ET.parse(path).getroot()
        frame = root.findtext(".//Variable_Header/Ref_Frame")
        if frame is not None and frame.strip() != "EARTH_FIXED":
            raise InputFormatError(
                f"{path}: orbit reference frame is {frame!r}, expected EARTH_FIXED"
            )
        osvs = root.findall(".//Data_Block/List_of_OSVs/OSV")
        if not osvs:
            raise InputFormatError(f"{path}: no orbit state vectors (Data_Block/List_of_OSVs/OSV)")
        times = [parse_time(osv.findtext("UTC").split("=", 1)[1]) for osv in osvs]
        position = np.array([[float(osv.findtext(c)) for c in ("X", "Y", "Z")] for osv in osvs])
        velocity = np.array([[float(osv.findtext(c)) for c in ("VX", "VY", "VZ")] for osv in osvs])
        if not (np.isfinite(position).all() and np.isfinite(velocity).all()):
            raise InputFormatError(f"{path}: a state vector is not finite")
        return Orbit.from_state_vectors(times, position, velocity)


def eof_validity(path: str | Path) -> tuple[datetime, datetime]:
    """Validity period ``(start, stop)`` from an EOF file's fixed header."""
    with reading(path, "EOF orbit file"):
        root = ET.parse(path).getroot()
        start = root.findtext(".//Fixed_Header/Validity_Period/Validity_Start")
        stop = root.findtext(".//Fixed_Header/Validity_Period/Validity_Stop")
        if start is None or stop is None:
            raise InputFormatError(f"{path}: no Validity_Period in the EOF fixed header")
        return parse_time(start.split("=", 1)[1]), parse_time(stop.split("=", 1)[1])


def select_orbit(orbits: Iterable[Orbit], start: datetime, stop: datetime) -> Orbit:
    """The first orbit whose state vectors span ``[start, stop]``; raises if none does."""
    orbits = list(orbits)
    for orbit in orbits:
        if orbit.covers(start, stop):
            return orbit
    spans = ", ".join(f"{o.start}–{o.stop}" for o in orbits) or "none"
    raise ValueError(f"no orbit covers {to_utc(start)} – {to_utc(stop)} (orbits: {spans})")
