"""Interferogram networks: which date pairs to form from the linked phases, and their triplets.

A pair ``(i, j)`` with ``i < j`` is the interferogram ``angle(slc_j * conj(slc_i))``, i.e. the
linked phase of date ``j`` minus that of date ``i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np


def single_reference_pairs(n_dates: int, reference: int = 0) -> np.ndarray:
    """Every date paired with one reference date: ``(ref, j)`` (or ``(j, ref)`` if ``j < ref``)."""
    if not 0 <= reference < n_dates:
        raise ValueError(f"reference date index {reference} outside [0, {n_dates})")
    return np.array(
        [(min(reference, j), max(reference, j)) for j in range(n_dates) if j != reference],
        dtype=np.int32,
    ).reshape(-1, 2)


def nearest_pairs(n_dates: int, k: int) -> np.ndarray:
    """Each date with its ``k`` following dates: ``(i, i + 1) ... (i, i + k)``."""
    if k < 1:
        raise ValueError(f"the number of nearest neighbours must be >= 1, got {k}")
    return np.array(
        [(i, j) for i in range(n_dates) for j in range(i + 1, min(i + k, n_dates - 1) + 1)],
        dtype=np.int32,
    ).reshape(-1, 2)


def small_baseline_pairs(
    times: Sequence[datetime],
    max_days: float,
    bperp: np.ndarray | None = None,
    max_bperp: float | None = None,
) -> np.ndarray:
    """Pairs whose temporal (and, if given, perpendicular) baseline is small.

    Consecutive dates are always kept, so the network stays connected however strict the
    thresholds are.
    """
    n = len(times)
    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            days = (times[j] - times[i]).total_seconds() / 86400.0
            short = days <= max_days
            if bperp is not None and max_bperp is not None:
                short = short and abs(bperp[j] - bperp[i]) <= max_bperp
            if short or j == i + 1:
                pairs.append((i, j))
    return np.array(pairs, dtype=np.int32).reshape(-1, 2)


def make_network(times: Sequence[datetime], config: dict) -> np.ndarray:
    """Pairs of the network described by the ``unwrap.network`` config section."""
    kind = config["type"]
    if kind == "single_reference":
        return single_reference_pairs(len(times), config["reference_index"])
    if kind == "nearest":
        return nearest_pairs(len(times), config["neighbours"])
    if kind == "small_baseline":
        return small_baseline_pairs(times, config["max_temporal_baseline_days"])
    raise ValueError(f"unknown network type {kind!r} in unwrap.network.type")


def triplets(pairs: np.ndarray) -> np.ndarray:
    """Closure triplets of a network.

    Returns
    -------
    ndarray of int, shape (T, 3)
        Interferogram indices ``(a, b, c)`` with ``a = (i, j)``, ``b = (j, k)``, ``c = (i, k)``
        and ``i < j < k``; the closure phase is ``phi_a + phi_b - phi_c``.
    """
    index = {(int(i), int(j)): m for m, (i, j) in enumerate(pairs)}
    out = []
    for (i, j), a in index.items():
        for (j2, k), b in index.items():
            if j2 == j and (i, k) in index:
                out.append((a, b, index[(i, k)]))
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 3)
