"""Shared fixtures: the real data folder of the workspace and the demo run through Snakemake."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from workflow_runs import run_demo

#: real files made by others (see PROVENANCE.md there); never copied into the project
REAL_DATA = Path(
    os.environ.get("SAR4TEC_REAL_DATA", Path(__file__).resolve().parents[2] / "shared/data/real")
)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Path of ``../shared/data/real``; the test is skipped, with the reason, if it is absent."""
    if not (REAL_DATA / "PROVENANCE.md").exists():
        pytest.skip(
            f"real test data not found at {REAL_DATA} (set SAR4TEC_REAL_DATA to its location)"
        )
    return REAL_DATA


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The README's demo command (``snakemake --cores 2``) run once in a temporary folder.

    Shared by the demo, kill-and-resume and SLURM tests, which only read its files (one demo
    run fewer each); a test that must change a run makes its own.
    """
    workdir = tmp_path_factory.mktemp("demo")
    run = run_demo(workdir)
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir
