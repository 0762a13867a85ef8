"""From the ``region`` config section to the frames it covers, cached for fast DAG building.

The Snakefile expands a region into one target per frame every time Snakemake parses it
(``snakemake -n``, every cluster job).  Reading a global strain model and the 1.1-million
burst map takes far longer than that may, so the expansion is stored as JSON under
``{paths.cache}/regions/<key>.json``, the key hashing the region settings and the size and
modification time of its input files: any change to them recomputes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sar4tec.files import atomic_output
from sar4tec.regions.bursts import read_burst_db
from sar4tec.regions.frames import Frame, select_frames
from sar4tec.regions.strain import mask_polygons, read_strain, region_mask

#: bump when the cached content changes meaning
CACHE_VERSION = 1


def region_enabled(region: dict[str, Any]) -> bool:
    """True when the section defines a region (a burst map plus a strain file or a bbox)."""
    return bool(region.get("burst_db")) and bool(region.get("strain_file") or region.get("bbox"))


def region_geometry(region: dict[str, Any]):
    """The region as a shapely geometry (lon/lat): strain above threshold, dilated, clipped."""
    import shapely

    bbox = region.get("bbox")
    box = shapely.box(*bbox) if bbox else None
    if not region.get("strain_file"):
        return box
    strain = read_strain(
        region["strain_file"],
        region.get("strain_format", "auto"),
        region.get("strain_columns"),
        region.get("strain_variables"),
        region.get("strain_scale", 1.0),
    )
    mask = region_mask(strain, region.get("threshold", 3.0), region.get("margin_km", 0.0))
    geometry = mask_polygons(mask, strain.grid)
    return geometry.intersection(box) if box is not None else geometry


def frames_for_region(region: dict[str, Any]) -> list[Frame]:
    """Frames touching the region of a validated ``region`` config section."""
    if not region_enabled(region):
        return []
    geometry = region_geometry(region)
    bursts = read_burst_db(region["burst_db"], region.get("burst_db_table"))
    return select_frames(
        geometry,
        bursts,
        frame_bursts=region.get("frame_bursts", 9),
        overlap=region.get("frame_overlap", 1),
        tracks=region.get("tracks") or None,
        directions=region.get("directions", ("ascending", "descending")),
    )


def _input_files(region: dict[str, Any]) -> list[Path]:
    strain = str(region.get("strain_file") or "")
    files = [Path(strain.format(component=c)) for c in ("exx", "eyy", "exy")]
    files = files if "{component}" in strain else [Path(strain)] if strain else []
    return [*files, Path(region["burst_db"])]


def cache_key(region: dict[str, Any]) -> str:
    """Hash of the region settings and the identity (path, size, mtime) of its input files."""
    stamp = []
    for path in _input_files(region):
        try:
            st = path.stat()
        except FileNotFoundError:
            raise FileNotFoundError(f"region input file not found: {path}") from None
        stamp.append([str(path.resolve()), st.st_size, st.st_mtime_ns])
    text = json.dumps([CACHE_VERSION, region, stamp], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def region_frames(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{frame_id: frame description}`` for the config's region, cached (see module doc).

    Each description holds ``frame``, ``track``, ``orbit_direction``, ``bursts`` (full burst
    IDs) and ``bounds``.  Empty when the config defines no region.
    """
    region = config.get("region") or {}
    if not region_enabled(region):
        return {}
    cache_dir = Path(config.get("paths", {}).get("cache", "cache")) / "regions"
    path = cache_dir / f"{cache_key(region)}.json"
    if path.is_file():
        with open(path) as f:
            return json.load(f)
    frames = {f.frame_id: f.to_dict() for f in frames_for_region(region)}
    os.makedirs(cache_dir, exist_ok=True)
    with atomic_output(path) as tmp, open(tmp, "w") as f:
        json.dump(frames, f, indent=1)
    return frames
