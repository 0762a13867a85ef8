"""Peak memory of an unwrap job from the frame size, for the rule's ``mem_mb``.

An unwrap job runs ``workers`` SNAPHU processes at once, each on one interferogram, and holds
the wrapped phase, coherence, unwrapped phase and component labels of those interferograms in
Python.  Both parts scale with the pixels of one interferogram.  The coefficients are
measured peaks of ``benchmarks/unwrap.py`` (``benchmarks/results/unwrap.json``: SNAPHU
124 MB at 1000², 441 MB at 2000², 1.58 GB at 4000² in one tile; Python 208 MB and 510 MB),
rounded up.
"""

from __future__ import annotations

#: resident memory of the job before its first interferogram (Python, numpy, numba), MiB
BASELINE_MB = 300.0
#: SNAPHU's peak per pixel of the interferogram (measured: 80–124 bytes), bytes
SNAPHU_BYTES_PER_PIXEL = 130.0
#: the Python side per pixel and interferogram in flight (measured: ~75–100 bytes), bytes
PYTHON_BYTES_PER_PIXEL = 100.0


def unwrap_peak_mb(shape: tuple[int, int], workers: int) -> float:
    """Peak resident memory (MiB) of unwrapping interferograms of ``shape`` pixels.

    Parameters
    ----------
    shape : (rows, cols)
        Output grid of the linked phases.
    workers : int
        Interferograms unwrapped at the same time.

    Notes
    -----
    SNAPHU's tiled mode does not lower the peak reliably (it assembles the whole
    interferogram for the secondary network: 80 bytes per pixel in 4 x 4 tiles, 107 with the
    single-tile re-optimisation, 99 in one tile), so the model counts the whole grid.
    """
    rows, cols = shape
    per_worker = rows * cols * (SNAPHU_BYTES_PER_PIXEL + PYTHON_BYTES_PER_PIXEL)
    return BASELINE_MB + workers * per_worker / 2.0**20
