"""The fused numba kernel: window covariance, coherence matrix and estimator per output pixel.

For every output pixel the kernel sums the outer products ``z z^H`` of the samples in its
window, normalises them to a coherence matrix and solves for the linked phases, without ever
storing the matrices of a whole block.  All matrices are lower triangles (packed for the sums).

Rectangular windows are summed with running sums: every image column keeps a *column sum*
over the window rows, brought to the rows of the current output row (adding the rows that
enter, subtracting those that leave, or recomputing when that is cheaper) right before the
column enters the window sum, so it is still in cache when it is added; along an output row
the window sum adds the entering and subtracts the leaving column sums.  Cost per output pixel
is ``O(N^2)`` instead of ``O(window * N^2)``.  SHP-masked windows start from the rectangular
sum and subtract the rejected neighbours, or add up the accepted ones, whichever are fewer.
Sums are float64 (the running add/subtract loses nothing measurable over a block).

Output rows are processed in chunks of :data:`CHUNK_ROWS` rows, on ``numba.get_num_threads()``
Python threads that take the next chunk when they are free (the numba function of a chunk
releases the GIL).  The chunks do not depend on the thread count, and each pixel's eigenvector
iteration starts from the previous pixel's solution within the chunk, so results do not
depend on the thread count or on which thread takes which chunk.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

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

#: EMI's inverse-iteration shift as a fraction of the start vector's Rayleigh quotient (the
#: smallest eigenvalue of ``|Gamma|^-1 o C`` is close to 1, Fiedler's bound for consistent phases)
SHIFT = 0.999


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _add_outer(zr, zi, r, c, n, s_re, s_im, sign):
    """``s += sign * z z^H`` (packed lower triangle, row-major) for the pixel ``(r, c)``.

    Row a of the packed triangle starts at ``a (a + 1) / 2`` and holds ``z_a conj(z_b)``,
    ``b = 0..a``.
    """
    p = 0
    for a in range(n):
        ar = sign * np.float64(zr[r, c, a])
        ai = sign * np.float64(zi[r, c, a])
        for b in range(a + 1):
            br = np.float64(zr[r, c, b])
            bi = np.float64(zi[r, c, b])
            s_re[p + b] += ar * br + ai * bi
            s_im[p + b] += ai * br - ar * bi
        p += a + 1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _add_vec(dst_re, dst_im, src_re, src_im, sign):
    for p in range(dst_re.shape[0]):
        dst_re[p] += sign * src_re[p]
        dst_im[p] += sign * src_im[p]


@njit(cache=True, fastmath=FASTMATH)
def _coherence(s_re, s_im, n, cr, ci, mag, dinv):
    """Coherence matrix ``c`` and ``|c|`` (lower triangles) from packed window sums.

    ``c_ab = s_ab / sqrt(p_a p_b)`` with ``p_a`` the power of date a (the diagonal).  False if
    a power is not positive.
    """
    for a in range(n):
        p = s_re[(a * (a + 1)) // 2 + a]
        if not p > 0.0:
            return False
        dinv[a] = 1.0 / np.sqrt(p)
    for a in range(n):
        off = (a * (a + 1)) // 2
        da = dinv[a]
        for b in range(a):
            f = da * dinv[b]
            x = s_re[off + b] * f
            y = s_im[off + b] * f
            cr[a, b] = x
            ci[a, b] = y
            mag[a, b] = np.sqrt(x * x + y * y)
        cr[a, a] = 1.0
        ci[a, a] = 0.0
        mag[a, a] = 1.0
    return True


@njit(cache=True, fastmath=FASTMATH)
def _solve_pixel(s_re, s_im, n, estimator, beta, max_iter, tol, m, start_ok):
    """Coherence matrix from the window sums, then EMI/EVD.

    ``m`` is the scratch tuple of :func:`_scratch`; its ``v`` holds the start vector when
    ``start_ok`` and the solution on exit, its ``cr, ci, mag`` the coherence matrix and its
    magnitude.  Returns ``(ok, estimator code)``.
    """
    cr, ci, mag, ar, ai, gmat, ginv, work, vr, vi, wr, wi, dinv = m
    if not _coherence(s_re, s_im, n, cr, ci, mag, dinv):
        return False, EVD
    if not start_ok:  # first column: c_a0 ~ exp(i (psi_a - psi_0))
        for a in range(n):
            vr[a] = cr[a, 0]
            vi[a] = ci[a, 0]
    used = EVD
    if estimator == EMI:
        # |Gamma| = (1 - beta) |C| + beta I (unit diagonal); lower triangle is enough
        for a in range(n):
            for b in range(a):
                gmat[a, b] = (1.0 - beta) * mag[a, b]
            gmat[a, a] = 1.0
        if cholesky_real(gmat, n):
            inverse_from_cholesky(gmat, ginv, work, n)
            _hadamard(ginv, cr, ci, ar, ai, n)
            # shift just below the smallest eigenvalue, estimated by the Rayleigh quotient of
            # the start vector (an upper bound of it); if the shift overshoots, Cholesky fails
            shift = SHIFT * rayleigh_quotient(ar, ai, vr, vi, wr, wi, n) if start_ok else 0.0
            ok = cholesky_complex(ar, ai, n, shift)
            if not ok and shift > 0.0:
                _hadamard(ginv, cr, ci, ar, ai, n)
                ok = cholesky_complex(ar, ai, n, 0.0)
            if ok:
                inverse_iteration(ar, ai, vr, vi, wr, wi, n, max_iter, tol)
                used = EMI
    if used == EVD:
        _hadamard(mag, cr, ci, ar, ai, n)
        power_iteration(ar, ai, vr, vi, wr, wi, n, max_iter, tol)
    for a in range(n):
        if not (np.isfinite(vr[a]) and np.isfinite(vi[a])):
            return False, used
    return True, used


@njit(cache=True, fastmath=FASTMATH)
def _hadamard(g, cr, ci, ar, ai, n):
    """``a = g o c`` (real times complex, element by element), lower triangles."""
    for a in range(n):
        for b in range(a + 1):
            ar[a, b] = g[a, b] * cr[a, b]
            ai[a, b] = g[a, b] * ci[a, b]


#: the scratch arrays of one thread start 320 bytes apart modulo 4 KiB (see :func:`_scratch`)
_STAGGER = 40
_PAGE = 512  # float64 elements in 4 KiB


@njit(cache=True)
def _scratch(n, npairs, ncols):
    """Per-thread scratch arrays of :func:`link_pixels`, as views of one buffer.

    A load from an address equal modulo 4 KiB to that of a pending store stalls on a false
    dependency (4K aliasing).  Arrays allocated one by one land at arbitrary such offsets,
    different in each thread, and the kernel ran up to 1.6x slower in one thread than in the
    other.  Here array k starts ``k * 320`` bytes modulo 4 KiB into the buffer, so element-wise
    loops over several arrays never alias and the layout is the same in every thread.

    Returns ``(col_re, col_im)`` (ncols, npairs) column sums, ``(win_re, win_im, t_re, t_im)``
    (npairs) window sums, and the solver tuple of :func:`_solve_pixel`: ``cr, ci, mag, ar,
    ai, gmat, ginv, work`` (n, n) and ``vr, vi, wr, wi, dinv`` (n).
    """
    sizes = [ncols * npairs] * 2 + [npairs] * 4 + [n * n] * 8 + [n] * 5
    starts = []
    total = 0
    for size in sizes:
        starts.append(total)
        total += (size + _PAGE - 1) // _PAGE * _PAGE + _STAGGER
    buf = np.empty(total)
    buf[starts[2] :] = 0.0  # the column sums are always computed before they are read
    v = [buf[starts[k] : starts[k] + sizes[k]] for k in range(len(sizes))]
    solver = (
        v[6].reshape((n, n)), v[7].reshape((n, n)), v[8].reshape((n, n)), v[9].reshape((n, n)),
        v[10].reshape((n, n)), v[11].reshape((n, n)), v[12].reshape((n, n)),
        v[13].reshape((n, n)), v[14], v[15], v[16], v[17], v[18],
    )  # fmt: skip
    return (
        v[0].reshape((ncols, npairs)),
        v[1].reshape((ncols, npairs)),
        v[2],
        v[3],
        v[4],
        v[5],
        solver,
    )


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
    nr = win_r0.shape[0]
    cum = _integral_image(valid)
    args = (
        zr, zi, valid, cum, win_r0, win_c0, wy, wx, center_ok, shp, use_shp, estimator,
        beta, max_iter, tol, first_real, v_out, tcoh, est, count, closure,
    )  # fmt: skip
    n_chunks = (nr + CHUNK_ROWS - 1) // CHUNK_ROWS
    # the chunks go to whichever thread is free (numba's prange splits them statically, and a
    # thread on a busier core then holds everyone up); reading the results re-raises errors
    with ThreadPoolExecutor(max(1, min(numba.get_num_threads(), n_chunks))) as pool:
        list(pool.map(lambda chunk: _link_chunk(chunk, *args), range(n_chunks)))


@njit(cache=True, nogil=True)
def _integral_image(valid):
    """Integral image of the sample validity, for the sample counts of rectangular windows."""
    cum = np.zeros((valid.shape[0] + 1, valid.shape[1] + 1), np.int64)
    for r in range(valid.shape[0]):
        for c in range(valid.shape[1]):
            cum[r + 1, c + 1] = cum[r, c + 1] + cum[r + 1, c] - cum[r, c] + valid[r, c]
    return cum


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _link_chunk(
    chunk, zr, zi, valid, cum, win_r0, win_c0, wy, wx, center_ok, shp, use_shp, estimator,
    beta, max_iter, tol, first_real, v_out, tcoh, est, count, closure,
):  # fmt: skip
    """Output rows ``chunk * CHUNK_ROWS ...`` of :func:`link_pixels`, in the calling thread.

    ``cum`` is :func:`_integral_image` of ``valid``; the other arguments are those of
    :func:`link_pixels`.
    """
    n = zr.shape[2]
    ncols = zr.shape[1]
    npairs = n * (n + 1) // 2
    nr = win_r0.shape[0]
    nc = win_c0.shape[0]
    n_closure = closure.shape[2]
    # column sums: col[c] sums z z^H of column c over the rows [col_lo[c], col_hi[c])
    col_re, col_im, win_re, win_im, t_re, t_im, m = _scratch(n, npairs, ncols)
    col_lo = np.zeros(ncols, np.int64)
    col_hi = np.zeros(ncols, np.int64)
    cr, ci, mag, vr, vi, ur, ui = m[0], m[1], m[2], m[8], m[9], m[10], m[11]
    row_re = np.zeros(n)
    row_im = np.zeros(n)
    row_start_ok = False
    for i in range(chunk * CHUNK_ROWS, min((chunk + 1) * CHUNK_ROWS, nr)):
        a = win_r0[i]
        b = a + wy
        c_lo = 0
        c_hi = 0  # columns currently summed in the window sums: [c_lo, c_hi)
        start_ok = row_start_ok
        vr[:] = row_re
        vi[:] = row_im
        for j in range(nc):
            ca = win_c0[j]
            cb = ca + wx
            # a column enters the window sums right after its column sum is brought to
            # the rows [a, b), while both are in cache
            if ca >= c_hi or (ca - c_lo) + (cb - c_hi) >= wx:
                win_re[:] = 0.0
                win_im[:] = 0.0
                enter = ca
            else:
                for c in range(c_lo, ca):
                    _add_vec(win_re, win_im, col_re[c], col_im[c], -1.0)
                enter = c_hi
            for c in range(enter, cb):
                _update_column(zr, zi, c, a, b, col_re, col_im, col_lo, col_hi, n)
                _add_vec(win_re, win_im, col_re[c], col_im[c], 1.0)
            c_lo = ca
            c_hi = cb
            ok = False
            n_used = 0
            if center_ok[i, j]:
                n_used = cum[b, cb] - cum[a, cb] - cum[b, ca] + cum[a, ca]
                s_re = win_re
                s_im = win_im
                if use_shp:
                    n_used = _shp_sums(
                        zr, zi, valid, shp, i, j, a, ca, n_used, win_re, win_im, t_re, t_im
                    )
                    s_re = t_re
                    s_im = t_im
                if n_used > 0:
                    ok, used = _solve_pixel(
                        s_re, s_im, n, estimator, beta, max_iter, tol, m, start_ok
                    )
                    start_ok = ok  # a failed solve leaves no usable start vector
            if not ok:
                _fail(v_out, tcoh, est, count, closure, i, j, n_used)
                continue
            for k in range(n):
                amp = np.sqrt(vr[k] * vr[k] + vi[k] * vi[k])
                ur[k] = vr[k] / amp if amp > 0.0 else 1.0
                ui[k] = vi[k] / amp if amp > 0.0 else 0.0
                v_out[i, j, k] = complex(ur[k], ui[k])
            tcoh[i, j] = temporal_coherence(cr, ci, mag, ur, ui, n)
            est[i, j] = used
            count[i, j] = n_used
            for k in range(n_closure):  # c_q,q+1 c_q+1,q+2 conj(c_q,q+2), lower triangle
                q = first_real + k
                t = (
                    complex(cr[q + 1, q], -ci[q + 1, q])
                    * complex(cr[q + 2, q + 1], -ci[q + 2, q + 1])
                    * complex(cr[q + 2, q], ci[q + 2, q])
                )
                closure[i, j, k] = np.angle(t)
            if j == 0:
                row_re[:] = vr
                row_im[:] = vi
                row_start_ok = True


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _update_column(zr, zi, c, a, b, col_re, col_im, col_lo, col_hi, n):
    """Bring the column sum of column ``c`` to the rows ``[a, b)`` (rows only move down)."""
    lo = col_lo[c]
    hi = col_hi[c]
    if lo == a and hi == b:
        return
    if a >= hi or (a - lo) + (b - hi) >= b - a:  # cheaper to recompute than to update
        col_re[c, :] = 0.0
        col_im[c, :] = 0.0
        n_out = 0
        first_in = a
    else:  # rows [lo, a) leave, rows [hi, b) enter
        n_out = a - lo
        first_in = hi
    for t in range(n_out + b - first_in):
        r = lo + t if t < n_out else first_in + t - n_out
        _add_outer(zr, zi, r, c, n, col_re[c], col_im[c], -1.0 if t < n_out else 1.0)
    col_lo[c] = a
    col_hi[c] = b


@njit(cache=True, fastmath=FASTMATH)
def _shp_sums(zr, zi, valid, shp, i, j, a, ca, n_valid, win_re, win_im, t_re, t_im):
    """Window sums over the SHPs of output pixel ``(i, j)`` into ``t``; returns their number.

    Starts from the rectangular sums ``win`` and subtracts the rejected neighbours, or from
    zero and adds the accepted ones, whichever are fewer.
    """
    wy, wx = shp.shape[2], shp.shape[3]
    n = zr.shape[2]
    n_acc = 0
    for y in range(wy):
        for x in range(wx):
            n_acc += shp[i, j, y, x]
    subtract = n_valid - n_acc < n_acc
    for p in range(t_re.shape[0]):
        t_re[p] = win_re[p] if subtract else 0.0
        t_im[p] = win_im[p] if subtract else 0.0
    for y in range(wy):
        for x in range(wx):
            if (
                (shp[i, j, y, x] == 0 and valid[a + y, ca + x] != 0)
                if subtract
                else shp[i, j, y, x]
            ):
                _add_outer(zr, zi, a + y, ca + x, n, t_re, t_im, -1.0 if subtract else 1.0)
    return n_acc


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
