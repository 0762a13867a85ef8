"""The coregistered SLC stack of a frame as one chunked HDF5 file.

Layout (``work/{frame}/stack/slc_stack.h5``)::

    /slc            complex64 (N, rows, cols), chunks (1, block, block); NaN = no data
    /dates, /sensing_times                    (sar4tec.files.write_times)
    /bperp          float32 (N,) perpendicular baseline to the first date at the scene centre, m
    attrs           grid (sar4tec.grid), wavelength, orbit_direction, track, frame, polarization
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import atomic_output, read_times, write_times
from sar4tec.grid import Grid
from sar4tec.sentinel1.cslc import CslcInfo, read_cslc
from sar4tec.stack.blocks import iter_blocks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackInfo:
    """Metadata of an SLC stack file."""

    path: Path
    grid: Grid
    sensing_times: list[datetime]
    wavelength: float
    orbit_direction: str

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, rows, cols)``."""
        return (len(self.sensing_times),) + self.grid.shape


def check_consistent(infos: Sequence[CslcInfo]) -> None:
    """Raise ``ValueError`` unless all CSLCs share grid, wavelength and pass direction."""
    if not infos:
        raise ValueError("no SLC files to stack")
    first = infos[0]
    for info in infos[1:]:
        if not info.grid.almost_equal(first.grid):
            raise ValueError(
                f"{info.path}: grid {info.grid} differs from {first.path}: {first.grid} "
                "(a coregistered stack needs one grid)"
            )
        if info.orbit_direction != first.orbit_direction:
            raise ValueError(f"{info.path}: pass direction differs from {first.path}")
        if not np.isclose(info.wavelength, first.wavelength, rtol=1e-6):
            raise ValueError(f"{info.path}: wavelength differs from {first.path}")
    times = [info.sensing_start for info in infos]
    if len(set(times)) != len(times):
        raise ValueError("two SLC files have the same sensing time")


def write_slc_stack(
    infos: Sequence[CslcInfo],
    out_path: str | Path,
    *,
    sensing_times: Sequence[datetime] | None = None,
    polarization: str = "VV",
    block_size: int = 256,
    bperp: np.ndarray | None = None,
    attrs: dict | None = None,
) -> Path:
    """Copy CSLC files, sorted by time, into one stack file block by block.

    ``sensing_times`` (one per file, e.g. the frame-centre times of the manifest) label the
    dates; by default the files' zero-Doppler start times.  Memory stays at one block of one
    date.  Zero-valued pixels (no data in CSLC products) become NaN.
    """
    if sensing_times is None:
        sensing_times = [info.sensing_start for info in infos]
    if len(sensing_times) != len(infos):
        raise ValueError("one sensing time per SLC file is needed")
    order = sorted(range(len(infos)), key=lambda k: sensing_times[k])
    infos = [infos[k] for k in order]
    sensing_times = [sensing_times[k] for k in order]
    check_consistent(infos)
    grid = infos[0].grid
    n = len(infos)
    chunk = (1, min(block_size, grid.rows), min(block_size, grid.cols))
    with atomic_output(out_path) as tmp, h5py.File(tmp, "w") as f:
        data = f.create_dataset("slc", shape=(n,) + grid.shape, dtype=np.complex64, chunks=chunk)
        for k, info in enumerate(infos):
            for block in iter_blocks(grid.shape, (block_size, block_size)):
                values = read_cslc(info.path, polarization, block.core)
                values[values == 0] = np.nan + 1j * np.nan
                data[(k,) + block.core] = values
            log.info("stacked %d/%d %s", k + 1, n, info.path.name)
        write_times(f, sensing_times)
        f.create_dataset(
            "bperp",
            data=np.zeros(n, np.float32) if bperp is None else np.asarray(bperp, np.float32),
        )
        f["bperp"].attrs["units"] = "m"
        f["bperp"].attrs["description"] = (
            "perpendicular baseline of each date to the first at the scene centre; positive "
            "when the date sees the scene at a larger look angle"
        )
        f.attrs.update(grid.to_attrs())
        f.attrs.update(
            wavelength=infos[0].wavelength,
            orbit_direction=infos[0].orbit_direction,
            polarization=polarization,
            **({"track": infos[0].track} if infos[0].track is not None else {}),
            **(attrs or {}),
        )
    return Path(out_path)


def read_stack_info(path: str | Path) -> StackInfo:
    """Metadata of a stack file written by :func:`write_slc_stack`."""
    with h5py.File(path, "r") as f:
        return StackInfo(
            Path(path),
            Grid.from_attrs(f.attrs),
            read_times(f),
            float(f.attrs["wavelength"]),
            str(f.attrs["orbit_direction"]),
        )
