"""Peak memory of an unwrap job from the frame size, for the rule's ``mem_mb``.

An unwrap job has two phases.  First it runs ``workers`` SNAPHU processes at once, each on
one interferogram, and holds the wrapped phase, coherence, unwrapped phase and component
labels of those interferograms in Python; this part scales with the pixels of one
interferogram.  Then it ties every interferogram to the reference and checks the triplet
closures block by block, holding every interferogram of one block in float64 with its
integer corrections; this part scales with interferograms x block pixels.  Coefficients are
measured peaks, rounded up: ``benchmarks/results/unwrap.json`` (SNAPHU 124 MB at 1000²,
441 MB at 2000², 1.58 GB at 4000² in one tile; Python 208 MB and 510 MB) and the demo
(147 interferograms of 250 x 300 px, 2 workers: 938 MB with closure blocks of 256², 316 MB
with 64²; a test run on a real SLURM with ``OverMemoryKill`` found the first version of this
model too small).
"""

from __future__ import annotations

#: resident memory before the first interferogram: the script's Python with numpy, numba,
#: h5py and SNAPHU's wrapper (~300 MB measured), plus the job's own Snakemake (~130 MB), MiB
BASELINE_MB = 450.0
#: a SNAPHU child process: the fork of the Python process before ``exec`` is counted by
#: SLURM's accounting at its parent's size for a moment, MiB
SNAPHU_PROCESS_MB = 200.0
#: SNAPHU's peak per pixel of the interferogram (measured: 80–124 bytes), bytes
SNAPHU_BYTES_PER_PIXEL = 130.0
#: the Python side per pixel and interferogram in flight (measured: ~75–100 bytes), bytes
PYTHON_BYTES_PER_PIXEL = 100.0
#: the closure check per interferogram and pixel of a block (measured: 66 bytes), bytes
CLOSURE_BYTES_PER_SAMPLE = 80.0


def unwrap_peak_mb(
    shape: tuple[int, int], workers: int, n_interferograms: int, block_size: int
) -> float:
    """Peak resident memory (MiB) of the unwrap job.

    Parameters
    ----------
    shape : (rows, cols)
        Output grid of the linked phases.
    workers : int
        Interferograms unwrapped at the same time.
    n_interferograms : int
        Interferograms of the network.
    block_size : int
        Rows and columns of the closure-check blocks (``unwrap.block_size``).

    Notes
    -----
    SNAPHU's tiled mode does not lower the peak reliably (it assembles the whole
    interferogram for the secondary network: 80 bytes per pixel in 4 x 4 tiles, 107 with the
    single-tile re-optimisation, 99 in one tile), so the model counts the whole grid.
    """
    rows, cols = shape
    pixels = rows * cols
    per_worker = pixels * (SNAPHU_BYTES_PER_PIXEL + PYTHON_BYTES_PER_PIXEL) / 2.0**20
    unwrapping = workers * (SNAPHU_PROCESS_MB + per_worker)
    block_pixels = min(block_size, rows) * min(block_size, cols)
    closure = n_interferograms * block_pixels * CLOSURE_BYTES_PER_SAMPLE / 2.0**20
    return BASELINE_MB + max(unwrapping, closure)
