"""Unwrapping errors found by the closure of unwrapped-phase triplets, and their correction.

Phase-linked phases are consistent (one phase per date), so for a triplet of interferograms
``a = (i, j)``, ``b = (j, k)``, ``c = (i, k)`` the closure ``phi_a + phi_b - phi_c`` of
correctly unwrapped, commonly referenced phases is zero and any unwrapping error shows up as
a non-zero integer number of cycles ``K_t`` (Biggs et al. 2007; Yunjun et al. 2019 use the
same integer ambiguities).  Where a closure is non-zero, the interferograms are moved by the
whole cycles of the fewest changes that make the network consistent (an L1 network
inversion, see :func:`correct_closure`).  Errors that close every triplet (a whole-cycle
step of a date in all its interferograms) cannot be seen by any closure.
"""

from __future__ import annotations

import numpy as np

from sar4tec.unwrap.network_inversion import invert_network

TWO_PI = 2.0 * np.pi


def closure_cycles(unwrapped: np.ndarray, trip: np.ndarray) -> np.ndarray:
    """Integer closure of each triplet and pixel.

    Parameters
    ----------
    unwrapped : ndarray, shape (M, P)
        Unwrapped phase (rad), commonly referenced; NaN = not unwrapped.
    trip : ndarray, shape (T, 3)
        Triplets from :func:`sar4tec.unwrap.network.triplets`.

    Returns
    -------
    ndarray of float, shape (T, P)
        ``round(closure / 2 pi)``; NaN where any of the three interferograms is NaN.
    """
    u = np.asarray(unwrapped, dtype=np.float64)
    clos = u[trip[:, 0]] + u[trip[:, 1]] - u[trip[:, 2]]
    return np.round(clos / TWO_PI)


def unclosed(unwrapped: np.ndarray, trip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interferograms in a non-zero closure, and the pixels that have any.

    Returns
    -------
    bad : ndarray of bool, shape (M, P)
        Interferogram ``m`` takes part in a non-zero triplet at pixel ``p``.
    pixels : ndarray of bool, shape (P,)
        Some triplet of the pixel does not close.
    """
    nonzero = np.nan_to_num(closure_cycles(unwrapped, trip)) != 0
    bad = np.zeros(np.shape(unwrapped), dtype=bool)
    for c in range(3):
        np.logical_or.at(bad, trip[:, c], nonzero)
    return bad, nonzero.any(axis=0)


def correct_closure(
    unwrapped: np.ndarray, trip: np.ndarray, pairs: np.ndarray, n_dates: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-cycle corrections that close every triplet, changing the fewest interferograms.

    At pixels with a non-zero closure, the L1 network inversion
    (:func:`sar4tec.unwrap.network_inversion.invert_network`) gives the phase of every date;
    each interferogram is moved by the whole cycles that bring it to the difference of its
    dates.  As the network's incidence matrix is totally unimodular, the L1 optimum for
    whole-cycle errors is whole cycles, i.e. the fewest cycle changes, found by a convex
    solver rather than a combinatorial search.

    Parameters
    ----------
    unwrapped : ndarray, shape (M, P)
        Unwrapped phase (rad), commonly referenced (see module notes); NaN = not unwrapped.
    trip : ndarray, shape (T, 3)
        Closure triplets.
    pairs : ndarray, shape (M, 2)
        Date indices of the interferograms.
    n_dates : int
        Number of dates.

    Returns
    -------
    cycles : ndarray of int16, shape (M, P)
        Cycles to add to each interferogram (``unwrapped + 2 pi cycles``).
    unresolved : ndarray of bool, shape (P,)
        Pixels where some closure stays non-zero (e.g. dates the valid interferograms do not
        connect).
    bad : ndarray of bool, shape (M, P)
        Interferograms that still take part in a non-zero closure (for masking).
    """
    u = np.asarray(unwrapped, dtype=np.float64)
    cycles = np.zeros(u.shape, dtype=np.int16)
    todo = np.flatnonzero(np.any(np.nan_to_num(closure_cycles(u, trip)) != 0, axis=0))
    if todo.size:
        sub = u[:, todo]
        series, _ = invert_network(sub, np.ones_like(sub), pairs, n_dates, "l1")
        model = series[pairs[:, 1]] - series[pairs[:, 0]]
        fix = np.round((model - sub) / TWO_PI)
        cycles[:, todo] = np.where(np.isfinite(fix), fix, 0).astype(np.int16)
    bad, unresolved = unclosed(u + TWO_PI * cycles, trip)
    return cycles, unresolved, bad
