"""Phase-linking speed, memory and accuracy: sar4tec against dolphin on the same stacks.

Run (needs the ``bench`` extra and GDAL's Python bindings, see docs/phase_linking.md)::

    python benchmarks/phase_linking.py            # full run, ~10 min on 2 cores
    python benchmarks/phase_linking.py --quick    # 128 x 128 only, N = 15

It writes ``benchmarks/results/phase_linking.json``:

- ``host``: cores, and the measured 1 -> 2 thread speed-up of a trivial numba parallel loop
  (how many cores were really free while the benchmark ran);
- ``comparison``: per stack (128^2 and 256^2 px, N = 15 and 30, window 11 x 23, strides 1),
  estimator (EMI, EVD) and SHP method (rect; GLRT at 128^2): pixels per second of sar4tec
  and dolphin on one thread each, the ratio, sar4tec on two threads, the phase RMSE of both
  against the true phase and the peak memory increase during the call;
- ``growth_with_n``: sar4tec time for N = 15, 30, 60, 120 with ministacks of 15 and with one
  single stack.
"""

from __future__ import annotations

import os

# dolphin computes with JAX: one CPU thread, so that both tools are compared per core
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402

from sar4tec.phaselink import run_phase_linking  # noqa: E402
from sar4tec.phaselink.synthetic import coherence_model, simulate_stack  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "phase_linking.json"
HALF_WINDOW = (5, 11)  # 11 x 23 pixels
ALPHA = 0.01


class PeakMemory:
    """Peak resident memory above the level at entry, sampled every 2 ms in a thread."""

    def __enter__(self):
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.mib = (self.peak - self.base) / 2**20


@numba.njit(parallel=True, cache=True)
def _busy(n):
    total = 0.0
    for i in numba.prange(n):
        x = 0.0
        for k in range(2000):
            x += np.sqrt(i + k)
        total += x
    return total


def thread_scaling() -> dict:
    """Speed-up of a trivial parallel loop from 1 to 2 threads (2.0 = two free cores)."""
    times = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        _busy(1000)
        best = np.inf
        for _ in range(5):
            t0 = time.perf_counter()
            _busy(20000)
            best = min(best, time.perf_counter() - t0)
        times[threads] = best
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return {"speedup_1_to_2_threads": times[1] / times[2], "seconds": times}


def rmse(phase: np.ndarray, truth: np.ndarray, margin: tuple[int, int]) -> float:
    """RMS phase error over dates 1.. and pixels away from the image edge."""
    my, mx = margin
    err = np.angle(np.exp(1j * (phase - (truth - truth[0])[:, None, None])))
    return float(np.sqrt(np.nanmean(err[1:, my:-my, mx:-mx] ** 2)))


def make_stack(n: int, size: int, seed: int):
    rng = np.random.default_rng(seed)
    truth = np.cumsum(rng.normal(0, 0.7, n))
    return simulate_stack(coherence_model(n), truth, (size, size), rng), truth


def run_sar4tec(slc, estimator, shp, threads, ministack=None):
    numba.set_num_threads(threads)
    kwargs = dict(
        half_window=HALF_WINDOW, estimator=estimator, shp_method=shp, shp_alpha=ALPHA,
        ministack_size=ministack or slc.shape[0], ps_threshold=1e-9,
    )  # fmt: skip
    run_phase_linking(slc[:, :32, :48], **kwargs)  # compile / load the numba cache
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        res = run_phase_linking(slc, **kwargs)
        dt = time.perf_counter() - t0
    return res.phase, dt, mem.mib


def run_dolphin(slc, estimator, shp):
    from dolphin import shp as dshp
    from dolphin._types import HalfWindow, Strides
    from dolphin.phase_link import run_phase_linking as dolphin_link

    def call():
        neighbors = None
        if shp == "glrt":
            amp = np.abs(slc)
            neighbors = dshp.estimate_neighbors(
                halfwin_rowcol=HALF_WINDOW, alpha=ALPHA, strides=(1, 1), mean=amp.mean(0),
                var=amp.var(0), nslc=slc.shape[0], method=dshp.ShpMethod.GLRT,
            )  # fmt: skip
        out = dolphin_link(
            slc, HalfWindow(*HALF_WINDOW), Strides(1, 1), use_evd=estimator == "evd",
            neighbor_arrays=neighbors, compute_crlb=False,
        )  # fmt: skip
        return np.angle(np.asarray(out.cpx_phase))

    call()  # JAX compiles for each shape: warm up on the same one
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        phase = call()
        dt = time.perf_counter() - t0
    return phase, dt, mem.mib


def comparison(cases) -> list[dict]:
    rows = []
    for size, n, estimator, shp in cases:
        slc, truth = make_stack(n, size, seed=size + n)
        px = size * size
        ph1, t1, m1 = run_sar4tec(slc, estimator, shp, threads=1)
        _, t2, _ = run_sar4tec(slc, estimator, shp, threads=2)
        phd, td, md = run_dolphin(slc, estimator, shp)
        row = {
            "size": size, "n_dates": n, "estimator": estimator, "shp": shp,
            "sar4tec_px_per_s_1thread": px / t1, "sar4tec_px_per_s_2threads": px / t2,
            "sar4tec_thread_scaling": t1 / t2, "dolphin_px_per_s_1thread": px / td,
            "ratio_per_core": td / t1, "sar4tec_rmse_rad": rmse(ph1, truth, HALF_WINDOW),
            "dolphin_rmse_rad": rmse(phd, truth, HALF_WINDOW),
            "max_phase_difference_rad": float(
                np.nanmax(np.abs(np.angle(np.exp(1j * (ph1 - phd)))))
            ),
            "sar4tec_peak_mib": m1, "dolphin_peak_mib": md,
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def growth(sizes_n, size=128) -> list[dict]:
    rows = []
    for n in sizes_n:
        slc, truth = make_stack(n, size, seed=n)
        for ministack in (15, None):
            ph, dt, mib = run_sar4tec(slc, "emi", "rect", threads=2, ministack=ministack)
            row = {
                "n_dates": n, "ministack_size": ministack or n, "seconds_2threads": dt,
                "px_per_s": size * size / dt, "rmse_rad": rmse(ph, truth, HALF_WINDOW),
                "peak_mib": mib,
            }  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 x 128 px, N = 15 only")
    args = parser.parse_args()
    host = {
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        **thread_scaling(),
    }
    print(json.dumps(host), flush=True)
    if args.quick:
        cases = [(128, 15, e, "rect") for e in ("emi", "evd")]
        ns = (15, 30)
    else:
        cases = [(s, n, e, "rect") for s in (128, 256) for n in (15, 30) for e in ("emi", "evd")]
        cases += [(128, n, "emi", "glrt") for n in (15, 30)]
        ns = (15, 30, 60, 120)
    result = {
        "command": "python benchmarks/phase_linking.py" + (" --quick" if args.quick else ""),
        "window": [2 * HALF_WINDOW[0] + 1, 2 * HALF_WINDOW[1] + 1],
        "host": host,
        "comparison": comparison(cases),
        "growth_with_n": growth(ns),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
