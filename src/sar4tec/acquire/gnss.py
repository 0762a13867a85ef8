"""GNSS files from the Nevada Geodetic Laboratory (UNR/NGL): MIDAS velocities and tenv3 series.

NGL publishes its products in IGS20 since 2025 (``gps_timeseries/IGS20/``); the IGS14 files
(``velocities/midas.IGS14.txt``, ``gps_timeseries/tenv3/IGS14/``) are the earlier, frozen
solutions.  :func:`unr_frame` picks the realisation for a processing period: IGS20 when it
reaches into 2025 or later, IGS14 before.  Files go to the shared cache through
:func:`sar4tec.acquire.download.fetch`; the MIDAS table, which NGL updates weekly, is fetched
again when the cached copy is older than ``max_age_days`` (the old copy stays until the new one
is complete).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from sar4tec.acquire.download import OfflineError, fetch

log = logging.getLogger(__name__)

UNR_BASE_URL = "https://geodesy.unr.edu"
#: first day of the IGS20 products
IGS20_START = datetime(2025, 1, 1, tzinfo=UTC)
#: MIDAS table and tenv3 path of each realisation, relative to the base URL
UNR_PATHS = {
    "IGS20": ("gps_timeseries/IGS20/midas/midas.IGS.txt", "gps_timeseries/IGS20/tenv3/IGS20"),
    "IGS14": ("velocities/midas.IGS14.txt", "gps_timeseries/tenv3/IGS14"),
}


def unr_frame(period_end: datetime) -> str:
    """``IGS20`` for a period ending in 2025 or later, else ``IGS14``."""
    when = period_end if period_end.tzinfo else period_end.replace(tzinfo=UTC)
    return "IGS20" if when >= IGS20_START else "IGS14"


def _check_frame(frame: str) -> str:
    if frame not in UNR_PATHS:
        raise ValueError(f"UNR reference frame {frame!r} unknown; known: {sorted(UNR_PATHS)}")
    return frame


def midas_url(frame: str, base_url: str = UNR_BASE_URL) -> str:
    """URL of the MIDAS velocity table of a realisation."""
    return f"{base_url.rstrip('/')}/{UNR_PATHS[_check_frame(frame)][0]}"


def tenv3_url(station: str, frame: str, base_url: str = UNR_BASE_URL) -> str:
    """URL of a station's tenv3 time series."""
    station = station.strip().upper()
    if len(station) != 4 or not station.isalnum():
        raise ValueError(f"NGL station identifiers have 4 letters/digits, got {station!r}")
    return f"{base_url.rstrip('/')}/{UNR_PATHS[_check_frame(frame)][1]}/{station}.tenv3"


def download_midas(
    cache_dir: str | Path,
    frame: str,
    *,
    base_url: str = UNR_BASE_URL,
    max_age_days: float = 7.0,
    offline: bool = False,
    retries: int = 5,
    backoff: float = 1.0,
) -> Path:
    """The MIDAS velocity table of ``frame`` in the cache, fetched or refreshed when needed.

    Parameters
    ----------
    cache_dir : str or Path
        Shared download cache; the file goes to ``gnss/unr/{frame}/``.
    frame : {"IGS20", "IGS14"}
        Realisation (see :func:`unr_frame`).
    base_url : str
        NGL server (a local server in tests).
    max_age_days : float
        A cached table older than this is downloaded again (NGL updates it weekly).
    offline : bool
        Never use the network: return the cached table, however old, or raise.
    retries, backoff : int, float
        Passed to :func:`~sar4tec.acquire.download.fetch`.

    Returns
    -------
    pathlib.Path
        The table, to be read with :func:`sar4tec.reference.readers.read_midas` in ``frame``.
    """
    url = midas_url(frame, base_url)
    dest = Path(cache_dir) / "gnss" / "unr" / frame / Path(url).name
    if offline:
        if not dest.is_file():
            raise OfflineError(f"offline mode: {dest} is not in the cache (from {url})")
        return dest
    if dest.is_file() and time.time() - dest.stat().st_mtime <= max_age_days * 86400.0:
        return dest
    if dest.is_file():
        log.info("refreshing %s (older than %.1f days)", dest, max_age_days)
        fresh = dest.with_name(dest.name + ".new")
        fresh.unlink(missing_ok=True)  # a leftover of an interrupted refresh
        fetch(url, fresh, retries=retries, backoff=backoff)
        os.replace(fresh, dest)
        return dest
    return fetch(url, dest, retries=retries, backoff=backoff)


def download_tenv3(
    station: str,
    cache_dir: str | Path,
    frame: str,
    *,
    base_url: str = UNR_BASE_URL,
    offline: bool = False,
    retries: int = 5,
    backoff: float = 1.0,
) -> Path:
    """A station's tenv3 time series in the cache (``gnss/unr/{frame}/tenv3/``)."""
    url = tenv3_url(station, frame, base_url)
    dest = Path(cache_dir) / "gnss" / "unr" / frame / "tenv3" / Path(url).name
    return fetch(url, dest, retries=retries, backoff=backoff, offline=offline)


def manifest_gnss_entry(path: str | Path, manifest_dir: str | Path, frame: str) -> dict:
    """The ``gnss`` entry of a frame manifest for a downloaded MIDAS table."""
    rel = os.path.relpath(Path(path).resolve(), Path(manifest_dir).resolve())
    return {"path": rel, "format": "midas", "reference_frame": _check_frame(frame)}
