"""Time ``snakemake -n`` for a region that expands into 150 Sentinel-1 frames.

    python benchmarks/dag.py            # writes benchmarks/results/dag.json

The region inputs are made in a temporary folder: a burst-ID map of 15 tracks x 10 frames
(9 bursts x 3 sub-swaths per frame, footprints laid side by side, IDs and directions per the
ESA definition) and a strain grid whose whole area exceeds the threshold, so the region
expands to exactly 150 frames.  Timed: ``snakemake -n`` of the whole DAG and of the 150
acquire targets, each first (region expanded from the files, cache written) and again (cache
read), and the region expansion alone.  Numbers from a shared 2-core machine are noisy.
"""

from __future__ import annotations

import csv
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from sar4tec.regions.bursts import track_burst_range
from sar4tec.regions.select import region_frames

ROOT = Path(__file__).resolve().parents[1]
TRACKS, FRAMES_PER_TRACK, FRAME_BURSTS = 15, 10, 9


def make_burst_map(path: Path) -> None:
    """Ascending bursts (first quarter orbit) of 15 tracks, 0.18 deg tall, 0.8 deg per swath."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["burst_id_jpl", "relative_orbit_number", "geometry"])
        for k, track in enumerate(range(1, 1 + TRACKS)):
            first, _ = track_burst_range(track)
            start = first + 100 * FRAME_BURSTS  # tiles start at first + n * 9
            for i in range(FRAMES_PER_TRACK * FRAME_BURSTS):
                south = 30.0 + 0.18 * i
                for s in range(3):
                    west = 20.0 + 2.5 * k + 0.8 * s
                    east, north = west + 0.8, south + 0.2
                    corners = [(west, south), (east, south), (east, north), (west, north)]
                    box = ",".join(f"{x} {y}" for x, y in [*corners, corners[0]])
                    writer.writerow(
                        [f"t{track:03d}_{start + i:06d}_iw{s + 1}", track, f"POLYGON (({box}))"]
                    )


def make_strain(path: Path) -> None:
    lon, lat = np.meshgrid(np.arange(15.0, 65.0, 0.5), np.arange(25.0, 50.0, 0.5))
    rows = np.column_stack(
        [lat.ravel(), lon.ravel(), np.full(lon.size, 10.0), np.zeros(lon.size), np.zeros(lon.size)]
    )
    np.savetxt(path, rows, header="lat lon exx eyy exy (nanostrain/yr)")


def dry_run(config: Path, targets: list[str]) -> tuple[float, str | None, str]:
    """Seconds, error tail (None if it worked) and the summary of ``snakemake -n``."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            "snakemake",
            "-n",
            "--quiet",
            "rules",
            "--configfile",
            str(config),
            "--replace-workflow-config",
            "--cores",
            "1",
            *targets,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    error = None if proc.returncode == 0 else (proc.stderr or proc.stdout).strip()[-300:]
    return elapsed, error, proc.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_burst_map(tmp / "bursts.csv")
        make_strain(tmp / "strain.txt")
        config = {
            "paths": {
                "cache": str(tmp / "cache"),
                "data": str(tmp / "data"),
                "work": str(tmp / "work"),
                "results": str(tmp / "results"),
                "logs": str(tmp / "logs"),
            },
            "region": {
                "strain_file": str(tmp / "strain.txt"),
                "burst_db": str(tmp / "bursts.csv"),
                "threshold": 3.0,
                "margin_km": 20.0,
                "frame_overlap": 0,
            },
        }
        config_file = tmp / "region.yaml"
        config_file.write_text(yaml.safe_dump(config))
        # the whole DAG (rule all), then the acquire targets alone: a stage whose script is
        # still missing fails the first but not the second
        runs = {}
        targets = {"all": [], "manifests": None}
        for name in ("all", "manifests"):
            first = dry_run(config_file, targets[name] or [])
            if targets["manifests"] is None:
                frame_ids = json.loads(next((tmp / "cache/regions").glob("*.json")).read_text())
                targets["manifests"] = [f"{tmp}/data/{f}/manifest.json" for f in frame_ids]
            second = dry_run(config_file, targets[name] or [])
            runs[name] = {
                "first_s": round(first[0], 2),
                "cached_s": round(second[0], 2),
                "error": first[1] or second[1],
                "summary": second[2].strip().splitlines()[-12:],
            }
        t0 = time.perf_counter()
        frames = region_frames(
            {
                **config,
                "paths": {"cache": str(tmp / "cache2")},
                "region": {**config["region"], "frame_bursts": 9},
            }
        )
        expansion = time.perf_counter() - t0
    result = {
        "benchmark": "snakemake -n for a region expanding to 150 frames",
        "command": "python benchmarks/dag.py",
        "frames": len(frames),
        "dry_run_all": runs["all"],
        "dry_run_acquire_targets": runs["manifests"],
        "region_expansion_s": round(expansion, 2),
        "machine": f"{platform.processor() or platform.machine()}, shared with other jobs",
    }
    out_path = ROOT / "benchmarks/results/dag.json"
    out_path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
