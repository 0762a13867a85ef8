"""Speed and peak memory of the three correction layers on a large frame, with pyaps3 side by side.

Run (from the repository root, with the ``bench`` extra installed)::

    python benchmarks/corrections.py [--size 5000] [--block-rows 256] [--dates 3]

The frame is a ``size x size`` geocoded grid over Kyushu (inside the real ERA5 GRIB of PyAPS's
tests, see ``../shared/data/real/PROVENANCE.md``) at 0.0002° (~20 m), with a smooth 1.5 km hill,
incidence from 30° to 46° across (plus the ~0.1° the terrain adds) and a heading turning from
-12° to -12.5° along it.  Its ``geometry.h5`` is written once to ``$TMPDIR``; each sar4tec case
then runs :func:`sar4tec.corrections.layers.write_layer` as the ``correction`` rule does (geometry
read by blocks of rows, float32 layer written) for ``dates`` acquisitions, in its own Python
process so that its peak resident memory (``ru_maxrss``) is its own.  The first date includes the
per-frame setup (reading the weather or IONEX file, geometry ranges, tables, loading the cached
numba kernels); the next dates show the cost per date of a stack.  The ERA5 file holds one hour,
so every troposphere date is that hour; ionosphere and tide dates are 30 min apart on the day of
the real CODE map.

Side by side: ``ionosphere_direct`` evaluates the exact per-pixel formula
(:func:`~sar4tec.corrections.ionosphere.slant_range_change`, numpy, the previous layer code) for
one date over the same blocks, and the ionosphere case records the largest difference of its
layer to it on every 50th row.  pyaps3 (GPL, run as a separate peer, never imported by sar4tec)
gets the full arrays of one date, as its API requires.  Results:
``benchmarks/results/corrections.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
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


def centres(size: int, rows):
    """Pixel-centre latitude and longitude of the given rows, ``(len(rows), size)``."""
    import numpy as np

    lat = NORTH - (np.asarray(rows)[:, None] + 0.5) * SPACING * np.ones((1, size))
    lon = WEST + (np.arange(size)[None, :] + 0.5) * SPACING * np.ones((len(rows), 1))
    return lat, lon


def block_geometry(size: int, r0: int, r1: int):
    """Pixel-centre lat/lon, height and incidence of rows r0:r1."""
    import numpy as np

    lat, lon = centres(size, np.arange(r0, r1))
    centre = (NORTH - size * SPACING / 2, WEST + size * SPACING / 2)
    hgt = 20.0 + 1500.0 * np.exp(-((lat - centre[0]) ** 2 + (lon - centre[1]) ** 2) / 0.05)
    # a target h metres higher is seen ~h sin(inc) / 850 km radians steeper (in place: the
    # temporaries of the full frame would count in pyaps3's peak memory)
    inc = np.degrees(hgt * (0.6 / 850e3))
    inc += (30.0 + 16.0 * np.arange(size) / size)[None, :]
    return lat, lon, hgt, inc


def write_frame(size: int, rows: int, folder: Path) -> Path:
    """``geometry.h5`` of the benchmark frame (contiguous float32, as the stack stage writes)."""
    import h5py
    import numpy as np

    from sar4tec.geometry import los_unit_vector
    from sar4tec.grid import Grid

    grid = Grid((WEST, SPACING, 0.0, NORTH, 0.0, -SPACING), (size, size))
    path = folder / "bench_geometry.h5"
    names = ("height", "incidence_angle", "heading", "los_east", "los_north", "los_up")
    with h5py.File(path, "w") as f:
        f.attrs.update(grid.to_attrs())
        data = {n: f.create_dataset(n, (size, size), "float32") for n in names}
        for r0 in range(0, size, rows):
            r1 = min(r0 + rows, size)
            _, _, hgt, inc = block_geometry(size, r0, r1)
            heading = -12.0 - 0.5 * (np.arange(r0, r1) / size)[:, None] * np.ones((1, size))
            los = los_unit_vector(inc, heading)
            values = (hgt, inc, heading, *np.moveaxis(los, -1, 0))
            for name, value in zip(names, values, strict=True):
                data[name][r0:r1] = value
    return path


def write_manifest(kind: str, dates: int, folder: Path) -> Path:
    """A manifest with ``dates`` acquisitions and the real ERA5 / IONEX file."""
    first = ERA5_TIME if kind == "troposphere" else IONEX_TIME
    step = timedelta(0) if kind == "troposphere" else timedelta(minutes=30)
    (folder / "slc.h5").touch()
    content = {
        "frame": "bench",
        "source": "local",
        "slc": [
            {"path": "slc.h5", "sensing_time": (first + n * step).isoformat()} for n in range(dates)
        ],
        "dem": "slc.h5",
        "era5": [str(GRIB)],
        "ionex": [str(IONEX)],
    }
    path = folder / f"bench_manifest_{kind}.json"
    path.write_text(json.dumps(content))
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _DateClock(logging.Handler):
    """Times the per-date log records of ``write_layer``."""

    def __init__(self):
        super().__init__()
        self.stamps = [time.perf_counter()]

    def emit(self, record):
        if record.name == "sar4tec.corrections.layers":
            self.stamps.append(time.perf_counter())


def layer_case(kind: str, dates: int, rows: int, folder: Path) -> dict:
    """``write_layer`` for ``dates`` acquisitions of the benchmark frame."""
    import h5py
    import numpy as np

    from sar4tec.config import validate_config
    from sar4tec.corrections.ionosphere import read_ionex, slant_range_change
    from sar4tec.corrections.layers import write_layer

    settings = validate_config({"frames": {"x": {"source": "local"}}, "corrections": {}})
    settings = settings["corrections"] | {"block_rows": rows}
    geometry = folder / "bench_geometry.h5"
    out = folder / f"bench_{kind}.h5"
    clock = _DateClock()
    logger = logging.getLogger("sar4tec.corrections.layers")
    logger.setLevel(logging.INFO)
    logger.addHandler(clock)
    write_layer(kind, write_manifest(kind, dates, folder), geometry, out, settings)
    per_date = np.diff(clock.stamps)
    result = {
        "dates": dates,
        "seconds": clock.stamps[-1] - clock.stamps[0],
        "first_date_seconds": per_date[0],
        "next_dates_seconds": per_date[1:].tolist(),
        "peak_rss_mb": peak_rss_mb(),  # before the accuracy check below
    }
    if kind == "ionosphere":  # the table against the exact per-pixel formula, every 50th row
        with h5py.File(geometry) as g, h5py.File(out) as f:
            size = g["height"].shape[0]
            every = slice(None, None, 50)
            lat, lon = centres(size, np.arange(size)[every])
            exact = slant_range_change(
                read_ionex(IONEX),
                lat,
                lon,
                g["incidence_angle"][every].astype(float),
                g["heading"][every].astype(float),
                IONEX_TIME,
            )
            diff = np.abs(f["correction"][0, every] - exact)
        result["max_difference_to_direct_m"] = float(diff.max())
    out.unlink()
    return result


def ionosphere_direct_case(rows: int, folder: Path) -> dict:
    """The exact per-pixel numpy formula over the same blocks, one date, float32 written."""
    import h5py
    import numpy as np

    from sar4tec.corrections.ionosphere import read_ionex, slant_range_change

    t0 = time.perf_counter()
    maps = read_ionex(IONEX)
    out = folder / "bench_ionosphere_direct.h5"
    with h5py.File(folder / "bench_geometry.h5") as g, h5py.File(out, "w") as f:
        size = g["height"].shape[0]
        data = f.create_dataset("correction", (1, size, size), "float32")
        for r0 in range(0, size, rows):
            r1 = min(r0 + rows, size)
            lat, lon = centres(size, np.arange(r0, r1))
            inc, heading = (g[n][r0:r1].astype(np.float64) for n in ("incidence_angle", "heading"))
            data[0, r0:r1] = slant_range_change(maps, lat, lon, inc, heading, IONEX_TIME)
    out.unlink()
    return {"dates": 1, "seconds": time.perf_counter() - t0}


def pyaps3_case(size: int) -> dict:
    """pyaps3 on the whole grid, plus sar4tec's difference to it on a subsample."""
    import numpy as np
    import pyaps3  # GPL peer: only here, never in the package

    from sar4tec.corrections.troposphere import slant_delay

    lat, lon, hgt, inc = block_geometry(size, 0, size)
    result = {"dates": 1, "rss_inputs_mb": peak_rss_mb()}
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


def case(kind: str, size: int, rows: int, dates: int, folder: Path) -> dict:
    """Run one case in this process and return its numbers."""
    if kind == "frame":
        write_frame(size, rows, folder)
        result = {}
    elif kind == "pyaps3":
        result = pyaps3_case(size)
    elif kind == "ionosphere_direct":
        result = ionosphere_direct_case(rows, folder)
    elif kind == "baseline":
        import h5py  # noqa: F401
        import pysolid  # noqa: F401

        from sar4tec.corrections import ionosphere, layers, shell, tides, troposphere  # noqa: F401

        result = {}
    else:
        result = layer_case(kind, dates, rows, folder)
    result.setdefault("peak_rss_mb", peak_rss_mb())
    return result


def run_case(kind: str, size: int, rows: int, dates: int, folder: Path) -> dict:
    """Run one case in a fresh Python process (its own peak memory)."""
    args = [sys.executable, __file__, "--case", kind, "--size", str(size), "--dates", str(dates)]
    args += ["--block-rows", str(rows), "--output", str(folder)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if "seconds" in result:
        result["pixels_per_second"] = size * size * result["dates"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000, help="rows = columns of the grid")
    parser.add_argument("--block-rows", type=int, default=256)
    parser.add_argument("--dates", type=int, default=3, help="acquisitions per layer")
    parser.add_argument("--skip-pyaps", action="store_true")
    parser.add_argument("--output", default=Path(__file__).parent / "results/corrections.json")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case here
    args = parser.parse_args()
    if args.case:
        result = case(args.case, args.size, args.block_rows, args.dates, Path(args.output))
        print(json.dumps(result))
        return
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"sar4tec_bench_{os.getpid()}"
    folder.mkdir(parents=True)
    # frames are written by child processes too: a child's peak RSS starts at its parent's
    start = time.perf_counter()
    run_case("frame", args.size, args.block_rows, 1, folder)
    print(f"geometry.h5 written ({time.perf_counter() - start:.1f} s)")
    # a first run on a small frame compiles (and caches) the numba kernels outside the timings
    small = folder / "small"
    small.mkdir()
    run_case("frame", 64, 64, 1, small)
    for kind in ("troposphere", "ionosphere", "tides"):
        run_case(kind, 64, 64, 1, small)
    kinds = ["baseline", "troposphere", "ionosphere", "tides", "ionosphere_direct"]
    results = {}
    for kind in kinds + ([] if args.skip_pyaps else ["pyaps3"]):
        start = time.perf_counter()
        results[kind] = run_case(kind, args.size, args.block_rows, args.dates, folder)
        print(f"{kind:17s} {json.dumps(results[kind])}  ({time.perf_counter() - start:.1f} s)")
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()
    report = {
        "benchmark": "corrections",
        "command": "python benchmarks/corrections.py "
        f"--size {args.size} --block-rows {args.block_rows} --dates {args.dates}",
        "grid": [args.size, args.size],
        "dates": args.dates,
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
