"""Spatio-temporal unwrapping of selected pixels with spurt's EMCF (optional dependency).

The Extended Minimum Cost Flow method (Pepe & Lanari 2006) as implemented in spurt (JPL/OPERA,
Apache-2.0/BSD-3): on a Delaunay graph of the selected (PS/DS) pixels, every spatial link's
phase differences are first unwrapped in time over spurt's Hop-3 interferogram graph
(``(i, i+1)``, ``(i, i+2)``, ``(i, i+3)``: the same pairs as our nearest-3 network), then every
interferogram is unwrapped in space by minimum cost flow.  Single tile: all points at once.
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi


def spurt_unwrap(
    phase: np.ndarray, points: np.ndarray, workers: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrap the Hop-3 interferograms of linked phases at selected points.

    Parameters
    ----------
    phase : ndarray (N, P)
        Wrapped linked phase (rad) of N dates at P points (``angle(slc * conj(slc_0))``).
    points : ndarray of int (P, 2)
        Row and column of each point (the spatial Delaunay graph is built on them).
    workers : int
        Processes for the temporal and the spatial steps.

    Returns
    -------
    pairs : ndarray of int (M, 2)
        Date indices of the interferograms, ``M = 3 N - 6``.
    unwrapped : ndarray of float32 (M, P)
        Unwrapped phase of ``phase[j] - phase[i]``, congruent with it.
    """
    try:
        import spurt
        from spurt.workflows.emcf import Solver, SolverSettings
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            "unwrap.method 'spurt' needs the spurt package (pip install spurt)"
        ) from err

    n_dates, n_points = phase.shape
    if points.shape != (n_points, 2):
        raise ValueError(f"points {points.shape} do not match phase {phase.shape}")
    if n_points < 3:
        raise ValueError(f"spurt needs at least 3 points, got {n_points}")
    g_time = spurt.graph.Hop3Graph(n_dates)
    g_space = spurt.graph.DelaunayGraph(np.asarray(points, dtype=np.float64))
    settings = SolverSettings(t_worker_count=workers, s_worker_count=workers)
    solver = Solver(spurt.mcf.ORMCFSolver(g_space), spurt.mcf.ORMCFSolver(g_time), settings)
    wrapped = np.exp(1j * np.asarray(phase, dtype=np.float64))
    unw = solver.unwrap_cube(spurt.io.Irreg3DInput(wrapped, points))
    pairs = np.asarray(g_time.links, dtype=np.int32)
    ifg = np.angle(wrapped[pairs[:, 1]] * np.conj(wrapped[pairs[:, 0]]))
    # spurt integrates gradients from point 0, whose own phase is added back here; then
    # snap to the wrapped values (whole cycles) as for SNAPHU
    unw = unw + ifg[:, :1]
    unw = ifg + TWO_PI * np.round((unw - ifg) / TWO_PI)
    return pairs, unw.astype(np.float32)
