"""Statistically homogeneous pixels (SHP): which neighbours of a pixel share its statistics.

For every output pixel a boolean mask over its window says which neighbours enter its
covariance.  Two tests on the amplitude are offered:

``glrt``
    Generalised likelihood-ratio test for Rayleigh amplitudes (Parizzi & Brcic 2011).  With
    ``n`` independent looks of a Rayleigh amplitude of scale ``sigma``, ``sum A^2 / sigma^2``
    is chi-square with ``2n`` degrees of freedom, so under "same distribution" the ratio of two
    pixels' mean intensities follows ``F(2n, 2n)``.  The likelihood ratio is a monotone
    function of ``|log(I_p / I_q)|``; the test is therefore run exactly (not with the
    asymptotic chi-square) as ``|log I_p - log I_q| <= log F_{1 - alpha/2}(2n, 2n)``.  Only the
    mean intensity ``E[A^2]`` of each pixel is needed, which the pooled mean and variance
    rasters give (:meth:`AmplitudeStats.mean_intensity`).
``ks``
    Two-sample Kolmogorov-Smirnov test on the amplitude samples (Ferretti et al. 2011): the
    largest distance between the two empirical distribution functions, against the
    Kolmogorov critical value with Stephens' finite-sample correction.

``alpha`` is the probability of rejecting a neighbour that truly has the same distribution.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from scipy import stats as sps


def glrt_threshold(n_looks: int, alpha: float) -> float:
    """Largest ``|log I_p - log I_q|`` accepted by the GLRT with ``n_looks`` dates."""
    if n_looks < 1:
        raise ValueError(f"the GLRT needs at least one date, got n_looks={n_looks}")
    return float(np.log(sps.f.isf(alpha / 2.0, 2 * n_looks, 2 * n_looks)))


def ks_lambda(alpha: float) -> float:
    """Asymptotic Kolmogorov critical value ``lambda_alpha`` with ``Q_KS(lambda) = alpha``."""
    return float(sps.kstwobign.isf(alpha))


@njit(cache=True, parallel=True)
def glrt_mask(log_intensity, valid, centers_r, centers_c, win_r0, win_c0, wy, wx, threshold):
    """SHP mask ``(nr, nc, wy, wx)`` of the GLRT; see the module docstring.

    ``log_intensity`` (R, C) float64 is NaN where a pixel has no data; ``valid`` (R, C) uint8
    marks usable samples; centers and window starts are relative to the arrays.
    """
    nr = centers_r.shape[0]
    nc = centers_c.shape[0]
    mask = np.zeros((nr, nc, wy, wx), np.uint8)
    for i in prange(nr):
        for j in range(nc):
            ref = log_intensity[centers_r[i], centers_c[j]]
            if not np.isfinite(ref):
                continue
            for y in range(wy):
                r = win_r0[i] + y
                for x in range(wx):
                    c = win_c0[j] + x
                    if valid[r, c] and abs(log_intensity[r, c] - ref) <= threshold:
                        mask[i, j, y, x] = 1
    return mask


@njit(cache=True)
def _ks_distance(a, na, b, nb):
    """Largest distance between the empirical CDFs of sorted samples ``a[:na]``, ``b[:nb]``."""
    ia = 0
    ib = 0
    d = 0.0
    while ia < na and ib < nb:
        x = min(a[ia], b[ib])
        while ia < na and a[ia] <= x:
            ia += 1
        while ib < nb and b[ib] <= x:
            ib += 1
        d = max(d, abs(ia / na - ib / nb))
    return d


@njit(cache=True, parallel=True)
def ks_mask(sorted_amp, n_amp, valid, centers_r, centers_c, win_r0, win_c0, wy, wx, lam):
    """SHP mask ``(nr, nc, wy, wx)`` of the two-sample KS test; see the module docstring.

    ``sorted_amp`` (R, C, N) float32 holds each pixel's amplitudes in increasing order, the
    first ``n_amp`` (R, C) of them valid; ``lam`` is :func:`ks_lambda` of ``alpha``.
    """
    nr = centers_r.shape[0]
    nc = centers_c.shape[0]
    mask = np.zeros((nr, nc, wy, wx), np.uint8)
    for i in prange(nr):
        for j in range(nc):
            rp = centers_r[i]
            cp = centers_c[j]
            npx = n_amp[rp, cp]
            if npx == 0:
                continue
            for y in range(wy):
                r = win_r0[i] + y
                for x in range(wx):
                    c = win_c0[j] + x
                    nq = n_amp[r, c]
                    if not valid[r, c] or nq == 0:
                        continue
                    ne = np.sqrt(npx * nq / (npx + nq))
                    crit = lam / (ne + 0.12 + 0.11 / ne)
                    d = _ks_distance(sorted_amp[rp, cp], npx, sorted_amp[r, c], nq)
                    if d <= crit:
                        mask[i, j, y, x] = 1
    return mask


def sorted_amplitudes(slc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-major sorted amplitudes ``(R, C, N)`` (no-data last, as inf) and their counts."""
    amp = np.abs(slc).astype(np.float32)
    valid = np.isfinite(amp) & (amp > 0)
    amp[~valid] = np.inf
    return np.ascontiguousarray(np.sort(amp, axis=0).transpose(1, 2, 0)), valid.sum(
        axis=0, dtype=np.int64
    )
