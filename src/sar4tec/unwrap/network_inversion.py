"""Network inversion: unwrapped interferograms → phase of every date, per pixel (L2 or L1).

Used by the closure correction of the unwrap stage and by the time-series inversion
(``sar4tec.timeseries.inversion`` re-exports it).

Unknowns are the phases of dates ``1 .. N-1`` relative to date 0 (``x_0 = 0``); interferogram
``m = (i, j)`` observes ``x_j - x_i``.  The normal matrix ``A^T W A`` is then a weighted graph
Laplacian of the network with date 0 grounded, whose bandwidth is the largest ``j - i`` of the
network, so a banded Cholesky factorisation costs ``O(N b^2)`` per pixel instead of ``O(N^3)``
(for a nearest-3 network, ``b = 3``).  Dates not connected to date 0 through valid
interferograms of a pixel are grounded separately and returned as NaN (no invented values).

* **L2**: weighted least squares (e.g. weights ``1 / sigma_phi^2`` from the coherence,
  :func:`sar4tec.timeseries.inversion.phase_variance`), as in SBAS (Berardino et al. 2002).
* **L1**: ``min sum w_m |r_m|`` by iteratively reweighted least squares (IRLS; weights
  ``w_m / max(|r_m|, eps)``), robust to the integer-cycle outliers that unwrapping errors are
  (Lauknes et al. 2011 use L1 for the same reason).  The incidence matrix of a network is
  totally unimodular, so for whole-cycle errors the L1 optimum is itself whole cycles: the
  fewest interferograms changed (what the closure correction needs).

The quality of the fit is the temporal coherence of the residuals (Pepe & Lanari 2006):
``|mean_m exp(i r_m)|``, 1 for a network that closes exactly.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange


def network_bandwidth(pairs: np.ndarray) -> int:
    """Bandwidth of the normal matrix: the largest ``j - i`` over the pairs."""
    pairs = np.asarray(pairs)
    return int(np.max(np.abs(pairs[:, 1] - pairs[:, 0])))


def invert_network(
    phase: np.ndarray,
    weight: np.ndarray,
    pairs: np.ndarray,
    n_dates: int,
    method: str = "l2",
    max_iterations: int = 50,
    tolerance: float = 1e-4,
    epsilon: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """Invert unwrapped interferograms of many pixels for the phase time series.

    Parameters
    ----------
    phase : ndarray, shape (M, P)
        Unwrapped phase (rad) of each interferogram and pixel; NaN = not available.
    weight : ndarray, shape (M, P)
        Positive weight of each observation (e.g. ``1 / phase_variance``); ignored where
        ``phase`` is NaN.
    pairs : ndarray of int, shape (M, 2)
        Date indices ``(i, j)`` of each interferogram (phase of ``j`` minus phase of ``i``).
    n_dates : int
        Number of dates N.
    method : {"l2", "l1"}
        Weighted least squares, or least absolute deviations by IRLS.
    max_iterations, tolerance, epsilon : float
        IRLS settings (L1 only): stop when no date moves by more than ``tolerance`` rad;
        residuals below ``epsilon`` rad are weighted as ``epsilon``.

    Returns
    -------
    series : ndarray, shape (N, P)
        Phase of every date relative to date 0 (rad); NaN for dates not connected to date 0.
    quality : ndarray, shape (P,)
        Temporal coherence of the residuals; NaN where no interferogram is valid.
    """
    phase = np.ascontiguousarray(phase, dtype=np.float64)
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    pairs = np.ascontiguousarray(pairs, dtype=np.int64)
    if phase.ndim != 2 or phase.shape != weight.shape or phase.shape[0] != pairs.shape[0]:
        raise ValueError(
            f"phase {phase.shape}, weight {weight.shape} and pairs {pairs.shape} do not match"
        )
    if pairs.min() < 0 or pairs.max() >= n_dates or np.any(pairs[:, 0] == pairs[:, 1]):
        raise ValueError(f"pairs must be distinct date indices in [0, {n_dates})")
    if method not in ("l1", "l2"):
        raise ValueError(f"method must be 'l1' or 'l2', got {method!r}")
    lo = np.minimum(pairs[:, 0], pairs[:, 1])
    hi = np.maximum(pairs[:, 0], pairs[:, 1])
    sign = np.where(pairs[:, 1] > pairs[:, 0], 1.0, -1.0)  # observation of x_hi - x_lo
    series = np.empty((n_dates, phase.shape[1]))
    quality = np.empty(phase.shape[1])
    _invert_pixels(
        phase * sign[:, None],
        weight,
        lo,
        hi,
        n_dates,
        network_bandwidth(pairs),
        method == "l1",
        max_iterations,
        tolerance,
        epsilon,
        series,
        quality,
    )
    return series, quality


@numba.njit(cache=True)
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(cache=True)
def _connected_to_first(lo, hi, valid, n_dates):
    """Dates connected to date 0 by valid interferograms (union-find)."""
    parent = np.arange(n_dates)
    for m in range(lo.shape[0]):
        if valid[m]:
            a = _find(parent, lo[m])
            b = _find(parent, hi[m])
            if a != b:
                parent[max(a, b)] = min(a, b)
    root = _find(parent, 0)
    out = np.empty(n_dates, dtype=np.bool_)
    for k in range(n_dates):
        out[k] = _find(parent, k) == root
    return out


@numba.njit(cache=True)
def _solve_banded(lo, hi, obs, w, valid, connected, bw, x):
    """Weighted least squares of the grounded Laplacian system; result in ``x[1:]``."""
    n = x.shape[0] - 1
    band = np.zeros((n, bw + 1))
    rhs = np.zeros(n)
    for m in range(lo.shape[0]):
        if not valid[m]:
            continue
        i = lo[m] - 1
        j = hi[m] - 1
        wm = w[m]
        rhs[j] += wm * obs[m]
        band[j, 0] += wm
        if i >= 0:
            rhs[i] -= wm * obs[m]
            band[i, 0] += wm
            band[i, j - i] -= wm
    for k in range(n):
        if not connected[k + 1]:  # ground dates outside date 0's component
            for o in range(bw + 1):
                band[k, o] = 0.0
            band[k, 0] = 1.0
            rhs[k] = 0.0
    # banded Cholesky A = U^T U, U[k, k+o] stored in band[k, o]
    for k in range(n):
        s = band[k, 0]
        for q in range(max(0, k - bw), k):
            s -= band[q, k - q] ** 2
        d = np.sqrt(s) if s > 0.0 else 1e-300
        band[k, 0] = d
        for o in range(1, bw + 1):
            j = k + o
            if j >= n:
                break
            s = band[k, o]
            for q in range(max(0, j - bw), k):
                s -= band[q, k - q] * band[q, j - q]
            band[k, o] = s / d
    # forward: U^T y = rhs ; back: U x = y
    for k in range(n):
        s = rhs[k]
        for q in range(max(0, k - bw), k):
            s -= band[q, k - q] * rhs[q]
        rhs[k] = s / band[k, 0]
    for k in range(n - 1, -1, -1):
        s = rhs[k]
        for o in range(1, bw + 1):
            if k + o >= n:
                break
            s -= band[k, o] * x[k + o + 1]
        x[k + 1] = s / band[k, 0]
    x[0] = 0.0


@numba.njit(cache=True, parallel=True)
def _invert_pixels(phase, weight, lo, hi, n_dates, bw, l1, max_iter, tol, eps, series, quality):
    n_obs, n_pix = phase.shape
    for p in prange(n_pix):
        obs = phase[:, p]
        valid = np.empty(n_obs, dtype=np.bool_)
        w = np.empty(n_obs)
        n_valid = 0
        for m in range(n_obs):
            valid[m] = np.isfinite(obs[m]) and weight[m, p] > 0.0
            w[m] = weight[m, p] if valid[m] else 0.0
            n_valid += valid[m]
        if n_valid == 0:
            series[:, p] = np.nan
            quality[p] = np.nan
            continue
        connected = _connected_to_first(lo, hi, valid, n_dates)
        x = np.zeros(n_dates)
        _solve_banded(lo, hi, obs, w, valid, connected, bw, x)
        if l1:
            wi = np.empty(n_obs)
            x_new = np.zeros(n_dates)
            for _ in range(max_iter):
                for m in range(n_obs):
                    if valid[m]:
                        r = abs(obs[m] - x[hi[m]] + x[lo[m]])
                        wi[m] = w[m] / max(r, eps)
                    else:
                        wi[m] = 0.0
                _solve_banded(lo, hi, obs, wi, valid, connected, bw, x_new)
                change = 0.0
                for k in range(n_dates):
                    change = max(change, abs(x_new[k] - x[k]))
                    x[k] = x_new[k]
                if change < tol:
                    break
        re = 0.0
        im = 0.0
        n_used = 0
        for m in range(n_obs):
            if valid[m] and connected[lo[m]]:
                r = obs[m] - x[hi[m]] + x[lo[m]]
                re += np.cos(r)
                im += np.sin(r)
                n_used += 1
        quality[p] = np.sqrt(re * re + im * im) / n_used if n_used > 0 else np.nan
        for k in range(n_dates):
            series[k, p] = x[k] if connected[k] else np.nan
