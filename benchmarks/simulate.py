"""Speed, memory and fidelity of the synthetic demo frame (``sar4tec.simulate``).

    python benchmarks/simulate.py [--config config/config.yaml] [--keep DIR]
                                  # writes benchmarks/results/simulate.json

Simulates the demo frame of the configuration once, timing each step (from the simulator's own
progress lines) and recording the peak resident memory and the size of what it writes. Then it
checks the fidelity of the written inputs against the truth with the project's independent
readers (``sar4tec.corrections``): the slant tropospheric delay from the ERA5 files, the
ionospheric range change from the IONEX files and the solid earth tide, at every output pixel of
five dates spread over the stack; and the phase of the SLCs at persistent scatterers against the
sum of the truth components.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from sar4tec.config import load_config
from sar4tec.constants import los_to_phase
from sar4tec.files import read_times
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest
from sar4tec.simulate import simulate_frame

RESULTS = Path(__file__).parent / "results" / "simulate.json"
COMPONENTS = ("troposphere", "turbulence", "ionosphere", "tides", "ramp", "deformation")


def run(config_path: Path, outdir: Path) -> dict:
    config = load_config(config_path)
    frame = next(f for f, spec in config["frames"].items() if spec["source"] == "simulate")
    steps = []
    start = time.perf_counter()
    cpu = time.process_time()
    simulate_frame(config, outdir, frame, lambda msg: steps.append((time.perf_counter(), msg)))
    wall = time.perf_counter() - start
    previous = start
    breakdown = []
    for stamp, message in steps:
        breakdown.append({"step": message[:60], "seconds": round(stamp - previous, 2)})
        previous = stamp
    sizes = {}
    for path in outdir.iterdir():
        files = [path] if path.is_file() else list(path.rglob("*"))
        sizes[path.name] = round(sum(f.stat().st_size for f in files if f.is_file()) / 1e6, 2)
    with h5py.File(outdir / "truth.h5", "r") as h5:
        shape = [len(h5["dates"])] + list(Grid.from_attrs(h5.attrs).shape)
    return {
        "frame": frame,
        "stack_shape": shape,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "steps": breakdown,
        "output_mb": sizes,
    }


def fidelity(outdir: Path, dates=(0, 12, 25, 38, 50)) -> dict:
    from sar4tec.corrections.ionosphere import pick_ionex, slant_range_change
    from sar4tec.corrections.tides import los_displacement
    from sar4tec.corrections.troposphere import slant_delay

    manifest = read_manifest(outdir / "manifest.json")
    out = {"troposphere_mm": [], "ionosphere_mm": [], "tides_mm": []}
    with h5py.File(outdir / "truth.h5", "r") as h5:
        grid = Grid.from_attrs(h5.attrs)
        lat, lon = grid.meshgrid()
        height, incidence, heading = (h5[k][()] for k in ("height", "incidence_angle", "heading"))
        los = np.stack([h5[f"los_{c}"][()] for c in ("east", "north", "up")], axis=-1)
        times = read_times(h5)
        for k in (d for d in dates if d < len(times)):
            when = times[k]
            checks = {
                "troposphere_mm": -slant_delay(manifest.era5, lat, lon, height, incidence, when)
                - h5["troposphere"][k] / 1000,
                "ionosphere_mm": slant_range_change(
                    pick_ionex(manifest.ionex, when), lat, lon, incidence, heading, when
                )
                - h5["ionosphere"][k] / 1000,
                "tides_mm": los_displacement(lat, lon, when, los) - h5["tides"][k] / 1000,
            }
            for name, diff in checks.items():
                out[name].append(
                    {
                        "date": f"{when:%Y-%m-%d}",
                        "mean": round(1e3 * float(diff.mean()), 3),
                        "std": round(1e3 * float(diff.std()), 3),
                        "max_abs": round(1e3 * float(np.abs(diff).max()), 3),
                    }
                )
        # SLC phase at PS pixels vs the truth (output grid = SLC grid when strides are 1)
        strides = json.loads(h5.attrs["strides"])
        ps = np.nonzero(h5["ps_mask"][()])
        rows, cols = (ps[i] * strides[i] + strides[i] // 2 for i in range(2))
        total = sum(h5[c][()][:, ps[0], ps[1]].astype(np.float64) for c in COMPONENTS) / 1000
    slc = []
    for item in manifest.slc:
        with h5py.File(item.path, "r") as f:
            slc.append(f["data/VV"][()][rows, cols])
    slc = np.array(slc)
    residual = np.angle(
        slc[1:] * slc[:1].conj() * np.exp(-1j * los_to_phase(total[1:] - total[:1]))
    )
    out["ps_phase_residual_rad"] = {
        "pixels": int(rows.size),
        "rms": round(float(np.sqrt(np.mean(residual**2))), 4),
        "max_abs": round(float(np.abs(residual).max()), 4),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--keep", type=Path, help="simulate into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.keep or Path(tmp) / "frame"
        result = {
            "note": "shared 2-core machine, timings noisy (five other engineers at work); "
            "the simulation itself is single-threaded",
            "command": "python benchmarks/simulate.py",
            **run(args.config, outdir),
            "fidelity_vs_independent_readers": fidelity(outdir),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("stack_shape", "wall_seconds", "peak_rss_mb")}))


if __name__ == "__main__":
    main()
