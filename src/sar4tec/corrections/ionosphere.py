"""Ionospheric range change from global ionosphere maps (IONEX, e.g. CODE final GIMs).

The IONEX reader (Schaer, Gurtner & Feltens 1998, IONEX 1.0) takes grid, exponent, shell
height, base radius and epochs from the header and reads every TEC and RMS map.  VTEC at a
point and time is interpolated bilinearly in space and linearly in time between the two
bracketing maps, each map rotated about the Earth's axis by the time difference (the
ionosphere stays roughly fixed with respect to the Sun; Schaer 1999, eq. 3 of the IONEX
document): map ``T_i`` is sampled at longitude ``lon + 360 (t - T_i) / 1 day``.

The slant delay uses a thin shell at the file's height ``H`` over a sphere of the file's base
radius ``R``: the line of sight from a pixel with incidence ``theta`` pierces the shell at zenith
angle ``sin z' = R / (R + H) sin theta``, an Earth-central angle ``theta - z'`` away from the
pixel toward the satellite.  ``STEC = VTEC(pierce point) / cos z'`` and the apparent range
shortening (phase advance) is ``40.31 STEC / f^2`` (no refraction bending).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sar4tec.constants import SENTINEL1_FREQUENCY
from sar4tec.errors import InputFormatError, reading
from sar4tec.files import to_utc

#: 40.31 m^3/s^2: first-order ionospheric coefficient (e^2 / (8 pi^2 eps0 m_e))
K_IONO = 40.31
TECU = 1e16  # electrons / m^2
INTERPOLATIONS = ("nearest", "linear2d", "linear3d", "rotated")


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        elif raw[:2] == b"\x1f\x9d":  # Unix compress (.Z): gzip decodes it, Python cannot
            raw = subprocess.run(["gzip", "-dc"], input=raw, check=True, capture_output=True).stdout
        elif raw[:3] == b"BZh":
            raw = bz2.decompress(raw)
        elif raw[:6] == b"\xfd7zXZ\x00":
            raw = lzma.decompress(raw)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, subprocess.CalledProcessError) as err:
        raise InputFormatError(
            f"{path}: cannot be decompressed (truncated download?) ({err})"
        ) from None
    return raw.decode("ascii", errors="replace")


@dataclass
class Ionex:
    """Global ionosphere maps of one IONEX file.

    Attributes
    ----------
    path : Path
    epochs : ndarray
        Map epochs as POSIX seconds (UTC).
    lat, lon : ndarray
        Grid nodes in degrees as in the header (latitude usually descending).
    tec, rms : ndarray
        ``(map, lat, lon)`` in TECU (NaN where the file has 9999); ``rms`` may be empty.
    shell_height : float
        Thin-shell height in m.
    base_radius : float
        Earth radius of the mapping in m.
    """

    path: Path
    epochs: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    tec: np.ndarray
    rms: np.ndarray
    shell_height: float
    base_radius: float

    @property
    def times(self) -> list[datetime]:
        """Map epochs as UTC datetimes."""
        return [datetime.fromtimestamp(float(t), UTC) for t in self.epochs]

    def vtec(self, lat, lon, when: datetime, interpolation: str = "rotated") -> np.ndarray:
        """Vertical TEC (TECU) at points and a time.

        Parameters
        ----------
        lat, lon : array_like
            Degrees (broadcast together); longitudes wrap.
        when : datetime
            UTC time inside the file's span.
        interpolation : {"rotated", "linear3d", "linear2d", "nearest"}
            ``rotated`` (default): bilinear in space, linear in time between the bracketing
            maps, each rotated by the time difference (Schaer 1998); ``linear3d``: the same
            without rotation; ``linear2d``: bilinear on the map nearest in time; ``nearest``:
            nearest node of the nearest map.
        """
        lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
        nearest = interpolation == "nearest"
        return sum(
            weight * self._spatial(index, lat, lon + shift, nearest)
            for index, weight, shift in self.time_terms(when, interpolation)
        )

    def time_terms(
        self, when: datetime, interpolation: str = "rotated"
    ) -> list[tuple[int, float, float]]:
        """The maps that make up VTEC at a time: ``[(map index, weight, longitude shift), ...]``.

        VTEC is ``sum(weight * map(lat, lon + shift))``: one map (``nearest``, ``linear2d``) or
        the two bracketing maps, rotated by ``360° (t - T_i) / day`` for ``rotated``.

        Raises
        ------
        ValueError
            For an unknown ``interpolation`` or a time outside the maps.
        """
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}"
            )
        t = to_utc(when).timestamp()
        if not self.epochs[0] <= t <= self.epochs[-1]:
            raise ValueError(
                f"{self.path}: {to_utc(when):%Y-%m-%dT%H:%M:%S}Z outside the maps "
                f"({self.times[0]:%Y-%m-%dT%H:%M}Z .. {self.times[-1]:%Y-%m-%dT%H:%M}Z)"
            )
        if interpolation in ("nearest", "linear2d"):
            return [(int(np.argmin(np.abs(self.epochs - t))), 1.0, 0.0)]
        i0 = int(
            np.clip(np.searchsorted(self.epochs, t, side="right") - 1, 0, len(self.epochs) - 2)
        )
        t0, t1 = self.epochs[i0], self.epochs[i0 + 1]
        w1 = (t - t0) / (t1 - t0)
        rotate = interpolation == "rotated"
        shift0 = 360.0 * (t - t0) / 86400.0 if rotate else 0.0
        shift1 = 360.0 * (t - t1) / 86400.0 if rotate else 0.0
        return [(i0, 1.0 - w1, shift0), (i0 + 1, w1, shift1)]

    def _spatial(self, index: int, lat, lon, nearest: bool = False) -> np.ndarray:
        """Bilinear (or nearest-node) sample of map ``index``; longitudes wrap around."""
        grid = self.tec[index]
        lat0, dlat = self.lat[0], self.lat[1] - self.lat[0]
        lon0, dlon = self.lon[0], self.lon[1] - self.lon[0]
        fy = (lat - lat0) / dlat
        span = 360.0 / abs(dlon)
        fx = np.mod((lon - lon0) / dlon, span)
        if np.any((fy < -1e-9) | (fy > self.lat.size - 1 + 1e-9)):
            raise ValueError(f"{self.path}: latitude outside the maps")
        missing = np.isnan(fy) | np.isnan(fx)  # NaN in, NaN out
        fy = np.where(missing, 0.0, np.clip(fy, 0, self.lat.size - 1))
        fx = np.where(missing, 0.0, fx)
        ncol = self.lon.size
        if nearest:
            value = grid[np.rint(fy).astype(int), np.rint(fx).astype(int) % ncol]
            return np.where(missing, np.nan, value)
        iy = np.minimum(np.floor(fy).astype(int), self.lat.size - 2)
        ix = np.floor(fx).astype(int)
        wy, wx = fy - iy, fx - ix
        ix1 = (ix + 1) % ncol if span == ncol else ix + 1  # grids without a repeated 180° column
        value = (
            (1 - wy) * (1 - wx) * grid[iy, ix % ncol]
            + (1 - wy) * wx * grid[iy, np.minimum(ix1, ncol - 1)]
            + wy * (1 - wx) * grid[iy + 1, ix % ncol]
            + wy * wx * grid[iy + 1, np.minimum(ix1, ncol - 1)]
        )
        return np.where(missing, np.nan, value)


def _header_value(line: str) -> str:
    return line[:60]


def read_ionex(path: str | os.PathLike) -> Ionex:
    """Read an IONEX file (plain, gzip, bzip2, xz or Unix-compress ``.Z``).

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the file cannot be decompressed, a required header record is
        missing or a map is malformed (naming the file).
    """
    path = Path(path)
    with reading(path, "IONEX file"):
        return _read_ionex(path)


def _read_ionex(path: Path) -> Ionex:
    lines = _open_text(path).splitlines()
    header: dict[str, str] = {}
    body = None
    for n, line in enumerate(lines):
        label = line[60:].strip()
        if label == "END OF HEADER":
            body = n + 1
            break
        header.setdefault(label, _header_value(line))
    if body is None or not lines or "IONEX VERSION / TYPE" not in lines[0]:
        raise InputFormatError(f"{path}: not an IONEX file (no IONEX header)")
    try:
        lat1, lat2, dlat = (float(v) for v in header["LAT1 / LAT2 / DLAT"].split())
        lon1, lon2, dlon = (float(v) for v in header["LON1 / LON2 / DLON"].split())
        hgt1 = float(header["HGT1 / HGT2 / DHGT"].split()[0])
        radius = float(header["BASE RADIUS"].split()[0])
        exponent = int(header.get("EXPONENT", "-1").split()[0])
        nmaps = int(header["# OF MAPS IN FILE"].split()[0])
    except KeyError as err:
        raise InputFormatError(f"{path}: IONEX header lacks the record {err}") from None
    if int(header.get("MAP DIMENSION", "2").split()[0]) != 2:
        raise InputFormatError(f"{path}: only 2-D IONEX maps are supported")
    nlat, nlon = int(round((lat2 - lat1) / dlat)) + 1, int(round((lon2 - lon1) / dlon)) + 1
    if not (2 <= nlat <= 1801 and 2 <= nlon <= 3601):
        raise InputFormatError(f"{path}: implausible IONEX grid of {nlat} x {nlon} nodes")
    lat, lon = np.linspace(lat1, lat2, nlat), np.linspace(lon1, lon2, nlon)
    maps: dict[str, list[np.ndarray]] = {"TEC": [], "RMS": []}
    epochs: dict[str, list[float]] = {"TEC": [], "RMS": []}
    kind, grid, row, values, exp = None, None, None, [], exponent
    for line in lines[body:]:
        label = line[60:].strip()
        if label.startswith("START OF ") and label.endswith(" MAP"):
            kind = label.split()[2]
            grid = np.full((lat.size, lon.size), np.nan)
            exp, row, values = exponent, None, []
        elif kind is None:
            continue
        elif label == "EPOCH OF CURRENT MAP":
            y, mo, d, h, mi, s = (int(v) for v in line[:36].split())
            epochs[kind].append(
                (
                    datetime(y, mo, d, tzinfo=UTC) + timedelta(hours=h, minutes=mi, seconds=s)
                ).timestamp()
            )
        elif label == "EXPONENT":
            exp = int(line[:6])
        elif label == "LAT/LON1/LON2/DLON/H":
            _flush(grid, row, values, exp, path)
            row = int(round((float(line[2:8]) - lat1) / dlat))
            if not 0 <= row < nlat:
                raise InputFormatError(f"{path}: map row at {line[2:8]} deg is off the grid")
            values = []
        elif label.startswith("END OF ") and label.endswith(" MAP"):
            _flush(grid, row, values, exp, path)
            if kind in maps:
                maps[kind].append(grid)
            kind, row, values = None, None, []
        else:
            values.extend(int(line[i : i + 5]) for i in range(0, len(line.rstrip()), 5))
    if len(maps["TEC"]) != nmaps or len(epochs["TEC"]) != nmaps:
        raise InputFormatError(f"{path}: header announces {nmaps} maps, found {len(maps['TEC'])}")
    order = np.argsort(epochs["TEC"])
    tec = np.stack(maps["TEC"])[order]
    rms = (
        np.stack(maps["RMS"])[order] if len(maps["RMS"]) == nmaps else np.empty((0, *tec.shape[1:]))
    )
    return Ionex(
        path, np.asarray(epochs["TEC"])[order], lat, lon, tec, rms, hgt1 * 1e3, radius * 1e3
    )


def _flush(grid, row, values, exponent: int, path: Path) -> None:
    if row is None:
        return
    if len(values) != grid.shape[1]:
        raise InputFormatError(
            f"{path}: map row {row} has {len(values)} values, expected {grid.shape[1]}"
        )
    data = np.asarray(values, dtype=np.float64) * 10.0**exponent
    data[np.asarray(values) == 9999] = np.nan
    grid[row] = data


def pierce_point(lat, lon, incidence_deg, heading_deg, shell_height: float, radius: float):
    """Ionospheric pierce point of the line of sight on a thin shell, and the zenith angle there.

    Returns
    -------
    lat_ipp, lon_ipp, zenith_ipp : ndarray
        Degrees.  The LOS from the pixel toward the (right-looking) satellite crosses the shell
        an Earth-central angle ``incidence - zenith_ipp`` away, in the direction
        ``heading - 90°`` (clockwise from north).
    """
    inc = np.radians(incidence_deg)
    zen = np.arcsin(radius / (radius + shell_height) * np.sin(inc))
    psi = inc - zen
    azimuth = np.radians(np.asarray(heading_deg, dtype=np.float64) - 90.0)
    phi = np.radians(lat)
    phi_p = np.arcsin(np.sin(phi) * np.cos(psi) + np.cos(phi) * np.sin(psi) * np.cos(azimuth))
    dlon = np.arctan2(
        np.sin(azimuth) * np.sin(psi) * np.cos(phi), np.cos(psi) - np.sin(phi) * np.sin(phi_p)
    )
    return np.degrees(phi_p), np.asarray(lon) + np.degrees(dlon), np.degrees(zen)


def range_change_per_tecu(frequency_hz: float = SENTINEL1_FREQUENCY) -> float:
    """Apparent range shortening (m) per slant TECU: ``40.31e16 / f^2`` (13.80 mm at 5.405 GHz)."""
    return K_IONO * TECU / frequency_hz**2


def slant_range_change(
    ionex: Ionex,
    lat,
    lon,
    incidence_deg,
    heading_deg,
    when: datetime,
    frequency_hz: float = SENTINEL1_FREQUENCY,
    *,
    interpolation: str = "rotated",
) -> np.ndarray:
    """Apparent range shortening (m) by the ionosphere along the line of sight.

    Parameters
    ----------
    ionex : Ionex
        Maps from :func:`read_ionex`.
    lat, lon, incidence_deg, heading_deg : array_like
        Pixel position, incidence and platform heading in degrees (broadcast).
    when : datetime
        Acquisition time (UTC).
    frequency_hz : float
        Radar carrier frequency.
    interpolation : str
        See :meth:`Ionex.vtec`.

    Returns
    -------
    ndarray
        ``40.31 STEC / f^2`` in metres, positive: the phase advance looks like motion toward
        the satellite, so this is the ionosphere's apparent LOS displacement.
    """
    lat_p, lon_p, zen = pierce_point(
        lat, lon, incidence_deg, heading_deg, ionex.shell_height, ionex.base_radius
    )
    vtec = ionex.vtec(lat_p, lon_p, when, interpolation)
    return range_change_per_tecu(frequency_hz) * vtec / np.cos(np.radians(zen))


class IonexFiles:
    """IONEX files searched by the epochs of their maps, for the acquisitions of a frame.

    Each file is parsed at most once to learn its span (its maps are then dropped unless they
    serve), and the file last picked stays in memory, so picking a file for every date of a
    stack reads each file about once instead of once per date.
    """

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]
        self._spans: dict[Path, tuple[float, float]] = {}
        self._last: Ionex | None = None

    def pick(self, when: datetime) -> Ionex:
        """The first file whose map epochs contain ``when``.

        CODE daily files share their midnight maps: the first file listed wins.

        Raises
        ------
        ValueError
            If no file covers ``when`` (the message lists the files and their spans).
        """
        t = to_utc(when).timestamp()
        for path in self.paths:
            span = self._spans.get(path)
            if span is not None and not span[0] <= t <= span[1]:
                continue
            if self._last is not None and self._last.path == path:
                return self._last
            ionex = read_ionex(path)
            self._spans[path] = (float(ionex.epochs[0]), float(ionex.epochs[-1]))
            if ionex.epochs[0] <= t <= ionex.epochs[-1]:
                self._last = ionex
                return ionex
        seen = [
            f"{p.name} ({datetime.fromtimestamp(a, UTC):%Y-%m-%dT%H:%M} .. "
            f"{datetime.fromtimestamp(b, UTC):%H:%M})"
            for p, (a, b) in self._spans.items()
        ]
        raise ValueError(
            f"no IONEX file covers {datetime.fromtimestamp(t, UTC):%Y-%m-%dT%H:%M:%S}Z; "
            f"files: {', '.join(seen) or 'none'}"
        )


def pick_ionex(paths, when: datetime) -> Ionex:
    """Read the IONEX file among ``paths`` whose map epochs contain ``when``.

    Files are chosen by the epochs in their headers, not by name; the first one that covers
    the time wins (CODE daily files share their midnight maps).  For many dates, keep one
    :class:`IonexFiles`.
    """
    return IonexFiles(paths).pick(when)
