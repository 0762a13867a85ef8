"""Demo runs shared by the reliability tests.

The demo is run through Snakemake in temporary folders as ``tests/test_workflow_demo.py`` runs
it; the runs are session fixtures so that the kill-and-resume and the determinism tests share
them (two demo runs in all).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_runs import run_demo


@pytest.fixture(scope="session")
def uninterrupted_demo(tmp_path_factory) -> Path:
    """The demo run once, undisturbed, with ``--cores 2``."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    run = run_demo(workdir)
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir
