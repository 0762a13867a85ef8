"""Unwrapping one interferogram with SNAPHU (snaphu-py), NaN-safe, and its coherence.

SNAPHU (Chen & Zebker 2001, 2002) is run through the ``snaphu`` package.  Its ``init``
choice has a licence consequence: ``"mcf"`` runs the CS2 minimum-cost-flow solver (Goldberg
& Cherkassky), which snaphu's README says may be used *for strictly noncommercial purposes*
only; ``"mst"`` (the default here) does not run that code, so a default sar4tec run uses only
the permissively licensed parts of SNAPHU.  See ``docs/unwrap.md``.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

TWO_PI = 2.0 * np.pi


def boxcar_coherence(phase: np.ndarray, window: int) -> np.ndarray:
    """Coherence magnitude of a phase-only interferogram in a ``window`` × ``window`` box.

    ``|sum exp(i phi)| / n`` over the valid (finite) pixels of the window; NaN where the
    pixel itself is NaN.  It is biased low where fringes are dense across the window.
    """
    valid = np.isfinite(phase)
    z = np.where(valid, np.exp(1j * np.where(valid, phase, 0.0)), 0.0)
    re = uniform_filter(z.real, window, mode="nearest")
    im = uniform_filter(z.imag, window, mode="nearest")
    n = uniform_filter(valid.astype(np.float64), window, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        coh = np.hypot(re, im) / n
    return np.where(valid, np.clip(coh, 0.0, 1.0), np.nan).astype(np.float32)


def snaphu_unwrap(
    phase: np.ndarray,
    coherence: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    nlooks: float = 10.0,
    cost: str = "smooth",
    init: str = "mst",
    ntiles: tuple[int, int] = (1, 1),
    tile_overlap: tuple[int, int] = (0, 0),
    nproc: int = 1,
    min_conncomp_frac: float = 0.01,
    single_tile_reoptimize: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrap a wrapped interferogram with SNAPHU.

    Parameters
    ----------
    phase : ndarray (rows, cols)
        Wrapped phase (rad); NaN pixels are excluded from unwrapping.
    coherence : ndarray (rows, cols)
        Coherence magnitude for SNAPHU's statistical cost.
    mask : ndarray of bool, optional
        True where the pixel may be unwrapped.
    nlooks, cost, init, ntiles, tile_overlap, nproc, min_conncomp_frac, single_tile_reoptimize
        Passed to :func:`snaphu.unwrap` (see its documentation).  Re-optimising a tiled
        solution in one tile costs about as much as not tiling, so it is off by default.

    Returns
    -------
    unwrapped : ndarray of float32
        Unwrapped phase (rad), congruent with ``phase`` (differs by exact multiples of 2π);
        NaN where not unwrapped.
    components : ndarray of uint16
        SNAPHU's connected-component labels, 0 = not unwrapped.
    """
    import snaphu

    ok = np.isfinite(phase) & np.isfinite(coherence)
    if mask is not None:
        ok &= mask.astype(bool)
    if not ok.any():
        return np.full(phase.shape, np.nan, np.float32), np.zeros(phase.shape, np.uint16)
    igram = np.where(ok, np.exp(1j * np.where(ok, phase, 0.0)), 0).astype(np.complex64)
    corr = np.where(ok, coherence, 0.0).astype(np.float32)
    unw, conncomp = snaphu.unwrap(
        igram,
        corr,
        nlooks=float(nlooks),
        cost=cost,
        init=init,
        mask=ok.astype(np.uint8),
        ntiles=tuple(ntiles),
        tile_overlap=tuple(tile_overlap),
        nproc=int(nproc),
        min_conncomp_frac=float(min_conncomp_frac),
        single_tile_reoptimize=bool(single_tile_reoptimize),
    )
    wrapped = np.angle(igram)
    cycles = np.round((unw - wrapped) / TWO_PI)
    out = np.where(ok, wrapped + TWO_PI * cycles, np.nan).astype(np.float32)
    comps = np.where(ok, conncomp, 0)
    if comps.max() > np.iinfo(np.uint16).max:
        raise ValueError(f"SNAPHU returned {comps.max()} connected components (> 65535)")
    return out, comps.astype(np.uint16)
