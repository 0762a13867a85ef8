"""The ``unwrap`` stage: linked phases → network of unwrapped interferograms on disk.

Steps: form the network; for each pair, the wrapped interferogram of the linked phases and
its box coherence, unwrapped by SNAPHU (several interferograms at a time in threads, each
SNAPHU run a child process) or, with ``method: spurt``, all interferograms at once at the
selected pixels by spurt's spatio-temporal EMCF; choose the reference point; tie every
interferogram to it by an integer number of cycles; check the closure of every triplet and
correct (or mask) the unwrapping errors, block by block.  Output layout:
``docs/architecture.md`` (unwrap row).
"""

from __future__ import annotations

import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sar4tec.constants import SENTINEL1_WAVELENGTH, los_to_phase
from sar4tec.files import atomic_output, read_times, write_times
from sar4tec.grid import Grid
from sar4tec.stack import iter_blocks
from sar4tec.unwrap.cache import cached_unwrap, interferogram_key
from sar4tec.unwrap.closure import correct_closure, unclosed
from sar4tec.unwrap.network import make_network, triplets
from sar4tec.unwrap.reference_point import select_reference, user_pixel
from sar4tec.unwrap.snaphu_adapter import boxcar_coherence, snaphu_unwrap
from sar4tec.unwrap.spurt_adapter import spurt_unwrap

log = logging.getLogger(__name__)
TWO_PI = 2.0 * np.pi


@contextlib.contextmanager
def _quiet_stdout():
    """Send the file descriptor 1 (SNAPHU's chatter) to /dev/null for the block."""
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def read_water_mask(geometry_path: str | Path, grid: Grid) -> np.ndarray:
    """``/water_mask`` of a geometry file as bool, checked against ``grid``."""
    with h5py.File(geometry_path, "r") as g:
        if "water_mask" not in g:
            raise KeyError(f"{geometry_path}: no /water_mask dataset")
        water = g["water_mask"][()] == 1
        if "grid_transform" in g.attrs and Grid.from_attrs(g.attrs) != grid:
            raise ValueError(f"{geometry_path}: grid differs from the linked phases' grid")
    if water.shape != grid.shape:
        raise ValueError(f"{geometry_path}: /water_mask {water.shape} != grid {grid.shape}")
    return water


def run_unwrap(
    linked_path: str | Path,
    geometry_path: str | Path,
    out_path: str | Path,
    config: dict[str, Any],
    workers: int = 1,
    correction_paths: dict[str, str | Path] | None = None,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the unwrap stage.

    Parameters
    ----------
    linked_path : path
        ``phase_linking/linked.h5`` (``/phase``, ``/temporal_coherence``, dates, grid).
    geometry_path : path
        ``geometry.h5`` on the output grid (``/water_mask``).
    out_path : path
        ``unwrap/unwrapped.h5`` to write.
    config : dict
        The validated ``unwrap`` config section.
    workers : int
        Interferograms unwrapped concurrently.
    correction_paths : dict, optional
        Correction kind → ``corrections/<kind>.h5``; the kinds in ``unwrap.precorrect`` are
        removed from the wrapped phase before unwrapping and added back after (fewer
        fringes to unwrap; the output stays congruent with the uncorrected phase).
    cache_dir : path, optional
        Folder of unwrapped interferograms keyed by SNAPHU's inputs
        (:mod:`sar4tec.unwrap.cache`): a rerun after appended dates unwraps only the
        interferograms whose inputs changed.

    Returns
    -------
    dict
        Summary: number of interferograms, triplets, reference pixel, closure counts.
    """
    snap = config["snaphu"]
    with ExitStack() as stack:
        linked = stack.enter_context(h5py.File(linked_path, "r"))
        for key in ("phase", "temporal_coherence", "sensing_times"):
            if key not in linked:
                raise KeyError(f"{linked_path}: no /{key} dataset")
        grid = Grid.from_attrs(linked.attrs)
        times = read_times(linked)
        phase_ds = linked["phase"]
        n_dates = phase_ds.shape[0]
        if phase_ds.shape[1:] != grid.shape or n_dates != len(times):
            raise ValueError(
                f"{linked_path}: /phase {phase_ds.shape} does not match the grid {grid.shape} "
                f"and {len(times)} dates"
            )
        tcoh = linked["temporal_coherence"][()]
        wavelength = float(linked.attrs.get("wavelength", SENTINEL1_WAVELENGTH))
        model = _phase_model(stack, correction_paths, config["precorrect"], times, grid, wavelength)
        water = read_water_mask(geometry_path, grid)
        if config["reference"]["method"] == "latlon":  # fail before hours of unwrapping
            user_pixel(grid, water, config["reference"]["lat"], config["reference"]["lon"])
        pairs = make_network(times, config["network"])
        n_ifg = len(pairs)
        trip = triplets(pairs)
        log.info("network %s: %d interferograms, %d triplets", config["network"]["type"],
                 n_ifg, len(trip))  # fmt: skip
        if config["closure"]["action"] != "none" and len(trip) == 0:
            log.warning("the network has no triplets: unwrapping errors cannot be checked")
        net = config["network"]
        if net["type"] == "nearest" and net["neighbours"] <= 3 and config["method"] == "snaphu":
            log.warning(
                "nearest-%d network: a badly unwrapped date holds half (or more) of the "
                "interferograms bridging it, so its errors can become whole-cycle steps of all "
                "later dates; 6 neighbours avoid this (docs/unwrap.md)", net["neighbours"]
            )  # fmt: skip
        usable = ~water & (np.nan_to_num(tcoh) >= config["mask"]["temporal_coherence"])
        if not usable.any():
            raise ValueError(
                f"nothing to unwrap: every pixel is water ({int(water.sum())} of {water.size} "
                f"in {geometry_path}) or below unwrap.mask.temporal_coherence"
            )
        hits = np.zeros(n_ifg, bool)
        if config["method"] == "spurt":
            points, spurt_pairs, sparse = _spurt_points(linked, usable, config, workers, model)
            if not np.array_equal(spurt_pairs, pairs):
                raise RuntimeError("spurt's Hop-3 pairs differ from the nearest-3 network")

        def job(m: int):
            i, j = pairs[m]
            dm = model(j) - model(i)
            ifg = np.angle(np.exp(1j * (phase_ds[j].astype(np.float64) - phase_ds[i] - dm)))
            coh = boxcar_coherence(ifg, config["coherence_window"])
            if config["method"] == "spurt":
                unw = np.full(grid.shape, np.nan, np.float32)
                cc = np.zeros(grid.shape, np.uint16)
                unw[points[:, 0], points[:, 1]] = sparse[m]
                cc[points[:, 0], points[:, 1]] = 1
                return unw + dm, cc, coh
            unw, cc, hit = cached_unwrap(
                cache_dir, interferogram_key(ifg, coh, usable, snap),
                lambda: snaphu_unwrap(
                    ifg, coh, usable,
                    nlooks=snap["nlooks"], cost=snap["cost"], init=snap["init"],
                    ntiles=snap["ntiles"], tile_overlap=snap["tile_overlap"],
                    nproc=snap["nproc"], min_conncomp_frac=snap["min_conncomp_frac"],
                    single_tile_reoptimize=snap["single_tile_reoptimize"],
                ),
            )  # fmt: skip
            hits[m] = hit
            return unw + dm, cc, coh

        with atomic_output(out_path) as tmp, h5py.File(tmp, "w") as out:
            out.attrs.update(grid.to_attrs())
            write_times(out, times)
            out["pairs"] = pairs
            shape = (n_ifg, *grid.shape)
            chunks = (1, min(grid.rows, 256), min(grid.cols, 256))
            unw_ds = out.create_dataset("unwrapped_phase", shape, np.float32, chunks=chunks)
            cc_ds = out.create_dataset("connected_components", shape, np.uint16, chunks=chunks)
            coh_ds = out.create_dataset("coherence", shape, np.float32, chunks=chunks)
            with ThreadPoolExecutor(max(1, workers)) as pool, _quiet_stdout():
                for m, (unw, cc, coh) in enumerate(pool.map(job, range(n_ifg))):
                    unw_ds[m], cc_ds[m], coh_ds[m] = unw, cc, coh
                    if (m + 1) % max(1, n_ifg // 10) == 0 or m + 1 == n_ifg:
                        log.info("unwrapped %d/%d interferograms", m + 1, n_ifg)
            if cache_dir is not None and config["method"] == "snaphu":
                log.info("%d of %d interferograms from the cache %s", hits.sum(), n_ifg,
                         cache_dir)  # fmt: skip
            ref = select_reference(
                cc_ds, tcoh, water, grid, config["reference"]["method"],
                config["reference"]["lat"], config["reference"]["lon"],
                config["reference"]["window"],
            )  # fmt: skip
            log.info("reference pixel (%d, %d) lat %.5f lon %.5f, in the main component of "
                     "%d/%d interferograms", ref.row, ref.col, ref.lat, ref.lon, ref.n_main,
                     n_ifg)  # fmt: skip
            theta_ref = phase_ds[:, ref.row, ref.col].astype(np.float64)
            summary = _tie_and_close(
                unw_ds, cc_ds, pairs, trip, theta_ref, (ref.row, ref.col), config, out
            )
            out.attrs.update(
                {
                    "reference_row": ref.row,
                    "reference_col": ref.col,
                    "reference_lat": ref.lat,
                    "reference_lon": ref.lon,
                    "reference_method": ref.method,
                    "wavelength": wavelength,
                    "network": config["network"]["type"],
                    "unwrapper": config["method"],
                    "snaphu_cost": snap["cost"],
                    "snaphu_init": snap["init"],
                    "closure_action": config["closure"]["action"],
                    "phase_convention": "angle(sec * conj(ref)), sec = second date of the pair",
                }
            )
    summary.update(n_interferograms=n_ifg, n_triplets=len(trip), reference=ref)
    log.info(
        "closure: %d pixel-interferograms corrected at %d pixels, %d pixels unresolved "
        "(%d pixel-interferograms masked)",
        summary["n_corrected"], summary["n_pixels_corrected"], summary["n_unresolved"],
        summary["n_masked"],
    )  # fmt: skip
    return summary


def _phase_model(stack, paths, kinds, times, grid, wavelength):
    """Function date index → phase (rad) of the sum of the ``kinds`` correction layers."""
    layers = []
    for kind in kinds:
        if not paths or kind not in paths:
            raise KeyError(
                f"unwrap.precorrect lists {kind!r} but no such correction layer is given"
            )
        f = stack.enter_context(h5py.File(paths[kind], "r"))
        if "correction" not in f or f["correction"].shape != (len(times), *grid.shape):
            raise ValueError(f"{paths[kind]}: no /correction of shape ({len(times)}, {grid.shape})")
        check_times(read_times(f), times, paths[kind])
        layers.append(f["correction"])
    if kinds:
        log.info("removed before unwrapping and restored after: %s", ", ".join(kinds))

    def model(k: int) -> np.ndarray | float:
        return (
            los_to_phase(sum(d[k].astype(np.float64) for d in layers), wavelength)
            if layers
            else 0.0
        )

    return model


def check_times(times, expected, path, tolerance_s: float = 60.0) -> None:
    """Raise if ``times`` (of the file ``path``) are not the acquisitions ``expected``.

    Stages may take the sensing time from different metadata (e.g. burst start vs. frame
    start), so times within ``tolerance_s`` are the same acquisition.
    """
    if len(times) != len(expected):
        raise ValueError(f"{path}: {len(times)} dates where {len(expected)} are expected")
    for a, b in zip(times, expected, strict=True):
        if abs((a - b).total_seconds()) > tolerance_s:
            raise ValueError(f"{path}: acquisition {a.isoformat()} where {b.isoformat()} "
                             "is expected")  # fmt: skip


def _spurt_points(linked, usable, config, workers, model):
    """Unwrap the selected points with spurt: (points, pairs, unwrapped (M, P)).

    The phase ``model`` is removed from each date before and left out of the result (the
    caller adds it back per interferogram).
    """
    net = config["network"]
    if net["type"] != "nearest" or net["neighbours"] != 3:
        raise ValueError(
            "unwrap.method 'spurt' unwraps spurt's Hop-3 graph: set unwrap.network.type to "
            "'nearest' and unwrap.network.neighbours to 3"
        )
    tcoh = np.nan_to_num(linked["temporal_coherence"][()])
    chosen = tcoh >= config["spurt"]["temporal_coherence"]
    if config["spurt"]["include_ps"] and "ps_mask" in linked:
        chosen |= linked["ps_mask"][()] == 1
    points = np.argwhere(chosen & usable)
    rows, cols = points[:, 0], points[:, 1]
    phase = np.stack([
        linked["phase"][k][rows, cols] - np.broadcast_to(model(k), usable.shape)[rows, cols]
        for k in range(linked["phase"].shape[0])
    ])  # fmt: skip
    log.info("spurt EMCF on %d points", len(points))
    pairs, sparse = spurt_unwrap(phase, points, workers)
    return points, pairs, sparse


def _tie_and_close(unw_ds, cc_ds, pairs, trip, theta_ref, ref_rc, config, out) -> dict[str, Any]:
    """Tie each interferogram to the reference pixel, then check/correct closures blockwise.

    At the reference pixel every interferogram is set (by whole cycles) to
    ``theta_j - theta_i`` of the reference pixel's linked phases, a consistent set, so the
    reference itself closes exactly.  Only pixels in the reference's component of each
    interferogram take part; other components keep their own unknown offsets and are
    left to the inversion's masks.
    """
    n_ifg = len(pairs)
    r0, c0 = ref_rc
    target = theta_ref[pairs[:, 1]] - theta_ref[pairs[:, 0]]
    shift = np.round((unw_ds[:, r0, c0].astype(np.float64) - target) / TWO_PI)
    shift = np.nan_to_num(shift)
    labels = cc_ds[:, r0, c0].astype(np.int64)
    action = config["closure"]["action"]
    rows, cols = unw_ds.shape[1:]
    fixed_per_ifg = np.zeros(n_ifg, dtype=np.int64)
    fixed_map = np.zeros((rows, cols), dtype=np.uint16)
    unresolved_map = np.zeros((rows, cols), dtype=np.uint8)
    n_masked = 0
    block = config["block_size"]
    for b in iter_blocks((rows, cols), (block, block)):
        sl = (slice(None), *b.core)
        unw = unw_ds[sl].astype(np.float64) - TWO_PI * shift[:, None, None]
        cc = cc_ds[sl]
        main = (cc == labels[:, None, None]) & (labels[:, None, None] > 0)
        flat = np.where(main, unw, np.nan).reshape(n_ifg, -1)
        if action == "correct" and len(trip):
            cycles, unresolved, bad = correct_closure(flat, trip, pairs, len(theta_ref))
            flat = flat + TWO_PI * cycles
            changed = cycles != 0
            fixed_per_ifg += changed.sum(axis=1)
            fixed_map[b.core] = changed.sum(axis=0).reshape(fixed_map[b.core].shape)
        elif action == "mask" and len(trip):
            bad, unresolved = unclosed(flat, trip)
        else:
            bad = np.zeros(flat.shape, dtype=bool)
            unresolved = np.zeros(flat.shape[1], dtype=bool)
        unresolved_map[b.core] = unresolved.reshape(unresolved_map[b.core].shape)
        n_masked += int(bad.sum())
        flat[bad] = np.nan
        unw = np.where(main, flat.reshape(unw.shape), unw)
        cc = np.where(bad.reshape(cc.shape), 0, cc)
        unw_ds[sl] = unw.astype(np.float32)
        cc_ds[sl] = cc
    out["closure_fixed"] = fixed_per_ifg.astype(np.int32)
    out["closure_fixed"].attrs["description"] = (
        "pixels corrected by whole cycles in each interferogram (triplet closure)"
    )
    out["closure_fixed_map"] = fixed_map
    out["closure_fixed_map"].attrs["description"] = "interferograms corrected at each pixel"
    out["closure_unresolved"] = unresolved_map
    out["closure_unresolved"].attrs["description"] = (
        "1 where some triplet closure stayed non-zero; the interferograms involved are masked"
    )
    out["reference_shift_cycles"] = shift.astype(np.int32)
    summary = {
        "n_corrected": int(fixed_per_ifg.sum()),
        "n_pixels_corrected": int((fixed_map > 0).sum()),
        "n_unresolved": int(unresolved_map.sum()),
        "n_masked": n_masked,
    }
    out.attrs.update({f"closure_{k}": v for k, v in summary.items()})
    return summary
