"""The embedded demo end to end through Snakemake, checked against the simulated truth.

This is the product's main job (`snakemake --cores 2` in the repository root) run in a
temporary folder: every product must exist, a rerun must have nothing to do, and the velocity
must match the truth within what the simulated noise allows.
"""

import json

import pytest
from workflow_runs import run_demo

from sar4tec.validation import evaluate_frame

pytestmark = pytest.mark.slow


def test_every_product_exists_and_a_rerun_has_nothing_to_do(demo_run):
    from sar4tec.products.stage import PRODUCT_FILES

    for name in PRODUCT_FILES:
        assert (demo_run / "results/demo" / name).stat().st_size > 0, name
    assert (demo_run / "results/collection.json").exists()
    assert (demo_run / "data/demo/truth.h5").exists()
    for rule in ("simulate_frame", "stack", "phase_linking", "unwrap", "inversion", "products"):
        assert any((demo_run / "logs").rglob(f"{rule}*.log")), rule
    rerun = run_demo(demo_run, "-n")
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.stdout + rerun.stderr


def test_velocity_matches_the_truth_within_the_simulated_noise(demo_run):
    report = evaluate_frame(
        demo_run / "results/demo", demo_run / "data/demo/truth.h5", demo_run / "work/demo"
    )
    (demo_run / "accuracy.json").write_text(json.dumps(report, indent=1))
    floor_rms = report["noise_floor"]
    velocity = report["velocity"]
    # The turbulence and orbit ramps are in the data and in no correction: their velocity
    # (floor_rms, ~0.5 mm/yr for 51 dates over 6.6 years) is the error floor. Phase noise of
    # the decorrelating fields, unwrapping errors in the low-coherence patches and the
    # smoothing of the subsidence bowl by the 11 x 11 window may add as much again, and the
    # GNSS tie an offset of sigma_GNSS,LOS / sqrt(stations) ~ 0.3 mm/yr: hence 2 x floor + 0.3.
    assert 0.2 < floor_rms < 1.5
    assert velocity["rmse"] < 2.0 * floor_rms + 0.3
    # issue 6: the GNSS-calibrated velocity matches the truth in the product frame, within
    # twice the 1-sigma the reference stage states for its tie (~0.4 mm/yr: sigma_GNSS,LOS
    # and the InSAR velocity noise at ~8 stations); a wrong frame or plate rotation would be
    # off by several mm/yr
    assert abs(velocity["bias"]) < 2.0 * report["gnss_tie_sigma"] < 1.0
    assert report["truth_reference_frame"].startswith("EURA-fixed")
    # the corrections (troposphere above all) reduce the error
    assert report["relative_corrected"]["rmse"] < report["relative_raw"]["rmse"]
    # honest uncertainties: about 68 % of the errors (relative to the reference pixel, whose
    # noise the sigma includes) lie within 1 sigma; 50-85 % allows for the heavy tail of
    # unwrapping errors and the sampling of a spatially correlated error field
    assert 0.5 < report["relative_corrected"]["within_1sigma"] < 0.85


def test_corrections_reduce_the_residual_scatter(demo_run):
    import csv

    with open(demo_run / "work/demo/correction_stats.csv") as fh:
        rows = {row["correction"]: row for row in csv.DictReader(fh)}
    # the troposphere is the largest removable signal: it must reduce the scatter clearly
    assert float(rows["troposphere"]["reduction_percent"]) > 20
    assert float(rows["all"]["residual_rms_after_mm"]) < float(
        rows["all"]["residual_rms_before_mm"]
    )
