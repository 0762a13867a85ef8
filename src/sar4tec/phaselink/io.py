"""Block driver: ``slc_stack.h5`` in, ``linked.h5`` out (layout in ``docs/architecture.md``).

Memory is bounded by the block size times the number of dates (plus the window halo), not by
the frame size: the engine reads every block of every ministack straight from the input
dataset and writes its outputs straight into the output file.  A later batch of acquisitions
continues from an earlier ``linked.h5`` (its compressed SLCs and amplitude statistics)
without the earlier SLCs.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict

import h5py
import numpy as np

from sar4tec.files import atomic_output, format_time, read_times, write_times
from sar4tec.grid import Grid
from sar4tec.phaselink.api import LAYER_DTYPES, output_shape
from sar4tec.phaselink.engine import LAYERS_2D, ministacks, run_engine
from sar4tec.phaselink.options import PhaseLinkOptions

logger = logging.getLogger(__name__)

#: options that must not change between batches continued from one another
_CONTINUITY = ("half_window", "strides", "ministack_size", "estimator", "shp_method")


def link_stack_file(
    slc_stack: str | os.PathLike,
    linked: str | os.PathLike,
    options: PhaseLinkOptions,
    *,
    block_size: int = 256,
    previous: str | os.PathLike | None = None,
) -> None:
    """Phase-link the stack file ``slc_stack`` into ``linked``.

    Parameters
    ----------
    slc_stack : path
        ``/slc`` complex64 (N, rows, cols), ``/dates``, ``/sensing_times``, grid attributes.
    linked : path
        Output file, written atomically.
    options : PhaseLinkOptions
        Settings (the ``phase_linking`` config section).
    block_size : int
        Rows and columns of the core blocks.
    previous : path, optional
        ``linked.h5`` of the earlier acquisitions; ``slc_stack`` then holds only later dates.
        The output covers all dates.

    Raises
    ------
    ValueError, KeyError
        Naming the file and dataset or attribute at fault.
    """
    with h5py.File(slc_stack, "r") as src:
        if "slc" not in src:
            raise KeyError(f"{slc_stack}: no dataset /slc")
        slc = src["slc"]
        if slc.ndim != 3 or slc.dtype.kind != "c":
            raise ValueError(
                f"{slc_stack}: /slc must be complex (N, rows, cols), got {slc.dtype} {slc.shape}"
            )
        times = read_times(src)
        if len(times) != slc.shape[0]:
            raise ValueError(
                f"{slc_stack}: {len(times)} sensing times for {slc.shape[0]} SLCs in /slc"
            )
        grid = Grid.from_attrs(src.attrs)
        if grid.shape != slc.shape[1:]:
            raise ValueError(
                f"{slc_stack}: grid shape {grid.shape} != /slc image shape {slc.shape[1:]}"
            )
        root_attrs = {k: v for k, v in src.attrs.items() if not k.startswith("grid_")}
        prev = h5py.File(previous, "r") if previous is not None else None
        try:
            prev_times = _check_previous(prev, previous, grid, times, options) if prev else []
            with atomic_output(linked) as tmp, h5py.File(tmp, "w") as dst:
                _link_into(dst, slc, prev, grid, options, block_size, [*prev_times, *times])
                write_times(dst, [*prev_times, *times])
                dst.attrs.update(root_attrs)
                dst.attrs.update(grid.decimate(options.strides).to_attrs())
                dst.attrs["phase_linking"] = json.dumps(asdict(options))
                dst.attrs["reference_date"] = format_time([*prev_times, *times][0])
        finally:
            if prev is not None:
                prev.close()
    logger.info("wrote %s", linked)


def _link_into(dst, slc, prev, grid, options, block_size, all_times) -> None:
    """Create the output datasets of ``dst``, copy the previous batch in, run the engine."""
    n_new, rows, cols = slc.shape
    n_prev = len(all_times) - n_new
    n_all = n_prev + n_new
    new_ranges = [
        (n_prev + a, n_prev + b - 1) for a, b in ministacks(n_new, options.ministack_size)
    ]
    k_prev = prev["compressed_slc"].shape[0] if prev is not None else 0
    store = create_outputs(dst, grid, options, n_all, k_prev + len(new_ranges), block_size)
    store["slc"] = slc
    if prev is not None:
        _copy_previous(prev, store, n_prev, k_prev, block_size, options.closure_phases)
    run_engine(
        store, options, n_prev_dates=n_prev, n_prev_compressed=k_prev,
        block_shape=(block_size, block_size),
    )  # fmt: skip
    labels = [t.strftime("%Y%m%d") for t in all_times]
    new_labels = np.array([[labels[a], labels[b]] for a, b in new_ranges], "S8").reshape(-1, 2)
    if prev is not None:
        new_labels = np.concatenate([prev["compressed_slc_dates"][()].astype("S8"), new_labels])
    dst.create_dataset("compressed_slc_dates", data=new_labels)


def create_outputs(
    dst: h5py.Group,
    grid: Grid,
    options: PhaseLinkOptions,
    n_dates: int,
    n_compressed: int,
    block_size: int,
    *,
    snapshot: bool = False,
) -> dict[str, h5py.Dataset]:
    """Create the datasets of the ``linked.h5`` layout in ``dst`` for the SLC grid ``grid``.

    Returns the engine's store (:func:`~sar4tec.phaselink.engine.run_engine`) without
    ``slc``: ``phase`` and ``closure_phase`` (NaN-filled) for ``n_dates`` dates,
    ``compressed_slc`` with ``n_compressed`` slots, the amplitude statistics and the layers;
    with ``snapshot``, also the ``snapshot/...`` arrays of the continuation state.
    """
    rows, cols = grid.shape
    out_r, out_c = output_shape((rows, cols), options.strides)
    tile = (min(block_size, rows), min(block_size, cols))
    out_tile = (min(block_size, out_r), min(block_size, out_c))
    store = {}
    store["phase"] = dst.create_dataset(
        "phase", (n_dates, out_r, out_c), np.float32, chunks=(1, *out_tile), fillvalue=np.nan
    )
    store["compressed_slc"] = dst.create_dataset(
        "compressed_slc", (n_compressed, rows, cols), np.complex64, chunks=(1, *tile)
    )
    dst["compressed_slc"].attrs.update(grid.to_attrs())
    prefixes = [("", "")] + ([("snapshot/", f"{SNAPSHOT}/")] if snapshot else [])
    for key_prefix, path_prefix in prefixes:
        for key, name, dtype in _STATS:
            store[key_prefix + key] = dst.create_dataset(
                f"{path_prefix}amplitude_stats/{name}", (rows, cols), dtype, chunks=tile
            )
        dst[f"{path_prefix}amplitude_stats"].attrs.update(grid.to_attrs())
        for name in LAYERS_2D:
            store[key_prefix + name] = dst.create_dataset(
                path_prefix + name, (out_r, out_c), LAYER_DTYPES[name], chunks=out_tile
            )
    if options.closure_phases:
        store["closure_phase"] = dst.create_dataset(
            "closure_phase", (max(n_dates - 2, 0), out_r, out_c), np.float32,
            chunks=(1, *out_tile), fillvalue=np.nan,
        )  # fmt: skip
    return store


def _check_previous(prev, path, grid, times, options) -> list:
    """Check that ``prev`` (an earlier linked.h5) can be continued; return its sensing times."""
    for key in ("phase", "compressed_slc", "compressed_slc_dates", "amplitude_stats/count"):
        if key not in prev:
            raise KeyError(f"{path}: no dataset /{key}; it cannot be continued")
    prev_grid = Grid.from_attrs(prev["compressed_slc"].attrs)
    if prev_grid != grid:
        raise ValueError(f"{path}: SLC grid {prev_grid} differs from the new stack's {grid}")
    stored = json.loads(prev.attrs["phase_linking"])
    for key in _CONTINUITY:
        old = tuple(stored[key]) if isinstance(stored[key], list) else stored[key]
        if old != getattr(options, key):
            raise ValueError(
                f"{path}: phase_linking.{key} was {old!r}, now {getattr(options, key)!r}; "
                "a continued batch must use the same setting"
            )
    prev_times = read_times(prev)
    if prev_times and times and times[0] <= prev_times[-1]:
        raise ValueError(
            f"{path}: the new stack starts at {format_time(times[0])}, not after the last "
            f"processed date {format_time(prev_times[-1])}"
        )
    return prev_times


def _copy_previous(prev, store, n_prev, k_prev, block_size, closure) -> None:
    """Copy the earlier batch's outputs into the new file, block by block."""
    rows, cols = store["amp_count"].shape
    out_r, out_c = store["temporal_coherence"].shape
    for r0 in range(0, rows, block_size):
        for c0 in range(0, cols, block_size):
            sl = (slice(r0, r0 + block_size), slice(c0, c0 + block_size))
            store["compressed_slc"][(slice(0, k_prev), *sl)] = prev["compressed_slc"][
                (slice(None), *sl)
            ]
            for key, name, _ in _STATS:
                store[key][sl] = prev[f"amplitude_stats/{name}"][sl]
    for r0 in range(0, out_r, block_size):
        for c0 in range(0, out_c, block_size):
            sl = (slice(r0, r0 + block_size), slice(c0, c0 + block_size))
            store["phase"][(slice(0, n_prev), *sl)] = prev["phase"][(slice(None), *sl)]
            for name in LAYERS_2D:
                store[name][sl] = prev[name][sl]
            if closure and "closure_phase" in prev and n_prev > 2:
                store["closure_phase"][(slice(0, n_prev - 2), *sl)] = prev["closure_phase"][
                    (slice(None), *sl)
                ]


#: group of ``linked.h5`` holding the state after its last complete ministack
SNAPSHOT = "continuation"

_STATS = (
    ("amp_count", "count", np.int32),
    ("amp_mean", "mean", np.float64),
    ("amp_m2", "m2", np.float64),
)
