"""Correction layers in the time series: re-referencing, and how much each reduces the scatter.

A correction layer is an apparent LOS displacement per date, not re-referenced.  The time
series is relative to the reference pixel and date, so each layer is first made relative to
the same pixel and date, then subtracted.  The residual scatter is the RMS, over the valid
pixels and dates, of the residuals of the time-function fit; corrections are applied in the
configured order and each one's reduction is reported both in sequence and alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def rereference(layer: np.ndarray, ref_series: np.ndarray, ref_date: int) -> np.ndarray:
    """Make a layer relative to the reference pixel and date.

    Parameters
    ----------
    layer : ndarray (N, ...)
        Correction per date and pixel.
    ref_series : ndarray (N,)
        The layer at the reference pixel.
    ref_date : int
        Index of the reference date.
    """
    rel = np.asarray(layer, dtype=np.float64) - np.reshape(
        ref_series, (-1,) + (1,) * (layer.ndim - 1)
    )
    return rel - rel[ref_date]


def _ss(x: np.ndarray) -> tuple[float, int]:
    ok = np.isfinite(x)
    return float(np.sum(x[ok] ** 2)), int(ok.sum())


@dataclass
class ScatterTable:
    """Running sums of squared residuals for the correction-statistics table.

    ``add`` is called once per block with the residuals of the uncorrected series and of each
    correction layer (same pixels, same dates, NaN outside the mask).
    """

    kinds: list[str]
    ss: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = (
            ["raw", "all"] + [f"seq_{k}" for k in self.kinds] + [f"alone_{k}" for k in self.kinds]
        )
        keys += [f"layer_{k}" for k in self.kinds] + [f"vel_{k}" for k in self.kinds]
        self.ss = {k: [0.0, 0] for k in keys}

    def _acc(self, key: str, x: np.ndarray) -> None:
        s, n = _ss(x)
        self.ss[key][0] += s
        self.ss[key][1] += n

    def add(
        self,
        raw_residuals: np.ndarray,
        layer_residuals: list[np.ndarray],
        layers: list[np.ndarray],
        layer_velocities: list[np.ndarray],
    ) -> None:
        """Accumulate one block (arrays (N, P) or (P,) for velocities, NaN = excluded)."""
        self._acc("raw", raw_residuals)
        current = raw_residuals
        for kind, res, lay, vel in zip(
            self.kinds, layer_residuals, layers, layer_velocities, strict=True
        ):
            current = current - res
            self._acc(f"seq_{kind}", current)
            self._acc(f"alone_{kind}", raw_residuals - res)
            self._acc(f"layer_{kind}", lay)
            self._acc(f"vel_{kind}", vel)
        self._acc("all", current)

    def rms(self, key: str) -> float:
        """RMS accumulated under ``key`` (NaN if nothing was accumulated)."""
        s, n = self.ss[key]
        return float(np.sqrt(s / n)) if n else float("nan")

    def rows(self) -> list[dict[str, float | str]]:
        """One row per correction (in order of application) and a final ``all`` row, in mm."""
        out = []
        before = self.rms("raw")
        for kind in self.kinds:
            after = self.rms(f"seq_{kind}")
            out.append(
                {
                    "correction": kind,
                    "layer_rms_mm": 1e3 * self.rms(f"layer_{kind}"),
                    "velocity_change_rms_mm_yr": 1e3 * self.rms(f"vel_{kind}"),
                    "residual_rms_before_mm": 1e3 * before,
                    "residual_rms_after_mm": 1e3 * after,
                    "reduction_mm": 1e3 * (before - after),
                    "reduction_percent": 100.0 * (before - after) / before if before else np.nan,
                    "residual_rms_alone_mm": 1e3 * self.rms(f"alone_{kind}"),
                }
            )
            before = after
        raw, final = self.rms("raw"), self.rms("all")
        out.append(
            {
                "correction": "all",
                "layer_rms_mm": np.nan,
                "velocity_change_rms_mm_yr": np.nan,
                "residual_rms_before_mm": 1e3 * raw,
                "residual_rms_after_mm": 1e3 * final,
                "reduction_mm": 1e3 * (raw - final),
                "reduction_percent": 100.0 * (raw - final) / raw if raw else np.nan,
                "residual_rms_alone_mm": np.nan,
            }
        )
        return out

    def write_csv(self, path: str | Path) -> None:
        """Write :meth:`rows` as CSV (values with 4 decimals)."""
        rows = self.rows()
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()}
                )
