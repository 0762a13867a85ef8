"""Memory models of phase linking and inversion, the block size under a limit, measured RSS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sar4tec.phaselink import PhaseLinkOptions
from sar4tec.phaselink.memory import MIN_BLOCK, block_size_for_memory, phase_linking_peak_mb
from sar4tec.timeseries.memory import inversion_block_size, inversion_peak_mb
from sar4tec.unwrap.memory import unwrap_peak_mb

OPTS = PhaseLinkOptions()


def test_phase_linking_model_grows_with_block_and_dates_only():
    small, large = (phase_linking_peak_mb(b, 100, OPTS) for b in (64, 256))
    assert small < large
    assert phase_linking_peak_mb(128, 30, OPTS) < phase_linking_peak_mb(128, 200, OPTS)


def test_block_size_under_the_limit():
    assert block_size_for_memory(None, 200, OPTS, max_block=256) == 256
    limit = 600.0
    block = block_size_for_memory(limit, 200, OPTS, threads=2, max_block=1024)
    assert block % MIN_BLOCK == 0
    assert phase_linking_peak_mb(block, 200, OPTS, 2) <= limit
    assert phase_linking_peak_mb(block + MIN_BLOCK, 200, OPTS, 2) > limit
    with pytest.raises(MemoryError, match=r"phase_linking.memory_mb = 100 MB .* needs \d+ MB"):
        block_size_for_memory(100, 200, OPTS)


def test_inversion_block_size_under_the_limit():
    assert inversion_block_size(None, 100, 300) == 128
    block = inversion_block_size(700.0, 100, 300, max_block=512)
    assert inversion_peak_mb(block, 100, 300) <= 700.0 < inversion_peak_mb(block + 16, 100, 300)
    with pytest.raises(MemoryError, match=r"inversion.memory_mb = 301 MB .* 300 interferograms"):
        inversion_block_size(301, 100, 300)


def test_tile_job_fails_early_with_the_limit(tmp_path):
    """A limit no block fits stops the job before it writes anything."""
    from sar4tec.phaselink.tiles import TilePlan, link_tile

    plan = TilePlan((64, 64), 64, {"t0000": (0, 64, 0, 64)}, n_dates=200)
    plan.write(tmp_path / "plan.json")
    with pytest.raises(MemoryError, match="phase_linking.memory_mb = 50"):
        link_tile(
            tmp_path / "missing_stack.h5", tmp_path / "plan.json", "t0000",
            tmp_path / "t.h5", OPTS, memory_mb=50,
        )  # fmt: skip
    assert not (tmp_path / "t.h5").exists()


def test_model_bounds_the_measured_peak(tmp_path):
    """Peak RSS of a real tile job (fresh interpreter) stays below the model.

    The model is an upper bound by design (a job must not be killed for asking too little):
    measured 244-258 MiB against 490 MiB modelled for 128 px blocks and 15 dates
    (benchmarks/memory.py). The measurement is the script alone; the model also counts the
    job's own Snakemake process (~130 MiB, in BASELINE_MB), so beyond that it may not
    overstate by more than 2x.
    """
    bench = [
        sys.executable,
        str(Path(__file__).parents[1] / "benchmarks" / "memory.py"),
        "--one",
        "phase_linking",
        "128",
        "15",
    ]
    rss = float(
        subprocess.run(bench, check=True, capture_output=True, text=True).stdout.split()[-1]
    )
    model = phase_linking_peak_mb(128, 15, PhaseLinkOptions(ministack_size=15), 1)
    assert rss < model < 2 * rss + 130


def test_unwrap_model_bounds_the_measured_peaks():
    """The model covers the measured peaks of SNAPHU (benchmarks/unwrap.py) and of the closure
    check on the demo (147 interferograms, 250 x 300 px, 2 workers), without asking for more
    than twice the peak plus the allowances."""
    results = json.loads((Path(__file__).parents[1] / "benchmarks/results/unwrap.json").read_text())
    for case in results["cases"]:
        if case.get("snaphu_peak_rss_mb") is None or case.get("python_peak_rss_mb") is None:
            continue
        n = case["size"]
        model = unwrap_peak_mb((n, n), 1, 2, 128)
        measured = case["snaphu_peak_rss_mb"] + case["python_peak_rss_mb"]
        assert measured <= model < 2 * measured + 500, (case, model)
    for block, measured in ((256, 938), (64, 316)):
        model = unwrap_peak_mb((250, 300), 2, 147, block) - 130  # measured without Snakemake
        # over by at most the SNAPHU processes' fork allowance (2 x 200 MB) + 2x
        assert measured <= model < 2 * measured + 400, (block, model)
    one, two = (unwrap_peak_mb((4000, 4000), w, 600, 128) for w in (1, 2))
    assert two > one > 4000  # a full frame asks for GB, per worker
