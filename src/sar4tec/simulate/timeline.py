"""Acquisition times of the synthetic frame: one track's repeat cycle, optionally subsampled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


def acquisition_times(acquisitions: Mapping[str, Any]) -> list[datetime]:
    """UTC times (frame-centre zero-Doppler) of the simulated acquisitions.

    Parameters
    ----------
    acquisitions : mapping
        The ``simulation.acquisitions`` configuration: ``start``, ``end`` (YYYY-MM-DD),
        ``interval_days`` (repeat cycle), ``subsample`` (keep every n-th) and ``time_utc``
        (HH:MM:SS).

    Raises
    ------
    ValueError
        If fewer than two acquisitions fall between ``start`` and ``end``.
    """
    start = date.fromisoformat(acquisitions["start"])
    end = date.fromisoformat(acquisitions["end"])
    clock = time.fromisoformat(acquisitions["time_utc"])
    step = timedelta(days=int(acquisitions["interval_days"]) * int(acquisitions["subsample"]))
    times = []
    day = start
    while day <= end:
        times.append(datetime.combine(day, clock, tzinfo=UTC))
        day += step
    if len(times) < 2:
        raise ValueError(
            f"simulation.acquisitions: only {len(times)} acquisition(s) between {start} and "
            f"{end} with a {step.days}-day step; need at least 2"
        )
    return times


def day_of_year(when: datetime) -> float:
    """Fractional day of the year (1.0 = 1 January 00:00 UTC)."""
    start = datetime(when.year, 1, 1, tzinfo=UTC)
    return 1.0 + (when - start).total_seconds() / 86400.0
