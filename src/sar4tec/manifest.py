"""``data/{frame}/manifest.json``: the list of a frame's inputs, the acquire stage's product.

Paths inside the manifest are relative to the manifest's folder; :func:`read_manifest`
resolves them and checks that every listed file exists, so a stage fails early with the name
of what is missing.  The format is described in ``docs/architecture.md``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sar4tec.files import atomic_output, parse_time


@dataclass(frozen=True)
class Acquisition:
    """One coregistered SLC file and its sensing time."""

    path: Path
    sensing_time: datetime


@dataclass(frozen=True)
class GnssSource:
    """The station-velocity file of a frame."""

    path: Path
    format: str
    reference_frame: str


@dataclass(frozen=True)
class Manifest:
    """Resolved inputs of one frame."""

    path: Path
    frame: str
    source: str
    slc: list[Acquisition]
    orbits: list[Path]
    dem: Path
    water_mask: Path | None
    era5: list[Path]
    ionex: list[Path]
    gnss: GnssSource | None
    safe: list[Acquisition] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sensing_times(self) -> list[datetime]:
        """Sensing times of the SLCs, in time order."""
        return [a.sensing_time for a in self.slc]


_KNOWN = {"frame", "source", "slc", "safe", "orbits", "dem", "water_mask", "era5", "ionex", "gnss"}


def read_manifest(path: str | Path, *, check_files: bool = True) -> Manifest:
    """Read and resolve a frame manifest.

    Raises
    ------
    ValueError
        If a required key is missing or (with ``check_files``) a listed file does not exist.
    """
    path = Path(path)
    with open(path) as fh:
        raw = json.load(fh)
    base = path.parent

    def resolve(rel: str, key: str) -> Path:
        full = base / rel
        if check_files and not full.exists():
            raise ValueError(f"{path}: '{key}' lists {rel}, which does not exist")
        return full

    try:
        slc, safe = (
            sorted(
                (
                    Acquisition(resolve(item["path"], key), parse_time(item["sensing_time"]))
                    for item in raw.get(key, [])
                ),
                key=lambda a: a.sensing_time,
            )
            for key in ("slc", "safe")
        )
        if "slc" not in raw:
            raise KeyError("slc")
        gnss = raw.get("gnss")
        return Manifest(
            path=path,
            frame=raw["frame"],
            source=raw["source"],
            slc=slc,
            orbits=[resolve(p, "orbits") for p in raw.get("orbits", [])],
            dem=resolve(raw["dem"], "dem"),
            water_mask=resolve(raw["water_mask"], "water_mask") if raw.get("water_mask") else None,
            era5=[resolve(p, "era5") for p in raw.get("era5", [])],
            ionex=[resolve(p, "ionex") for p in raw.get("ionex", [])],
            gnss=GnssSource(resolve(gnss["path"], "gnss"), gnss["format"], gnss["reference_frame"])
            if gnss
            else None,
            safe=safe,
            extra={k: v for k, v in raw.items() if k not in _KNOWN},
        )
    except KeyError as err:
        raise ValueError(f"{path}: manifest has no {err} entry") from None


def relative(path: str | os.PathLike, base: str | os.PathLike) -> str:
    """``path`` relative to ``base`` (POSIX separators), also across sibling folders."""
    return Path(os.path.relpath(Path(path).absolute(), Path(base).absolute())).as_posix()


def write_manifest(path: str | Path, content: dict[str, Any]) -> Path:
    """Write a manifest atomically; file entries must be relative (see :func:`relative`).

    Raises
    ------
    ValueError
        A required key (``frame``, ``source``, ``slc``, ``dem``) is missing.
    """
    missing = {"frame", "source", "slc", "dem"} - set(content)
    if missing:
        raise ValueError(f"manifest for {path} lacks {sorted(missing)}")
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(content, indent=2, default=str) + "\n")
    return Path(path)
