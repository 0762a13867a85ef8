"""Speed and peak memory of the three correction layers on a large grid, with pyaps3 side by side.

Run (from the repository root, with the ``bench`` extra installed)::

    python benchmarks/corrections.py [--size 5000] [--block-rows 256]

Each case runs in its own Python process so its peak resident memory (``ru_maxrss``) is its
own; the baseline of a process that only imported the modules is reported too.  The grid is a
``size x size`` geocoded frame over Kyushu (inside the real ERA5 GRIB of PyAPS's tests, see
``../shared/data/real/PROVENANCE.md``) with a smooth synthetic topography and incidence from
30° to 46° across; one date.  sar4tec processes it by blocks of rows and writes the float32
layer to an HDF5 file, as the ``correction`` rule does; pyaps3 (GPL, run as a separate peer,
never imported by sar4tec) gets the full arrays, as its API requires.  The ERA5 file holds one
hour only, so the acquisition time is that hour.  Results: ``benchmarks/results/corrections.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REAL = Path(
    os.environ.get("SAR4TEC_REAL_DATA", Path(__file__).resolve().parents[2] / "shared/data/real")
)
GRIB = REAL / "era5/ERA5_N30_N40_E120_E140_20101017_14.grb"
IONEX = REAL / "ionex/codg0080.20i"
SPACING = 0.0002  # degrees (~20 m): 5000 pixels span 1°
NORTH, WEST = 32.6, 130.3
ERA5_TIME = datetime(2010, 10, 17, 14, tzinfo=UTC)  # the GRIB's only hour
IONEX_TIME = datetime(2020, 1, 8, 13, 20, tzinfo=UTC)  # inside the real CODE map's day


def block_geometry(size: int, r0: int, r1: int):
    """Pixel-centre lat/lon, a smooth 1.5 km hill and incidence 30-46° of rows r0:r1."""
    import numpy as np

    lat = (NORTH - (np.arange(r0, r1) + 0.5) * SPACING)[:, None] * np.ones((1, size))
    lon = (WEST + (np.arange(size) + 0.5) * SPACING)[None, :] * np.ones((r1 - r0, 1))
    centre = (NORTH - size * SPACING / 2, WEST + size * SPACING / 2)
    hgt = 20.0 + 1500.0 * np.exp(-((lat - centre[0]) ** 2 + (lon - centre[1]) ** 2) / 0.05)
    inc = (30.0 + 16.0 * np.arange(size) / size)[None, :] * np.ones((r1 - r0, 1))
    return lat, lon, hgt, inc


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def pyaps3_case(size: int) -> dict:
    """pyaps3 on the whole grid, plus sar4tec's difference to it on a subsample."""
    import numpy as np
    import pyaps3  # GPL peer: only here, never in the package

    from sar4tec.corrections.troposphere import slant_delay

    lat, lon, hgt, inc = block_geometry(size, 0, size)
    result = {"rss_inputs_mb": peak_rss_mb()}
    t0 = time.perf_counter()
    aps = pyaps3.PyAPS(str(GRIB), dem=hgt, inc=inc, lat=lat, lon=lon, grib="ERA5", verb=False)
    delay = aps.getdelay()
    result["seconds"] = time.perf_counter() - t0
    sl = (slice(None, None, 97), slice(None, None, 89))
    ours = slant_delay(GRIB, lat[sl], lon[sl], hgt[sl], inc[sl], ERA5_TIME)
    diff = ours - delay[sl]
    result["difference_to_sar4tec_m"] = {
        "median": float(np.median(diff)),
        "std": float(np.std(diff)),
    }
    return result


def sar4tec_case(kind: str, size: int, rows: int, out: Path) -> dict:
    """One sar4tec layer, computed by blocks of rows and written to HDF5 as the rule does."""
    import h5py
    import numpy as np
    from scipy.interpolate import RegularGridInterpolator

    from sar4tec.corrections import ionosphere, tides, troposphere
    from sar4tec.corrections.weather import read_weather
    from sar4tec.geometry import los_unit_vector

    when = ERA5_TIME if kind == "troposphere" else IONEX_TIME
    west, south, east, north = WEST, NORTH - size * SPACING, WEST + size * SPACING, NORTH
    t0 = time.perf_counter()
    if kind == "troposphere":
        model = troposphere.DelayModel(
            read_weather(GRIB), when, (west, south, east, north), (20.0, 1520.0)
        )

        def evaluate(lat, lon, hgt, inc):
            return -model.slant(lat, lon, hgt, inc)

    elif kind == "ionosphere":
        maps = ionosphere.read_ionex(IONEX)

        def evaluate(lat, lon, hgt, inc):
            return ionosphere.slant_range_change(maps, lat, lon, inc, -12.0, when)

    else:
        glat, glon, enu = tides.enu_grid(when, south, north, west, east)
        interp = RegularGridInterpolator((glat, glon), enu)

        def evaluate(lat, lon, hgt, inc):
            tide = interp(np.stack([lat.ravel(), lon.ravel()], -1)).reshape(*lat.shape, 3)
            return np.sum(tide * los_unit_vector(inc, -12.0), -1)

    setup = time.perf_counter() - t0
    with h5py.File(out, "w") as f:
        data = f.create_dataset(
            "correction", (1, size, size), "float32", chunks=(1, min(rows, size), size)
        )
        for r0 in range(0, size, rows):
            r1 = min(r0 + rows, size)
            data[0, r0:r1] = evaluate(*block_geometry(size, r0, r1)).astype(np.float32)
    return {"seconds": time.perf_counter() - t0, "setup_seconds": setup}


def case(kind: str, size: int, rows: int, out: Path) -> dict:
    """Run one case in this process and return its numbers."""
    if kind == "pyaps3":
        result = pyaps3_case(size)
    elif kind == "baseline":
        import h5py  # noqa: F401
        import pysolid  # noqa: F401

        from sar4tec.corrections import ionosphere, tides, troposphere  # noqa: F401

        result = {}
    else:
        result = sar4tec_case(kind, size, rows, out)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def run_case(kind: str, size: int, rows: int, scratch: Path) -> dict:
    """Run one case in a fresh Python process (its own peak memory)."""
    out = scratch / f"bench_{kind}.h5"
    args = [sys.executable, __file__, "--case", kind, "--size", str(size)]
    args += ["--block-rows", str(rows), "--output", str(out)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    out.unlink(missing_ok=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if "seconds" in result:
        result["pixels_per_second"] = size * size / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000, help="rows = columns of the grid")
    parser.add_argument("--block-rows", type=int, default=256)
    parser.add_argument("--skip-pyaps", action="store_true")
    parser.add_argument("--output", default=Path(__file__).parent / "results/corrections.json")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case here
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(args.case, args.size, args.block_rows, Path(args.output))))
        return
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    kinds = ["baseline", "troposphere", "ionosphere", "tides"] + (
        [] if args.skip_pyaps else ["pyaps3"]
    )
    results = {}
    for kind in kinds:
        # a first, small run compiles (and caches) the numba kernels outside the timing
        if kind == "troposphere":
            run_case(kind, 64, 64, scratch)
        start = time.perf_counter()
        results[kind] = run_case(kind, args.size, args.block_rows, scratch)
        print(f"{kind:12s} {json.dumps(results[kind])}  ({time.perf_counter() - start:.1f} s)")
    report = {
        "benchmark": "corrections",
        "command": "python benchmarks/corrections.py "
        f"--size {args.size} --block-rows {args.block_rows}",
        "grid": [args.size, args.size],
        "dates": 1,
        "block_rows": args.block_rows,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "caveat": "shared 2-core machine with other jobs running: timings are noisy",
        "results": results,
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
