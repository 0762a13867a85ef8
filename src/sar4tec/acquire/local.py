"""Local-archive mode: use SAFE products already on disk (e.g. a cluster archive) in place.

The archive folders are scanned for ``*.zip`` and ``*.SAFE`` products; each is validated by
reading its manifest and annotations (:func:`sar4tec.sentinel1.safe.read_safe`) and kept when
it is an IW SLC of the frame's track and direction, sensed in the date range, with at least one
of the frame's bursts.  Kept products are symbolic links in the frame folder, never copies.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sar4tec.files import to_utc
from sar4tec.sentinel1.safe import SafeInfo, read_safe


def scan_archives(folders: Sequence[str | os.PathLike]) -> list[Path]:
    """SAFE products (``*.zip``, ``*.SAFE``) in the folders and their sub-folders."""
    found = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise FileNotFoundError(f"local archive folder not found: {folder}")
        for pattern in ("**/S1*_IW_SLC_*.zip", "**/S1*_IW_SLC_*.SAFE"):
            found.extend(folder.glob(pattern))
    return sorted(set(found))


def select_products(
    products: Sequence[str | os.PathLike],
    track: int,
    direction: str,
    burst_ids: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[SafeInfo]:
    """The validated products of a frame (see module docstring), sorted by sensing start.

    Raises
    ------
    ValueError
        A product cannot be read (the message names it): a broken archive is reported, not
        skipped.
    """
    kept = []
    wanted = set(burst_ids)
    for path in products:
        try:
            info = read_safe(path)
        except Exception as err:
            raise ValueError(f"local archive product {path} is not a readable SAFE: {err}") from err
        if (info.mode, info.product_type, info.track, info.direction) != (
            "IW",
            "SLC",
            track,
            direction,
        ):
            continue
        if start is not None and info.stop < to_utc(start):
            continue
        if end is not None and info.start > to_utc(end):
            continue
        if wanted and not wanted & set(info.burst_ids):
            continue
        kept.append(info)
    return sorted(kept, key=lambda i: i.start)


def link_products(products: Sequence[SafeInfo], folder: str | os.PathLike) -> list[Path]:
    """Symbolic links ``folder/<product file name>`` to each product (replaced if present)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for info in products:
        link = folder / info.path.name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(info.path.resolve())
        links.append(link)
    return links
