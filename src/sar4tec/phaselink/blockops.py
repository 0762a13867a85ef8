"""Numba kernels around the phase-linking kernel: block layout in, phases and compression out.

The engine reads a block of one ministack as date-major ``(n, rows, cols)`` arrays (the stack's
layout) and needs, per pixel, the samples of all dates side by side (pixel-major) for the
covariance sums; after linking it references the phasors to the datum, merges persistent
scatterers, writes wrapped phases and compresses the ministack.  These passes touch every
sample of the block, so they run here in parallel over rows rather than as a chain of numpy
temporaries in one thread (which would keep the second core idle while they run).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _valid(z) -> bool:
    """A sample holds data: finite and not exactly ``0 + 0j``."""
    return np.isfinite(z.real) and np.isfinite(z.imag) and (z.real != 0.0 or z.imag != 0.0)


@njit(cache=True, parallel=True, nogil=True)
def pixel_major(compressed, real):
    """Pixel-major samples of a ministack block and which pixels can be used.

    Parameters
    ----------
    compressed, real : complex64 (k, R, C), (m, R, C)
        Compressed SLCs (dates ``0..k-1`` of the ministack) and real SLCs (dates ``k..``).

    Returns
    -------
    zr, zi : float32 (R, C, k + m)
        Real and imaginary parts; zero at pixels that lack data on any date.
    sample_ok : uint8 (R, C)
        1 where the pixel has data on every date (usable as a sample).
    has_real : uint8 (R, C)
        1 where the pixel has data on at least one real date (can be estimated).
    """
    k, rows, cols = compressed.shape
    m = real.shape[0]
    n = k + m
    zr = np.zeros((rows, cols, n), np.float32)
    zi = np.zeros((rows, cols, n), np.float32)
    sample_ok = np.zeros((rows, cols), np.uint8)
    has_real = np.zeros((rows, cols), np.uint8)
    for r in prange(rows):
        for c in range(cols):
            n_ok = 0
            for d in range(k):
                n_ok += _valid(compressed[d, r, c])
            n_real = 0
            for d in range(m):
                n_real += _valid(real[d, r, c])
            has_real[r, c] = n_real > 0
            if n_ok + n_real < n:
                continue
            sample_ok[r, c] = 1
            for d in range(k):
                zr[r, c, d] = compressed[d, r, c].real
                zi[r, c, d] = compressed[d, r, c].imag
            for d in range(m):
                zr[r, c, k + d] = real[d, r, c].real
                zi[r, c, k + d] = real[d, r, c].imag
    return zr, zi, sample_ok, has_real


@njit(cache=True, inline="always")
def _datum(ref_r, ref_i):
    """Unit conjugate datum phasor from the summed reference phasors (NaN if it vanishes)."""
    mag = np.sqrt(ref_r * ref_r + ref_i * ref_i)
    if not mag > 0.0:
        return complex(np.nan, np.nan)
    return complex(ref_r / mag, -ref_i / mag)


@njit(cache=True, parallel=True, nogil=True)
def reference_phasors(v, ncomp):
    """Reference linked phasors ``v`` (nr, nc, n) to the datum, for the real dates.

    The datum is date 0 when the ministack has no compressed SLC (``ncomp == 0``), else the
    mean phasor of the compressed SLCs (which carry the phase of the global date 0).  NaN
    phasors (failed pixels) are skipped in the datum and stay NaN.  Returns complex64
    ``(nr, nc, n - ncomp)``; with ``ncomp == 0`` the first date is exactly ``1 + 0j``.
    """
    nr, nc, n = v.shape
    out = np.empty((nr, nc, n - ncomp), np.complex64)
    for i in prange(nr):
        for j in range(nc):
            ref_r = 0.0
            ref_i = 0.0
            for d in range(max(ncomp, 1)):
                z = v[i, j, d]
                if np.isfinite(z.real) and np.isfinite(z.imag):
                    ref_r += z.real
                    ref_i += z.imag
            w = _datum(ref_r, ref_i)
            for d in range(ncomp, n):
                out[i, j, d - ncomp] = v[i, j, d] * w
            if ncomp == 0:  # exactly 0 phase on the reference date, not rounding noise
                out[i, j, 0] = abs(out[i, j, 0])
    return out


@njit(cache=True, inline="always")
def _ps_phasors(compressed, real, r, c, out):
    """Referenced phasors ``z / |z|`` of a persistent scatterer at ``(r, c)`` into ``out`` (m,).

    Same datum rule as :func:`reference_phasors`; dates without data are NaN.
    """
    k = compressed.shape[0]
    m = real.shape[0]
    ref_r = 0.0
    ref_i = 0.0
    if k == 0:
        z = real[0, r, c]
        if _valid(z):
            a = abs(z)
            ref_r = z.real / a
            ref_i = z.imag / a
    else:
        for d in range(k):
            z = compressed[d, r, c]
            if _valid(z):
                a = abs(z)
                ref_r += z.real / a
                ref_i += z.imag / a
    w = _datum(ref_r, ref_i)
    for d in range(m):
        z = real[d, r, c]
        out[d] = z / abs(z) * w if _valid(z) else complex(np.nan, np.nan)
    if k == 0:
        out[0] = abs(out[0])


@njit(cache=True, parallel=True, nogil=True)
def finish_block(u, compressed, real, core_r0, core_c0, ps, cell_ps, cell_r, cell_c, r_idx, c_idx):
    """Wrapped phases with PS merged, and the compressed SLC of the block's core.

    Parameters
    ----------
    u : complex64 (nr, nc, m)
        Referenced DS phasors of the output pixels (:func:`reference_phasors`).
    compressed, real : complex64 (k, R, C), (m, R, C)
        The ministack's samples on the read region.
    core_r0, core_c0 : int
        Offset of the core (written) part in the read region.
    ps : bool (hr, wc)
        Persistent scatterers of the core.
    cell_ps, cell_r, cell_c : bool, int, int (nr, nc)
        Output pixels that take the phase of their brightest PS, and its core row / column.
    r_idx, c_idx : int (hr,), (wc,)
        Output row / column of each core row / column.

    Returns
    -------
    phase : float32 (m, nr, nc)
        ``angle`` of the DS phasors, or of the PS phasors where ``cell_ps``.
    compressed_new : complex64 (hr, wc)
        ``mean_k conj(u_k) z_k`` over the real dates with data, with ``u`` the phasors of the
        pixel's output cell (its own PS phasors at a PS); 0 where no date has data.
    """
    nr, nc, m = u.shape
    hr, wc = ps.shape
    phase = np.empty((m, nr, nc), np.float32)
    for i in prange(nr):
        own = np.empty(m, np.complex64)
        for j in range(nc):
            if cell_ps[i, j]:
                _ps_phasors(compressed, real, core_r0 + cell_r[i, j], core_c0 + cell_c[i, j], own)
                for d in range(m):
                    phase[d, i, j] = np.angle(own[d])
            else:
                for d in range(m):
                    phase[d, i, j] = np.angle(u[i, j, d])
    out = np.zeros((hr, wc), np.complex64)
    for r in prange(hr):
        own = np.empty(m, np.complex64)
        for c in range(wc):
            rr = core_r0 + r
            cc = core_c0 + c
            if ps[r, c]:
                _ps_phasors(compressed, real, rr, cc, own)
            else:
                for d in range(m):
                    own[d] = u[r_idx[r], c_idx[c], d]
            total = complex(0.0, 0.0)
            used = 0
            for d in range(m):
                z = real[d, rr, cc]
                t = np.conj(own[d]) * z
                if _valid(z) and np.isfinite(t.real) and np.isfinite(t.imag):
                    total += t
                    used += 1
            if used:
                out[r, c] = total / used
    return phase, out
