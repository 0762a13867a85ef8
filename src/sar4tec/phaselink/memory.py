"""Peak memory of a phase-linking job, and the block size that keeps it under a limit.

A job holds one block at a time (``sar4tec.phaselink.engine``), so its memory depends on the
block side, the number of dates and the window, never on the frame or tile size.  The model
adds up the arrays alive at the peak of each pass (bytes per element in the comments) and a
fixed baseline (interpreter, numpy/numba/h5py and the compiled kernels); the benchmark
``benchmarks/memory.py`` checks it against measured peak RSS.
"""

from __future__ import annotations

import math

from sar4tec.phaselink.options import PhaseLinkOptions

#: resident memory of a job before its first block: the script's Python with numpy, numba,
#: h5py and the kernels (~300 MB), plus the job's own Snakemake process (~130 MB), MiB
BASELINE_MB = 450.0
#: h5py chunk caches (1 MiB per open dataset, about 20 datasets open), MiB
CHUNK_CACHE_MB = 20.0
#: temporaries of numpy expressions on top of the arrays counted below
OVERHEAD = 1.5
#: smallest block side the engine is given
MIN_BLOCK = 16

_MB = 2.0**20


def phase_linking_peak_mb(
    block_size: int, n_dates: int, options: PhaseLinkOptions, threads: int = 1
) -> float:
    """Peak resident memory (MiB) of phase linking with blocks of ``block_size``^2 pixels.

    Parameters
    ----------
    block_size : int
        Core block side (SLC pixels).
    n_dates : int
        Dates of the stack (the amplitude pass and the KS test read all of them).
    options : PhaseLinkOptions
        Window, strides, ministack size, compressed SLCs, SHP method.
    threads : int
        Threads of the job (each keeps its own column sums and solver scratch).
    """
    hy, hx = options.half_window
    sy, sx = options.strides
    core = block_size * block_size
    read = (block_size + 4 * hy) * (block_size + 4 * hx)  # the engine's halo is 2 h
    out = core / (sy * sx)
    n_real = min(n_dates, options.ministack_size)
    n = n_real + min(options.max_compressed, max(-(-n_dates // options.ministack_size) - 1, 0))
    # pass 1: complex64 block of all dates (8) and its amplitudes (float32, 4)
    pass1 = core * n_dates * 12 + core * 3 * 8
    # pass 2: real + compressed samples as read (8) and pixel-major float32 re/im (8);
    # statistics (3 x 8) and log intensity (8); linked phasors (8) and phases (4 x 2)
    pass2 = read * n * 16 + read * 32 + out * n * 16 + core * n_real * 8
    if options.shp_method != "rect":
        pass2 += out * (2 * hy + 1) * (2 * hx + 1)  # SHP mask, uint8
    if options.shp_method == "ks":
        pass2 += read * n_dates * 4  # sorted amplitudes of all dates, float32
    per_thread = (block_size + 4 * hx) * n * (n + 1) / 2 * 16 + 8 * n * n * 8
    arrays = max(pass1, pass2 + threads * per_thread) * OVERHEAD
    return BASELINE_MB + CHUNK_CACHE_MB + arrays / _MB


def block_size_for_memory(
    limit_mb: float | None,
    n_dates: int,
    options: PhaseLinkOptions,
    *,
    threads: int = 1,
    max_block: int = 512,
    key: str = "phase_linking.memory_mb",
) -> int:
    """Largest block side (a multiple of :data:`MIN_BLOCK`, at most ``max_block``) under a limit.

    ``limit_mb`` None means no limit: ``max_block``.

    Raises
    ------
    MemoryError
        If even a :data:`MIN_BLOCK` block needs more than ``limit_mb``; the message names the
        config ``key`` and both numbers.
    """
    if limit_mb is None:
        return max_block
    fits = [
        b
        for b in range(MIN_BLOCK, max(max_block, MIN_BLOCK) + 1, MIN_BLOCK)
        if phase_linking_peak_mb(b, n_dates, options, threads) <= limit_mb
    ]
    if not fits:
        need = phase_linking_peak_mb(MIN_BLOCK, n_dates, options, threads)
        raise MemoryError(
            f"{key} = {limit_mb} MB is too small: phase linking of {n_dates} dates needs "
            f"{math.ceil(need)} MB even with {MIN_BLOCK} x {MIN_BLOCK} px blocks"
        )
    return fits[-1]
