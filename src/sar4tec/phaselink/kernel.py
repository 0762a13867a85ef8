"""The fused numba kernel: window covariance, coherence matrix and estimator per output pixel.

For every output pixel the kernel sums the outer products ``z z^H`` of the samples in its
window, normalises them to a coherence matrix and solves for the linked phases, without ever
storing the matrices of a whole block.

Rectangular windows are summed with running sums: per chunk of output rows, *column sums*
(the window's rows, one per image column) are updated by adding the rows that enter and
subtracting the rows that leave the window; along a row the window sum is updated the same
way from the column sums.  Cost per output pixel is ``O(N^2)`` instead of
``O(window * N^2)``.  SHP-masked windows start from the rectangular sum and subtract the
rejected neighbours, or add up the accepted ones, whichever are fewer.  Sums are float64
(the running add/subtract loses nothing measurable over a block).

Output rows are processed in chunks of :data:`CHUNK_ROWS` rows in parallel.  The chunks do
not depend on the thread count, and each pixel's eigenvector iteration starts from the
previous pixel's solution within the chunk, so results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sar4tec.phaselink.linalg import (
    FASTMATH,
    cholesky_complex,
    cholesky_real,
    inverse_from_cholesky,
    inverse_iteration,
    power_iteration,
    rayleigh_quotient,
    temporal_coherence,
)

#: output rows per parallel work item
CHUNK_ROWS = 8

#: estimator codes of the ``estimator_used`` layer
EVD = 0
EMI = 1

#: EMI's inverse-iteration shift as a fraction of the start vector's Rayleigh quotient
SHIFT = 0.9


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _add_outer(zr, zi, r, c, n, s_re, s_im, sign):
    """``s += sign * z z^H`` (packed upper triangle, row-major) for the pixel ``(r, c)``."""
    p = 0
    for a in range(n):
        ar = np.float64(zr[r, c, a])
        ai = np.float64(zi[r, c, a])
        for b in range(a, n):
            br = np.float64(zr[r, c, b])
            bi = np.float64(zi[r, c, b])
            s_re[p] += sign * (ar * br + ai * bi)
            s_im[p] += sign * (ai * br - ar * bi)
            p += 1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _add_vec(dst_re, dst_im, src_re, src_im, sign):
    for p in range(dst_re.shape[0]):
        dst_re[p] += sign * src_re[p]
        dst_im[p] += sign * src_im[p]


@njit(cache=True, fastmath=FASTMATH)
def _solve_pixel(s_re, s_im, n, estimator, beta, max_iter, tol, m, start_ok):
    """Coherence matrix from the window sums, then EMI/EVD.

    ``m`` is the scratch tuple of :func:`_scratch`; its ``v`` holds the start vector when
    ``start_ok`` and the solution on exit, its ``cr, ci`` the coherence matrix.
    Returns ``(ok, estimator code)``.
    """
    cr, ci, ar, ai, gmat, ginv, work, vr, vi, wr, wi = m
    # normalise: c_ab = s_ab / sqrt(p_a p_b), with p_a the power of date a (diagonal);
    # row a of the packed upper triangle starts at off_a = a*n - a*(a-1)/2
    for a in range(n):
        if not s_re[a * n - (a * (a - 1)) // 2] > 0.0:
            return False, EVD
    for a in range(n):
        off_a = a * n - (a * (a - 1)) // 2
        pa = s_re[off_a]
        for b in range(a + 1, n):
            off_b = b * n - (b * (b - 1)) // 2
            scale = 1.0 / np.sqrt(pa * s_re[off_b])
            cr[a, b] = s_re[off_a + b - a] * scale
            ci[a, b] = s_im[off_a + b - a] * scale
            cr[b, a] = cr[a, b]
            ci[b, a] = -ci[a, b]
        cr[a, a] = 1.0
        ci[a, a] = 0.0
    if not start_ok:  # first column: c_a0 ~ exp(i (psi_a - psi_0))
        for a in range(n):
            vr[a] = cr[a, 0]
            vi[a] = ci[a, 0]
    used = EVD
    if estimator == EMI:
        for a in range(n):
            for b in range(n):
                g = np.sqrt(cr[a, b] * cr[a, b] + ci[a, b] * ci[a, b])
                gmat[a, b] = (1.0 - beta) * g
            gmat[a, a] += beta
        if cholesky_real(gmat, n):
            inverse_from_cholesky(gmat, ginv, work, n)
            _hadamard(ginv, cr, ci, ar, ai, n)
            # shift towards the smallest eigenvalue, estimated by the Rayleigh quotient of the
            # start vector (an upper bound of it); if the shift overshoots, Cholesky fails
            shift = SHIFT * rayleigh_quotient(ar, ai, vr, vi, wr, wi, n) if start_ok else 0.0
            ok = cholesky_complex(ar, ai, n, shift)
            if not ok and shift > 0.0:
                _hadamard(ginv, cr, ci, ar, ai, n)
                ok = cholesky_complex(ar, ai, n, 0.0)
            if ok:
                inverse_iteration(ar, ai, vr, vi, wr, wi, n, max_iter, tol)
                used = EMI
    if used == EVD:
        for a in range(n):
            for b in range(n):
                g = np.sqrt(cr[a, b] * cr[a, b] + ci[a, b] * ci[a, b])
                ar[a, b] = cr[a, b] * g
                ai[a, b] = ci[a, b] * g
        power_iteration(ar, ai, vr, vi, wr, wi, n, max_iter, tol)
    for a in range(n):
        if not (np.isfinite(vr[a]) and np.isfinite(vi[a])):
            return False, used
    return True, used


@njit(cache=True, fastmath=FASTMATH)
def _hadamard(g, cr, ci, ar, ai, n):
    """``a = g o c`` (real times complex, element by element)."""
    for a in range(n):
        for b in range(n):
            ar[a, b] = g[a, b] * cr[a, b]
            ai[a, b] = g[a, b] * ci[a, b]


@njit(cache=True)
def _scratch(n):
    """Per-thread scratch arrays of :func:`_solve_pixel`."""
    return (
        np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n)),
        np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n)),
        np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n),
    )  # fmt: skip


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def link_pixels(
    zr,
    zi,
    valid,
    win_r0,
    win_c0,
    wy,
    wx,
    center_ok,
    shp,
    use_shp,
    estimator,
    beta,
    max_iter,
    tol,
    first_real,
    v_out,
    tcoh,
    est,
    count,
    closure,
):
    """Phase-link every output pixel of one block and one ministack.

    Parameters
    ----------
    zr, zi : float32 (R, C, n)
        Real and imaginary parts of the samples, pixel-major; zero where ``valid`` is 0.
    valid : uint8 (R, C)
        1 where a pixel has data on every date of the ministack (usable as a sample).
    win_r0, win_c0 : int64 (nr,), (nc,)
        First row / column of each output pixel's window (non-decreasing).
    wy, wx : int
        Window size (already clipped to the block).
    center_ok : uint8 (nr, nc)
        Output pixels to estimate; the others get NaN.
    shp : uint8 (nr, nc, wy, wx)
        SHP mask (1 = use the neighbour) when ``use_shp``.
    use_shp : bool
        False for the plain rectangular window (``shp`` is then ignored).
    estimator : int
        :data:`EMI` or :data:`EVD`.
    beta : float
        Regularisation of ``|Gamma|`` for EMI: ``(1 - beta) |Gamma| + beta I``.
    max_iter, tol : int, float
        Stopping rule of the eigenvector iterations.
    first_real : int
        Index of the first real (not compressed) date; closure phases start there.
    v_out : complex64 (nr, nc, n)
        Output: unit-modulus linked phasors (arbitrary common phase per pixel).
    tcoh : float32 (nr, nc)
        Output: temporal coherence.
    est : uint8 (nr, nc)
        Output: estimator used (:data:`EVD`, :data:`EMI`).
    count : int32 (nr, nc)
        Output: number of samples in the covariance.
    closure : float32 (nr, nc, k)
        Output (when ``k > 0``): closure phases of consecutive real-date triplets.
    """
    n = zr.shape[2]
    ncols = zr.shape[1]
    npairs = n * (n + 1) // 2
    nr = win_r0.shape[0]
    nc = win_c0.shape[0]
    n_closure = closure.shape[2]
    # integral image of the sample validity, for the sample counts of rectangular windows
    cum = np.zeros((valid.shape[0] + 1, valid.shape[1] + 1), np.int64)
    for r in range(valid.shape[0]):
        for c in range(valid.shape[1]):
            cum[r + 1, c + 1] = cum[r, c + 1] + cum[r + 1, c] - cum[r, c] + valid[r, c]
    c_first = win_c0[0] if nc > 0 else 0
    c_last = win_c0[nc - 1] + wx if nc > 0 else 0
    n_chunks = (nr + CHUNK_ROWS - 1) // CHUNK_ROWS
    for chunk in prange(n_chunks):
        col_re = np.zeros((ncols, npairs))
        col_im = np.zeros((ncols, npairs))
        win_re = np.zeros(npairs)
        win_im = np.zeros(npairs)
        t_re = np.zeros(npairs)
        t_im = np.zeros(npairs)
        m = _scratch(n)
        cr, ci, vr, vi = m[0], m[1], m[7], m[8]
        row_re = np.zeros(n)
        row_im = np.zeros(n)
        row_start_ok = False
        i0 = chunk * CHUNK_ROWS
        i1 = min(i0 + CHUNK_ROWS, nr)
        r_lo = win_r0[i0]
        r_hi = r_lo  # rows currently summed in the column sums: [r_lo, r_hi)
        for i in range(i0, i1):
            a = win_r0[i]
            b = a + wy
            if a >= r_hi or (a - r_lo) + (b - r_hi) >= wy:
                for c in range(c_first, c_last):
                    col_re[c, :] = 0.0
                    col_im[c, :] = 0.0
                    for r in range(a, b):
                        _add_outer(zr, zi, r, c, n, col_re[c], col_im[c], 1.0)
            else:
                for c in range(c_first, c_last):
                    for r in range(r_lo, a):
                        _add_outer(zr, zi, r, c, n, col_re[c], col_im[c], -1.0)
                    for r in range(r_hi, b):
                        _add_outer(zr, zi, r, c, n, col_re[c], col_im[c], 1.0)
            r_lo = a
            r_hi = b
            c_lo = c_first
            c_hi = c_first  # columns currently summed in the window sums: [c_lo, c_hi)
            start_ok = row_start_ok
            vr[:] = row_re
            vi[:] = row_im
            for j in range(nc):
                ca = win_c0[j]
                cb = ca + wx
                if ca >= c_hi or (ca - c_lo) + (cb - c_hi) >= wx:
                    win_re[:] = 0.0
                    win_im[:] = 0.0
                    for c in range(ca, cb):
                        _add_vec(win_re, win_im, col_re[c], col_im[c], 1.0)
                else:
                    for c in range(c_lo, ca):
                        _add_vec(win_re, win_im, col_re[c], col_im[c], -1.0)
                    for c in range(c_hi, cb):
                        _add_vec(win_re, win_im, col_re[c], col_im[c], 1.0)
                c_lo = ca
                c_hi = cb
                if center_ok[i, j] == 0:
                    _fail(v_out, tcoh, est, count, closure, i, j, 0)
                    continue
                n_valid = cum[b, cb] - cum[a, cb] - cum[b, ca] + cum[a, ca]
                if use_shp:
                    n_acc = 0
                    for y in range(wy):
                        for x in range(wx):
                            n_acc += shp[i, j, y, x]
                    if n_valid - n_acc < n_acc:  # fewer rejected than accepted: subtract
                        t_re[:] = win_re
                        t_im[:] = win_im
                        for y in range(wy):
                            for x in range(wx):
                                if shp[i, j, y, x] == 0 and valid[a + y, ca + x] != 0:
                                    _add_outer(zr, zi, a + y, ca + x, n, t_re, t_im, -1.0)
                    else:
                        t_re[:] = 0.0
                        t_im[:] = 0.0
                        for y in range(wy):
                            for x in range(wx):
                                if shp[i, j, y, x] != 0:
                                    _add_outer(zr, zi, a + y, ca + x, n, t_re, t_im, 1.0)
                    n_used = n_acc
                    s_re = t_re
                    s_im = t_im
                else:
                    n_used = n_valid
                    s_re = win_re
                    s_im = win_im
                if n_used == 0:
                    _fail(v_out, tcoh, est, count, closure, i, j, 0)
                    continue
                ok, used = _solve_pixel(s_re, s_im, n, estimator, beta, max_iter, tol, m, start_ok)
                if not ok:
                    _fail(v_out, tcoh, est, count, closure, i, j, n_used)
                    start_ok = False
                    continue
                for k in range(n):
                    mag = np.sqrt(vr[k] * vr[k] + vi[k] * vi[k])
                    v_out[i, j, k] = complex(vr[k] / mag, vi[k] / mag) if mag > 0.0 else 1.0
                tcoh[i, j] = temporal_coherence(cr, ci, vr, vi, n)
                est[i, j] = used
                count[i, j] = n_used
                for k in range(n_closure):
                    q = first_real + k
                    t = (
                        complex(cr[q, q + 1], ci[q, q + 1])
                        * complex(cr[q + 1, q + 2], ci[q + 1, q + 2])
                        * complex(cr[q, q + 2], -ci[q, q + 2])
                    )
                    closure[i, j, k] = np.angle(t)
                start_ok = True
                if j == 0:
                    row_re[:] = vr
                    row_im[:] = vi
                    row_start_ok = True


@njit(cache=True, inline="always")
def _fail(v_out, tcoh, est, count, closure, i, j, n_used):
    """Mark output pixel ``(i, j)`` as not estimated."""
    for k in range(v_out.shape[2]):
        v_out[i, j, k] = np.nan
    tcoh[i, j] = np.nan
    est[i, j] = EVD
    count[i, j] = n_used
    for k in range(closure.shape[2]):
        closure[i, j, k] = np.nan
