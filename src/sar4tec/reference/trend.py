"""Station velocities from position time series: the MIDAS robust trend and a least-squares check.

MIDAS (Median Interannual Difference Adjusted for Skewness; Blewitt et al. 2016, JGR 121,
2054-2068, doi:10.1002/2015JB012552) is a Theil-Sen variant: the velocity is the median of the
slopes of data pairs one year apart, so annual signals cancel and a step only spoils the few
pairs that span it.  Epochs without a partner one year away (gaps) are paired with the next
available epoch beyond a year so that every datum is used; pairs spanning a known step are
dropped.  The slopes beyond
2 sigma of the first median (sigma = 1.4826 MAD) are removed and the median recomputed.  The
uncertainty is ``3 * sqrt(pi/2) * sigma / sqrt(N/4)``: the median's efficiency
(sqrt(pi/2)), N/4 independent pairs (each datum enters about four pairs), and the empirical
factor 3 for coloured noise of the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: one year in the decimal-year unit of GNSS time series
YEAR = 1.0
#: pairs shorter than a year by at most this are accepted (half a day)
PAIR_TOLERANCE = 0.5 / 365.25


@dataclass(frozen=True)
class Trend:
    """A velocity estimate of one component.

    Attributes
    ----------
    velocity, sigma : float
        Rate and its 1-sigma uncertainty (units of the series per year).
    n_pairs : int
        Data pairs used (MIDAS) or data used (least squares).
    outlier_fraction : float
        Fraction of pairs (or data) rejected as outliers.
    """

    velocity: float
    sigma: float
    n_pairs: int
    outlier_fraction: float


def midas_pairs(t: np.ndarray, steps=()) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` about a year apart, chosen as MIDAS does.

    Every epoch is paired with the epoch one year later (forward) and one year earlier
    (backward) when one exists within :data:`PAIR_TOLERANCE`.  An epoch left without any such
    pair (a gap one year away) is paired with the first epoch at least a year later or, failing
    that, the last epoch at least a year earlier, so that every datum is used.

    Parameters
    ----------
    t : numpy.ndarray
        Epochs in decimal years, strictly increasing.
    steps : sequence of float
        Epochs of known steps (equipment changes, earthquakes); pairs spanning one are dropped.
    """
    t = np.asarray(t, dtype=np.float64)
    if np.any(np.diff(t) <= 0):
        raise ValueError("epochs must be strictly increasing")
    n = t.size
    after = np.searchsorted(t, t + YEAR - PAIR_TOLERANCE, side="left")  # first >= t + 1 yr
    before = np.searchsorted(t, t - YEAR + PAIR_TOLERANCE, side="right") - 1  # last <= t - 1 yr
    idx = np.arange(n)
    has_after = after < n
    exact = has_after.copy()
    exact[has_after] = t[after[has_after]] - t[has_after] <= YEAR + PAIR_TOLERANCE
    pairs = set(zip(idx[exact].tolist(), after[exact].tolist(), strict=True))
    paired = np.zeros(n, bool)
    paired[idx[exact]] = True
    paired[after[exact]] = True
    for k in np.flatnonzero(~paired):
        if has_after[k]:
            pairs.add((int(k), int(after[k])))
        elif before[k] >= 0:
            pairs.add((int(before[k]), int(k)))
    if not pairs:
        return np.empty(0, int), np.empty(0, int)
    i, j = (np.array(v) for v in zip(*sorted(pairs), strict=True))
    spans_step = np.zeros(i.size, bool)
    for step in steps:
        spans_step |= (t[i] < step) & (t[j] >= step)
    return i[~spans_step], j[~spans_step]


def midas_trend(t, x, steps=()) -> Trend:
    """MIDAS velocity of one component (see the module docstring).

    Parameters
    ----------
    t : array_like
        Epochs in decimal years, strictly increasing.
    x : array_like
        Positions (any length unit); NaN entries are ignored.
    steps : sequence of float
        Known step epochs.

    Raises
    ------
    ValueError
        If fewer than a year of data gives fewer than 10 usable pairs.
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    good = np.isfinite(x) & np.isfinite(t)
    t, x = t[good], x[good]
    i, j = midas_pairs(t, steps)
    if i.size < 10:
        raise ValueError(
            f"MIDAS needs data pairs about a year apart: only {i.size} over "
            f"{t.max() - t.min() if t.size else 0:.2f} years"
        )
    slopes = (x[j] - x[i]) / (t[j] - t[i])
    median = np.median(slopes)
    sigma = 1.4826 * np.median(np.abs(slopes - median))
    kept = slopes[np.abs(slopes - median) <= 2.0 * sigma] if sigma > 0 else slopes
    median = np.median(kept)
    sigma = 1.4826 * np.median(np.abs(kept - median))
    uncertainty = 3.0 * np.sqrt(np.pi / 2.0) * sigma / np.sqrt(kept.size / 4.0)
    return Trend(float(median), float(uncertainty), int(kept.size), 1.0 - kept.size / slopes.size)


def lsq_trend(t, x, steps=(), annual: bool = True, threshold: float = 5.0) -> Trend:
    """Least-squares trend with offset, annual and semi-annual terms and step offsets.

    One pass of outlier rejection drops data beyond ``threshold`` robust sigmas of the first
    fit.  The uncertainty is the white-noise formal error, an underestimate for real GNSS
    (coloured noise): it serves as a check of MIDAS, not as a replacement.
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    good = np.isfinite(x) & np.isfinite(t)
    t, x = t[good], x[good]
    tc = t - t.mean()
    columns = [np.ones_like(t), tc]
    if annual:
        w = 2.0 * np.pi * t
        columns += [np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)]
    columns += [(t >= s).astype(float) for s in steps if t.min() < s <= t.max()]
    a = np.stack(columns, axis=1)
    keep = np.ones(t.size, bool)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(a[keep], x[keep], rcond=None)
        residual = x - a @ coef
        scale = 1.4826 * np.median(np.abs(residual[keep] - np.median(residual[keep])))
        keep = np.abs(residual) <= threshold * scale
    coef, *_ = np.linalg.lstsq(a[keep], x[keep], rcond=None)
    residual = x[keep] - a[keep] @ coef
    dof = max(int(keep.sum()) - a.shape[1], 1)
    cov = np.linalg.inv(a[keep].T @ a[keep]) * (residual @ residual / dof)
    return Trend(float(coef[1]), float(np.sqrt(cov[1, 1])), int(keep.sum()), 1 - keep.mean())
