"""Peak memory of an inversion job, and the block size that keeps it under a limit.

The inversion (``sar4tec.timeseries.stage``) holds one block of pixels at a time: the
unwrapped phases, correlations and coherences of every interferogram, the correction layers
and the time series of every date, in float64, with the IRLS/least-squares work arrays.  Its
memory therefore depends on the block side, the interferograms and the dates, not on the
frame size (``benchmarks/memory.py`` measures it).
"""

from __future__ import annotations

import math

#: resident memory of a job before its first block: the script's Python with numpy, numba,
#: h5py and the kernels (~300 MB), plus the job's own Snakemake process (~130 MB), MiB
BASELINE_MB = 450.0
#: temporaries of numpy expressions on top of the arrays counted below
OVERHEAD = 2.0
#: smallest block side
MIN_BLOCK = 16

_MB = 2.0**20


def inversion_peak_mb(
    block_size: int, n_dates: int, n_interferograms: int, n_corrections: int = 3
) -> float:
    """Peak resident memory (MiB) of the inversion with blocks of ``block_size``^2 pixels.

    Per pixel: three float64 arrays per interferogram (unwrapped phase, correlation,
    coherence) and their weights and residuals (3 more), and per date the raw and corrected
    displacement plus each correction layer (float64).
    """
    per_pixel = 8 * (6 * n_interferograms + (4 + n_corrections) * n_dates)
    return BASELINE_MB + block_size * block_size * per_pixel * OVERHEAD / _MB


def inversion_block_size(
    limit_mb: float | None,
    n_dates: int,
    n_interferograms: int,
    n_corrections: int = 3,
    *,
    max_block: int = 128,
) -> int:
    """Largest block side (multiple of :data:`MIN_BLOCK`, at most ``max_block``) under a limit.

    Raises
    ------
    MemoryError
        If even a :data:`MIN_BLOCK` block needs more than ``limit_mb``, naming
        ``inversion.memory_mb`` and both numbers.
    """
    if limit_mb is None:
        return max_block
    per_block = [
        b
        for b in range(MIN_BLOCK, max(max_block, MIN_BLOCK) + 1, MIN_BLOCK)
        if inversion_peak_mb(b, n_dates, n_interferograms, n_corrections) <= limit_mb
    ]
    if not per_block:
        need = inversion_peak_mb(MIN_BLOCK, n_dates, n_interferograms, n_corrections)
        raise MemoryError(
            f"inversion.memory_mb = {limit_mb} MB is too small: {n_interferograms} "
            f"interferograms of {n_dates} dates need {math.ceil(need)} MB even with "
            f"{MIN_BLOCK} x {MIN_BLOCK} px blocks"
        )
    return per_block[-1]
