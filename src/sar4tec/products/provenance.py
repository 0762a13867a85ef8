"""Provenance of a frame's products: the software, code, configuration and inputs behind them.

Every product carries the same record (``docs/products.md``): sar4tec's version, the git
commit of the workflow checkout (``unknown`` outside git; ``git_dirty`` says whether tracked
files differed from it), the configuration and its hash, and the sha256 of every input file the
frame's manifest lists (SLCs or SAFE products, orbits, DEM, water mask, ERA5, IONEX, GNSS) and
of the manifest itself. Checksums that the manifest already records (an entry's ``sha256``)
are taken as they are; the others are computed once and remembered by path, size and
modification time (:class:`sar4tec.corrections.cache.Checksums`), so appending dates or
rerunning hashes only the new files. The record holds no clock time, so identical runs give
identical products.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Mapping
from html import escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import sar4tec
from sar4tec.corrections.cache import Checksums
from sar4tec.files import atomic_output
from sar4tec.products.stac import config_hash

log = logging.getLogger(__name__)

#: libraries whose versions the record lists next to sar4tec's
PACKAGES = ("numpy", "scipy", "numba", "h5py", "rasterio", "netCDF4", "pysolid", "snaphu")


def git_commit(folder: str | os.PathLike | None) -> tuple[str, bool]:
    """Commit of the git checkout holding ``folder`` and whether tracked files changed.

    Returns ``("unknown", False)`` outside a git checkout or without git.
    """
    if folder is None:
        return "unknown", False
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown", False
    return head, bool(status.strip())


def manifest_files(raw: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """``(relative path, recorded sha256 or None)`` of every file a manifest lists."""
    entries: list[Any] = [*raw.get("slc", []), *raw.get("safe", []), *raw.get("orbits", [])]
    entries += [raw.get("dem"), raw.get("water_mask"), *raw.get("era5", []), *raw.get("ionex", [])]
    entries.append(raw.get("gnss"))
    out = []
    for entry in entries:
        if isinstance(entry, Mapping):
            out.append((str(entry["path"]), entry.get("sha256")))
        elif entry:
            out.append((str(entry), None))
    return out


def input_checksums(
    manifest: str | os.PathLike, memo: str | os.PathLike | None = None
) -> dict[str, str]:
    """sha256 of the manifest and of every file it lists, keyed by path relative to it.

    A listed file that does not exist is recorded as ``missing``.
    """
    manifest = Path(manifest)
    checksums = Checksums(memo)
    out = {manifest.name: checksums(manifest)}
    for rel, recorded in manifest_files(json.loads(manifest.read_text())):
        path = manifest.parent / rel
        if recorded:
            out[rel] = str(recorded).lower()
        elif path.exists():
            out[rel] = checksums(path)
        else:
            log.warning("provenance: %s lists %s, which does not exist", manifest, rel)
            out[rel] = "missing"
    checksums.save()
    log.info("provenance: %d input checksums, %d files hashed now", len(out), checksums.hashed)
    return out


def package_versions() -> dict[str, str]:
    """Installed versions of sar4tec and of :data:`PACKAGES` (``absent`` if not installed)."""
    out = {"sar4tec": sar4tec.__version__}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def collect(
    config: Mapping[str, Any],
    manifest: str | os.PathLike,
    workflow_dir: str | os.PathLike | None = None,
    memo: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The provenance record of a frame's products.

    Parameters
    ----------
    config : mapping
        The configuration the frame was processed with.
    manifest : path
        The frame's manifest (its files are checksummed).
    workflow_dir : path, optional
        Folder of the workflow checkout (the Snakefile's), for the git commit.
    memo : path, optional
        JSON file remembering checksums between runs.
    """
    commit, dirty = git_commit(workflow_dir)
    return {
        "software": "sar4tec",
        "software_version": sar4tec.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "packages": package_versions(),
        "config_hash": config_hash(config),
        "config": json.loads(json.dumps(config, default=str)),
        "input_checksums": input_checksums(manifest, memo),
    }


def attributes(record: Mapping[str, Any]) -> dict[str, str]:
    """The record as flat string attributes (HDF5, NetCDF global attributes, GeoTIFF tags)."""
    return {
        "software_version": f"sar4tec {record['software_version']}",
        "git_commit": record["git_commit"] + ("-dirty" if record["git_dirty"] else ""),
        "packages": json.dumps(record["packages"], sort_keys=True),
        "config_hash": record["config_hash"],
        "config": json.dumps(record["config"], sort_keys=True),
        "input_checksums": json.dumps(record["input_checksums"], sort_keys=True),
    }


def write_json(record: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write the record as ``provenance.json`` (atomically)."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return Path(path)


def write_html(record: Mapping[str, Any], path: str | os.PathLike, title: str) -> Path:
    """Write the record as a small HTML page (the provenance panel of ``snakemake --report``)."""
    rows = [
        ("software", f"{record['software']} {record['software_version']}"),
        ("git commit", record["git_commit"] + (" (modified)" if record["git_dirty"] else "")),
        ("configuration hash (sha256)", record["config_hash"]),
        *((f"package {k}", v) for k, v in sorted(record["packages"].items())),
    ]
    table = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    inputs = "\n".join(
        f"<tr><td>{escape(name)}</td><td><code>{escape(sha)}</code></td></tr>"
        for name, sha in sorted(record["input_checksums"].items())
    )
    config = escape(json.dumps(record["config"], indent=1, sort_keys=True))
    html = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif}} th{{text-align:left;padding-right:1em}}
td{{font-size:90%}}</style></head>
<body><h2>{escape(title)}</h2>
<table>{table}</table>
<h3>Input files ({len(record["input_checksums"])}, sha256)</h3>
<table>{inputs}</table>
<h3>Configuration</h3>
<pre>{config}</pre>
</body></html>
"""
    with atomic_output(path) as tmp:
        tmp.write_text(html)
    return Path(path)
