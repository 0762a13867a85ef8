"""CODE global ionosphere maps (IONEX) by date, in both file-name conventions.

CODE (and the IGS) name a day's final map ``CODGDDD0.YYI.Z`` (short convention, until late
2022) or ``COD0OPSFIN_YYYYDDD0000_01D_01H_GIM.INX.gz`` (long IGS convention, since GPS week
2238, 2022-11-27).  :func:`download_ionex` asks for the name the day most likely has first and
falls back to the other one, through :func:`sar4tec.acquire.download.fetch` (resumable,
retried, atomic, SHA-256 checked when a checksum is known), and then checks that the file is an
IONEX file whose first map falls on the requested day.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import subprocess
import zlib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path

from sar4tec.acquire.download import DownloadError, fetch
from sar4tec.errors import InputFormatError, reading
from sar4tec.files import to_utc

log = logging.getLogger(__name__)

URL = "http://ftp.aiub.unibe.ch/CODE/{year}/"
LONG_NAME = "COD0OPSFIN_{year}{doy:03d}0000_01D_01H_GIM.INX.gz"
SHORT_NAME = "CODG{doy:03d}0.{yy:02d}I.Z"
LONG_NAMES_FROM = date(2022, 11, 27)

_SHORT = re.compile(r"^[a-z]{3}[a-z0-9](\d{3})\d\.(\d{2})i", re.IGNORECASE)
_LONG = re.compile(r"^[a-z0-9]{4}[a-z]{3}[a-z]{3}_(\d{4})(\d{3})\d{4}_", re.IGNORECASE)


def _as_date(day: date | datetime) -> date:
    return to_utc(day).date() if isinstance(day, datetime) else day


def ionex_names(
    day: date | datetime,
    long_name: str = LONG_NAME,
    short_name: str = SHORT_NAME,
    long_names_from: date | str = LONG_NAMES_FROM,
) -> list[str]:
    """Both file names of a day's map, the more likely one first.

    The templates are Python format strings with ``year``, ``yy`` and ``doy`` (day of year).
    """
    day = _as_date(day)
    if isinstance(long_names_from, str):
        long_names_from = date.fromisoformat(long_names_from)
    fields = {"year": day.year, "yy": day.year % 100, "doy": day.timetuple().tm_yday}
    names = [long_name.format(**fields), short_name.format(**fields)]
    return names if day >= long_names_from else names[::-1]


def ionex_name_date(name: str) -> date | None:
    """The day an IONEX file name refers to (either convention), else None."""
    name = Path(name).name
    if m := _LONG.match(name):
        year, doy = int(m.group(1)), int(m.group(2))
    elif m := _SHORT.match(name):
        yy, doy = int(m.group(2)), int(m.group(1))
        year = 1900 + yy if yy >= 80 else 2000 + yy
    else:
        return None
    return date(year, 1, 1) + timedelta(days=doy - 1)


def _first_lines(path: Path, count: int = 80) -> list[str]:
    """The header lines of a (possibly gzip/.Z compressed) IONEX file.

    A compressed file is decompressed whole, so that a truncated download fails here.
    """
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        text = gzip.decompress(path.read_bytes())
        return text.decode("ascii", errors="replace").splitlines()[:count]
    if magic == b"\x1f\x9d":
        text = subprocess.run(["gzip", "-dc", str(path)], check=True, capture_output=True).stdout
        return text.decode("ascii", errors="replace").splitlines()[:count]
    with open(path, errors="replace") as fh:
        return [fh.readline() for _ in range(count)]


def check_ionex(path: str | os.PathLike, day: date | datetime) -> None:
    """Raise InputFormatError unless ``path`` is an IONEX file whose first map is on ``day``."""
    path, day = Path(path), _as_date(day)
    try:
        lines = _first_lines(path)
    except (OSError, EOFError, zlib.error, subprocess.CalledProcessError) as err:
        raise InputFormatError(f"{path}: cannot be decompressed ({err})") from None
    if not lines or "IONEX VERSION / TYPE" not in lines[0]:
        raise InputFormatError(f"{path}: not an IONEX file")
    for line in lines:
        if "EPOCH OF FIRST MAP" in line:
            with reading(path, "IONEX header (EPOCH OF FIRST MAP)"):
                first = date(*(int(v) for v in line.split()[:3]))
            if first != day:
                raise InputFormatError(f"{path}: first map on {first}, expected {day}")
            return
    raise InputFormatError(f"{path}: IONEX header has no EPOCH OF FIRST MAP")


def download_ionex(
    day: date | datetime,
    cache_dir: str | os.PathLike,
    *,
    url: str = URL,
    long_name: str = LONG_NAME,
    short_name: str = SHORT_NAME,
    long_names_from: date | str = LONG_NAMES_FROM,
    checksums: Mapping[str, str] | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    offline: bool = False,
) -> Path:
    """Download (or find in the cache) the IONEX file of one day.

    Parameters
    ----------
    day : date or datetime
        UTC day of the map.
    cache_dir : path
        Shared cache folder; the file keeps its archive name there.
    url : str
        Folder of the day's file, with ``{year}`` replaced (default: CODE's archive at AIUB).
    long_name, short_name, long_names_from
        File-name templates and the first day tried under the long name (see
        :func:`ionex_names`).
    checksums : mapping, optional
        ``{file name: sha256}`` of known files, checked by ``fetch``.
    retries, backoff, offline
        Passed to :func:`sar4tec.acquire.download.fetch`.

    Returns
    -------
    Path
        The verified file in the cache.

    Raises
    ------
    DownloadError
        If neither name could be fetched or the file fetched is not the day's IONEX file.
    """
    day = _as_date(day)
    folder = url.format(year=day.year, yy=day.year % 100, doy=day.timetuple().tm_yday)
    if not folder.endswith("/"):
        folder += "/"
    reasons = []
    for name in ionex_names(day, long_name, short_name, long_names_from):
        dest = Path(cache_dir) / name
        try:
            fetch(
                folder + name,
                dest,
                sha256=(checksums or {}).get(name),
                retries=retries,
                backoff=backoff,
                offline=offline,
            )
        except (DownloadError, FileNotFoundError) as err:
            reasons.append(str(err))
            continue
        try:
            check_ionex(dest, day)
        except ValueError as err:
            dest.unlink(missing_ok=True)
            raise DownloadError(f"{folder + name}: {err}") from None
        return dest
    raise DownloadError(f"no IONEX file for {day}: " + "; ".join(reasons))
