"""The sequential phase-linking engine: ministacks outside, blocks with halos inside.

The engine reads and writes *array-likes* by slicing (numpy arrays for the in-memory API,
h5py datasets for the on-disk driver), so one code path serves both.  Per ministack
(Ansari, De Zan & Bamler 2017):

1. **Amplitude statistics** per SLC pixel, block by block, pooled over every date up to the
   ministack's last (:class:`~sar4tec.phaselink.amplitude.AmplitudeStats`; earlier batches
   included).  They are *causal*: the SHP tests and the PS of a ministack see only the dates
   up to it, never later ones, so processing the dates in one run or in batches that continue
   from one another gives the same result.
2. **Linking.**  The dates are cut into ministacks of
   ``ministack_size``; each is phase-linked together with the compressed SLCs of the
   (at most ``max_compressed``) previous ministacks, so the matrix size, and the cost per
   date, stays bounded.  After linking, a ministack is compressed into one virtual SLC,
   ``c = mean_k conj(u_k) z_k`` over its dates, with ``u_k`` the linked phasors referenced to
   the global datum.

   *Datum connection.*  Since ``u_k ~ exp(i (psi_k - psi_0))``, every compressed SLC carries
   the phase ``psi_0`` of the global reference date.  In a later ministack the linked phasors
   are therefore referenced to the mean phasor of its compressed SLCs (the first ministack:
   to its first date), which puts every date of every ministack on the datum of date 0 and
   averages the datum noise of the compressed SLCs instead of chaining it.

   Within a ministack the blocks are independent; the compressed SLCs of a ministack are
   written for the whole frame before the next ministack reads them back with halos, so the
   result does not depend on the block size, except where the eigenvector iteration (which
   starts from the neighbouring pixel's solution) meets two nearly equal eigenvalues: such
   low-coherence pixels can converge elsewhere when a block starts the chain next to them.

Persistent scatterers keep their own phase: at a PS the phasors ``z / |z|`` of the ministack
(compressed SLCs included) are referenced with the same datum rule as the DS phasors.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import numpy as np

from sar4tec.phaselink.amplitude import AmplitudeStats, select_ps
from sar4tec.phaselink.blockops import finish_block, pixel_major, reference_phasors
from sar4tec.phaselink.kernel import EMI, EVD, link_pixels
from sar4tec.phaselink.options import PhaseLinkOptions
from sar4tec.phaselink.shp import glrt_mask, glrt_table, ks_lambda, ks_mask, sorted_amplitudes
from sar4tec.stack import Block, iter_blocks

logger = logging.getLogger(__name__)

#: ``estimator_used`` code of output pixels that took the phase of a persistent scatterer
PS = 2

#: names of the output layers on the output grid
LAYERS_2D = (
    "temporal_coherence",
    "shp_count",
    "estimator_used",
    "ps_mask",
    "amplitude_dispersion",
    "amplitude_mean",
)


def ministacks(n_dates: int, size: int) -> list[tuple[int, int]]:
    """Date ranges ``[start, stop)`` of consecutive ministacks of at most ``size`` dates."""
    return [(d0, min(d0 + size, n_dates)) for d0 in range(0, n_dates, size)]


def output_centers(start: int, stop: int, stride: int, size: int) -> np.ndarray:
    """Input index of output pixels ``start..stop-1``: ``i*s + s//2``, clipped to the image."""
    return np.minimum(np.arange(start, stop) * stride + stride // 2, size - 1)


def window_starts(centers: np.ndarray, half: int, size: int) -> tuple[np.ndarray, int]:
    """First index and length of the windows around ``centers`` in an axis of ``size``.

    Windows are shifted inward at the edges so that every window keeps the full length
    ``2*half + 1`` (the same number of looks everywhere, hence no edge artefacts in the
    coherence); an axis shorter than that is used whole.
    """
    length = min(2 * half + 1, size)
    starts = np.clip(centers - half, 0, size - length)
    return starts.astype(np.int64), length


def run_engine(
    store: MutableMapping[str, Any],
    options: PhaseLinkOptions,
    *,
    n_prev_dates: int = 0,
    n_prev_compressed: int = 0,
    block_shape: tuple[int, int] | None = None,
    snapshot_at: int | None = None,
) -> None:
    """Phase-link the batch ``store["slc"]`` and fill the output arrays of ``store``.

    Parameters
    ----------
    store : mapping of array-likes
        ``slc`` (N, rows, cols) complex64, the batch; output arrays, already allocated and
        (when continuing) holding the previous batch's values: ``phase`` (n_prev + N, r, c),
        ``compressed_slc`` (n_prev_compressed + ministacks, rows, cols), ``amp_count``,
        ``amp_mean``, ``amp_m2`` (rows, cols), the layers of :data:`LAYERS_2D` (r, c) and,
        with ``options.closure_phases``, ``closure_phase`` (n_prev + N - 2, r, c) set to NaN.
    options : PhaseLinkOptions
        Settings.
    n_prev_dates, n_prev_compressed : int
        Dates and compressed SLCs of earlier batches (0 for a fresh start).
    block_shape : (rows, cols), optional
        Core block size; the whole image when omitted.
    snapshot_at : int, optional
        Absolute date index of a ministack boundary, ``n_prev_dates <= snapshot_at <= n_prev_dates
        + N``.  The state after the dates before it (amplitude statistics and the layers of
        :data:`LAYERS_2D`) is copied into ``store["snapshot/<key>"]`` (same shapes as the
        outputs), from which a later batch can continue as if the dates from ``snapshot_at``
        on had never been processed.
    """
    slc = store["slc"]
    n_dates, rows, cols = slc.shape
    shape = (rows, cols)
    block_shape = tuple(block_shape or shape)
    hy, hx = options.half_window
    cut = None if snapshot_at is None else snapshot_at - n_prev_dates
    bounds = [0, *(d1 for _, d1 in ministacks(n_dates, options.ministack_size))]
    if cut is not None and (cut not in bounds or snapshot_at == 0):
        raise ValueError(
            f"snapshot_at {snapshot_at} is not a ministack boundary after the first date "
            f"of this batch ({n_prev_dates} earlier dates, {n_dates} new)"
        )
    n_total = n_prev_dates + n_dates
    if cut == 0:
        _snapshot(store, _STATS + LAYERS_2D)
    for m, (d0, d1) in enumerate(ministacks(n_dates, options.ministack_size)):
        slot = n_prev_compressed + m
        comp = (max(0, slot - options.max_compressed), slot)
        logger.info(
            "ministack %d: dates %d-%d with %d compressed SLC(s)",
            m, n_prev_dates + d0, n_prev_dates + d1 - 1, comp[1] - comp[0],
        )  # fmt: skip
        # causal amplitude statistics: pooled over every date up to this ministack's last
        for blk in iter_blocks(shape, block_shape):
            part = AmplitudeStats.from_slc(np.asarray(slc[d0:d1, blk.core[0], blk.core[1]]))
            if n_prev_dates + d0:
                part = AmplitudeStats(*(np.asarray(store[k][blk.core]) for k in _STATS)).combine(
                    part
                )
            _write_stats(store, blk.core, part)
        # a halo of two half windows: a window shifted inward at the image edge reaches 2h
        # beyond a block's core (a last block of fewer than h + 1 rows would otherwise see a
        # window cut short); interior windows are centred and do not change
        for blk in iter_blocks(shape, block_shape, (2 * hy, 2 * hx), options.strides):
            _link_block(store, blk, options, (d0, d1), comp, slot, n_prev_dates, n_prev_dates + d1)
        if d1 == cut:
            _snapshot(store, _STATS + LAYERS_2D)
    logger.info("linked %d dates (%d before this batch)", n_total, n_prev_dates)


_STATS = ("amp_count", "amp_mean", "amp_m2")


def _write_stats(store: MutableMapping[str, Any], core, stats: AmplitudeStats) -> None:
    for key, value in zip(_STATS, (stats.count, stats.mean, stats.m2), strict=True):
        store[key][core] = value


def _snapshot(store: MutableMapping[str, Any], names: tuple[str, ...]) -> None:
    """Copy ``store[name]`` into ``store["snapshot/<name>"]``, in blocks of 256 rows."""
    for name in names:
        rows = store[name].shape[0]
        for r0 in range(0, rows, 256):
            sl = slice(r0, min(r0 + 256, rows))
            store["snapshot/" + name][sl] = store[name][sl]


def _link_block(
    store: MutableMapping[str, Any],
    blk: Block,
    opt: PhaseLinkOptions,
    dates: tuple[int, int],
    comp: tuple[int, int],
    slot: int,
    n_prev: int,
    n_so_far: int,
) -> None:
    """Link one ministack on one block and write its share of every output.

    ``n_so_far`` dates (earlier batches and ministacks included) are in the amplitude
    statistics of ``store``; a PS must have data on all of them.
    """
    d0, d1 = dates
    rows, cols = store["slc"].shape[1:]
    sy, sx = opt.strides
    rr, cc = blk.read
    real = _complex64(store["slc"][d0:d1, rr, cc])
    compressed = _complex64(store["compressed_slc"][comp[0] : comp[1], rr, cc])
    ncomp = comp[1] - comp[0]
    n_real = d1 - d0
    zr, zi, sample_u8, has_real = pixel_major(compressed, real)
    height, width = sample_u8.shape

    # output pixels of this block, their centres and windows (relative to the read region)
    wr, wc = blk.write
    cen_r = output_centers(wr.start, wr.stop, sy, rows) - rr.start
    cen_c = output_centers(wc.start, wc.stop, sx, cols) - cc.start
    win_r0, wy = window_starts(cen_r, opt.half_window[0], height)
    win_c0, wx = window_starts(cen_c, opt.half_window[1], width)
    center_ok = has_real[np.ix_(cen_r, cen_c)]

    stats = AmplitudeStats(*(np.asarray(store[k][rr, cc]) for k in _STATS))
    if opt.shp_method == "glrt":
        with np.errstate(divide="ignore", invalid="ignore"):
            log_int = np.log(stats.mean_intensity())
        usable = stats.count >= 2
        m2 = np.where(usable, stats.m2, 0.0)
        power = np.where(usable, stats.count * stats.mean**2, 0.0)
        n_looks = max(int(stats.count.max()) if stats.count.size else 1, 1)
        shp = glrt_mask(
            log_int, m2, power, sample_u8, cen_r, cen_c, win_r0, win_c0, wy, wx,
            glrt_table(n_looks, opt.shp_alpha), n_looks,
        )  # fmt: skip
    elif opt.shp_method == "ks":
        amp_sorted, n_amp = sorted_amplitudes(np.asarray(store["slc"][:d1, rr, cc]))
        shp = ks_mask(
            amp_sorted, n_amp, sample_u8, cen_r, cen_c, win_r0, win_c0, wy, wx,
            ks_lambda(opt.shp_alpha),
        )  # fmt: skip
    else:
        shp = np.zeros((1, 1, 1, 1), np.uint8)

    nr, nc = cen_r.size, cen_c.size
    v = np.empty((nr, nc, ncomp + n_real), np.complex64)
    tcoh = np.empty((nr, nc), np.float32)
    est = np.empty((nr, nc), np.uint8)
    count = np.empty((nr, nc), np.int32)
    closure = np.empty((nr, nc, max(n_real - 2, 0) if opt.closure_phases else 0), np.float32)
    link_pixels(
        zr, zi, sample_u8, win_r0, win_c0, wy, wx, center_ok, shp, opt.shp_method != "rect",
        EMI if opt.estimator == "emi" else EVD, opt.regularization, opt.max_iterations,
        opt.tolerance, ncomp, v, tcoh, est, count, closure,
    )  # fmt: skip
    u = reference_phasors(v, ncomp)  # (nr, nc, n_real)

    # persistent scatterers of the core, the brightest one per output cell
    core_r = slice(blk.core[0].start - rr.start, blk.core[0].stop - rr.start)
    core_c = slice(blk.core[1].start - cc.start, blk.core[1].stop - cc.start)
    core_stats = stats[core_r, core_c]
    ps = select_ps(core_stats, opt.ps_threshold, n_so_far)
    cell_ps, cell_r, cell_c = _brightest_ps(ps, core_stats.mean, (sy, sx), (nr, nc))
    # the output cell of each core SLC row / column, for the compression
    r_idx = (np.arange(core_r.start, core_r.stop) + rr.start) // sy - wr.start
    c_idx = (np.arange(core_c.start, core_c.stop) + cc.start) // sx - wc.start
    phase, compressed_new = finish_block(
        u, compressed, real, core_r.start, core_c.start, ps, cell_ps, cell_r, cell_c, r_idx, c_idx
    )

    # merge PS into the DS result (on the output grid)
    tcoh[cell_ps] = 1.0
    est[cell_ps] = PS
    first = n_prev + d0 == 0
    store["phase"][n_prev + d0 : n_prev + d1, wr, wc] = phase
    weight_old = n_prev + d0
    if first:
        store["temporal_coherence"][wr, wc] = tcoh
        store["estimator_used"][wr, wc] = est
        store["shp_count"][wr, wc] = count
    else:
        old = np.asarray(store["temporal_coherence"][wr, wc])
        new_tc = (old * weight_old + tcoh * n_real) / (weight_old + n_real)
        store["temporal_coherence"][wr, wc] = new_tc.astype(np.float32)
        old_est = np.asarray(store["estimator_used"][wr, wc])
        store["estimator_used"][wr, wc] = np.where(cell_ps, PS, np.minimum(old_est, est))
        store["shp_count"][wr, wc] = np.minimum(np.asarray(store["shp_count"][wr, wc]), count)
    # PS layers of the statistics so far (the last ministack leaves those of every date)
    disp = core_stats.dispersion()
    pick_r = np.where(cell_ps, cell_r, (cen_r - core_r.start)[:, None])
    pick_c = np.where(cell_ps, cell_c, (cen_c - core_c.start)[None, :])
    store["ps_mask"][wr, wc] = cell_ps.astype(np.uint8)
    store["amplitude_dispersion"][wr, wc] = disp[pick_r, pick_c].astype(np.float32)
    store["amplitude_mean"][wr, wc] = core_stats.mean[pick_r, pick_c].astype(np.float32)
    if closure.shape[2]:
        store["closure_phase"][n_prev + d0 : n_prev + d0 + closure.shape[2], wr, wc] = (
            closure.transpose(2, 0, 1)
        )
    store["compressed_slc"][(slot, *blk.core)] = compressed_new


def _complex64(array) -> np.ndarray:
    """A C-contiguous complex64 ndarray of an array-like (no copy where it already is one).

    One memory layout means one numba compilation of the block kernels.
    """
    return np.ascontiguousarray(array, dtype=np.complex64)


def _brightest_ps(
    ps: np.ndarray, mean_amp: np.ndarray, strides: tuple[int, int], out_shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output cell of a core block: has a PS, and the core row/col of its brightest."""
    sy, sx = strides
    nr, nc = out_shape
    pad = ((0, nr * sy - ps.shape[0]), (0, nc * sx - ps.shape[1]))
    score = np.pad(np.where(ps, mean_amp, -np.inf), pad, constant_values=-np.inf)
    cells = score.reshape(nr, sy, nc, sx).transpose(0, 2, 1, 3).reshape(nr, nc, sy * sx)
    best = cells.argmax(axis=2)
    has = np.isfinite(np.take_along_axis(cells, best[..., None], axis=2)[..., 0])
    rows = np.arange(nr)[:, None] * sy + best // sx
    cols = np.arange(nc)[None, :] * sx + best % sx
    return has, rows, cols
