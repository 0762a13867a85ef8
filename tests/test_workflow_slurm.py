"""The demo through a real SLURM cluster with the project's SLURM profile.

Runs when a SLURM controller answers (`.ci/slurm-cluster.sh start` brings one up on a Debian
machine; `.ci/run` does so when it runs as root); otherwise skipped with the reason.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
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


def job_state(job_id: str) -> str:
    """SLURM's state of a job (slurmctld keeps finished jobs for MinJobAge seconds)."""
    out = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=False
    )
    match = re.search(r"JobState=(\S+)", out.stdout)
    return match.group(1) if match else f"unknown ({out.stderr.strip()})"


def velocity(workdir: Path) -> dict[str, np.ndarray]:
    with h5py.File(workdir / "results/demo/velocity.h5", "r") as f:
        return {name: f[name][()] for name in ("velocity", "velocityStd")}


@pytest.mark.skipif(cluster_is_up() is not None, reason=str(cluster_is_up()))
def test_demo_runs_on_slurm_with_the_profile(tmp_path, demo_run):
    # the user's exact command, from the repository root: `snakemake --profile slurm`; only
    # what the single-node test cluster needs is added (no accounting database: poll with
    # squeue, docs/cluster.md; short first status check; fail fast)
    command = [
        sys.executable, "-m", "snakemake", "--profile", "slurm",
        "--directory", str(tmp_path / "slurm"), "--configfile", str(REPO / "config/config.yaml"),
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
        "--jobs", "4", "--retries", "0",
        # the node's 2 CPUs: a group job (the 3 corrections) runs its members in layers
        "--cores", "2",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    assert "Using profile slurm" in log and "steps (100%) done" in log

    # every rule ran inside a SLURM job: each rule log names its job, and SLURM says it
    # completed; the per-date corrections shared one job (group-components: corrections=3)
    logs = tmp_path / "slurm/logs"
    rule_logs = [p for p in sorted(logs.rglob("*.log")) if logs / "slurm" not in p.parents]
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", log)  # after the checkpoints
    assert done and len(rule_logs) == int(done[-1][1]) - 1  # every job but `all`
    jobs = {}
    for path in rule_logs:
        found = re.search(r"SLURM job (\d+)", path.read_text())
        assert found, f"{path.name} did not run in a SLURM job"
        jobs.setdefault(found.group(1), []).append(path.stem)
    states = {job: job_state(job) for job in jobs}
    assert set(states.values()) == {"COMPLETED"}, states
    assert any(len(rules) == 3 for rules in jobs.values()), jobs  # the corrections group

    # the products equal those of a local run of the same command (same threads per rule)
    ours, theirs = velocity(tmp_path / "slurm"), velocity(demo_run)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    assert (tmp_path / "slurm/results/demo/item.json").exists()
