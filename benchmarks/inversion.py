"""Network inversion (L2, L1) and velocity fit speed, and the two stages on a demo-size frame.

    python benchmarks/inversion.py            # writes benchmarks/results/inversion.json

Kernels: nearest-k networks (M ~ k N interferograms) of N = 100 and 200 dates, synthetic
consistent phases plus noise and 2 % of whole-cycle errors; pixels per second of
``invert_network`` (L2, L1) and of the time-function fit with the AR(1) uncertainty, peak
memory of the numpy allocations (tracemalloc).  numba threads: all available (2 here).
Stages: a 250 x 300 frame with 50 dates (the demo's size) through ``run_unwrap`` (the default
network, SNAPHU, closure) and ``run_inversion`` (L1, three correction layers, AR(1) sigma).
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h5py
import numba
import numpy as np

from sar4tec.config import validate_config
from sar4tec.constants import los_to_phase
from sar4tec.files import write_times
from sar4tec.grid import Grid
from sar4tec.timeseries.inversion import invert_network
from sar4tec.timeseries.model import TimeFunctions, ar1_velocity_std, fit_time_functions
from sar4tec.unwrap.network import nearest_pairs

RESULTS = Path(__file__).parent / "results" / "inversion.json"


def measure(fn, *args, **kwargs):
    """(result, seconds, peak MB of numpy/python allocations)."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def kernel_case(n_dates: int, n_pix: int, k: int = 3) -> dict:
    rng = np.random.default_rng(0)
    pairs = nearest_pairs(n_dates, k)
    t = np.arange(n_dates) * 12 / 365.25
    truth = rng.uniform(-20, 20, n_pix) * t[:, None] + rng.normal(0, 0.3, (n_dates, n_pix))
    obs = truth[pairs[:, 1]] - truth[pairs[:, 0]]
    obs += 2 * np.pi * (rng.random(obs.shape) < 0.02)
    weight = np.ones_like(obs)
    invert_network(obs[:, :10], weight[:, :10], pairs, n_dates, "l1")  # compile / load cache
    out = {"n_dates": n_dates, "n_interferograms": len(pairs), "network": f"nearest-{k}",
           "n_pixels": n_pix}  # fmt: skip
    for method in ("l2", "l1"):
        (series, _), sec, peak = measure(invert_network, obs, weight, pairs, n_dates, method)
        out[f"{method}_pixels_per_s"] = round(n_pix / sec)
        out[f"{method}_peak_mb"] = round(peak, 1)
    model = TimeFunctions()

    def fit_and_sigma(d):
        fit = fit_time_functions(d, t, model)
        return ar1_velocity_std(fit.residuals, t, model)

    _, sec, peak = measure(fit_and_sigma, series)
    out["fit_ar1_pixels_per_s"] = round(n_pix / sec)
    out["fit_ar1_peak_mb"] = round(peak, 1)
    return out


def demo_frame(root: Path, rows: int = 250, cols: int = 300, n: int = 50) -> dict:
    """Write a demo-size synthetic linked.h5, geometry.h5 and three correction layers."""
    rng = np.random.default_rng(0)
    grid = Grid.from_bounds(29.5, 40.5, 29.5 + cols * 0.002, 40.5 + rows * 0.002, 0.002)
    times = [datetime(2018, 1, 3, 16, tzinfo=UTC) + timedelta(days=48 * i) for i in range(n)]
    t = np.array([(x - times[0]).days / 365.25 for x in times])
    yy, xx = np.mgrid[0:rows, 0:cols].astype(float)
    velocity = 0.011 * np.arctan((xx - 150) / 40) / np.pi * 2 - 0.03 * np.exp(
        -((yy - 80) ** 2 + (xx - 220) ** 2) / (2 * 20.0**2)
    )
    water = (yy - 200) ** 2 / 400 + (xx - 60) ** 2 / 900 < 1
    layers = {
        kind: rng.normal(0, scale, (n, 1, 1)) * (xx / cols + yy / rows)
        for kind, scale in (("troposphere", 0.01), ("ionosphere", 0.005), ("tides", 0.002))
    }
    phase = los_to_phase(velocity * t[:, None, None] + sum(layers.values()))
    phase = phase + rng.normal(0, 0.4, phase.shape)
    phase[:, water] = rng.uniform(-np.pi, np.pi, (n, int(water.sum())))
    with h5py.File(root / "linked.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
        write_times(f, times)
        f["phase"] = np.angle(np.exp(1j * (phase - phase[0]))).astype(np.float32)
        f["temporal_coherence"] = np.where(water, 0.1, 0.8).astype(np.float32)
    with h5py.File(root / "geometry.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
        f["water_mask"] = water.astype(np.uint8)
        f["incidence_angle"] = np.full(grid.shape, 39.0, np.float32)
    paths = {}
    for kind, layer in layers.items():
        paths[kind] = root / f"{kind}.h5"
        with h5py.File(paths[kind], "w") as f:
            f.attrs.update(grid.to_attrs())
            write_times(f, times)
            f["correction"] = layer.astype(np.float32)
    return paths


def stage_case() -> dict:
    from sar4tec.timeseries.stage import run_inversion
    from sar4tec.unwrap.stage import run_unwrap

    config = validate_config({"frames": {"demo": {"source": "simulate"}}})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = demo_frame(root)
        start = time.perf_counter()
        summary = run_unwrap(root / "linked.h5", root / "geometry.h5", root / "unw.h5",
                             config["unwrap"], workers=2, correction_paths=paths)  # fmt: skip
        t_unwrap = time.perf_counter() - start
        with h5py.File(root / "unw.h5", "r") as f:
            n_ifg = len(f["pairs"])
        start = time.perf_counter()
        run_inversion(root / "unw.h5", root / "linked.h5", root / "geometry.h5", paths,
                      root / "ts.h5", root / "stats.csv", config["inversion"])  # fmt: skip
        t_inv = time.perf_counter() - start
    return {
        "frame": f"250 x 300 pixels, 50 dates, nearest-{config['unwrap']['network']['neighbours']}"
        f" network ({n_ifg} interferograms)",
        "unwrap_stage_s": round(t_unwrap, 1),
        "inversion_stage_s": round(t_inv, 1),
        "closure_corrected": summary["n_corrected"],
    }


def main() -> None:
    results = {
        "note": f"shared 2-core machine, timings noisy; numba threads {numba.get_num_threads()}",
        "kernels": [kernel_case(100, 20000), kernel_case(200, 10000), kernel_case(100, 20000, 10)],
        "stages": stage_case(),
    }
    print(json.dumps(results, indent=1))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
