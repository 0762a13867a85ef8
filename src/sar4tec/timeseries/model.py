"""Time-function fit per pixel: offset, linear rate, seasonal terms, steps, DEM error.

``d(t) = c + v t + a1 sin(2 pi t) + b1 cos(2 pi t) + a2 sin(4 pi t) + b2 cos(4 pi t)
+ sum_k s_k H(t - t_k) + e B_perp(t)``, with ``t`` in years from the reference date.
The DEM-error term follows Fattahi & Amelung (2013): a height error ``dz`` adds
``B_perp dz / (R sin(theta))`` of apparent LOS displacement, so the coefficient ``e`` of the
``B_perp`` column is ``dz / (R sin(theta))``.

Pixels sharing the same set of valid dates share the design matrix, so the fit is one
pseudo-inverse per pattern and a matrix product for all pixels of that pattern.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sar4tec.constants import WGS84_A


@dataclass(frozen=True)
class TimeFunctions:
    """The columns of the time-function model.

    Attributes
    ----------
    annual, semiannual : bool
        Include sine and cosine terms of period 1 yr and 0.5 yr.
    steps : tuple of float
        Times (years from the reference date) of Heaviside steps, e.g. earthquakes.
    bperp : ndarray or None
        Perpendicular baseline (m) of each date; adds the DEM-error column when given.
    """

    annual: bool = True
    semiannual: bool = True
    steps: tuple[float, ...] = ()
    bperp: np.ndarray | None = None

    def design(self, t: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Design matrix ``G`` (N, p) at times ``t`` (years) and the names of its columns."""
        t = np.asarray(t, dtype=np.float64)
        cols = [np.ones_like(t), t]
        names = ["offset", "velocity"]
        for on, period, name in (
            (self.annual, 1.0, "annual"),
            (self.semiannual, 0.5, "semiannual"),
        ):
            if on:
                cols += [np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / period)]
                names += [f"{name}_sin", f"{name}_cos"]
        for k, ts in enumerate(self.steps):
            cols.append((t >= ts).astype(np.float64))
            names.append(f"step_{k}")
        if self.bperp is not None:
            bperp = np.asarray(self.bperp, dtype=np.float64)
            if bperp.shape != t.shape:
                raise ValueError(f"bperp has shape {bperp.shape}, dates {t.shape}")
            cols.append(bperp - bperp.mean())
            names.append("dem_error")
        return np.stack(cols, axis=1), names


def valid_patterns(valid: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Group pixels by their set of valid dates.

    Parameters
    ----------
    valid : ndarray of bool, shape (N, P)
        True where a pixel (column) has a value at a date (row).

    Yields
    ------
    dates : ndarray of bool, shape (N,)
        The valid dates of the group.
    pixels : ndarray of int
        Column indices of the pixels in the group.
    """
    n_dates = valid.shape[0]
    packed = np.ascontiguousarray(np.packbits(valid, axis=0).T)  # one byte string per pixel
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)  # 1-D: fast, unlike axis=0
    patterns = np.unpackbits(uniq.view(np.uint8).reshape(len(uniq), -1), axis=1)[:, :n_dates]
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    for k, dates in enumerate(patterns.astype(bool)):
        yield dates, order[bounds[k] : bounds[k + 1]]


@dataclass
class Fit:
    """Result of :func:`fit_time_functions` for P pixels.

    Attributes
    ----------
    coefficients : ndarray (p, P)
        Model coefficients (NaN where the pixel has too few dates).
    residuals : ndarray (N, P)
        ``d - G m`` (NaN at invalid dates).
    velocity_var_white : ndarray (P,)
        White-noise variance of the velocity: ``s^2 (G^T G)^-1_vv``.
    names : list of str
        Column names.
    """

    coefficients: np.ndarray
    residuals: np.ndarray
    velocity_var_white: np.ndarray
    names: list[str]


def fit_time_functions(
    displacement: np.ndarray, t: np.ndarray, model: TimeFunctions, min_extra_dates: int = 2
) -> Fit:
    """Least-squares fit of the time functions to each pixel's time series.

    Parameters
    ----------
    displacement : ndarray, shape (N, P)
        Time series (any unit), NaN at missing dates.
    t : ndarray, shape (N,)
        Times in years (from the reference date).
    model : TimeFunctions
        Columns of the model.
    min_extra_dates : int
        A pixel needs at least ``p + min_extra_dates`` valid dates (p = number of columns).
    """
    d = np.asarray(displacement, dtype=np.float64)
    g_full, names = model.design(t)
    p = g_full.shape[1]
    n_pix = d.shape[1]
    coef = np.full((p, n_pix), np.nan)
    resid = np.full_like(d, np.nan)
    var_white = np.full(n_pix, np.nan)
    for dates, pix in valid_patterns(np.isfinite(d)):
        if dates.sum() < p + min_extra_dates:
            continue
        g = g_full[dates]
        if np.linalg.matrix_rank(g) < p:
            continue
        ginv = np.linalg.pinv(g)
        dd = d[np.ix_(dates, pix)]
        m = ginv @ dd
        r = dd - g @ m
        coef[:, pix] = m
        resid[np.ix_(dates, pix)] = r
        dof = dates.sum() - p
        if dof > 0:
            var_white[pix] = np.sum(r * r, axis=0) / dof * (ginv @ ginv.T)[1, 1]
    return Fit(coef, resid, var_white, names)


def lag1_sums(residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel ``sum r_k r_(k+1)`` over consecutive valid dates and ``sum r_k^2``.

    Their ratio is the lag-one autocorrelation; summing both over neighbouring pixels first
    pools the estimate (see :func:`ar1_velocity_std`).
    """
    r = np.asarray(residuals, dtype=np.float64)
    num = np.zeros(r.shape[1])
    for dates, pix in valid_patterns(np.isfinite(r)):
        rr = r[np.ix_(dates, pix)]
        num[pix] = np.sum(rr[1:] * rr[:-1], axis=0)
    return num, np.nansum(r * r, axis=0)


def ar1_velocity_std(
    residuals: np.ndarray,
    t: np.ndarray,
    model: TimeFunctions,
    lag1: np.ndarray | None = None,
    min_extra_dates: int = 2,
) -> np.ndarray:
    """Velocity standard deviation for residuals that are AR(1)-correlated in time.

    The noise is modelled as a continuous-time AR(1) process, correlation
    ``rho ** (|t_i - t_j| / dt)`` with ``dt`` the median date spacing.  For the least-squares
    fit ``m = G+ d`` its covariance is ``s^2 G+ S G+^T`` (the OLS "sandwich"), with ``s^2``
    estimated without bias by ``r^T r / tr(M S)``, ``M = I - G G+`` the residual projector.
    ``rho`` itself is found from the lag-one autocorrelation of the residuals, which is
    strongly biased low for short series with a fitted trend and seasons: the expected value
    ``tr(L M S M) / tr(M S M)`` (``L`` the lag-one operator) is tabulated against ``rho`` for
    each set of valid dates and inverted.  For white noise it reduces to the usual
    ``s^2 (G^T G)^-1``; compare the effective-sample-size inflation of Santer et al. (2000),
    which needs the same bias correction.

    Parameters
    ----------
    residuals : ndarray (N, P)
        Residuals of :func:`fit_time_functions` (NaN at unused dates).
    t : ndarray (N,)
        Times (years).
    model : TimeFunctions
        The fitted model.
    lag1 : ndarray (P,), optional
        Lag-one autocorrelation of the residuals to use, e.g. pooled over neighbouring pixels
        (one pixel's estimate from a few tens of dates scatters by ~1/sqrt(N), and the
        mapping to ``rho`` is convex and clipped at 0, which makes single-pixel estimates
        conservative on average).  Default: each pixel's own.
    min_extra_dates : int
        A pixel needs at least ``p + min_extra_dates`` valid dates, else NaN.
    """
    r = np.asarray(residuals, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if lag1 is None:
        num, den = lag1_sums(r)
        with np.errstate(invalid="ignore", divide="ignore"):
            lag1 = np.where(den > 0, num / den, 0.0)
    g_full, _ = model.design(t)
    p = g_full.shape[1]
    dt = float(np.median(np.diff(np.sort(t)))) if t.size > 1 else 1.0
    rho_grid = np.linspace(0.0, 0.98, 50)
    out = np.full(r.shape[1], np.nan)
    for dates, pix in valid_patterns(np.isfinite(r)):
        idx = np.flatnonzero(dates)
        if idx.size < p + min_extra_dates:
            continue
        g = g_full[idx]
        ginv = np.linalg.pinv(g)
        proj = np.eye(idx.size) - g @ ginv
        lags = np.abs(t[idx, None] - t[None, idx]) / dt
        expected, trace, vel_var = [], [], []
        for rho in rho_grid:
            corr = rho**lags
            mcm = proj @ corr @ proj
            expected.append(np.trace(mcm, offset=-1) / np.trace(mcm))
            trace.append(np.trace(mcm))
            vel_var.append((ginv @ corr @ ginv.T)[1, 1])
        rr = r[np.ix_(idx, pix)]
        ss = np.sum(rr * rr, axis=0)
        rho = np.interp(lag1[pix], np.maximum.accumulate(expected), rho_grid)
        out[pix] = np.sqrt(ss / np.interp(rho, rho_grid, trace) * np.interp(rho, rho_grid, vel_var))
    return out


def bootstrap_velocity_std(
    displacement: np.ndarray,
    t: np.ndarray,
    model: TimeFunctions,
    n_samples: int = 200,
    block: int = 1,
    seed: int = 0,
    min_extra_dates: int = 2,
) -> np.ndarray:
    """Standard deviation of the velocity over bootstrap resamples of the dates.

    Dates are drawn with replacement in moving blocks of ``block`` consecutive valid dates
    (``block = 1``: the ordinary bootstrap of Fattahi & Amelung 2015; longer blocks keep
    short-range temporal correlation, Künsch 1989), the model refitted, and the spread of
    the velocity taken.  Resamples whose design matrix is rank deficient are skipped.
    """
    d = np.asarray(displacement, dtype=np.float64)
    g_full, _ = model.design(t)
    p = g_full.shape[1]
    out = np.full(d.shape[1], np.nan)
    rng = np.random.default_rng(seed)
    for dates, pix in valid_patterns(np.isfinite(d)):
        idx = np.flatnonzero(dates)
        n = idx.size
        if n < p + min_extra_dates:
            continue
        b = max(1, min(block, n))
        starts = rng.integers(0, n - b + 1, size=(n_samples, -(-n // b)))
        draws = (starts[:, :, None] + np.arange(b)).reshape(n_samples, -1)[:, :n]
        vel = []
        dd = d[np.ix_(idx, pix)]
        for sample in draws:
            g = g_full[idx[sample]]
            if np.linalg.matrix_rank(g) < p:
                continue
            vel.append(np.linalg.pinv(g)[1] @ dd[sample])
        if len(vel) >= 2:
            out[pix] = np.std(np.asarray(vel), axis=0, ddof=1)
    return out


def slant_range(incidence_deg: np.ndarray, satellite_height: float) -> np.ndarray:
    """Slant range (m) from incidence at the target on a spherical Earth of radius WGS84 a."""
    inc = np.radians(np.asarray(incidence_deg, dtype=np.float64))
    re, rs = WGS84_A, WGS84_A + satellite_height
    return -re * np.cos(inc) + np.sqrt(rs**2 - (re * np.sin(inc)) ** 2)
