"""IONEX 1.0 files (Schaer, Gurtner & Feltens 1998) with the grid of the CODE global maps.

One file per day, named like CODE's long-name final product
``COD0OPSFIN_YYYYDDD0000_01D_01H_GIM.INX.gz``: 25 hourly TEC maps (00:00 to 24:00) and their
RMS maps on 87.5…−87.5° latitude by −2.5° and −180…180° longitude by 5°, shell height 450 km,
base radius 6371 km, values in 0.1 TECU (``EXPONENT -1``), 16 values of width 5 per line.
Every header line has its content in columns 1–60 and its label in columns 61–80.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from sar4tec.files import atomic_output
from sar4tec.simulate.ionosphere import TecModel

LATITUDES = np.round(np.arange(87.5, -87.5 - 1e-9, -2.5), 6)
LONGITUDES = np.round(np.arange(-180.0, 180.0 + 1e-9, 5.0), 6)
MAPS_PER_DAY = 25
EXPONENT = -1
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def ionex_name(day: date) -> str:
    """CODE final GIM long file name of ``day`` (gzip-compressed)."""
    return f"COD0OPSFIN_{day:%Y}{day.timetuple().tm_yday:03d}0000_01D_01H_GIM.INX.gz"


def _line(content: str, label: str) -> str:
    if len(content) > 60:
        raise ValueError(f"IONEX header content longer than 60 characters: {content!r}")
    return f"{content:<60}{label:<20}\n"


def _epoch(when: datetime) -> str:
    return "".join(
        f"{v:6d}" for v in (when.year, when.month, when.day, when.hour, when.minute, when.second)
    )


def _format_rows(values: np.ndarray) -> np.ndarray:
    """Rows of non-negative integers as IONEX data lines (16 values of width 5 per line).

    Returns a byte array of shape (rows, characters): each row's lines with their newlines.
    """
    if values.min() < 0 or values.max() > 99999:
        raise ValueError("IONEX values must lie in 0 ... 99999 (units of 10**EXPONENT)")
    ascii_zero, space = ord("0"), ord(" ")
    digits = np.empty(values.shape + (5,), dtype=np.uint8)
    for k in range(5):
        digits[..., 4 - k] = (values // 10**k) % 10 + ascii_zero
    blank = np.cumsum(digits[..., :4] != ascii_zero, axis=-1) == 0  # leading zeros
    digits[..., :4][blank] = space
    flat = digits.reshape(values.shape[0], -1)
    newline = np.full((values.shape[0], 1), ord("\n"), dtype=np.uint8)
    pieces = []
    for start in range(0, values.shape[1], 16):
        pieces += [flat[:, 5 * start : 5 * min(start + 16, values.shape[1])], newline]
    return np.concatenate(pieces, axis=1)


def _latitude_headers(height: float) -> np.ndarray:
    """The ``LAT/LON1/LON2/DLON/H`` line of every latitude row, as bytes (71, 81)."""
    lines = [
        _line(
            f"  {lat:6.1f}{LONGITUDES[0]:6.1f}{LONGITUDES[-1]:6.1f}{5.0:6.1f}{height:6.1f}",
            "LAT/LON1/LON2/DLON/H",
        )
        for lat in LATITUDES
    ]
    return np.frombuffer("".join(lines).encode("ascii"), dtype=np.uint8).reshape(len(lines), -1)


def _map_block(index: int, when: datetime, values: np.ndarray, kind: str, headers) -> str:
    """One ``TEC`` or ``RMS`` map: values (71, 73) as integers in units of 10**EXPONENT."""
    rows = np.concatenate([headers, _format_rows(values)], axis=1)
    return (
        _line(f"{index:6d}", f"START OF {kind} MAP")
        + _line(_epoch(when), "EPOCH OF CURRENT MAP")
        + rows.tobytes().decode("ascii")
        + _line(f"{index:6d}", f"END OF {kind} MAP")
    )


def ionex_text(
    day: date, tec: np.ndarray, rms: np.ndarray, shell_height_km: float, description: Sequence[str]
) -> str:
    """The IONEX file of ``day`` for TEC and RMS maps of shape (25, 71, 73) in TECU."""
    if tec.shape != (MAPS_PER_DAY, LATITUDES.size, LONGITUDES.size) or rms.shape != tec.shape:
        raise ValueError(f"IONEX maps must have shape (25, 71, 73), got {tec.shape}, {rms.shape}")
    first = datetime(day.year, day.month, day.day, tzinfo=UTC)
    epochs = [first + timedelta(hours=h) for h in range(MAPS_PER_DAY)]
    created = first + timedelta(days=4, hours=20, minutes=15)  # finals appear a few days later
    run_date = f"{created:%d}-{_MONTHS[created.month - 1]}-{created:%y} {created:%H:%M}"
    doy = day.timetuple().tm_yday
    scale = 10.0**-EXPONENT
    header = [
        _line(f"{1.0:8.1f}{'':12}{'IONOSPHERE MAPS':<20}GNSS", "IONEX VERSION / TYPE"),
        _line(f"{'SAR4TEC SIMULATE':<20}{'SAR4TEC':<20}{run_date}", "PGM / RUN BY / DATE"),
        _line(f"SIMULATED GLOBAL IONOSPHERE MAPS FOR DAY {doy:03d}, {day.year}", "COMMENT"),
        *(_line(text, "DESCRIPTION") for text in description),
        _line(_epoch(epochs[0]), "EPOCH OF FIRST MAP"),
        _line(_epoch(epochs[-1]), "EPOCH OF LAST MAP"),
        _line(f"{3600:6d}", "INTERVAL"),
        _line(f"{MAPS_PER_DAY:6d}", "# OF MAPS IN FILE"),
        _line("  NONE", "MAPPING FUNCTION"),
        _line(f"{10.0:8.1f}", "ELEVATION CUTOFF"),
        _line("Synthetic model, no observations", "OBSERVABLES USED"),
        _line(f"{0:6d}", "# OF STATIONS"),
        _line(f"{0:6d}", "# OF SATELLITES"),
        _line(f"{6371.0:8.1f}", "BASE RADIUS"),
        _line(f"{2:6d}", "MAP DIMENSION"),
        _line(f"  {shell_height_km:6.1f}{shell_height_km:6.1f}{0.0:6.1f}", "HGT1 / HGT2 / DHGT"),
        _line(f"  {LATITUDES[0]:6.1f}{LATITUDES[-1]:6.1f}{-2.5:6.1f}", "LAT1 / LAT2 / DLAT"),
        _line(f"  {LONGITUDES[0]:6.1f}{LONGITUDES[-1]:6.1f}{5.0:6.1f}", "LON1 / LON2 / DLON"),
        _line(f"{EXPONENT:6d}", "EXPONENT"),
        _line("TEC/RMS values in 0.1 TECU; 9999, if no value available", "COMMENT"),
        _line("", "END OF HEADER"),
    ]
    tec_int = np.rint(tec * scale).astype(np.int64)
    rms_int = np.rint(rms * scale).astype(np.int64)
    headers = _latitude_headers(shell_height_km)
    body = [
        _map_block(i + 1, epochs[i], values[i], kind, headers)
        for kind, values in (("TEC", tec_int), ("RMS", rms_int))
        for i in range(MAPS_PER_DAY)
    ]
    return "".join(header) + "".join(body) + _line("", "END OF FILE")


def write_ionex(path: str | Path, day: date, model: TecModel, shell_height: float) -> Path:
    """Write the day's maps of ``model`` as a gzip-compressed IONEX file (reproducible bytes)."""
    first = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lat, lon = np.meshgrid(LATITUDES, LONGITUDES, indexing="ij")
    tec = np.stack([model.vtec(lat, lon, first + timedelta(hours=h)) for h in range(MAPS_PER_DAY)])
    rms = 0.4 + 0.12 * tec  # TECU: typical formal errors of a final GIM
    description = [
        "Simulated vertical TEC for sar4tec's synthetic frame: a",
        "diurnal cycle in local time peaking at 14 h, geomagnetic-",
        "latitude dependence with equatorial crests, a semi-annual",
        "term, solar cycles 24/25 and day-to-day variability.",
        "Single-layer shell, geocentric latitudes as in CODE maps.",
    ]
    text = ionex_text(day, tec, rms, shell_height / 1000.0, description)
    with atomic_output(path) as tmp:
        with (
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as gz,
        ):
            gz.write(text.encode("ascii"))
    return Path(path)
