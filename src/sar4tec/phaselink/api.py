"""Phase linking of an in-memory SLC stack: :func:`run_phase_linking`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sar4tec.phaselink.amplitude import AmplitudeStats
from sar4tec.phaselink.engine import LAYERS_2D, ministacks, run_engine
from sar4tec.phaselink.options import PhaseLinkOptions


class PhaseLinkResult(NamedTuple):
    """Result of :func:`run_phase_linking`; images are on the output grid ``(r, c)``.

    Attributes
    ----------
    phase : float32 (N, r, c)
        Wrapped linked phase, radians, ``angle(z_k conj(z_0))`` convention, date 0 = 0
        (NaN where no estimate was possible).
    temporal_coherence : float32 (r, c)
        Goodness of fit of the linked phases to the coherence matrix (mean over ministacks,
        weighted by their number of dates); 1 at persistent scatterers.
    shp_count : int32 (r, c)
        Number of samples in the covariance (fewest over the ministacks).
    estimator_used : uint8 (r, c)
        0 EVD, 1 EMI (in every ministack), 2 persistent scatterer (own phase).
    ps_mask : uint8 (r, c)
        1 where the output pixel took the phase of a persistent scatterer.
    amplitude_dispersion, amplitude_mean : float32 (r, c)
        Of the estimated SLC pixel (of the chosen PS where ``ps_mask``).
    compressed_slc : complex64 (K, rows, cols)
        One compressed SLC per ministack (of all batches), on the SLC grid.
    compressed_ranges : int64 (K, 2)
        First and last date index (over all batches) of each compressed SLC.
    amplitude_stats : AmplitudeStats
        Per SLC pixel, pooled over all batches (for continuing).
    closure_phase : float32 (N - 2, r, c) or None
        Closure phase of date triplets ``(k, k+1, k+2)`` within a ministack (NaN across
        ministack boundaries), when requested.
    """

    phase: np.ndarray
    temporal_coherence: np.ndarray
    shp_count: np.ndarray
    estimator_used: np.ndarray
    ps_mask: np.ndarray
    amplitude_dispersion: np.ndarray
    amplitude_mean: np.ndarray
    compressed_slc: np.ndarray
    compressed_ranges: np.ndarray
    amplitude_stats: AmplitudeStats
    closure_phase: np.ndarray | None = None


#: dtypes of the output layers of :data:`~sar4tec.phaselink.engine.LAYERS_2D`
LAYER_DTYPES = {
    "temporal_coherence": np.float32,
    "shp_count": np.int32,
    "estimator_used": np.uint8,
    "ps_mask": np.uint8,
    "amplitude_dispersion": np.float32,
    "amplitude_mean": np.float32,
}


def output_shape(shape: tuple[int, int], strides: tuple[int, int]) -> tuple[int, int]:
    """Output grid size ``(ceil(rows/sy), ceil(cols/sx))``."""
    return -(-shape[0] // strides[0]), -(-shape[1] // strides[1])


def run_phase_linking(
    slc_stack: np.ndarray,
    *,
    half_window: tuple[int, int] = (5, 5),
    strides: tuple[int, int] = (1, 1),
    estimator: str = "emi",
    shp_method: str = "glrt",
    previous: PhaseLinkResult | None = None,
    reference_index: int = 0,
    **options,
) -> PhaseLinkResult:
    """Phase-link an SLC stack held in memory.

    Parameters
    ----------
    slc_stack : complex (N, rows, cols)
        Coregistered SLCs in time order; no-data is NaN or ``0 + 0j``.
    half_window : (hy, hx)
        The window is ``(2 hy + 1) x (2 hx + 1)`` pixels.
    strides : (sy, sx)
        Output pixel ``(i, j)`` is estimated at SLC pixel ``(i sy + sy//2, j sx + sx//2)``.
    estimator : {"emi", "evd"}
        EMI (Ansari et al. 2018) with per-pixel fall-back to EVD, or EVD.
    shp_method : {"rect", "glrt", "ks"}
        Neighbour selection in the window.
    previous : PhaseLinkResult, optional
        Result of the earlier acquisitions of the same pixels: ``slc_stack`` then holds only
        the new dates, which continue from the stored compressed SLCs and amplitude
        statistics; the returned phases cover all dates.
    reference_index : int
        Date whose phase is made 0 (default the first; file outputs always use the first).
    **options
        Further settings of :class:`~sar4tec.phaselink.options.PhaseLinkOptions`
        (``shp_alpha``, ``ps_threshold``, ``ministack_size``, ``max_compressed``,
        ``regularization``, ``closure_phases``, ``max_iterations``, ``tolerance``).

    Returns
    -------
    PhaseLinkResult
    """
    opt = PhaseLinkOptions(
        half_window=half_window, strides=strides, estimator=estimator, shp_method=shp_method,
        **options,
    )  # fmt: skip
    slc_stack = np.asarray(slc_stack)
    if slc_stack.ndim != 3 or not np.iscomplexobj(slc_stack):
        raise ValueError(
            f"slc_stack must be a complex (N, rows, cols) array, got {slc_stack.dtype} "
            f"{slc_stack.shape}"
        )
    n_new, rows, cols = slc_stack.shape
    out_r, out_c = output_shape((rows, cols), opt.strides)
    n_prev = 0 if previous is None else previous.phase.shape[0]
    k_prev = 0 if previous is None else previous.compressed_slc.shape[0]
    if previous is not None and previous.compressed_slc.shape[1:] != (rows, cols):
        raise ValueError(
            f"previous result is for {previous.compressed_slc.shape[1:]} pixels, "
            f"the new stack has {(rows, cols)}"
        )
    n_all = n_prev + n_new
    ranges = [(n_prev + a, n_prev + b - 1) for a, b in ministacks(n_new, opt.ministack_size)]
    store = {
        "slc": slc_stack,
        "phase": np.full((n_all, out_r, out_c), np.nan, np.float32),
        "compressed_slc": np.zeros((k_prev + len(ranges), rows, cols), np.complex64),
        "amp_count": np.zeros((rows, cols), np.int32),
        "amp_mean": np.zeros((rows, cols)),
        "amp_m2": np.zeros((rows, cols)),
    }
    for name in LAYERS_2D:
        store[name] = np.zeros((out_r, out_c), LAYER_DTYPES[name])
    if opt.closure_phases:
        store["closure_phase"] = np.full((max(n_all - 2, 0), out_r, out_c), np.nan, np.float32)
    if previous is not None:
        store["phase"][:n_prev] = previous.phase
        store["compressed_slc"][:k_prev] = previous.compressed_slc
        stats = previous.amplitude_stats
        store["amp_count"][:], store["amp_mean"][:], store["amp_m2"][:] = (
            stats.count, stats.mean, stats.m2,
        )  # fmt: skip
        for name in LAYERS_2D:
            store[name][:] = getattr(previous, name)
        if opt.closure_phases and previous.closure_phase is not None:
            store["closure_phase"][: max(n_prev - 2, 0)] = previous.closure_phase
    run_engine(store, opt, n_prev_dates=n_prev, n_prev_compressed=k_prev)
    phase = store["phase"]
    if reference_index:
        phase = np.angle(np.exp(1j * (phase - phase[reference_index]))).astype(np.float32)
    prev_ranges = np.empty((0, 2), np.int64) if previous is None else previous.compressed_ranges
    return PhaseLinkResult(
        phase=phase,
        **{name: store[name] for name in LAYERS_2D},
        compressed_slc=store["compressed_slc"],
        compressed_ranges=np.concatenate([prev_ranges, np.array(ranges, np.int64)]),
        amplitude_stats=AmplitudeStats(store["amp_count"], store["amp_mean"], store["amp_m2"]),
        closure_phase=store.get("closure_phase"),
    )
