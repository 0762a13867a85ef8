"""The conda environment for clusters lists the same dependencies as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
#: PyPI name -> conda-forge name where they differ
CONDA_NAMES = {"snaphu": "snaphu-py"}


def names(requirements):
    return {re.split(r"[<>=!~ ;\[]", r)[0].lower().replace("_", "-") for r in requirements}


def test_conda_environment_lists_every_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "envs/sar4tec.yaml").read_text())["dependencies"]
    conda = names(d for d in env if isinstance(d, str))
    pip = names(p for d in env if isinstance(d, dict) for p in d["pip"])
    missing = {CONDA_NAMES.get(n, n) for n in names(project["dependencies"])} - conda - pip
    assert not missing, f"envs/sar4tec.yaml lacks {sorted(missing)}"
    assert project["requires-python"] == ">=3.11" and "python=3.11" in env
    assert "-e ../" in next(d for d in env if isinstance(d, dict))["pip"]  # this checkout
