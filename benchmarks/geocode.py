"""Geocoding Sentinel-1 bursts: kernel accuracy, end-to-end accuracy, speed and memory.

    python benchmarks/geocode.py            # writes benchmarks/results/geocode.json

Needs ``../shared/data/real`` (the real IW2 annotation the synthetic bursts are made from; the
forward model is the one of ``tests/test_geocode.py``).

1. Kernel: relative RMS error, coherence and RMS phase error of the deramped-domain
   interpolation on band-limited speckle with each sub-swath's processed bandwidths and Hamming
   weighting (exact values from the trigonometric polynomial), for the default kernel and a
   longer one; largest amplitude error on point targets.
2. End to end: the test scene (70 point targets at the edges of two overlapping bursts, two
   dates 12 days and ~140 m of baseline apart, targets moved by +4/-10 mm): amplitude, phase and
   LOS-displacement errors at the targets.
3. Speed: output pixels per second on a 1000 x 1000 grid (0.0001 x 0.00005 deg), with one
   numba thread (per core) and with all, and the share of the zero-Doppler geometry
   (``zero_doppler_solve``, the geocoder's parallel kernel, on the same threads); peak
   memory (tracemalloc) per block size.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import h5py
import numba
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import REAL_DATA  # noqa: E402
from test_geocode import (  # noqa: E402
    AMPLITUDE,
    SUPPORT,
    WAVELENGTH,
    band_limited_field,
    evaluate_field,
    make_scene,
    plane,
    response,
)

from sar4tec.constants import phase_to_los  # noqa: E402
from sar4tec.sentinel1.burst import read_bursts  # noqa: E402
from sar4tec.sentinel1.geocode import geocode_acquisition  # noqa: E402
from sar4tec.sentinel1.geocode_stage import cslc_grid  # noqa: E402
from sar4tec.sentinel1.geometry import zero_doppler_solve  # noqa: E402
from sar4tec.sentinel1.interpolate import DEFAULT_TAPS, SincKernel, interpolate  # noqa: E402

RESULTS = HERE / "results" / "geocode.json"
#: processed bandwidth / sampling rate and Hamming coefficient (annotations of 2020-05-11)
BANDS = {
    "IW1": {"azimuth": (327 / 486.486, 0.70), "range": (56.5 / 64.345, 0.75)},
    "IW2": {"azimuth": (313 / 486.486, 0.75), "range": (48.3 / 64.345, 0.75)},
    "IW3": {"azimuth": (314 / 486.486, 0.75), "range": (42.79 / 64.345, 0.75)},
}


def kernel_accuracy(taps) -> dict:
    rng = np.random.default_rng(0)
    out = {}
    for swath, bands in BANDS.items():
        kernel = SincKernel.for_bands((bands["azimuth"][0], bands["range"][0]), taps)
        shape = (64, 256)
        spectrum = band_limited_field(rng, shape, (bands["azimuth"], bands["range"]))
        data = np.fft.ifft2(spectrum)
        rows = rng.uniform(10, shape[0] - 10, 4000)
        cols = rng.uniform(20, shape[1] - 20, 4000)
        exact = evaluate_field(spectrum, rows, cols)
        got = interpolate(data, rows, cols, kernel)
        error = np.angle(got * np.conj(exact))
        x = np.arange(-SUPPORT, SUPPORT + 1)
        gains = [
            interpolate(
                np.outer(response(x - dr, *bands["azimuth"]), response(x - dc, *bands["range"])),
                SUPPORT + dr,
                SUPPORT + dc,
                kernel,
            ).real
            for dr in np.linspace(0, 1, 21)
            for dc in np.linspace(0, 1, 21)
        ]
        out[swath] = {
            "kaiser_beta": list(kernel.beta),
            "speckle_relative_rms_error": float(
                np.sqrt(np.mean(np.abs(got - exact) ** 2) / np.mean(np.abs(exact) ** 2))
            ),
            "speckle_coherence": float(
                np.abs(np.vdot(exact, got))
                / np.sqrt(np.vdot(got, got).real * np.vdot(exact, exact).real)
            ),
            "speckle_phase_rms_rad": float(np.sqrt(np.mean(error**2))),
            "speckle_phase_rms_amplitude_weighted_rad": float(
                np.sqrt(np.sum(np.abs(exact) ** 2 * error**2) / np.sum(np.abs(exact) ** 2))
            ),
            "point_target_max_amplitude_error": float(np.max(np.abs(np.array(gains) - 1))),
            "point_target_phase_error_rad": 0.0,  # real kernel on a real response: exactly 0
        }
    return out


def end_to_end(scene) -> dict:
    images = []
    for k, safe in enumerate(scene.safes):
        out = scene.root / f"bench_{k}.h5"
        geocode_acquisition(read_bursts(safe), scene.dem, scene.grid, out)
        with h5py.File(out) as f:
            images.append(f["data/VV"][()][scene.targets.rows, scene.targets.cols])
    a, b = images
    phase_error = np.angle(a * np.exp(-1j * scene.targets.phase))
    displacement = phase_to_los(np.angle(b * np.conj(a)), WAVELENGTH)
    return {
        "targets": int(a.size),
        "max_amplitude_error": float(np.max(np.abs(np.abs(a) / AMPLITUDE - 1))),
        "max_phase_error_rad": float(np.max(np.abs(phase_error))),
        "max_los_displacement_error_mm": float(
            1e3 * np.max(np.abs(displacement - scene.moved.toward))
        ),
        "max_sidelobe_leakage_of_neighbours": float(max(scene.leak[0].max(), scene.leak[1].max())),
    }


def speed(scene, threads: int, block_size: int = 256) -> dict:
    numba.set_num_threads(threads)
    grid = cslc_grid((-117.575, 34.574, -117.525, 34.674), (0.0001, 0.00005))
    bursts = read_bursts(scene.safes[0])
    out = scene.root / "speed.h5"
    geocode_acquisition(bursts, scene.dem, grid.window(slice(0, 8), slice(0, 8)), out)  # warm
    start = time.perf_counter()
    geocode_acquisition(bursts, scene.dem, grid, out, block_size=block_size)
    seconds = time.perf_counter() - start
    lat, lon = grid.meshgrid()
    start = time.perf_counter()
    for rows in np.array_split(np.arange(grid.rows), max(grid.rows // block_size, 1)):
        zero_doppler_solve(bursts[0].orbit, lat[rows], lon[rows], plane(lat[rows], lon[rows]))
    geometry = time.perf_counter() - start
    pixels = grid.rows * grid.cols
    return {
        "grid": list(grid.shape),
        "numba_threads": threads,
        "seconds": seconds,
        "pixels_per_second": pixels / seconds,
        "zero_doppler_share": geometry / seconds,
    }


def memory(scene, block_size: int) -> dict:
    grid = cslc_grid((-117.575, 34.574, -117.525, 34.674), (0.0001, 0.00005))
    bursts = read_bursts(scene.safes[0])
    tracemalloc.start()
    geocode_acquisition(bursts, scene.dem, grid, scene.root / "mem.h5", block_size=block_size)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"block_size": block_size, "peak_numpy_mb": peak}


def main() -> None:
    if not (REAL_DATA / "PROVENANCE.md").exists():
        raise SystemExit(f"real data not found at {REAL_DATA}")
    root = Path(tempfile.mkdtemp(prefix="bench_geocode_"))
    try:
        scene = make_scene(REAL_DATA, root)
        cores = numba.config.NUMBA_NUM_THREADS
        per_core = speed(scene, 1)
        results = {
            "kernel": {
                f"taps_{DEFAULT_TAPS[0]}x{DEFAULT_TAPS[1]}_default": kernel_accuracy(DEFAULT_TAPS),
                "taps_12x24": kernel_accuracy((12, 24)),
            },
            "end_to_end": end_to_end(scene),
            "speed_one_thread": per_core,
            "speed_all_threads": speed(scene, cores),
            "memory": [memory(scene, b) for b in (128, 256, 512)],
            "frame_estimate": {
                "note": "a 9-burst x 3-swath frame (~250 x 170 km) at 0.0001 x 0.00005 deg",
                "pixels": 1.6e4 * 5.4e4,
                "hours_per_date_per_core": 1.6e4 * 5.4e4 / per_core["pixels_per_second"] / 3600,
            },
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = {
        "benchmark": "geocode",
        "command": "python benchmarks/geocode.py",
        "machine": f"{platform.machine()} {numba.config.NUMBA_NUM_THREADS} cpus",
        "caveat": "shared 2-core machine with other jobs running: timings are noisy",
        "results": results,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
