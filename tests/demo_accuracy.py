"""The demo's velocity against its truth: the report and the noise floor no stage can remove."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import decimal_years, read_times
from sar4tec.validation import evaluate_frame


def untouchable_velocity_noise(truth_path: Path, reference: tuple[int, int]) -> np.ndarray:
    """Per-pixel velocity (mm/yr) of the turbulence and orbit ramps, which nothing removes.

    Least-squares rate (with annual and semi-annual terms, as the inversion fits) of the
    truth's turbulence + ramp components, relative to the reference pixel.
    """
    with h5py.File(truth_path, "r") as f:
        years = decimal_years(read_times(f), read_times(f)[0])
        noise = f["turbulence"][()].astype(np.float64) + f["ramp"][()]
    noise -= noise[:, reference[0], reference[1]][:, None, None]
    w = 2 * np.pi * years
    design = np.column_stack(
        [np.ones_like(years), years, np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)]
    )
    rate = np.linalg.pinv(design)[1]
    return np.tensordot(rate, noise, axes=(0, 0))


def velocity_accuracy(workdir: Path, frame: str = "demo") -> tuple[dict, float]:
    """:func:`~sar4tec.validation.evaluate_frame` of a demo run and its noise floor (mm/yr rms).

    Both are also written to ``workdir/accuracy.json`` for the record.
    """
    truth = workdir / f"data/{frame}/truth.h5"
    report = evaluate_frame(workdir / f"results/{frame}", truth, workdir / f"work/{frame}")
    with h5py.File(workdir / f"work/{frame}/timeseries.h5", "r") as f:
        reference = (int(f.attrs["reference_row"]), int(f.attrs["reference_col"]))
        mask = f["mask"][()].astype(bool)
    floor = untouchable_velocity_noise(truth, reference)[mask]
    floor_rms = float(np.sqrt(np.mean((floor - floor.mean()) ** 2)))
    record = report | {"noise_floor": floor_rms}
    (workdir / "accuracy.json").write_text(json.dumps(record, indent=1))
    return report, floor_rms
