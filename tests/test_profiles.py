"""The Snakemake profiles: `snakemake --profile slurm` from the repository root, site installs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sar4tec.cli import main
from sar4tec.profile_cli import install_profile, set_default_resources

REPO = Path(__file__).resolve().parents[1]


def dry_run(profile: str, workdir: Path, env: dict | None = None) -> str:
    """Output of a dry run of the demo with ``--profile profile``, started in the repo root."""
    command = [
        sys.executable, "-m", "snakemake", "--profile", profile, "-n",
        "--directory", str(workdir), "--configfile", str(REPO / "config/config.yaml"),
    ]  # fmt: skip
    run = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout + run.stderr


def test_profile_name_slurm_resolves_from_the_repository_root(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="needs sar4tec[slurm]")
    out = dry_run("slurm", tmp_path)
    assert "Using profile slurm" in out
    assert "phase_linking" in out and "This was a dry-run" in out


def test_every_profile_sets_the_keys_a_cluster_run_relies_on():
    for name in ("slurm", "terrabyte"):
        profile = yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())
        assert profile["executor"] == "slurm"
        assert profile["rerun-incomplete"] and profile["keep-going"] and profile["retries"] >= 1
        assert "downloads=4" in profile["resources"]
        defaults = dict(entry.split("=", 1) for entry in profile["default-resources"])
        assert {"runtime", "mem_mb"} <= set(defaults)
    local = yaml.safe_load((REPO / "profiles/local/config.yaml").read_text())
    assert local["rerun-incomplete"]


def test_default_resources_are_replaced_or_added():
    profile = {"jobs": 5, "default-resources": ["slurm_account=CHANGE-ME-c", "mem_mb=2000"]}
    new = set_default_resources(profile, {"slurm_account": "pn12ab-c", "clusters": "hpda2"})
    assert new["default-resources"] == ["mem_mb=2000", "slurm_account=pn12ab-c", "clusters=hpda2"]
    assert new["jobs"] == 5 and profile["default-resources"][0] == "slurm_account=CHANGE-ME-c"
    as_mapping = set_default_resources({"default-resources": {"mem_mb": 1}}, {"mem_mb": "3"})
    assert as_mapping["default-resources"] == ["mem_mb=3"]


def test_site_profile_needs_its_account_then_installs_where_snakemake_finds_it(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="needs sar4tec[slurm]")
    with pytest.raises(ValueError, match="slurm_account=CHANGE-ME-c"):
        install_profile(REPO / "profiles/terrabyte", tmp_path / "x", {})
    assert not (tmp_path / "x").exists()

    config_home = tmp_path / "config"
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    command = [
        sys.executable, "-m", "sar4tec.cli", "profile", "install",
        str(REPO / "profiles/terrabyte"), "--account", "pn12ab-c", "--name", "mysite",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr
    installed = config_home / "snakemake/mysite/config.yaml"
    profile = yaml.safe_load(installed.read_text())
    assert "slurm_account=pn12ab-c" in profile["default-resources"]
    assert "clusters=hpda2" in profile["default-resources"]
    # a second install does not silently replace the first
    assert main(["profile", "install", str(REPO / "profiles/terrabyte"), "--account", "a",
                 "--dest", str(config_home / "snakemake"), "--name", "mysite"]) == 1  # fmt: skip
    out = dry_run("mysite", tmp_path / "work", env)
    assert "Using profile mysite" in out
