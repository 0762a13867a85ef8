"""Shared fixtures: the real data folder of the workspace and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
