"""Statistically homogeneous pixels (SHP): which neighbours of a pixel share its statistics.

For every output pixel a boolean mask over its window says which neighbours enter its
covariance.  Two tests on the amplitude are offered:

``glrt``
    Generalised likelihood-ratio test for Rayleigh amplitudes (Parizzi & Brcic 2011).  With
    ``L`` independent looks of a Rayleigh amplitude of scale ``sigma``, ``sum A^2 / sigma^2``
    is chi-square with ``2L`` degrees of freedom, so under "same distribution" the ratio of two
    pixels' mean intensities (their ML scale estimates) follows ``F(2L, 2L)``.  The likelihood
    ratio is a monotone function of ``|log(I_p / I_q)|``; the test is therefore run exactly
    (not with the asymptotic chi-square) as ``|log I_p - log I_q| <= log F_{1 - alpha/2}(2L,
    2L)``.  The dates of a coherent distributed scatterer are correlated, so its temporal mean
    has fewer than ``N`` independent looks, and a test with ``N`` looks would reject far more
    than ``alpha`` of its identically distributed neighbours; ``L`` is therefore estimated per
    window from the amplitude dispersion (:func:`effective_looks`).  Only the pooled amplitude
    statistics (count, mean, ``m2``) of each pixel are needed.
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

#: relative variance of a Rayleigh amplitude, ``var(A) / E[A]^2 = 4 / pi - 1``
RAYLEIGH_RELVAR = 4.0 / np.pi - 1.0

#: largest number of updates of the effective looks per output pixel
LOOK_ITERATIONS = 4

#: one-sided 5 % normal quantile of the test for temporally correlated amplitudes
PRETEST_Z = 1.645

#: nodes of the threshold table of :func:`glrt_table`
_TABLE_SIZE = 256


def glrt_table(n_looks: int, alpha: float) -> np.ndarray:
    """Thresholds ``log F_{1-alpha/2}(2L, 2L)`` for looks ``L`` from 1 to ``n_looks``.

    The nodes are uniform in ``1 / sqrt(L)`` (the threshold is nearly linear in it), from
    ``L = n_looks`` (index 0) to ``L = 1`` (last index); :func:`_interp_threshold` reads it.
    """
    if n_looks < 1:
        raise ValueError(f"the GLRT needs at least one date, got n_looks={n_looks}")
    u = np.linspace(1.0 / np.sqrt(n_looks), 1.0, _TABLE_SIZE)
    looks = 1.0 / u**2
    return np.log(sps.f.isf(alpha / 2.0, 2.0 * looks, 2.0 * looks))


@njit(cache=True, inline="always")
def _interp_threshold(table, n_looks, looks):
    """Threshold of :func:`glrt_table` at ``looks`` (clipped to ``[1, n_looks]``)."""
    u0 = 1.0 / np.sqrt(n_looks)
    u = 1.0 / np.sqrt(min(max(looks, 1.0), n_looks))
    m = table.shape[0] - 1
    x = (u - u0) / (1.0 - u0) * m if u0 < 1.0 else 0.0
    k = min(int(x), m - 1) if m > 0 else 0
    f = x - k
    return table[k] if m == 0 else table[k] * (1.0 - f) + table[k + 1] * f


@njit(cache=True, inline="always")
def effective_looks(ratio, n_looks):
    """Independent looks of a temporal mean of ``n_looks`` correlated Rayleigh amplitudes.

    ``ratio = sum m2 / sum (n mean^2)`` over pixels of one distribution (``m2``: sum of
    squared deviations of the amplitude from its temporal mean).  For a stationary series
    ``E[m2 / n] = var(A) - var(mean A)`` and ``E[mean^2] = mu^2 + var(mean A)``; with the
    Rayleigh ``var(A) = k mu^2`` (:data:`RAYLEIGH_RELVAR`) the relative variance of the mean
    is ``c = (k - ratio) / (1 + ratio)`` and the looks ``L = k / c``: ``n_looks`` for
    independent dates, fewer when the speckle is correlated in time.  Clipped to
    ``[1, n_looks]``.
    """
    k = RAYLEIGH_RELVAR
    if not ratio < k:  # no measurable correlation (or a textured, non-Rayleigh amplitude)
        return float(n_looks)
    looks = k * (1.0 + ratio) / (k - ratio)
    return min(max(looks, 1.0), float(n_looks))


def ks_lambda(alpha: float) -> float:
    """Asymptotic Kolmogorov critical value ``lambda_alpha`` with ``Q_KS(lambda) = alpha``."""
    return float(sps.kstwobign.isf(alpha))


@njit(cache=True, parallel=True, nogil=True)
def glrt_mask(
    log_intensity, m2, power, valid, centers_r, centers_c, win_r0, win_c0, wy, wx, table, n_looks
):
    """SHP mask ``(nr, nc, wy, wx)`` of the GLRT; see the module docstring.

    ``log_intensity`` (R, C) float64 is NaN where a pixel has no data; ``m2`` and ``power``
    (R, C) are each pixel's ``m2`` and ``n mean^2`` of the amplitude (0 where unusable);
    ``valid`` (R, C) uint8 marks usable samples; centers and window starts are relative to
    the arrays; ``table`` is :func:`glrt_table` of ``n_looks`` dates.
    """
    nr = centers_r.shape[0]
    nc = centers_c.shape[0]
    mask = np.zeros((nr, nc, wy, wx), np.uint8)
    for i in prange(nr):
        for j in range(nc):
            ref = log_intensity[centers_r[i], centers_c[j]]
            if not np.isfinite(ref):
                continue
            r0 = win_r0[i]
            c0 = win_c0[j]
            threshold = _window_threshold(
                log_intensity, m2, power, valid, r0, c0, wy, wx, ref, table, n_looks
            )
            for y in range(wy):
                for x in range(wx):
                    q = log_intensity[r0 + y, c0 + x]
                    if valid[r0 + y, c0 + x] and abs(q - ref) <= threshold:
                        mask[i, j, y, x] = 1
    return mask


@njit(cache=True)
def _window_threshold(log_intensity, m2, power, valid, r0, c0, wy, wx, ref, table, n_looks):
    """GLRT threshold of one window with its :func:`effective_looks`, found as a fixed point.

    Starting from one look (only gross outliers such as bright PS rejected), the looks are
    re-estimated from the neighbours that the test with the current looks accepts, at most
    :data:`LOOK_ITERATIONS` times.  They stay ``n_looks`` unless the dispersion ratio is
    significantly (:data:`PRETEST_Z`, standard error of the ratio estimator) below its value
    for independent dates, so that estimation noise alone does not loosen the test.
    """
    k = RAYLEIGH_RELVAR
    ratio_independent = k * (n_looks - 1.0) / (n_looks + k)  # ratio for c = k / n_looks
    looks = 1.0
    threshold = table[table.shape[0] - 1]
    for _ in range(LOOK_ITERATIONS):
        s_m = 0.0
        s_p = 0.0
        s_mm = 0.0
        s_mp = 0.0
        s_pp = 0.0
        for y in range(wy):
            for x in range(wx):
                r = r0 + y
                c = c0 + x
                if valid[r, c] and abs(log_intensity[r, c] - ref) <= threshold:
                    a = m2[r, c]
                    b = power[r, c]
                    s_m += a
                    s_p += b
                    s_mm += a * a
                    s_mp += a * b
                    s_pp += b * b
        new = float(n_looks)
        if s_p > 0.0:
            ratio = s_m / s_p
            se = np.sqrt(max(s_mm - 2.0 * ratio * s_mp + ratio * ratio * s_pp, 0.0)) / s_p
            if ratio_independent - ratio > PRETEST_Z * se:
                new = effective_looks(ratio, n_looks)
        converged = abs(new - looks) <= 0.01 * looks
        looks = new
        threshold = _interp_threshold(table, n_looks, looks)
        if converged:
            break
    return threshold


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


@njit(cache=True, parallel=True, nogil=True)
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
