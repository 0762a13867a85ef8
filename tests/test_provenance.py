"""Provenance record: git commit, input checksums (computed once), attributes of products."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

import sar4tec
from sar4tec.products import provenance
from sar4tec.products.stac import config_hash

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def manifest(tmp_path):
    """A manifest listing a few files, one of them with a checksum recorded by the acquire stage."""
    (tmp_path / "slc").mkdir()
    for name, text in {"slc/a.h5": "first", "slc/b.h5": "second", "dem.tif": "dem"}.items():
        (tmp_path / name).write_text(text)
    content = {
        "frame": "f",
        "source": "local",
        "slc": [
            {"path": "slc/a.h5", "sensing_time": "2020-01-01T00:00:00Z"},
            {"path": "slc/b.h5", "sensing_time": "2020-01-13T00:00:00Z", "sha256": "AB" * 32},
        ],
        "dem": "dem.tif",
        "era5": ["era5/gone.nc"],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(content))
    return path


def test_checksums_are_sha256_reuse_recorded_ones_and_are_computed_once(manifest, caplog):
    memo = manifest.parent / "work" / "checksums.json"
    caplog.set_level(logging.INFO, logger="sar4tec")
    sums = provenance.input_checksums(manifest, memo)
    assert sums["slc/a.h5"] == hashlib.sha256(b"first").hexdigest()
    assert sums["dem.tif"] == hashlib.sha256(b"dem").hexdigest()
    assert sums["manifest.json"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert sums["slc/b.h5"] == "ab" * 32  # recorded by the manifest, taken as it is
    assert sums["era5/gone.nc"] == "missing"
    assert "3 files hashed now" in caplog.text  # manifest, a.h5, dem.tif
    caplog.clear()
    assert provenance.input_checksums(manifest, memo) == sums
    assert "0 files hashed now" in caplog.text  # remembered by path, size and mtime
    # a modified file is hashed again, even with the same size
    path = manifest.parent / "slc/a.h5"
    path.write_text("FIRST")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    caplog.clear()
    again = provenance.input_checksums(manifest, memo)
    assert again["slc/a.h5"] == hashlib.sha256(b"FIRST").hexdigest()
    assert "1 files hashed now" in caplog.text


def test_git_commit_of_the_checkout_and_unknown_outside_git(tmp_path):
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout: {head.stderr.strip()}")
    commit, _ = provenance.git_commit(REPO)
    assert commit == head.stdout.strip() and len(commit) == 40
    assert provenance.git_commit(tmp_path) == ("unknown", False)
    assert provenance.git_commit(None) == ("unknown", False)


def test_record_and_its_flat_attributes(manifest):
    config = {"frames": {"f": {"source": "local"}}, "seed": 3}
    record = provenance.collect(config, manifest, REPO)
    assert record["software_version"] == sar4tec.__version__
    assert record["config_hash"] == config_hash(config) and record["config"] == config
    assert record["packages"]["numpy"] != "absent"
    attrs = provenance.attributes(record)
    assert all(isinstance(v, str) for v in attrs.values())
    assert json.loads(attrs["config"]) == config
    assert json.loads(attrs["input_checksums"]) == record["input_checksums"]
    assert attrs["git_commit"].startswith(record["git_commit"])
    # the record holds no clock time: collecting it again gives the same record
    assert provenance.collect(config, manifest, REPO) == record
    provenance.write_html(record, manifest.parent / "p.html", "Provenance of frame f")
    html = (manifest.parent / "p.html").read_text()
    assert record["config_hash"] in html and record["input_checksums"]["slc/a.h5"] in html
