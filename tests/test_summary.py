"""Region summary: rule logs parsed into times and failures; a broken frame among good ones."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import h5py
import pytest

from sar4tec.cli import main
from sar4tec.rulelog import rule_logging
from sar4tec.summary import parse_rule_log, summarise

REPO = Path(__file__).resolve().parents[1]


def _run_rule(log: Path, rule: str, frame: str, threads: int, error: Exception | None = None):
    """Run a rule body through rule_logging, as a Snakemake script does, writing ``log``."""
    smk = SimpleNamespace(log=[str(log)], threads=threads, rule=rule, wildcards={"frame": frame})
    with contextlib.suppress(Exception), rule_logging(smk) as logger:
        logger.info("working")
        if error is not None:
            raise error


def test_rule_logs_give_time_threads_and_the_failure_reason(tmp_path):
    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    (logs / "b").mkdir()
    _run_rule(logs / "a/stack.log", "stack", "a", 1)
    _run_rule(logs / "a/unwrap.log", "unwrap", "a", 4)
    (logs / "a/tiles").mkdir()
    _run_rule(logs / "a/tiles/t0.log", "tile", "a", 2)  # per-tile jobs log in a subfolder
    _run_rule(logs / "b/stack.log", "stack", "b", 1, ValueError("slc/b_1.h5: truncated file"))
    # a job killed by the scheduler: the log stops after the start line
    killed = (logs / "a/unwrap.log").read_text().splitlines()[0]
    (logs / "b/unwrap.log").write_text(killed.replace("{'frame': 'a'}", "{'frame': 'b'}") + "\n")

    ok = parse_rule_log(logs / "a/unwrap.log", "a")
    assert (ok.rule, ok.threads, ok.status) == ("unwrap", 4, "finished")
    assert ok.seconds is not None and ok.core_hours == pytest.approx(4 * ok.seconds / 3600)
    bad = parse_rule_log(logs / "b/stack.log", "b")
    assert bad.status == "failed" and bad.reason == "ValueError: slc/b_1.h5: truncated file"
    assert parse_rule_log(logs / "b/unwrap.log", "b").status == "unfinished"

    results = tmp_path / "results"
    (results / "a").mkdir(parents=True)
    (results / "a" / "velocity.tif").write_text("x")
    summary = summarise(["a", "b", "c"], results, logs, ["velocity.tif"], "error")
    assert summary.frames_done == ["a"] and summary.frames_incomplete == ["c"]
    assert summary.frames_failed["b"]["rule"] == "stack"
    assert summary.frames_failed["b"]["reason"].endswith("truncated file")
    assert summary.rules["stack"]["jobs"] == 2 and summary.rules["stack"]["failed"] == 1
    assert summary.rules["unwrap"]["failed"] == 1
    assert summary.rules["tile"]["jobs"] == 1


def test_a_job_killed_by_slurm_is_reported_with_the_job_log_line(tmp_path):
    logs = tmp_path / "logs"
    (logs / "k").mkdir(parents=True)
    (logs / "k/unwrap.log").write_text(
        "2026-01-02 03:04:05,678 INFO sar4tec: unwrap started with 8 thread(s), wildcards "
        "{'frame': 'k'}, host node3, SLURM job 4242\n"
        "2026-01-02 03:04:06,000 INFO sar4tec.unwrap: tile 1 of 9\n"
    )
    job_log = tmp_path / ".snakemake/slurm_logs/rule_unwrap/k/4242.log"
    job_log.parent.mkdir(parents=True)
    job_log.write_text(
        "host: node3\nslurmstepd: error: *** JOB 4242 ON node3 CANCELLED AT "
        "2026-01-02T07:04:05 DUE TO TIME LIMIT ***\n"
    )
    summary = summarise(["k"], tmp_path / "results", logs, ["v.tif"], "error", root=tmp_path)
    assert "DUE TO TIME LIMIT" in summary.frames_failed["k"]["reason"]
    assert summary.rules["unwrap"]["failed"] == 1


def test_snakemake_errors_name_failures_without_a_rule_log(tmp_path):
    log = tmp_path / "snakemake.log"
    log.write_text(
        "Error in rule stack:\n    jobid: 3\n    input: data/x/manifest.json\n"
        "    output: work/x/stack/slc_stack.h5\n    log: logs/x/stack.log (check log file(s) "
        "for error details)\n    wildcards: frame=x\n\nMissingOutputException: missing files\n"
    )
    summary = summarise(["x"], tmp_path / "results", tmp_path / "logs", ["v.tif"], "error", log)
    assert summary.frames_failed["x"]["rule"] == "stack"


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
               "--cores", "2", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)


REGION = """
seed: 0
frames:
  good: {source: simulate}
  broken: {source: simulate}
simulation:
  bounds: [30.22, 40.70, 30.54, 40.94]
  spacing: 0.004
  dem_margin: 6
  acquisitions: {start: "2018-01-03", end: "2018-09-30", subsample: 2}
  city: {lon: 30.39, lat: 40.80, radius: 6000.0}
  scattering:
    cells: 6
    classes: {urban: {ps_fraction: 0.5}}
  gnss: {stations: 8, outside: 2}
phase_linking: {strides: [2, 2]}
"""


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """Two small frames; one SLC of frame ``broken`` is truncated before the stack rule runs."""
    workdir = tmp_path_factory.mktemp("region")
    (workdir / "config.yaml").write_text(REGION)
    first = snakemake(workdir, "data/good/manifest.json", "data/broken/manifest.json")
    assert first.returncode == 0, first.stderr[-3000:]
    victim = sorted((workdir / "data/broken/slc").glob("*.h5"))[2]
    victim.write_bytes(victim.read_bytes()[:5000])
    run = snakemake(workdir, "--keep-going")
    return {"dir": workdir, "run": run, "victim": victim}


@pytest.mark.slow
def test_broken_frame_fails_alone_and_the_summary_says_why(region):
    from sar4tec.products.stage import PRODUCT_FILES

    workdir, run = region["dir"], region["run"]
    assert run.returncode != 0  # the run reports the failure ...
    for name in PRODUCT_FILES:  # ... but the good frame was processed to the end
        assert (workdir / "results/good" / name).stat().st_size > 0, name
    assert not (workdir / "results/broken").exists()
    summary = json.loads((workdir / "results/summary.json").read_text())
    assert summary["status"] == "error" and summary["frames_done"] == ["good"]
    failed = summary["frames_failed"]["broken"]
    log_text = (workdir / failed["log"]).read_text()
    assert failed["rule"] == "stack" and failed["reason"] in log_text
    assert "Error" in failed["reason"] or "error" in failed["reason"]
    assert summary["rules"]["phase_linking"]["jobs"] == 1  # good frame only
    assert summary["total_core_hours"] > 0
    md = (workdir / "results/summary.md").read_text()
    assert "| broken | stack |" in md and "frames done: 1 (good)" in md
    # the CLI writes the same from the files the run left behind
    folders = ["--results", str(workdir / "results"), "--logs", str(workdir / "logs")]
    assert main(["summary", "--configfile", str(workdir / "config.yaml"), *folders]) == 0
    again = json.loads((workdir / "results/summary.json").read_text())
    assert again["frames_failed"]["broken"]["reason"] == failed["reason"]
    assert again["frames_done"] == ["good"]


@pytest.mark.slow
def test_every_product_records_the_provenance_and_the_report_shows_it(region):
    import rasterio

    workdir = region["dir"]
    record = json.loads((workdir / "results/good/provenance.json").read_text())
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"],
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert record["git_commit"] == (commit or "unknown")
    assert set(record["config"]["frames"]) == {"good"}  # the frame's own configuration
    sums = record["input_checksums"]
    assert {"manifest.json", "dem.tif", "gnss/midas.IGS14.txt"} <= set(sums)
    assert "truth.h5" not in sums and all(len(v) == 64 for v in sums.values())
    assert len([k for k in sums if k.startswith("slc/")]) == len(
        list((workdir / "data/good/slc").glob("*.h5"))
    )
    expected = record["config_hash"]
    results = workdir / "results/good"
    with rasterio.open(results / "velocity.tif") as src:
        assert src.tags()["config_hash"] == expected
        assert json.loads(src.tags()["input_checksums"]) == sums
    for name in ("timeseries.h5", "velocity.h5", "geometryGeo.h5"):
        with h5py.File(results / name, "r") as f:
            assert f.attrs["config_hash"] == expected, name
            assert f.attrs["git_commit"].startswith(record["git_commit"]), name
    import netCDF4

    for name in ("timeseries.nc", "corrections.nc"):
        with netCDF4.Dataset(results / name) as nc:
            assert nc.getncattr("config_hash") == expected, name
            assert json.loads(nc.getncattr("input_checksums")) == sums, name
    item = json.loads((results / "item.json").read_text())
    assert item["properties"]["sar4tec:provenance"] == record
    assert item["properties"]["processing:software"]["sar4tec"] == record["software_version"]
    report = workdir / "report.html"
    # the report of the good frame (the broken one has no products to show)
    made = snakemake(workdir, "--report", str(report), "results/good/item.json")
    assert made.returncode == 0, made.stderr[-3000:]
    embedded = [
        base64.b64decode(b) for b in re.findall(r"base64,([A-Za-z0-9+/=]+)", report.read_text())
    ]
    pages = [b.decode() for b in embedded if b.startswith(b"<!DOCTYPE html>")]
    assert any("Provenance of frame good" in p and expected in p and commit in p for p in pages)
