"""``truth.h5``: what the synthetic frame really contains, on the output grid of the products.

Only benchmarks and tests read it; no processing stage does. Every dataset says its unit and
sign in its attributes. Per-date signal components are apparent LOS displacements in mm
(positive toward the satellite), absolute (not re-referenced); their sum is the phase written
into the SLCs: ``angle(slc_k) - angle(slc_0) = 4π/λ (sum_k - sum_0)`` up to speckle/PS noise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

import h5py
import numpy as np

from sar4tec.files import write_times
from sar4tec.grid import Grid

#: per-date components of the apparent LOS displacement written into the SLC phase
SIGNAL_COMPONENTS = {
    "troposphere": "minus the slant delay of the atmosphere that the ERA5 files resolve",
    "turbulence": "minus the turbulent slant delay no weather model sees",
    "ionosphere": "ionospheric phase advance 40.31 STEC / f^2 (thin shell)",
    "tides": "solid earth tide (pysolid) projected on the LOS",
    "ramp": "orbit error: planar ramp of the date",
    "deformation": "ground motion in ITRF (fault + bowl + plate rotation)",
    "deformation_fault": "interseismic fault motion relative to the plate (part of deformation)",
    "deformation_bowl": "subsidence bowl, linear and annual (part of deformation)",
    "deformation_plate": "rigid ITRF motion of the scene's plate (part of deformation)",
}
_SUMMED = ("troposphere", "turbulence", "ionosphere", "tides", "ramp", "deformation")
_COMPRESS = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


def output_indices(slc_grid: Grid, strides: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """SLC rows and columns of the output pixels ``(i*sy + sy//2, j*sx + sx//2)``.

    When the SLC size is not a multiple of the strides, the last output pixel's centre can fall
    beyond the SLC grid; its index is clipped to the last SLC row/column.
    """
    out = slc_grid.decimate(strides)
    sy, sx = (int(s) for s in strides)
    rows = np.minimum(np.arange(out.rows) * sy + sy // 2, slc_grid.rows - 1)
    cols = np.minimum(np.arange(out.cols) * sx + sx // 2, slc_grid.cols - 1)
    return rows, cols


def create_truth(h5: h5py.File, grid: Grid, times: Sequence[datetime], attrs: Mapping) -> None:
    """Grid attributes, times and empty per-date datasets (float32, mm)."""
    h5.attrs.update(grid.to_attrs())
    h5.attrs.update(
        {k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in attrs.items()}
    )
    write_times(h5, times)
    shape = (len(times),) + grid.shape
    chunks = (1,) + grid.shape
    for name, meaning in SIGNAL_COMPONENTS.items():
        ds = h5.create_dataset(name, shape=shape, dtype=np.float32, chunks=chunks, **_COMPRESS)
        ds.attrs.update(
            {
                "units": "mm",
                "description": meaning,
                "positive": "toward the satellite",
                "referenced": "no (absolute per date)",
            }
        )
    ds = h5.create_dataset(
        "displacement", shape=shape, dtype=np.float32, chunks=chunks, **_COMPRESS
    )
    ds.attrs.update(
        {
            "units": "mm",
            "description": "true LOS deformation in the product's reference frame relative to "
            "the first date (linear + annual terms; no atmosphere, ionosphere, tides or ramp)",
            "positive": "toward the satellite",
            "reference_frame": attrs["reference_frame"],
        }
    )


def write_date(h5: h5py.File, index: int, parts_m: Mapping[str, np.ndarray]) -> None:
    """Store the components of one date (metres in, mm out) and its displacement.

    ``parts_m`` holds every :data:`SIGNAL_COMPONENTS` entry and ``displacement`` (m, product
    frame, relative to the first date).
    """
    for name in (*SIGNAL_COMPONENTS, "displacement"):
        h5[name][index] = (1000.0 * parts_m[name]).astype(np.float32)


def total_signal(parts_m: Mapping[str, np.ndarray]) -> np.ndarray:
    """Apparent LOS displacement (m) that goes into the SLC phase: the sum of the components."""
    return sum(parts_m[name] for name in _SUMMED)


def write_static(h5: h5py.File, datasets: Mapping[str, tuple[np.ndarray, Mapping[str, str]]]):
    """Write 2-D/3-D datasets given as ``name: (array, attributes)``."""
    for name, (array, attributes) in datasets.items():
        ds = h5.create_dataset(name, data=array, **_COMPRESS)
        ds.attrs.update(attributes)
