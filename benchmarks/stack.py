"""Time and peak memory of coregistering + geocoding one burst-sized SLC per acquisition.

Coregistration and geocoding are one step here (back-geocoding, ``docs/geocoding.md``): every
pixel of the frame's CSLC grid is located in the burst with the orbit and the DEM, deramped,
interpolated, reramped and flattened.  The benchmark writes one synthetic SAFE product with
the simulator's radar-mode writer (``sar4tec.simulate.radar.write_product``: nominal IW2
annotation, 1509 lines x 25359 samples) whose burst holds band-limited speckle times the TOPS
carrier, and geocodes the whole burst onto the default CSLC grid (0.0001° x 0.00005°) with 1
and 2 numba threads, each in a fresh process: wall time, peak memory traced by ``tracemalloc``
(numpy arrays of the blocks and burst windows) and the process's peak resident memory (with
numba/LLVM, and GDAL's block cache limited to 128 MB).  The grid is the bounding box of the
burst's footprint: about half its pixels lie in the (slanted) burst; pixels outside it cost
the zero-Doppler solution only.

    python benchmarks/stack.py            # -> benchmarks/results/stack.json
    python benchmarks/stack.py --quick    # a grid of 1/4 the side, to check that it runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "stack.json"
LAT, LON, INCIDENCE = 40.74, 30.32, 38.0
WHEN = datetime(2020, 1, 5, 15, 55, 21, tzinfo=UTC)
SPACING = (0.0001, 0.00005)


def build(folder: Path) -> dict:
    """Write the SAFE product and a DEM; return the CSLC grid bounds and sizes."""
    import rasterio

    from sar4tec.grid import Grid
    from sar4tec.sentinel1.orbit import Orbit
    from sar4tec.sentinel1.safe import burst_id_from_anx
    from sar4tec.simulate import orbit as orbit_mod
    from sar4tec.simulate import radar

    cfg = {"track": 87, "mission": "S1A", "direction": "ascending"}
    nominal = orbit_mod.design_orbit(WHEN, LAT, LON, 300.0, INCIDENCE, "ascending")
    times = orbit_mod.state_vector_times(WHEN, 400.0)
    position, velocity = nominal.state([(t - WHEN).total_seconds() for t in times])
    orbit = Orbit.from_state_vectors(times, position, velocity)
    offset = float(np.mod(nominal.latitude_argument, 2 * np.pi) / nominal.mean_motion)
    anx = WHEN - timedelta(seconds=offset)
    burst_id = burst_id_from_anx(cfg["track"], offset)
    date = radar.DateProduct(orbit, times, anx, 30000, lambda lat, lon: 0.0 * lat)
    path, tiffs, timings = radar.write_product(
        folder, date, {"IW2": [burst_id]}, (LAT, LON, 300.0), cfg
    )
    timing = next(t for t in timings if t.swath.name == "IW2")
    swath = timing.swath
    target = np.asarray(radar.geodetic_to_ecef(LAT, LON, 300.0))
    fm = radar.fm_rate_polynomial(orbit, timing.first_line, target, swath.slant_range_time)
    ramp = radar.tops_ramp(swath, timing, orbit, fm)
    rng = np.random.default_rng(0)
    bands = (swath.azimuth_bandwidth * radar.AZIMUTH_TIME_INTERVAL,
             swath.range_bandwidth / radar.RANGE_SAMPLING_RATE)  # fmt: skip
    chunk = 256
    with rasterio.open(tiffs["IW2"], "r+") as dst:
        for a in range(0, swath.lines, chunk):
            b = min(a + chunk, swath.lines)
            field = radar.band_limited_field((b - a, swath.samples), bands, (0.75, 0.75), rng)
            carrier = ramp.phase(np.arange(a, b)[:, None], np.arange(swath.samples)[None, :])
            values = 1500.0 * field * np.exp(1j * carrier)
            quantised = (np.round(values.real) + 1j * np.round(values.imag)).astype(np.complex64)
            dst.write(quantised, 1, window=rasterio.windows.Window(0, a, swath.samples, b - a))
    # the burst's ground footprint (rdr2geo of its valid corners) and a smooth DEM under it
    corners = []
    for line in (radar.INVALID_LINES, swath.lines - radar.INVALID_LINES):
        for sample in (radar.INVALID_SAMPLES, swath.samples - radar.INVALID_SAMPLES):
            tau = swath.slant_range_time + sample / radar.RANGE_SAMPLING_RATE
            t = (
                orbit.seconds_since_epoch(timing.first_line)
                + line * radar.AZIMUTH_TIME_INTERVAL
                + radar.bistatic_delay(swath, tau)
            )
            lat, lon, _ = radar.radar_to_geo(orbit, t, 0.5 * radar.SPEED_OF_LIGHT * tau, 300.0)
            corners.append((float(lat), float(lon)))
    lats, lons = zip(*corners, strict=True)
    dem_grid = Grid.from_bounds(min(lons) - 0.1, min(lats) - 0.1, max(lons) + 0.1, max(lats) + 0.1,
                                0.001)  # fmt: skip
    lat, lon = dem_grid.meshgrid()
    heights = (300.0 + 150.0 * np.sin(lat * 40.0) * np.cos(lon * 30.0)).astype(np.float32)
    with rasterio.open(
        folder / "dem.tif", "w", driver="GTiff", width=dem_grid.cols, height=dem_grid.rows,
        count=1, dtype="float32", crs="EPSG:4326", transform=dem_grid.rasterio_transform(),
    ) as dst:  # fmt: skip
        dst.write(heights, 1)
    # the grid: the burst footprint's bounding box (its corners lie outside the slanted burst)
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    return {
        "safe": str(path),
        "dem": str(folder / "dem.tif"),
        "bounds": [west, south, east, north],
        "burst": [swath.lines, swath.samples],
    }


def child(setup: dict, threads: int, scale: float) -> dict:
    """Geocode the burst in this process with ``threads`` numba threads."""
    import numba

    from sar4tec.sentinel1.burst import read_bursts
    from sar4tec.sentinel1.geocode import geocode_acquisition
    from sar4tec.sentinel1.geocode_stage import cslc_grid

    numba.set_num_threads(threads)
    bursts = [b for b in read_bursts(setup["safe"]) if b.annotation.subswath == "IW2"]
    west, south, east, north = setup["bounds"]
    if scale < 1:
        cx, cy = 0.5 * (west + east), 0.5 * (south + north)
        hx, hy = 0.5 * (east - west) * scale, 0.5 * (north - south) * scale
        west, east, south, north = cx - hx, cx + hx, cy - hy, cy + hy
    grid = cslc_grid((west, south, east, north), SPACING)
    out = Path(setup["dem"]).with_name(f"cslc_{threads}.h5")
    # compile the numba kernels outside the timing (they are cached on disk anyway)
    r, c = grid.rows // 2, grid.cols // 2
    geocode_acquisition(bursts, setup["dem"], grid.window(slice(r, r + 64), slice(c, c + 64)), out)
    load_before = os.getloadavg()[0]
    tracemalloc.start()
    start = time.perf_counter()
    geocode_acquisition(bursts, setup["dem"], grid, out)
    seconds = time.perf_counter() - start
    numpy_peak = tracemalloc.get_traced_memory()[1]
    import h5py

    with h5py.File(out) as f:
        covered = float(f["data"].attrs["valid_fraction"])
    return {
        "threads": threads,
        "grid": list(grid.shape),
        "pixels": grid.rows * grid.cols,
        "valid_fraction": round(covered, 4),
        "seconds": round(seconds, 2),
        "pixels_per_second": round(grid.rows * grid.cols / seconds),
        "valid_pixels_per_second": round(grid.rows * grid.cols * covered / seconds),
        "peak_traced_mb": round(numpy_peak / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        # the machine's 1-minute load average before and after the run, and numba's threading
        # layer with OpenMP's wait policy: spinning threads (libgomp's default) lose their
        # time slices to other processes when the cores are oversubscribed
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "threading_layer": numba.threading_layer(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="geocode 1/4 of the grid's side")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    if args.child:
        setup = json.loads(Path(args.child).read_text())
        print(json.dumps(child(setup, args.threads[0], scale)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        setup = build(Path(tmp))
        build_seconds = time.perf_counter() - t0
        (Path(tmp) / "setup.json").write_text(json.dumps(setup))
        runs = []
        for threads in args.threads:
            command = [sys.executable, __file__, "--child", str(Path(tmp) / "setup.json"),
                       "--threads", str(threads)] + (["--quick"] if args.quick else [])  # fmt: skip
            env = dict(os.environ, GDAL_CACHEMAX="128")  # GDAL's block cache: 128 MB
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            if done.returncode:
                sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(runs[-1], flush=True)
    result = {
        "benchmark": "geocode (coregister + geocode) one IW2 burst per acquisition",
        "command": "python benchmarks/stack.py" + (" --quick" if args.quick else ""),
        "burst_lines_samples": setup["burst"],
        "cslc_spacing_deg": list(SPACING),
        "build_seconds": round(build_seconds, 1),
        "runs": runs,
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
        "note": "shared 2-core development machine with other jobs running: timings noisy",
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
