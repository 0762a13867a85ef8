"""SNAPHU on synthetic interferograms: time, peak memory, fraction correctly unwrapped.

    python benchmarks/unwrap.py                      # 1000², 2000² single tile; 2000², 4000² tiled
    python benchmarks/unwrap.py --sizes 1000 --tiles 1 1   # one case

Each case runs in its own Python process; SNAPHU's peak resident memory (its child processes,
sampled every 0.1 s) and the Python process's peak are reported separately.
Results: ``benchmarks/results/unwrap.json``.

The interferogram: a subsidence bowl (~20 fringes) and a fault-like gradient, a power-law
(turbulent) atmosphere of a few fringes, and decorrelation noise from a coherence map with
low-coherence patches (the phase noise is drawn from the coherence with the Cramér-Rao
variance for 10 looks).  A pixel is correctly unwrapped when its unwrapped phase minus the
noise-free truth is the component's common number of cycles (the mode).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

RESULTS = Path(__file__).parent / "results" / "unwrap.json"
NLOOKS = 10.0


def synthetic_interferogram(size: int, seed: int = 0):
    """Noise-free unwrapped phase, wrapped noisy phase and coherence of a size² scene."""
    rng = np.random.default_rng(seed)
    y, x = (v / size for v in np.ogrid[0:size, 0:size])
    truth = -120.0 * np.exp(-((x - 0.6) ** 2 + (y - 0.4) ** 2) / (2 * 0.12**2))
    truth = truth + 25.0 * np.arctan((x - 0.3) / 0.05) / np.pi  # fault-like gradient
    k = np.sqrt(np.fft.fftfreq(size)[:, None] ** 2 + np.fft.fftfreq(size)[None, :] ** 2)
    k[0, 0] = np.inf
    spec = (rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size))) * k ** (-11 / 6)
    atmo = np.fft.ifft2(spec).real
    truth = truth + 6.0 * atmo / atmo.std()
    coh = 0.75 - 0.45 * np.exp(-((x - 0.25) ** 2 + (y - 0.75) ** 2) / (2 * 0.08**2))
    coh = np.clip(coh + 0.05 * rng.normal(size=(size, size)), 0.1, 0.95).astype(np.float32)
    sigma = np.sqrt((1 - coh**2) / (2 * NLOOKS * coh**2))
    wrapped = np.angle(np.exp(1j * (truth + sigma * rng.normal(size=(size, size)))))
    return truth.astype(np.float64), wrapped.astype(np.float32), coh


class ChildMemory(threading.Thread):
    """Peak of the summed resident memory of this process's descendants (SNAPHU and its
    tile processes), sampled every 0.1 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.done.wait(0.1):
            total = 0
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)


def run_case(size: int, tiles: tuple[int, int], overlap: int, nproc: int, reoptimize: bool) -> dict:
    """Unwrap one synthetic interferogram; runs in the current process."""
    from sar4tec.unwrap.snaphu_adapter import snaphu_unwrap

    truth, wrapped, coh = synthetic_interferogram(size)
    sampler = ChildMemory()
    sampler.start()
    start = time.perf_counter()
    unw, cc = snaphu_unwrap(
        wrapped, coh, nlooks=NLOOKS, init="mst", ntiles=tiles,
        tile_overlap=(overlap, overlap), nproc=nproc, single_tile_reoptimize=reoptimize,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    ok = cc > 0
    cycles = np.round((unw - truth) / (2 * np.pi))
    correct = np.zeros(ok.sum(), bool)
    for label in np.unique(cc[ok]):
        sel = cc[ok] == label
        values, counts = np.unique(cycles[ok][sel], return_counts=True)
        correct[sel] = cycles[ok][sel] == values[np.argmax(counts)]
    # against the truth of the whole image: the largest component's offset for every pixel
    main = np.bincount(cc[ok]).argmax()
    values, counts = np.unique(cycles[cc == main], return_counts=True)
    global_ok = np.mean(cycles == values[np.argmax(counts)])
    return {
        "size": size,
        "tiles": list(tiles),
        "tile_overlap": overlap,
        "nproc": nproc,
        "single_tile_reoptimize": reoptimize,
        "init": "mst",
        "seconds": round(seconds, 2),
        "snaphu_peak_rss_mb": round(sampler.peak / 2**20, 1),
        "python_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fraction_unwrapped": round(float(ok.mean()), 4),
        "fraction_correct_within_component": round(float(correct.mean()), 4),
        "fraction_correct_whole_image": round(float(global_ok), 4),
        "n_components": int(len(np.unique(cc[ok]))),
    }


CASES = [  # size, tiles, overlap, nproc, single-tile re-optimisation
    (1000, (1, 1), 0, 1, False),
    (2000, (1, 1), 0, 1, False),
    (2000, (2, 2), 200, 2, True),
    (2000, (2, 2), 200, 2, False),
    (4000, (4, 4), 200, 2, True),
    (4000, (4, 4), 200, 2, False),
]


def _key(result: dict) -> tuple:
    return result["size"], result["tiles"], result.get("single_tile_reoptimize", False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", help="only these sizes")
    parser.add_argument("--tiles", type=int, nargs=2, help="tiles (rows cols) for --sizes")
    parser.add_argument("--overlap", type=int, default=200)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--reoptimize", action="store_true", help="single-tile re-optimisation")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per case")
    args = parser.parse_args()
    if args.child:
        size, tiles = args.sizes[0], tuple(args.tiles)
        tiled = tiles != (1, 1)  # NPROC and overlaps only matter in tile mode
        overlap, nproc = (args.overlap, args.nproc) if tiled else (0, 1)
        print(json.dumps(run_case(size, tiles, overlap, nproc, args.reoptimize)))
        return
    cases = CASES
    if args.sizes:
        tiles = tuple(args.tiles or (1, 1))
        cases = [(s, tiles, args.overlap, args.nproc, args.reoptimize) for s in args.sizes]
    results = json.loads(RESULTS.read_text())["cases"] if RESULTS.exists() else []
    for size, tiles, overlap, nproc, reopt in cases:
        cmd = [sys.executable, __file__, "--child", "--sizes", str(size), "--tiles",
               *map(str, tiles), "--overlap", str(overlap), "--nproc", str(nproc),
               *(["--reoptimize"] if reopt else [])]  # fmt: skip
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            if out.returncode:
                raise RuntimeError(f"case {size} {tiles} failed:\n{out.stderr}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            result = {"size": size, "tiles": list(tiles), "tile_overlap": overlap,
                      "nproc": nproc, "single_tile_reoptimize": reopt,
                      "timeout_s": args.timeout}  # fmt: skip
        print(json.dumps(result), flush=True)
        key = (size, list(tiles), reopt)
        results = [r for r in results if _key(r) != key] + [result]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "note": "shared 2-core machine, timings noisy; SNAPHU 2.0.7 via snaphu-py 0.4.1",
                "cases": sorted(results, key=_key),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
