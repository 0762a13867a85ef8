"""The demo through a real SLURM cluster with the project's SLURM profile.

Runs when a SLURM controller answers (`.ci/slurm-cluster.sh start` brings one up on a Debian
machine; `.ci/run` does so when it runs as root); otherwise skipped with the reason.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def cluster_is_up() -> str | None:
    """None if a SLURM partition answers, else why not."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "SLURM client commands (sinfo, sbatch) are not installed"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install '.[slurm]')"
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    usable = {"idle", "mixed", "allocated", "completing"}
    if out.returncode != 0 or not usable & set(out.stdout.split()):
        return f"no usable SLURM node ({out.stderr.strip() or out.stdout.strip() or 'none'})"
    return None


@pytest.mark.skipif(cluster_is_up() is not None, reason=str(cluster_is_up()))
def test_demo_runs_on_slurm_with_the_profile(tmp_path):
    partition = (
        subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, check=True)
        .stdout.split()[0]
        .rstrip("*")
    )
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(REPO / "config/config.yaml"),
        "--profile",
        str(REPO / "profiles/slurm"),
        # the test cluster has no accounting database: poll with squeue (docs/cluster.md)
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--default-resources",
        f"slurm_partition={partition}",
        "mem_mb=2000",
        "runtime=60",
        "--jobs",
        "4",
        "--retries",
        "0",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    assert "Job stats" in log and "steps (100%) done" in log
    # every rule ran as a SLURM job (the executor logs one submission per job)
    assert log.count("has been submitted with SLURM jobid") >= 11
    assert (tmp_path / "results/demo/velocity.tif").stat().st_size > 0
    assert (tmp_path / "results/demo/item.json").exists()
