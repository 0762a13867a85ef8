"""Per-date cache of correction layers, so appending acquisitions computes only the new dates.

The ``correction`` rule reruns whenever the frame's manifest changes (new dates), but the
layer of an old date is a function of that date alone: its sensing time, the input files it
reads (the ERA5 files bracketing it, the IONEX file covering it), the geometry on the output
grid, the kind's configuration and the code that computes it. :func:`date_key` hashes all of
these; :class:`LayerCache` keeps one small HDF5 file per date and kind,
``work/{frame}/corrections/cache/{kind}/{YYYYMMDDTHHMMSS}-{key[:16]}.h5``, written atomically.
A date whose key is found is copied, not recomputed; any change of what it depends on gives
another key, so a stale layer is never reused.

:class:`Checksums` computes file checksums once: it remembers each file's sha256 under its
path, size and modification time in a JSON file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sar4tec.files import atomic_output, format_time

CHUNK = 1 << 22


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, or of a folder's files (relative names and bytes, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


class Checksums:
    """sha256 of files, each computed once and remembered by path, size and mtime.

    Parameters
    ----------
    memo : path, optional
        JSON file that keeps the checksums between runs (written by :meth:`save`); without
        it they are remembered for the life of the object only.
    """

    def __init__(self, memo: str | os.PathLike | None = None) -> None:
        self.memo = Path(memo) if memo is not None else None
        self._known: dict[str, dict[str, Any]] = {}
        if self.memo is not None and self.memo.exists():
            try:
                self._known = json.loads(self.memo.read_text())
            except json.JSONDecodeError:  # a damaged memo only costs a re-hash
                self._known = {}
        self.hashed = 0  # files hashed by this object (the rest came from the memo)

    def __call__(self, path: str | os.PathLike) -> str:
        """The sha256 of ``path`` (hashed only if new or modified since it was remembered)."""
        path = Path(path)
        stat = path.stat()
        name = str(path.resolve())
        seen = self._known.get(name)
        if seen and seen["size"] == stat.st_size and seen["mtime_ns"] == stat.st_mtime_ns:
            return seen["sha256"]
        digest = sha256_file(path)
        self.hashed += 1
        self._known[name] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": digest,
        }
        return digest

    def save(self) -> None:
        """Write the remembered checksums to the memo file (atomically)."""
        if self.memo is None:
            return
        self.memo.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(self.memo) as tmp:
            tmp.write_text(json.dumps(self._known, indent=1, sort_keys=True))


@cache
def code_digest() -> str:
    """Digest of the corrections code and the libraries it relies on (a change invalidates)."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    for package in ("sar4tec", "numpy", "scipy", "numba", "pysolid"):
        try:
            digest.update(f"{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"{package}=absent".encode())
    return digest.hexdigest()


def geometry_digest(geometry: h5py.File, names: Iterable[str], rows: int) -> str:
    """Digest of the geometry a layer reads: root attributes and datasets ``names``, blockwise."""
    digest = hashlib.sha256()
    for key in sorted(geometry.attrs):
        digest.update(key.encode() + np.asarray(geometry.attrs[key]).tobytes())
    for name in names:
        dset = geometry[name]
        digest.update(f"{name}{dset.shape}{dset.dtype}".encode())
        for r0 in range(0, dset.shape[0], rows):
            digest.update(np.ascontiguousarray(dset[r0 : r0 + rows]).tobytes())
    return digest.hexdigest()


def date_key(
    kind: str,
    when: datetime,
    settings: Mapping[str, Any],
    geometry: str,
    inputs: Sequence[tuple[str, str]],
) -> str:
    """Key of one date's layer: everything the layer depends on, hashed.

    Parameters
    ----------
    kind : str
        Correction kind.
    when : datetime
        Sensing time of the acquisition.
    settings : mapping
        The kind's configuration section.
    geometry : str
        :func:`geometry_digest` of the geometry file.
    inputs : sequence of (name, sha256)
        The input files this date reads, with their checksums.
    """
    payload = {
        "kind": kind,
        "time": format_time(when),
        "settings": settings,
        "geometry": geometry,
        "inputs": sorted(inputs),
        "code": code_digest(),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class LayerCache:
    """One HDF5 file per date (``/correction`` float32 and its ``sources``) in ``folder``."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, when: datetime, key: str) -> Path:
        """File of the layer of ``when`` with ``key``."""
        return self.folder / f"{when:%Y%m%dT%H%M%S}-{key[:16]}.h5"

    def find(self, when: datetime, key: str) -> Path | None:
        """The cached file for ``when`` and ``key``, or None."""
        path = self.path(when, key)
        if not path.exists():
            return None
        try:
            with h5py.File(path, "r") as h5:
                return path if h5.attrs.get("key") == key else None
        except OSError:  # unreadable (e.g. a disk that filled up): recompute it
            return None

    def sources(self, path: Path) -> list[str]:
        """Input files the cached layer was computed from."""
        with h5py.File(path, "r") as h5:
            return json.loads(h5.attrs["sources"])

    @contextlib.contextmanager
    def store(
        self, when: datetime, key: str, shape: tuple[int, int], rows: int, sources: list[str]
    ) -> Iterator[h5py.Dataset]:
        """Yield the ``correction`` dataset of a new cache file, written atomically.

        Files of the same date with another key (outdated inputs or settings) are removed once
        the new one is complete.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(when, key)
        with atomic_output(path) as tmp, h5py.File(tmp, "w") as h5:
            h5.attrs.update(
                {"key": key, "sensing_time": format_time(when), "sources": json.dumps(sources)}
            )
            yield h5.create_dataset(
                "correction", shape=shape, dtype="float32", chunks=(min(rows, shape[0]), shape[1])
            )
        for old in self.folder.glob(f"{when:%Y%m%dT%H%M%S}-*.h5"):
            if old != path:
                old.unlink(missing_ok=True)
