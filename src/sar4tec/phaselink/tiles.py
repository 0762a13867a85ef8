"""Phase linking over spatial tiles: plan, one tile per job, gather; continuation from history.

A frame is cut into square *core* tiles (a multiple of the strides).  A tile job phase-links
its core plus a halo and keeps the whole *region* in its tile file; the gather copies the
cores into ``linked.h5``.  The halo must cover the dependency cone of the sequential
estimator: an output pixel of ministack m depends on the compressed SLCs of ministack m - 1 in
its window, which depend on their own windows, and so on, so every ministack a tile computes
adds one half window (rounded up to the strides, plus one stride for the output cell) to the
halo.  With this halo every core pixel sees the same samples as in an untiled run; results
differ only by the eigenvector iteration tolerance, because each pixel's iteration starts from
its neighbour's solution and a tile starts that chain elsewhere (see ``docs/phase_linking.md``).

*Continuation.*  ``linked.h5`` carries, in its group ``/continuation``, the state after its
last *complete* ministack (amplitude statistics and layers), with a hash of the options and a
fingerprint of the SLCs of those dates.  The gather hard-links ``linked.h5`` to a history file
that Snakemake does not own; when the workflow reruns after dates were appended, each tile job
continues from it: compressed SLCs of the complete ministacks are reused and the dates from the
first incomplete ministack on are read and linked, so the result equals a full run (same
ministacks, same windows).  Any mismatch (options, grid, dates, SLC fingerprint) falls back to
a full run and logs why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import atomic_output, format_time, read_times, write_times
from sar4tec.grid import Grid
from sar4tec.phaselink.api import output_shape
from sar4tec.phaselink.engine import LAYERS_2D, ministacks, run_engine
from sar4tec.phaselink.io import _STATS, SNAPSHOT, create_outputs
from sar4tec.phaselink.memory import block_size_for_memory
from sar4tec.phaselink.options import PhaseLinkOptions

logger = logging.getLogger(__name__)

#: automatic tile size: about this many tiles per frame, sides a multiple of TILE_ALIGN, within
#: [TILE_MIN, TILE_MAX] pixels
TILES_TARGET = 4
TILE_ALIGN = 64
TILE_MIN = 128
TILE_MAX = 2048

#: side of the central SLC patch whose samples fingerprint the dates a history covers
FINGERPRINT_SIZE = 32


@dataclass(frozen=True)
class TilePlan:
    """Tiles of a frame: SLC shape, tile side, cores ``(r0, r1, c0, c1)`` by name, dates."""

    shape: tuple[int, int]
    tile_size: int
    tiles: dict[str, tuple[int, int, int, int]]
    n_dates: int = 0

    def write(self, path: str | os.PathLike) -> None:
        """Write the plan as JSON (atomically)."""
        with atomic_output(path) as tmp:
            Path(tmp).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, path: str | os.PathLike) -> TilePlan:
        """Read a plan written by :meth:`write`."""
        raw = json.loads(Path(path).read_text())
        try:
            tiles = {k: tuple(v) for k, v in raw["tiles"].items()}
            return cls(tuple(raw["shape"]), int(raw["tile_size"]), tiles, int(raw["n_dates"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a tile plan ({exc})") from exc


def tile_size_for(
    shape: tuple[int, int], strides: tuple[int, int], tile_size: int | None = None
) -> int:
    """The tile side: ``tile_size`` checked, or derived from the frame size when None.

    The automatic side gives about :data:`TILES_TARGET` tiles, rounded up to a multiple of
    :data:`TILE_ALIGN` and of both strides and clipped to [:data:`TILE_MIN`, :data:`TILE_MAX`].

    Raises
    ------
    ValueError
        If ``tile_size`` is not a positive multiple of both strides (names the config key).
    """
    align = math.lcm(*strides)
    if tile_size is not None:
        if tile_size <= 0 or tile_size % align:
            raise ValueError(
                f"phase_linking.tile_size = {tile_size} must be a positive multiple of the "
                f"strides {tuple(strides)} (of {align})"
            )
        return int(tile_size)
    side = math.sqrt(shape[0] * shape[1] / TILES_TARGET)
    side = min(max(side, TILE_MIN), TILE_MAX)
    step = math.lcm(TILE_ALIGN, align)
    return int(math.ceil(side / step) * step)


def plan_tiles(
    shape: tuple[int, int],
    strides: tuple[int, int],
    tile_size: int | None = None,
    n_dates: int = 0,
) -> TilePlan:
    """Cut an SLC image of ``shape`` into core tiles named ``t0000``, ``t0001``, ... row-major."""
    side = tile_size_for(shape, strides, tile_size)
    rows, cols = shape
    cores = [
        (r0, min(r0 + side, rows), c0, min(c0 + side, cols))
        for r0 in range(0, rows, side)
        for c0 in range(0, cols, side)
    ]
    names = {f"t{k:04d}": core for k, core in enumerate(cores)}
    return TilePlan((rows, cols), side, names, n_dates)


def ministack_halo(options: PhaseLinkOptions) -> tuple[int, int]:
    """Halo (rows, cols) in SLC pixels that each ministack of a tile adds (a stride multiple)."""
    return tuple(
        s * (-(-h // s)) + s for h, s in zip(options.half_window, options.strides, strict=True)
    )


def write_tile_plan(
    slc_stack: str | os.PathLike,
    plan_path: str | os.PathLike,
    options: PhaseLinkOptions,
    tile_size: int | None = None,
) -> TilePlan:
    """Plan the tiles of the stack file ``slc_stack`` and write the plan to ``plan_path``."""
    with h5py.File(slc_stack, "r") as src:
        if "slc" not in src:
            raise KeyError(f"{slc_stack}: no dataset /slc")
        n_dates, *shape = src["slc"].shape
    plan = plan_tiles(tuple(shape), options.strides, tile_size, n_dates)
    plan.write(plan_path)
    logger.info(
        "%s: %d tile(s) of %d px for %s", plan_path, len(plan.tiles), plan.tile_size, plan.shape
    )
    return plan


def link_tile(
    slc_stack: str | os.PathLike,
    plan_path: str | os.PathLike,
    name: str,
    out: str | os.PathLike,
    options: PhaseLinkOptions,
    *,
    block_size: int = 256,
    history: str | os.PathLike | None = None,
    memory_mb: float | None = None,
    threads: int = 1,
) -> int:
    """Phase-link tile ``name`` of the plan into the tile file ``out``.

    Parameters
    ----------
    slc_stack : path
        ``slc_stack.h5`` of the frame.
    plan_path : path
        Tile plan (:func:`write_tile_plan`).
    name : str
        Tile name in the plan.
    out : path
        Tile file, written atomically: the engine's arrays over the tile's region (core and
        halo), phases only of the dates this job linked; attributes ``region``, ``core``,
        ``n_prev_dates``.
    options : PhaseLinkOptions
        Settings.
    block_size : int
        Rows and columns of the engine's blocks (memory bound), at most.
    history : path, optional
        ``linked.h5`` of an earlier run to continue from, if it fits (else: a full run).
    memory_mb : float, optional
        Memory limit of the job (``phase_linking.memory_mb``): the block side becomes the
        largest that fits (:func:`~sar4tec.phaselink.memory.block_size_for_memory`); raises
        MemoryError before any work if none does.
    threads : int
        Threads of the job (for the memory model).

    Returns
    -------
    int
        Number of leading dates taken from the history (0 for a full run).
    """
    plan = TilePlan.read(plan_path)
    if name not in plan.tiles:
        raise KeyError(f"{plan_path}: no tile {name!r}")
    r0, r1, c0, c1 = plan.tiles[name]
    block_size = block_size_for_memory(
        memory_mb, plan.n_dates, options, threads=threads, max_block=block_size
    )
    with h5py.File(slc_stack, "r") as src:
        slc = src["slc"]
        times = read_times(src)
        grid = Grid.from_attrs(src.attrs)
        if tuple(slc.shape[1:]) != plan.shape:
            raise ValueError(
                f"{plan_path}: planned for {plan.shape} px, but {slc_stack} has {slc.shape[1:]}"
            )
        prev = open_history(history, src, options)
        n_prev, k_prev = (
            (0, 0)
            if prev is None
            else (int(prev.attrs["n_dates"]), int(prev.attrs["n_compressed"]))
        )
        try:
            n_dates = len(times)
            ms = options.ministack_size
            n_batch = n_dates - n_prev
            m_batch = len(ministacks(n_batch, ms))
            boundary = n_dates // ms * ms
            halo = [m_batch * h for h in ministack_halo(options)]
            rr = slice(max(r0 - halo[0], 0), min(r1 + halo[0], grid.rows))
            cc = slice(max(c0 - halo[1], 0), min(c1 + halo[1], grid.cols))
            region = grid.window(rr, cc)
            sy, sx = options.strides
            with atomic_output(out) as tmp, h5py.File(tmp, "w") as dst:
                store = create_outputs(
                    dst, region, options, n_batch, k_prev + m_batch, block_size, snapshot=True
                )
                if prev is not None:
                    _copy_history(prev, store, (rr, cc), k_prev, (sy, sx), block_size)
                # the engine indexes dates from the first date of the frame
                store["slc"] = _Window(slc, (n_prev, rr.start, cc.start), (n_batch,) + region.shape)
                for key in ("phase", "closure_phase"):
                    if key in store:
                        ds = store[key]
                        store[key] = _Window(
                            ds, (-n_prev, 0, 0), (n_prev + ds.shape[0], *ds.shape[1:])
                        )
                run_engine(
                    store, options, n_prev_dates=n_prev, n_prev_compressed=k_prev,
                    block_shape=(block_size, block_size),
                    snapshot_at=boundary if boundary > 0 else None,
                )  # fmt: skip
                dst.attrs.update(
                    region=[rr.start, rr.stop, cc.start, cc.stop],
                    core=[r0, r1, c0, c1],
                    n_prev_dates=n_prev,
                    n_dates=n_dates,
                )
        finally:
            if prev is not None:
                prev.file.close()
    logger.info(
        "tile %s: core %s, region rows %d-%d cols %d-%d, blocks of %d px, dates %d-%d linked",
        name, (r0, r1, c0, c1), rr.start, rr.stop, cc.start, cc.stop, block_size, n_prev,
        n_dates - 1,
    )  # fmt: skip
    return int(n_prev)


def gather_tiles(
    slc_stack: str | os.PathLike,
    plan_path: str | os.PathLike,
    tile_files: dict[str, str | os.PathLike],
    linked: str | os.PathLike,
    options: PhaseLinkOptions,
    *,
    block_size: int = 256,
    history: str | os.PathLike | None = None,
) -> None:
    """Copy the cores of the tile files into ``linked`` (the ``linked.h5`` layout).

    Phases of dates a tile took from the history are copied from ``history``.  Afterwards
    ``history`` (if given) becomes a hard link to (or, across file systems, a copy of)
    ``linked``, for the next run to continue from.
    """
    plan = TilePlan.read(plan_path)
    if set(tile_files) != set(plan.tiles):
        raise ValueError(f"{plan_path}: tiles {sorted(plan.tiles)} != given {sorted(tile_files)}")
    sy, sx = options.strides
    with h5py.File(slc_stack, "r") as src:
        times = read_times(src)
        grid = Grid.from_attrs(src.attrs)
        root_attrs = {k: v for k, v in src.attrs.items() if not k.startswith("grid_")}
        n_dates = len(times)
        ranges = ministacks(n_dates, options.ministack_size)
        boundary = n_dates // options.ministack_size * options.ministack_size
        fingerprint = slc_fingerprint(src["slc"], boundary)
    hist = h5py.File(history, "r") if history is not None and Path(history).exists() else None
    try:
        with atomic_output(linked) as tmp, h5py.File(tmp, "w") as dst:
            store = create_outputs(
                dst, grid, options, n_dates, len(ranges), block_size, snapshot=boundary > 0
            )
            for name, path in tile_files.items():
                with h5py.File(path, "r") as tile:
                    if tuple(tile.attrs["core"]) != plan.tiles[name]:
                        raise ValueError(f"{path}: core {tile.attrs['core']} != plan {name}")
                    if tile.attrs["n_dates"] != n_dates:
                        raise ValueError(f"{path}: {tile.attrs['n_dates']} dates, stack {n_dates}")
                    n_prev = int(tile.attrs["n_prev_dates"])
                    if n_prev and hist is None:
                        raise FileNotFoundError(f"{path} continues from {history}: it is missing")
                    _copy_core(tile, hist, store, n_prev, (sy, sx), block_size)
            labels = [t.strftime("%Y%m%d") for t in times]
            dst.create_dataset(
                "compressed_slc_dates",
                data=np.array([[labels[a], labels[b - 1]] for a, b in ranges], "S8").reshape(-1, 2),
            )
            write_times(dst, times)
            dst.attrs.update(root_attrs)
            dst.attrs.update(grid.decimate(options.strides).to_attrs())
            dst.attrs["phase_linking"] = json.dumps(asdict(options))
            dst.attrs["reference_date"] = format_time(times[0])
            if boundary > 0:
                dst[SNAPSHOT].attrs.update(
                    n_dates=boundary,
                    n_compressed=boundary // options.ministack_size,
                    options_hash=options_hash(options),
                    fingerprint=fingerprint,
                )
    finally:
        if hist is not None:
            hist.close()
    logger.info("wrote %s from %d tile(s)", linked, len(tile_files))
    if history is not None:
        keep_history(linked, history)


def options_hash(options: PhaseLinkOptions) -> str:
    """SHA-256 of the options as sorted JSON (every option changes the result)."""
    return hashlib.sha256(json.dumps(asdict(options), sort_keys=True).encode()).hexdigest()


def slc_fingerprint(slc: h5py.Dataset, n_dates: int) -> str:
    """SHA-256 of the central ``FINGERPRINT_SIZE``^2 SLC patch of the first ``n_dates`` dates.

    Cheap (one small read), and different for any other realisation or processing of the
    stack, so a history is never continued with SLCs it was not made from.
    """
    rows, cols = slc.shape[1:]
    r0 = max(rows // 2 - FINGERPRINT_SIZE // 2, 0)
    c0 = max(cols // 2 - FINGERPRINT_SIZE // 2, 0)
    patch = np.ascontiguousarray(
        slc[:n_dates, r0 : r0 + FINGERPRINT_SIZE, c0 : c0 + FINGERPRINT_SIZE], np.complex64
    )
    return hashlib.sha256(patch.tobytes()).hexdigest()


def open_history(
    history: str | os.PathLike | None, src: h5py.File, options: PhaseLinkOptions
) -> h5py.Group | None:
    """The ``/continuation`` group of ``history`` if the stack ``src`` can continue from it.

    Returns None (and logs why) when there is no usable history: missing file or group,
    other options (hash), other grid, fewer dates, other sensing times or other SLCs
    (fingerprint) of the covered dates.  The caller closes ``group.file``.
    """
    if history is None or not Path(history).exists():
        return None
    try:
        f = h5py.File(history, "r")
    except OSError as exc:
        logger.warning("history %s unreadable (%s): full run", history, exc)
        return None
    reason = _history_mismatch(f, src, options)
    if reason:
        logger.info("history %s not continued: %s; full run", history, reason)
        f.close()
        return None
    group = f[SNAPSHOT]
    logger.info(
        "continuing from history %s: %d dates, %d compressed SLCs",
        history, group.attrs["n_dates"], group.attrs["n_compressed"],
    )  # fmt: skip
    return group


def _history_mismatch(f: h5py.File, src: h5py.File, options: PhaseLinkOptions) -> str | None:
    """Why the history file ``f`` cannot be continued with the stack ``src`` (None: it can)."""
    if SNAPSHOT not in f:
        return f"no /{SNAPSHOT} group (fewer dates than one ministack)"
    attrs = f[SNAPSHOT].attrs
    if attrs["options_hash"] != options_hash(options):
        return "phase_linking options changed (options hash)"
    if Grid.from_attrs(f["compressed_slc"].attrs) != Grid.from_attrs(src.attrs):
        return "the SLC grid changed"
    n = int(attrs["n_dates"])
    times = read_times(src)
    if len(times) < n or read_times(f)[:n] != times[:n]:
        return f"the stack's first {n} sensing times differ from the history's"
    if slc_fingerprint(src["slc"], n) != attrs["fingerprint"]:
        return f"the SLCs of the first {n} dates differ (fingerprint)"
    return None


def keep_history(linked: str | os.PathLike, history: str | os.PathLike) -> None:
    """Make ``history`` a hard link to ``linked`` (a copy across file systems), atomically."""
    history = Path(history)
    with atomic_output(history) as tmp:
        try:
            os.link(linked, tmp)
        except OSError:
            shutil.copyfile(linked, tmp)
    logger.info("kept %s as history %s", linked, history)


class _Window:
    """Array-like view of ``array`` shifted by ``offset`` (basic slices with step 1 only)."""

    def __init__(self, array, offset: tuple[int, ...], shape: tuple[int, ...]):
        self.array = array
        self.offset = offset
        self.shape = shape

    def _key(self, key):
        key = key if isinstance(key, tuple) else (key,)
        out = []
        for k, off, size in zip(key, self.offset, self.shape, strict=False):
            start, stop, step = k.indices(size)
            if step != 1:
                raise IndexError("_Window supports slices with step 1 only")
            out.append(slice(start + off, stop + off))
        return tuple(out)

    def __getitem__(self, key):
        return self.array[self._key(key)]

    def __setitem__(self, key, value):
        self.array[self._key(key)] = value


def _blocks(start: int, stop: int, size: int):
    for a in range(start, stop, size):
        yield a, min(a + size, stop)


def _copy_history(prev, store, region, k_prev, strides, block_size) -> None:
    """Copy the history's compressed SLCs and continuation state over the tile's region."""
    f = prev.file
    (rr, cc), (sy, sx) = region, strides
    for a, b in _blocks(rr.start, rr.stop, block_size):
        for c, d in _blocks(cc.start, cc.stop, block_size):
            dst = (slice(a - rr.start, b - rr.start), slice(c - cc.start, d - cc.start))
            store["compressed_slc"][(slice(0, k_prev), *dst)] = f["compressed_slc"][
                :k_prev, a:b, c:d
            ]
            for key, name, _ in _STATS:
                store[key][dst] = prev[f"amplitude_stats/{name}"][a:b, c:d]
    out_r, out_c = store[LAYERS_2D[0]].shape
    o_r, o_c = rr.start // sy, cc.start // sx
    for a, b in _blocks(0, out_r, block_size):
        for name in LAYERS_2D:
            store[name][a:b] = prev[name][o_r + a : o_r + b, o_c : o_c + out_c]


def _copy_core(tile, hist, store, n_prev, strides, block_size) -> None:
    """Copy the core of one tile file (and its history dates) into the gathered store."""
    sy, sx = strides
    r0, r1, c0, c1 = (int(v) for v in tile.attrs["core"])
    rr0, _, cc0, _ = (int(v) for v in tile.attrs["region"])
    rows, cols = store["amp_count"].shape
    out_r, out_c = output_shape((rows, cols), strides)
    keys_slc = ["amp_count", "amp_mean", "amp_m2"]
    if "snapshot/amp_count" in store:
        keys_slc += ["snapshot/" + k for k in keys_slc]
    keys_out = list(LAYERS_2D) + (
        ["snapshot/" + k for k in LAYERS_2D] if "snapshot/amp_count" in store else []
    )
    for a, b in _blocks(r0, r1, block_size):
        for c, d in _blocks(c0, c1, block_size):
            src = (slice(a - rr0, b - rr0), slice(c - cc0, d - cc0))
            store["compressed_slc"][:, a:b, c:d] = tile["compressed_slc"][(slice(None), *src)]
            for key in keys_slc:
                store[key][a:b, c:d] = _tile_dataset(tile, key)[src]
    o_r0, o_r1 = r0 // sy, min(-(-r1 // sy), out_r)
    o_c0, o_c1 = c0 // sx, min(-(-c1 // sx), out_c)
    t_r, t_c = rr0 // sy, cc0 // sx
    closure = "closure_phase" in store
    for a, b in _blocks(o_r0, o_r1, block_size):
        for c, d in _blocks(o_c0, o_c1, block_size):
            src = (slice(a - t_r, b - t_r), slice(c - t_c, d - t_c))
            store["phase"][n_prev:, a:b, c:d] = tile["phase"][(slice(None), *src)]
            if n_prev:
                store["phase"][:n_prev, a:b, c:d] = hist["phase"][:n_prev, a:b, c:d]
            if closure:
                n_cl = tile["closure_phase"].shape[0]
                store["closure_phase"][n_prev : n_prev + n_cl, a:b, c:d] = tile["closure_phase"][
                    (slice(None), *src)
                ]
                if n_prev > 2:
                    store["closure_phase"][: n_prev - 2, a:b, c:d] = hist["closure_phase"][
                        : n_prev - 2, a:b, c:d
                    ]
            for key in keys_out:
                store[key][a:b, c:d] = _tile_dataset(tile, key)[src]


def _tile_dataset(tile: h5py.File, key: str) -> h5py.Dataset:
    """The dataset of a tile file behind a store key of :func:`create_outputs`."""
    prefix, _, name = key.rpartition("/")
    path = f"{SNAPSHOT}/" if prefix else ""
    for k, n, _ in _STATS:
        if name == k:
            return tile[f"{path}amplitude_stats/{n}"]
    return tile[path + name]
