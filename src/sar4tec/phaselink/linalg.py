"""Small dense linear algebra for one pixel's coherence matrix, as numba functions.

Phase linking solves one small Hermitian eigenproblem per pixel (N = 10 ... 40 dates).
A full ``eigh`` computes all N eigenpairs; the estimators need one, so these functions use
partial solvers instead: power iteration for the leading eigenvector (EVD) and shifted
inverse iteration with a Cholesky factor for the smallest one (EMI).  Both accept a starting
vector, so a neighbouring pixel's solution (overlapping windows, nearly the same matrix)
makes them converge in a few steps.

Hermitian and symmetric matrices are given by their lower triangles, complex matrices and
vectors as separate real and imaginary float64 arrays, and every inner loop runs along a row
(contiguous memory).  All functions work in place on caller-provided scratch arrays (no
allocation per pixel).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: numba fast-math flags: reassociation/contraction for vectorised loops, but NaN and
#: infinity semantics kept (the kernels test for NaN to detect failed pixels)
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

#: smallest Cholesky pivot accepted for a matrix with unit diagonal; below it the matrix is
#: taken as singular (EMI then falls back to EVD)
PIVOT_MIN = 1e-9


@njit(cache=True, fastmath=FASTMATH)
def cholesky_real(a: np.ndarray, n: int) -> bool:
    """Lower Cholesky factor of the symmetric ``a[:n, :n]`` (lower triangle) in place.

    False if the matrix is not positive definite.  Rows below the pivot are done two at a
    time, sharing the loads of the pivot row (about 20 % faster at n = 30).
    """
    for j in range(n):
        s = a[j, j]
        for k in range(j):
            s -= a[j, k] * a[j, k]
        if not s > PIVOT_MIN:  # also catches NaN
            return False
        d = np.sqrt(s)
        a[j, j] = d
        inv = 1.0 / d
        i = j + 1
        while i + 1 < n:
            t0 = a[i, j]
            t1 = a[i + 1, j]
            for k in range(j):
                x = a[j, k]
                t0 -= a[i, k] * x
                t1 -= a[i + 1, k] * x
            a[i, j] = t0 * inv
            a[i + 1, j] = t1 * inv
            i += 2
        if i < n:
            t = a[i, j]
            for k in range(j):
                t -= a[i, k] * a[j, k]
            a[i, j] = t * inv
    return True


@njit(cache=True, fastmath=FASTMATH)
def inverse_from_cholesky(low: np.ndarray, inv: np.ndarray, work: np.ndarray, n: int) -> None:
    """Lower triangle of ``inv = (L L^T)^-1`` from the lower factor ``L`` in ``low``.

    ``work`` is n x n scratch; the strict upper triangle of ``inv`` is left untouched.
    """
    # work = X = L^-1, row by row: X[i] = (e_i - sum_{k<i} L[i,k] X[k]) / L[i,i]
    for i in range(n):
        for j in range(n):
            work[i, j] = 0.0
        for k in range(i):
            f = low[i, k]
            for j in range(k + 1):
                work[i, j] -= f * work[k, j]
        d = 1.0 / low[i, i]
        for j in range(i):
            work[i, j] *= d
        work[i, i] = d
    # inv = X^T X = sum_k outer(X[k], X[k]) (X[k] is zero beyond k), lower triangle
    for i in range(n):
        for j in range(i + 1):
            inv[i, j] = 0.0
    for k in range(n):
        for i in range(k + 1):
            f = work[k, i]
            for j in range(i + 1):
                inv[i, j] += f * work[k, j]


@njit(cache=True, fastmath=FASTMATH)
def cholesky_complex(ar: np.ndarray, ai: np.ndarray, n: int, shift: float) -> bool:
    """Lower Cholesky factor of Hermitian ``(ar + i ai) - shift I`` (lower triangle) in place.

    False if not positive definite.  Two rows at a time, as :func:`cholesky_real`.
    """
    for j in range(n):
        s = ar[j, j] - shift
        for k in range(j):
            s -= ar[j, k] * ar[j, k] + ai[j, k] * ai[j, k]
        if not s > PIVOT_MIN * 1e-3:
            return False
        d = np.sqrt(s)
        ar[j, j] = d
        ai[j, j] = 0.0
        inv = 1.0 / d
        i = j + 1
        while i + 1 < n:  # t -= L[i,k] conj(L[j,k]) for rows i and i + 1
            tr0 = ar[i, j]
            ti0 = ai[i, j]
            tr1 = ar[i + 1, j]
            ti1 = ai[i + 1, j]
            for k in range(j):
                xr = ar[j, k]
                xi = ai[j, k]
                tr0 -= ar[i, k] * xr + ai[i, k] * xi
                ti0 -= ai[i, k] * xr - ar[i, k] * xi
                tr1 -= ar[i + 1, k] * xr + ai[i + 1, k] * xi
                ti1 -= ai[i + 1, k] * xr - ar[i + 1, k] * xi
            ar[i, j] = tr0 * inv
            ai[i, j] = ti0 * inv
            ar[i + 1, j] = tr1 * inv
            ai[i + 1, j] = ti1 * inv
            i += 2
        if i < n:
            tr = ar[i, j]
            ti = ai[i, j]
            for k in range(j):
                tr -= ar[i, k] * ar[j, k] + ai[i, k] * ai[j, k]
                ti -= ai[i, k] * ar[j, k] - ar[i, k] * ai[j, k]
            ar[i, j] = tr * inv
            ai[i, j] = ti * inv
    return True


@njit(cache=True, fastmath=FASTMATH)
def solve_cholesky_complex(lr, li, xr, xi, n) -> None:
    """Solve ``(L L^H) y = x`` in place for the lower factor ``L = lr + i li``."""
    for i in range(n):  # L w = x (row-oriented, contiguous rows of L)
        tr = xr[i]
        ti = xi[i]
        for k in range(i):
            tr -= lr[i, k] * xr[k] - li[i, k] * xi[k]
            ti -= lr[i, k] * xi[k] + li[i, k] * xr[k]
        d = 1.0 / lr[i, i]
        xr[i] = tr * d
        xi[i] = ti * d
    for i in range(n - 1, -1, -1):  # L^H y = w (column-oriented: row i of L is column i of L^H)
        d = 1.0 / lr[i, i]
        yr = xr[i] * d
        yi = xi[i] * d
        xr[i] = yr
        xi[i] = yi
        for k in range(i):  # w_k -= conj(L[i,k]) y_i
            xr[k] -= lr[i, k] * yr + li[i, k] * yi
            xi[k] -= lr[i, k] * yi - li[i, k] * yr


@njit(cache=True, fastmath=FASTMATH)
def hermitian_matvec(ar, ai, xr, xi, yr, yi, n) -> None:
    """``y = A x`` for the Hermitian ``A = ar + i ai`` given by its lower triangle."""
    for i in range(n):
        yr[i] = 0.0
        yi[i] = 0.0
    for i in range(n):
        pr = xr[i]
        pi = xi[i]
        tr = ar[i, i] * pr
        ti = ar[i, i] * pi
        for k in range(i):
            # y_i += A_ik x_k ; y_k += conj(A_ik) x_i
            tr += ar[i, k] * xr[k] - ai[i, k] * xi[k]
            ti += ar[i, k] * xi[k] + ai[i, k] * xr[k]
            yr[k] += ar[i, k] * pr + ai[i, k] * pi
            yi[k] += ar[i, k] * pi - ai[i, k] * pr
        yr[i] += tr
        yi[i] += ti


@njit(cache=True, fastmath=FASTMATH)
def rayleigh_quotient(ar, ai, xr, xi, yr, yi, n) -> float:
    """``x^H A x / x^H x`` of a Hermitian ``A`` (lower triangle); ``yr, yi`` are scratch."""
    hermitian_matvec(ar, ai, xr, xi, yr, yi, n)
    num = 0.0
    den = 0.0
    for i in range(n):
        num += xr[i] * yr[i] + xi[i] * yi[i]
        den += xr[i] * xr[i] + xi[i] * xi[i]
    return num / den


@njit(cache=True, fastmath=FASTMATH)
def _normalise(xr, xi, n) -> float:
    """Scale ``x[:n]`` to unit 2-norm; return the norm it had."""
    s = 0.0
    for i in range(n):
        s += xr[i] * xr[i] + xi[i] * xi[i]
    norm = np.sqrt(s)
    if norm > 0.0:
        inv = 1.0 / norm
        for i in range(n):
            xr[i] *= inv
            xi[i] *= inv
    return norm


@njit(cache=True, fastmath=FASTMATH)
def _step(vr, vi, wr, wi, n) -> float:
    """Normalise ``w``, measure ``1 - |<v, w>|``, copy ``w`` into ``v``; return the measure."""
    if _normalise(wr, wi, n) == 0.0:
        return 0.0
    tr = 0.0
    ti = 0.0
    for i in range(n):
        tr += vr[i] * wr[i] + vi[i] * wi[i]
        ti += vr[i] * wi[i] - vi[i] * wr[i]
        vr[i] = wr[i]
        vi[i] = wi[i]
    return 1.0 - np.sqrt(tr * tr + ti * ti)


@njit(cache=True, fastmath=FASTMATH)
def power_iteration(ar, ai, vr, vi, wr, wi, n, max_iter, tol) -> int:
    """Leading eigenvector of the Hermitian PSD ``A = ar + i ai`` (lower triangle), in ``v``.

    ``v`` holds the start vector on entry and the unit eigenvector on exit; ``w`` is scratch.
    Stops when ``1 - |<v_k, v_{k+1}>| < tol``.  Returns the number of iterations.
    """
    _normalise(vr, vi, n)
    for it in range(1, max_iter + 1):
        hermitian_matvec(ar, ai, vr, vi, wr, wi, n)
        if _step(vr, vi, wr, wi, n) < tol:
            return it
    return max_iter


@njit(cache=True, fastmath=FASTMATH)
def inverse_iteration(lr, li, vr, vi, wr, wi, n, max_iter, tol) -> int:
    """Eigenvector of the eigenvalue of ``L L^H`` nearest 0, refined in place in ``v``.

    With ``L`` the Cholesky factor of ``A - mu I`` this is the eigenvalue of ``A`` nearest
    ``mu`` (shifted inverse iteration).  Same stopping rule and return as :func:`power_iteration`.
    """
    _normalise(vr, vi, n)
    for it in range(1, max_iter + 1):
        for i in range(n):
            wr[i] = vr[i]
            wi[i] = vi[i]
        solve_cholesky_complex(lr, li, wr, wi, n)
        if _step(vr, vi, wr, wi, n) < tol:
            return it
    return max_iter


@njit(cache=True, fastmath=FASTMATH)
def temporal_coherence(cr, ci, mag, ur, ui, n) -> float:
    """Goodness of fit of phases ``angle(u)`` to the coherence matrix ``c`` (Ferretti 2011).

    ``gamma = 2 / (n (n - 1)) * Re sum_{i>j} exp(i arg c_ij) exp(-i (theta_i - theta_j))``:
    1 when every interferometric phase of ``c`` is reproduced by the linked phases.  ``c``
    and ``mag = |c|`` are read in the lower triangle, ``u`` holds the unit phasors
    ``exp(i theta)``; pairs with ``|c_ij| = 0`` count 0.
    """
    if n < 2:
        return 1.0
    s = 0.0
    for i in range(1, n):
        pr = ur[i]
        pi = ui[i]
        for j in range(i):
            # Re(c_ij conj(u_i) u_j) / |c_ij|
            wr = pr * ur[j] + pi * ui[j]
            wi = pr * ui[j] - pi * ur[j]
            m = mag[i, j]
            inv = 1.0 / m if m > 0.0 else 0.0
            s += (cr[i, j] * wr - ci[i, j] * wi) * inv
    return 2.0 * s / (n * (n - 1))
