"""Readers for ROI_PAC unwrapped interferograms (``.unw`` + ``.unw.rsc``).

They read e.g. the PyRate Sydney test stack used to compare our inversion with a peer's.
A ``.unw`` file is ROI_PAC's "rmg" layout: little-endian float32, for each of ``FILE_LENGTH``
lines first ``WIDTH`` amplitude samples, then ``WIDTH`` unwrapped-phase samples (radians).
The ``.rsc`` file holds ``KEY value`` lines (``WIDTH``, ``FILE_LENGTH``, ``X_FIRST``,
``X_STEP``, ``Y_FIRST``, ``Y_STEP``, ``WAVELENGTH``, ``DATE12`` = ``YYMMDD-YYMMDD``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sar4tec.grid import Grid


def read_rsc(path: str | Path) -> dict[str, str]:
    """Key/value pairs of an ROI_PAC resource file."""
    out = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = parts[1]
    for key in ("WIDTH", "FILE_LENGTH"):
        if key not in out:
            raise KeyError(f"{path}: no {key} line")
    return out


def _yymmdd(text: str) -> datetime:
    """ROI_PAC date ``YYMMDD`` (years 00-49 → 2000s, 50-99 → 1900s)."""
    yy = int(text[:2])
    return datetime(yy + (2000 if yy < 50 else 1900), int(text[2:4]), int(text[4:6]), tzinfo=UTC)


def read_unw(path: str | Path) -> tuple[np.ndarray, dict[str, str]]:
    """Unwrapped phase (rad, float32 (rows, cols)) of a ``.unw`` file and its ``.rsc`` keys."""
    path = Path(path)
    rsc = read_rsc(path.with_name(path.name + ".rsc"))
    rows, cols = int(rsc["FILE_LENGTH"]), int(rsc["WIDTH"])
    data = np.fromfile(path, dtype="<f4")
    if data.size != rows * 2 * cols:
        raise ValueError(
            f"{path}: {data.size} float32 values, expected {rows}x2x{cols} for an rmg file"
        )
    return data.reshape(rows, 2, cols)[:, 1, :].copy(), rsc


def rsc_grid(rsc: dict[str, str]) -> Grid:
    """Geocoded grid of an ``.rsc`` (X_FIRST/Y_FIRST are the outer corner, as in GDAL)."""
    x0, dx = float(rsc["X_FIRST"]), float(rsc["X_STEP"])
    y0, dy = float(rsc["Y_FIRST"]), float(rsc["Y_STEP"])
    return Grid((x0, dx, 0.0, y0, 0.0, dy), (int(rsc["FILE_LENGTH"]), int(rsc["WIDTH"])))


def read_unw_stack(
    paths: Sequence[str | Path], nodata: float | None = 0.0
) -> tuple[list[datetime], np.ndarray, np.ndarray, Grid, float]:
    """Read a set of interferograms as a network.

    Parameters
    ----------
    paths : sequence of path
        ``.unw`` files (each with its ``.rsc``) on one grid.
    nodata : float or None
        Phase value meaning "no data" (ROI_PAC writes 0), turned into NaN.

    Returns
    -------
    dates : list of datetime
        Sorted unique dates (UTC midnight).
    pairs : ndarray (M, 2)
        Date indices (first, second) of each interferogram.
    phase : ndarray (M, rows, cols)
        Unwrapped phase in radians, NaN for no data.
    grid : Grid
    wavelength : float
    """
    phases, date12, grid, wavelength = [], [], None, None
    for path in paths:
        phase, rsc = read_unw(path)
        g = rsc_grid(rsc)
        if grid is not None and g != grid:
            raise ValueError(f"{path}: grid {g} differs from the first file's {grid}")
        grid = g
        wavelength = float(rsc["WAVELENGTH"])
        first, second = rsc["DATE12"].split("-")
        date12.append((_yymmdd(first), _yymmdd(second)))
        if nodata is not None:
            phase = np.where(phase == nodata, np.nan, phase)
        phases.append(phase)
    dates = sorted({d for pair in date12 for d in pair})
    index = {d: k for k, d in enumerate(dates)}
    pairs = np.array([(index[a], index[b]) for a, b in date12], dtype=np.int64)
    return dates, pairs, np.stack(phases), grid, wavelength
