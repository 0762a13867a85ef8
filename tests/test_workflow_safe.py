"""A local SAFE archive through Snakemake: acquire_local → geocode → stack, against the truth.

The simulator's radar mode writes three dates of a small frame (two IW2 bursts) as SAFE
products, with the download cache an offline acquire stage reads (EOFs, GLO-30 tiles, geoid).
A frame with ``source: local`` pointing at that archive runs to ``work/{frame}/stack/``; the
stack's interferograms must be the simulated apparent LOS displacements.
"""

from __future__ import annotations

import json
from itertools import combinations

import h5py
import numpy as np
import pytest
from workflow_runs import run_demo

from sar4tec.config import load_config
from sar4tec.constants import los_to_phase
from sar4tec.files import read_times
from sar4tec.grid import Grid
from sar4tec.simulate import simulate_frame

BOUNDS = [30.30, 40.70, 30.34, 40.78]
SPACING = 0.0005
SIMULATION = f"""
seed: 3
frames:
  sim: {{source: simulate}}
simulation:
  bounds: {BOUNDS}
  spacing: {SPACING}
  dem_margin: 20
  radar: {{enabled: true}}
  acquisitions: {{start: "2020-01-05", end: "2020-02-01", subsample: 1}}
  orbit: {{baseline_std: 150.0}}
  gnss: {{stations: 2, outside: 0}}
phase_linking: {{strides: [1, 1]}}
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("safe_workflow")
    (root / "simulation.yaml").write_text(SIMULATION)
    archive = root / "archive"
    manifest = simulate_frame(load_config(root / "simulation.yaml"), archive, "sim")
    bursts = json.loads(manifest.read_text())["safe"][0]["bursts"]
    config = root / "workflow.yaml"
    config.write_text(
        f"""
frames:
  T087A_test: {{source: local, bursts: {json.dumps(bursts)}, bounds: {BOUNDS}}}
paths: {{cache: {archive / "cache"}}}
acquire:
  start: "2020-01-01T00:00:00Z"
  end: "2020-12-31T00:00:00Z"
  offline: true
  era5: false
  ionex: false
  gnss: false
  local: {{archives: [{archive / "safe"}]}}
stack: {{cslc_spacing: [{SPACING}, {SPACING}], geocode_threads: 1}}
phase_linking: {{strides: [1, 1]}}
"""
    )
    work = root / "run"
    result = run_demo(work, "work/T087A_test/stack/slc_stack.h5", configs=[config])
    assert result.returncode == 0, result.stderr[-5000:]
    return root, archive, work, config


def test_the_archive_runs_from_acquire_local_to_the_stack(run):
    _, archive, work, config = run
    logs = work / "logs" / "T087A_test"
    rules = ("acquire", "geocode_plan", "geocode_burst_map", "geocode_20200105", "stack")
    for rule in (*rules, "geocode_manifest"):
        assert (logs / f"{rule}.log").exists(), rule
    # acquire_local linked the products and rebuilt the DEM from the cache's GLO-30 tiles
    manifest = json.loads((work / "data/T087A_test/manifest.json").read_text())
    assert len(manifest["safe"]) == 3 and (work / "data/T087A_test/safe").is_dir()
    rerun = run_demo(work, "-n", "work/T087A_test/stack/slc_stack.h5", configs=[config])
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.stdout + rerun.stderr


def test_stack_matches_the_simulated_truth(run):
    _, archive, work, _ = run
    with h5py.File(work / "work/T087A_test/stack/slc_stack.h5") as f:
        slc = f["slc"][()]
        grid = Grid.from_attrs(f.attrs)
        bperp = f["bperp"][()]
        wavelength = float(f.attrs["wavelength"])
        dates = [t.strftime("%Y%m%d") for t in read_times(f)]
    with h5py.File(archive / "truth.h5") as f:
        parts = ("troposphere", "turbulence", "ionosphere", "tides", "ramp", "deformation")
        signal = sum(f[k][()].astype(np.float64) for k in parts) / 1000.0  # mm -> m
        assert grid.almost_equal(Grid.from_attrs(f.attrs))
        assert dates == [t.strftime("%Y%m%d") for t in read_times(f)]
    assert np.isfinite(slc).all()
    # orbits hundreds of metres apart: the flattening removed tens of radians of baseline phase
    assert np.ptp(bperp) > 100.0
    for i, j in combinations(range(len(dates)), 2):
        residual = (
            slc[j] * np.conj(slc[i]) * np.exp(-1j * los_to_phase(signal[j] - signal[i], wavelength))
        )
        weights = np.abs(residual)
        rms = np.sqrt(np.sum(weights * np.angle(residual) ** 2) / weights.sum())
        coherence = np.abs(residual.sum()) / np.sqrt(
            np.sum(np.abs(slc[i]) ** 2) * np.sum(np.abs(slc[j]) ** 2)
        )
        # kernel error (~3 mrad on IW2 speckle) + CInt16 rounding; a wrong geometry, carrier
        # or sign would give radians (see tests/test_simulate_radar.py)
        assert rms < 0.05, (dates[i], dates[j], rms)
        assert coherence > 0.99, (dates[i], dates[j], coherence)
