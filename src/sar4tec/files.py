"""Crash-safe file writing and the date/time datasets shared by all HDF5 files.

Every product is written under a temporary name in the destination folder and renamed into
place only when complete, so a killed job never leaves a half-written file behind under the
final name.  HDF5 files of a frame store acquisition times in one way:

``/dates``          (N,) fixed-length bytes ``YYYYMMDD``
``/sensing_times``  (N,) fixed-length bytes, ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    The temporary file keeps the suffix of ``path`` (so format drivers that look at the
    extension work) and is removed if the block raises.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp-{uuid.uuid4().hex[:8]}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def to_utc(when: datetime) -> datetime:
    """Return ``when`` as a timezone-aware UTC datetime (naive input is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def format_time(when: datetime) -> str:
    """ISO 8601 UTC string with microseconds and a trailing ``Z``."""
    return to_utc(when).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | bytes) -> datetime:
    """Parse an ISO 8601 time (``Z`` or offset; naive is UTC) into an aware UTC datetime."""
    text = text.decode() if isinstance(text, bytes) else text
    return to_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


def write_times(h5group, sensing_times: Sequence[datetime]) -> None:
    """Write ``/dates`` and ``/sensing_times`` datasets for the given acquisition times."""
    times = [to_utc(t) for t in sensing_times]
    h5group.create_dataset("dates", data=np.array([t.strftime("%Y%m%d") for t in times], "S8"))
    h5group.create_dataset("sensing_times", data=np.array([format_time(t) for t in times], "S27"))


def read_times(h5group) -> list[datetime]:
    """Read the acquisition times written by :func:`write_times`."""
    return [parse_time(t) for t in h5group["sensing_times"][()]]


def decimal_years(times: Sequence[datetime], origin: datetime) -> np.ndarray:
    """Time since ``origin`` in years of 365.25 days, as float64."""
    origin = to_utc(origin)
    return np.array([(to_utc(t) - origin).total_seconds() / (365.25 * 86400.0) for t in times])
