"""Amplitude statistics per pixel, amplitude dispersion and persistent-scatterer selection.

The statistics are kept as ``(count, mean, m2)`` (number of valid dates, mean amplitude, sum
of squared deviations from the mean), which combine exactly across batches of acquisitions
(pooled mean and variance, Chan et al. 1979), so a new batch updates them without the old
SLCs.  From them follow the amplitude dispersion ``D_A = sigma_A / mu_A`` used to select
persistent scatterers (Ferretti et al. 2001) and the mean intensity ``E[A^2]`` used by the
GLRT test for statistically homogeneous pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange


@dataclass(frozen=True)
class AmplitudeStats:
    """Per-pixel amplitude statistics of a stack, combinable across batches.

    Attributes
    ----------
    count : int32 (rows, cols)
        Number of dates with data.
    mean : float64 (rows, cols)
        Mean amplitude over those dates (NaN where ``count`` is 0).
    m2 : float64 (rows, cols)
        Sum of squared deviations of the amplitude from ``mean``.
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def from_slc(cls, slc: np.ndarray) -> AmplitudeStats:
        """Statistics of an SLC stack ``(N, rows, cols)``; no-data samples are skipped."""
        return cls(*_moments(np.ascontiguousarray(slc, dtype=np.complex64)))

    def combine(self, other: AmplitudeStats) -> AmplitudeStats:
        """Pooled statistics of two batches of dates of the same pixels."""
        n = self.count + other.count
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(n > 0, other.count / np.maximum(n, 1), 0.0)
            delta = np.where(other.count > 0, other.mean, 0.0) - np.where(
                self.count > 0, self.mean, 0.0
            )
            mean = np.where(self.count > 0, self.mean, 0.0) + delta * frac
            mean = np.where(n > 0, mean, np.nan)
            m2 = self.m2 + other.m2 + delta**2 * self.count * frac
        return AmplitudeStats(n.astype(np.int32), mean, m2)

    def dispersion(self) -> np.ndarray:
        """Amplitude dispersion ``sigma_A / mu_A`` (sample standard deviation); NaN if < 2 dates."""
        with np.errstate(invalid="ignore", divide="ignore"):
            std = np.sqrt(self.m2 / (self.count - 1))
            return np.where(self.count >= 2, std / self.mean, np.nan)

    def mean_intensity(self) -> np.ndarray:
        """Mean intensity ``E[A^2] = m2 / count + mean^2`` (NaN where there is no data)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.m2 / self.count + self.mean**2, np.nan)

    def __getitem__(self, index) -> AmplitudeStats:
        return AmplitudeStats(self.count[index], self.mean[index], self.m2[index])


def select_ps(stats: AmplitudeStats, threshold: float, n_dates: int) -> np.ndarray:
    """Persistent scatterers: amplitude dispersion below ``threshold`` and data on all dates.

    Parameters
    ----------
    stats : AmplitudeStats
        Statistics over all ``n_dates`` acquisitions.
    threshold : float
        Largest amplitude dispersion of a PS (0.25 is customary, Ferretti et al. 2001).
    n_dates : int
        Number of acquisitions; a pixel missing any of them is not a PS.
    """
    with np.errstate(invalid="ignore"):
        return (stats.dispersion() < threshold) & (stats.count == n_dates) & (n_dates >= 2)


@njit(cache=True, parallel=True, nogil=True)
def _moments(slc):
    """Count, mean and ``m2`` of the amplitude of each pixel of ``(N, rows, cols)`` (two-pass)."""
    n, rows, cols = slc.shape
    count = np.zeros((rows, cols), np.int32)
    mean = np.zeros((rows, cols))
    m2 = np.zeros((rows, cols))
    for r in prange(rows):
        total = np.zeros(cols)
        for k in range(n):
            for c in range(cols):
                z = slc[k, r, c]
                if np.isfinite(z.real) and np.isfinite(z.imag) and (z.real != 0 or z.imag != 0):
                    count[r, c] += 1
                    total[c] += abs(z)
        for c in range(cols):
            mean[r, c] = total[c] / count[r, c] if count[r, c] > 0 else np.nan
        for k in range(n):
            for c in range(cols):
                z = slc[k, r, c]
                if np.isfinite(z.real) and np.isfinite(z.imag) and (z.real != 0 or z.imag != 0):
                    d = abs(z) - mean[r, c]
                    m2[r, c] += d * d
    return count, mean, m2
