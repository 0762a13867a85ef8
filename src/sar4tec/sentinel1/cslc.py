"""Coregistered, geocoded SLCs in the OPERA CSLC-S1 HDF5 layout.

The layout (as distributed by ASF/OPERA and written by ``sar4tec.simulate``)::

    /data/<POL>                 complex64 (rows, cols)
    /data/x_coordinates         pixel-centre x (cols,)
    /data/y_coordinates         pixel-centre y (rows,)
    /data/projection            EPSG code (int)
    /identification/zero_doppler_start_time, zero_doppler_end_time     time strings (UTC)
    /identification/orbit_pass_direction, track_number
    /metadata/processing_information/input_burst_metadata/wavelength   metres
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import parse_time
from sar4tec.grid import Grid

_WAVELENGTH = "metadata/processing_information/input_burst_metadata/wavelength"


@dataclass(frozen=True)
class CslcInfo:
    """What a CSLC file says about itself (no pixels read)."""

    path: Path
    grid: Grid
    sensing_start: datetime
    sensing_stop: datetime
    orbit_direction: str
    track: int | None
    wavelength: float

    @property
    def sensing_mid(self) -> datetime:
        """Middle of the zero-Doppler sensing interval."""
        return self.sensing_start + (self.sensing_stop - self.sensing_start) / 2


def _text(value) -> str:
    value = value[()] if isinstance(value, h5py.Dataset) else value
    return value.decode() if isinstance(value, bytes) else str(value)


def grid_from_coordinates(x: np.ndarray, y: np.ndarray, epsg: int) -> Grid:
    """Grid of regularly spaced pixel-centre coordinates ``x`` (cols) and ``y`` (rows)."""
    dx = (x[-1] - x[0]) / (x.size - 1) if x.size > 1 else 1.0
    dy = (y[-1] - y[0]) / (y.size - 1) if y.size > 1 else -1.0
    for name, coords, step in (("x", x, dx), ("y", y, dy)):
        if coords.size > 1 and not np.allclose(np.diff(coords), step, rtol=1e-6, atol=0):
            raise ValueError(f"{name}_coordinates are not regularly spaced")
    return Grid((x[0] - dx / 2, dx, 0.0, y[0] - dy / 2, 0.0, dy), (y.size, x.size), f"EPSG:{epsg}")


def read_cslc_info(path: str | Path, polarization: str = "VV") -> CslcInfo:
    """Read the metadata of one CSLC file; raises ``ValueError`` naming a missing item."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        try:
            if f"data/{polarization}" not in f:
                raise KeyError(f"data/{polarization}")
            grid = grid_from_coordinates(
                f["data/x_coordinates"][()],
                f["data/y_coordinates"][()],
                int(f["data/projection"][()]),
            )
            ident = f["identification"]
            start = parse_time(_text(ident["zero_doppler_start_time"]))
            stop = parse_time(_text(ident["zero_doppler_end_time"]))
            direction = _text(ident["orbit_pass_direction"]).lower()
            track = int(ident["track_number"][()]) if "track_number" in ident else None
            wavelength = float(f[_WAVELENGTH][()])
        except KeyError as err:
            raise ValueError(f"{path}: not a CSLC file, missing {err}") from None
    return CslcInfo(path, grid, start, stop, direction, track, wavelength)


def read_cslc(path: str | Path, polarization: str = "VV", window=None) -> np.ndarray:
    """Read the complex SLC layer (or a ``(row_slice, col_slice)`` window of it) as complex64."""
    with h5py.File(path, "r") as f:
        data = f[f"data/{polarization}"]
        return np.asarray(data[window] if window is not None else data[()], dtype=np.complex64)
