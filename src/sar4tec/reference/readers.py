"""Readers for station velocities: UNR MIDAS, GAGE ``.vel``, NGL ``.tenv3`` and a simple CSV.

``.tenv3`` time series get their velocity from the MIDAS trend.
Every reader returns :class:`~sar4tec.reference.stations.StationVelocities` in m/yr with the
reference frame of the file; :func:`read_gnss` dispatches on the ``format`` of the manifest.

Formats
-------
``midas``
    UNR/NGL MIDAS velocity file (``midas.IGS14.txt``; description in UNR's
    ``midas.readme.txt``): whitespace columns 1 station, 2 MIDAS version, 3-4 first/last epoch
    (decimal years), 5 duration (yr), 6 epochs, 7 good epochs, 8 velocity pairs, 9-11 east,
    north, up velocity (m/yr), 12-14 their uncertainties, 15-17 offsets at the first epoch (m),
    18-20 outlier fractions, 21-23 standard deviations of the pair velocities, 24 number of
    steps, 25-27 latitude, longitude (may lie outside +-180), height (m).  No frame in the
    file: the caller states it (``IGS14``, ``IGS20``).
``gage_vel``
    GAGE/PBO velocity file (format 1.1.0): 36 header lines, the first naming the reference
    frame; one row per inter-offset segment with 30 columns (Dot#, Name, Ref_epoch, Ref_jday,
    Ref_X/Y/Z, Ref_Nlat, Ref_Elong, Ref_Up, dX/dt, dY/dt, dZ/dt, SXd, SYd, SZd, Rxy, Rxz, Ryz,
    dN/dt, dE/dt, dU/dt, SNd, SEd, SUd, Rne, Rnu, Reu, first_epoch, last_epoch); m/yr.
    Segments of one station with the same velocity are merged into one station.
``tenv3``
    NGL time series (one station): 23 columns with a header line; positions are the integer
    part (``_e0``, ``____n0``, ``u0``) plus the fractional part in metres.  The velocity is the
    MIDAS trend (:mod:`sar4tec.reference.trend`); changes of the antenna height column count as
    steps.
``csv``
    Comma-separated, ``#`` comments, a header row with at least ``station, lon, lat, ve, vn,
    vu, se, sn, su`` (velocities and 1-sigma in **mm/yr**), optionally ``height`` (m),
    ``corr_en``, ``first_epoch``, ``last_epoch`` (decimal years).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from sar4tec.errors import InputFormatError, reading
from sar4tec.reference.stations import StationVelocities, wrap_longitude
from sar4tec.reference.trend import midas_trend

FORMATS = ("midas", "gage_vel", "tenv3", "csv")


def read_gnss(
    path: str | Path, format: str, reference_frame: str | None = None
) -> StationVelocities:
    """Read a station-velocity file of the given ``format`` (one of :data:`FORMATS`).

    ``reference_frame`` overrides (or, for MIDAS, tenv3 and CSV, supplies) the frame; for
    ``gage_vel`` the frame in the header is used when none is given.

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the file is malformed, holds no station or a non-finite
        position or velocity (the message names the file and the line or column).
    """
    readers = {
        "midas": read_midas,
        "gage_vel": read_gage_vel,
        "tenv3": read_tenv3_velocity,
        "csv": read_csv_velocities,
    }
    if format not in readers:
        raise ValueError(f"{path}: unknown GNSS format {format!r}; known: {FORMATS}")
    if not reference_frame and format != "gage_vel":
        raise ValueError(f"{path}: format {format!r} does not state its reference frame; give one")
    return readers[format](path, reference_frame)


def _finite(stations: StationVelocities, path: str | Path) -> StationVelocities:
    """``stations`` if their positions and velocities are finite, else InputFormatError."""
    for name in ("lat", "lon", "east", "north", "up", "sigma_east", "sigma_north", "sigma_up"):
        bad = ~np.isfinite(getattr(stations, name))
        if bad.any():
            raise InputFormatError(
                f"{path}: station {stations.station[bad][0]} has a non-finite {name}"
            )
    return stations


def _numeric_rows(path: Path, ncols: int, skip) -> list[list[str]]:
    rows = []
    with open(path) as fh:
        for number, line in enumerate(fh, 1):
            tokens = line.split()
            if not tokens or skip(number, tokens):
                continue
            if len(tokens) != ncols:
                raise InputFormatError(
                    f"{path}, line {number}: {len(tokens)} columns, expected {ncols}: {line!r}"
                )
            rows.append(tokens)
    if not rows:
        raise InputFormatError(f"{path}: no station rows")
    return rows


def read_midas(path: str | Path, reference_frame: str = "IGS14") -> StationVelocities:
    """Read a UNR MIDAS velocity file (27 columns, see the module docstring)."""
    with reading(path, "MIDAS velocity file"):
        return _finite(_read_midas(Path(path), reference_frame), path)


def _read_midas(path: Path, reference_frame: str) -> StationVelocities:
    rows = _numeric_rows(path, 27, lambda n, tok: tok[0].startswith("#"))
    try:
        values = np.array([[float(v) for v in row[2:]] for row in rows])
    except ValueError as err:
        raise InputFormatError(f"{path}: non-numeric MIDAS value ({err})") from None

    def column(number: int) -> np.ndarray:  # 1-based column of the UNR description
        return values[:, number - 3]

    return StationVelocities(
        station=np.array([row[0] for row in rows]),
        lat=column(25),
        lon=column(26),
        height=column(27),
        east=column(9),
        north=column(10),
        up=column(11),
        sigma_east=column(12),
        sigma_north=column(13),
        sigma_up=column(14),
        corr_en=np.zeros(len(rows)),
        first_epoch=column(3),
        last_epoch=column(4),
        reference_frame=reference_frame,
        source=f"UNR MIDAS velocities {path.name}",
    )


def _gage_epoch(text: str) -> float:
    """``YYYYMMDDhhmmss`` to decimal year."""
    when = datetime.strptime(text, "%Y%m%d%H%M%S")
    start = datetime(when.year, 1, 1)
    return when.year + (when - start).total_seconds() / (
        (datetime(when.year + 1, 1, 1) - start).total_seconds()
    )


def read_gage_vel(path: str | Path, reference_frame: str | None = None) -> StationVelocities:
    """Read a GAGE/PBO ``.vel`` file; segments with equal velocities become one station.

    When a station's segments carry different velocities, the longest segment is kept.
    """
    with reading(path, "GAGE velocity file"):
        return _finite(_read_gage_vel(Path(path), reference_frame), path)


def _read_gage_vel(path: Path, reference_frame: str | None) -> StationVelocities:
    with open(path) as fh:
        first = fh.readline()
    if "Reference Frame" not in first:
        raise InputFormatError(f"{path}: not a GAGE velocity file (no 'Reference Frame' on line 1)")
    header_frame = first.split("Reference Frame")[-1].strip(" :\n")
    stations: dict[str, tuple[list[float], float, float]] = {}
    with open(path) as fh:
        for number, line in enumerate(fh, 1):
            tokens = line.split()
            if number <= 36 or not tokens or tokens[0].startswith("*"):
                continue
            if len(tokens) < 30:
                raise InputFormatError(f"{path}, line {number}: {len(tokens)} columns, expected 30")
            numbers = [float(v) for v in tokens[-28:-2]]
            t0, t1 = _gage_epoch(tokens[-2]), _gage_epoch(tokens[-1])
            # Ref_Nlat, Ref_Elong, Ref_Up, dN, dE, dU, SN, SE, SU, Rne
            record = [numbers[i] for i in (5, 6, 7, 17, 18, 19, 20, 21, 22, 23)]
            name = tokens[0]
            if name in stations:
                old, old_t0, old_t1 = stations[name]
                if np.allclose(old[3:6], record[3:6], atol=1e-6):
                    stations[name] = (old, min(old_t0, t0), max(old_t1, t1))
                    continue
                if old_t1 - old_t0 >= t1 - t0:
                    continue
            stations[name] = (record, t0, t1)
    if not stations:
        raise InputFormatError(f"{path}: no station rows")
    names = np.array(list(stations))
    rec = np.array([v[0] for v in stations.values()])
    return StationVelocities(
        station=names,
        lat=rec[:, 0],
        lon=rec[:, 1],
        height=rec[:, 2],
        north=rec[:, 3],
        east=rec[:, 4],
        up=rec[:, 5],
        sigma_north=rec[:, 6],
        sigma_east=rec[:, 7],
        sigma_up=rec[:, 8],
        corr_en=rec[:, 9],
        first_epoch=np.array([v[1] for v in stations.values()]),
        last_epoch=np.array([v[2] for v in stations.values()]),
        reference_frame=reference_frame or header_frame,
        source=f"GAGE velocity file {path.name} ({first.strip()})",
    )


@dataclass(frozen=True)
class GnssTimeSeries:
    """Daily ENU positions of one station (NGL tenv3).

    Attributes
    ----------
    station : str
    t : numpy.ndarray
        Epochs, decimal years.
    east, north, up : numpy.ndarray
        Positions in m (integer plus fractional part of the file).
    sigma_east, sigma_north, sigma_up : numpy.ndarray
        Their 1-sigma in m.
    antenna_height : numpy.ndarray
        Antenna height in m; a change marks an equipment change (a step).
    lat, lon, height : float
        Median position (longitude wrapped to [-180, 180)).
    """

    station: str
    t: np.ndarray
    east: np.ndarray
    north: np.ndarray
    up: np.ndarray
    sigma_east: np.ndarray
    sigma_north: np.ndarray
    sigma_up: np.ndarray
    antenna_height: np.ndarray
    lat: float
    lon: float
    height: float

    @property
    def antenna_steps(self) -> list[float]:
        """Epochs where the antenna height changes (midway between the two days)."""
        change = np.flatnonzero(np.diff(self.antenna_height) != 0)
        return [0.5 * (self.t[k] + self.t[k + 1]) for k in change]


def read_tenv3(path: str | Path) -> GnssTimeSeries:
    """Read an NGL ``.tenv3`` time series (23 columns, one header line)."""
    with reading(path, "NGL tenv3 file"):
        return _read_tenv3(Path(path))


def _read_tenv3(path: Path) -> GnssTimeSeries:
    rows = _numeric_rows(path, 23, lambda n, tok: tok[0] == "site")
    stations = {row[0] for row in rows}
    if len(stations) != 1:
        raise InputFormatError(f"{path}: a tenv3 file holds one station, found {sorted(stations)}")
    try:
        v = np.array([[float(x) for x in row[2:]] for row in rows])
    except ValueError as err:
        raise InputFormatError(f"{path}: non-numeric tenv3 value ({err})") from None
    order = np.argsort(v[:, 0])
    v = v[order]
    # columns after the date: 0 decyr, 1 MJD, 2 week, 3 day, 4 reflon, 5 e0, 6 east, 7 n0,
    # 8 north, 9 u0, 10 up, 11 ant, 12-14 sigmas, 15-17 correlations, 18 lat, 19 lon, 20 h
    return GnssTimeSeries(
        station=rows[0][0],
        t=v[:, 0],
        east=v[:, 5] + v[:, 6],
        north=v[:, 7] + v[:, 8],
        up=v[:, 9] + v[:, 10],
        sigma_east=v[:, 12],
        sigma_north=v[:, 13],
        sigma_up=v[:, 14],
        antenna_height=v[:, 11],
        lat=float(np.median(v[:, 18])),
        lon=float(wrap_longitude(np.median(v[:, 19]))),
        height=float(np.median(v[:, 20])),
    )


def read_tenv3_velocity(
    path: str | Path, reference_frame: str = "IGS14", steps=()
) -> StationVelocities:
    """Velocity of an NGL ``.tenv3`` station by the MIDAS trend of each component.

    ``steps`` adds known step epochs (decimal years) to the antenna changes of the file.
    """
    series = read_tenv3(path)
    with reading(path, "NGL tenv3 file"):
        return _finite(_tenv3_velocity(series, path, reference_frame, steps), path)


def _tenv3_velocity(
    series: GnssTimeSeries, path: str | Path, reference_frame: str, steps
) -> StationVelocities:
    all_steps = sorted({*series.antenna_steps, *steps})
    trends = [midas_trend(series.t, x, all_steps) for x in (series.east, series.north, series.up)]
    one = np.ones(1)
    return StationVelocities(
        station=np.array([series.station]),
        lat=one * series.lat,
        lon=one * series.lon,
        height=one * series.height,
        east=one * trends[0].velocity,
        north=one * trends[1].velocity,
        up=one * trends[2].velocity,
        sigma_east=one * trends[0].sigma,
        sigma_north=one * trends[1].sigma,
        sigma_up=one * trends[2].sigma,
        corr_en=np.zeros(1),
        first_epoch=one * series.t[0],
        last_epoch=one * series.t[-1],
        reference_frame=reference_frame,
        source=f"NGL tenv3 {Path(path).name}, MIDAS trend",
    )


CSV_REQUIRED = ("station", "lon", "lat", "ve", "vn", "vu", "se", "sn", "su")


def read_csv_velocities(path: str | Path, reference_frame: str) -> StationVelocities:
    """Read the simple CSV format (velocities in mm/yr; see the module docstring)."""
    with reading(path, "GNSS velocity CSV"):
        return _finite(_read_csv_velocities(Path(path), reference_frame), path)


def _read_csv_velocities(path: Path, reference_frame: str) -> StationVelocities:
    with open(path, newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    fieldnames = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in fieldnames]
    if missing:
        raise InputFormatError(f"{path}: CSV lacks the column(s) {missing}; it has {fieldnames}")
    rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]

    def column(name: str, scale: float = 1.0, default: float = np.nan) -> np.ndarray:
        try:
            return np.array([float(r[name]) if r.get(name) else default for r in rows]) * scale
        except ValueError as err:
            raise InputFormatError(f"{path}: column {name!r}: {err}") from None

    mm = 1e-3
    return StationVelocities(
        station=np.array([r["station"] for r in rows]),
        lat=column("lat"),
        lon=column("lon"),
        height=column("height", default=0.0),
        east=column("ve", mm),
        north=column("vn", mm),
        up=column("vu", mm),
        sigma_east=column("se", mm),
        sigma_north=column("sn", mm),
        sigma_up=column("su", mm),
        corr_en=column("corr_en", default=0.0),
        first_epoch=column("first_epoch"),
        last_epoch=column("last_epoch"),
        reference_frame=reference_frame,
        source=f"CSV velocities {path.name}",
    )


def write_csv_velocities(path: str | Path, stations: StationVelocities) -> None:
    """Write stations in the simple CSV format (mm/yr), e.g. to hand-edit a selection."""
    from sar4tec.files import atomic_output

    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        fh.write(f"# reference_frame: {stations.reference_frame}\n")
        writer = csv.writer(fh)
        writer.writerow([*CSV_REQUIRED, "height", "corr_en", "first_epoch", "last_epoch"])
        for k in range(len(stations)):
            mm = [1e3 * getattr(stations, a)[k] for a in ("east", "north", "up")]
            smm = [1e3 * getattr(stations, a)[k] for a in ("sigma_east", "sigma_north", "sigma_up")]
            writer.writerow(
                [stations.station[k], f"{stations.lon[k]:.7f}", f"{stations.lat[k]:.7f}"]
                + [f"{v:.3f}" for v in mm + smm]
                + [f"{stations.height[k]:.3f}", f"{stations.corr_en[k]:.3f}"]
                + [f"{stations.first_epoch[k]:.4f}", f"{stations.last_epoch[k]:.4f}"]
            )
