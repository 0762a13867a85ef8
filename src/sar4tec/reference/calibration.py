"""The GNSS calibration surface: a smooth field fitted to InSAR - GNSS LOS velocity differences.

An InSAR velocity map is relative to its reference pixel and carries long-wavelength errors
(orbits, residual atmosphere); GNSS ties it to a reference frame.  At each station ``k`` the
difference ``d_k = v_insar,k - v_gnss,k`` is fitted with a low-order surface in local
east/north coordinates (km from the stations' centroid), weighted by
``1 / (sigma_insar,k^2 + sigma_gnss,k^2)``:

``offset``     ``a``
``plane``      ``a + b x + c y``
``quadratic``  ``a + b x + c y + d x^2 + e x y + f y^2``
``smooth``     a plane plus a Gaussian kernel smoother of its residuals (length scale ``L``):
               ``s(p) = sum_k w_k(p) r_k / (1 + sum_k w_k(p))``, ``w_k = exp(-d_k^2 / 2 L^2)``;
               the 1 in the denominator is a prior that lets ``s`` fade to the plane away
               from stations, so large frames get regional corrections without
               extrapolating them.

Outlier stations are removed one at a time, the worst first, while the largest normalised
residual ``|r_k| / (sigma_k * s)`` exceeds the threshold, where ``s = max(1, 1.4826 MAD)`` of
the normalised residuals (so a set of uniformly optimistic sigmas does not flag every station).
Cross-validation refits without each station (leave-one-out) or each of ``k`` folds and
predicts the held-out stations (e.g. Hastie, Tibshirani & Friedman 2009, ch. 7.10).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sar4tec.constants import WGS84_A

#: number of polynomial coefficients of each surface type (smooth = plane + kernel part)
SURFACE_PARAMETERS = {"offset": 1, "plane": 3, "quadratic": 6, "smooth": 3}


def local_xy(lat, lon, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Local east/north coordinates in km from ``(lat0, lon0)`` (equirectangular)."""
    km_per_deg = np.pi * WGS84_A / 180.0 / 1000.0
    x = (np.asarray(lon, dtype=np.float64) - lon0) * km_per_deg * np.cos(np.radians(lat0))
    y = (np.asarray(lat, dtype=np.float64) - lat0) * km_per_deg
    return x, y


def design_matrix(x, y, surface: str) -> np.ndarray:
    """Columns of the polynomial part of ``surface`` at points ``(x, y)`` (last axis)."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    columns = [np.ones_like(x)]
    if surface in ("plane", "quadratic", "smooth"):
        columns += [x, y]
    if surface == "quadratic":
        columns += [x * x, x * y, y * y]
    if surface not in SURFACE_PARAMETERS:
        raise ValueError(f"unknown surface {surface!r}; known: {sorted(SURFACE_PARAMETERS)}")
    return np.stack(columns, axis=-1)


@dataclass(frozen=True)
class SurfaceFit:
    """A fitted calibration surface.

    Attributes
    ----------
    surface : str
        Surface type.
    coefficients : numpy.ndarray
        Polynomial coefficients (units of the data, per km / km^2).
    covariance : numpy.ndarray
        Their covariance, scaled by the reduced chi-square when that exceeds 1.
    origin : tuple of float
        ``(lat0, lon0)`` of the local coordinates.
    used : numpy.ndarray of bool
        Stations kept in the fit (False = outlier).
    residual : numpy.ndarray
        ``d - surface`` at every station (outliers included).
    normalized_residual : numpy.ndarray
        ``residual / (sigma * scale)``.
    scale : float
        Robust scale of the normalised residuals of the kept stations (>= 1).
    kernel_points, kernel_residuals : numpy.ndarray
        Station ``(x, y)`` km and plane residuals of the smooth part (empty otherwise).
    length_km : float
        Kernel length scale of the smooth part.
    """

    surface: str
    coefficients: np.ndarray
    covariance: np.ndarray
    origin: tuple[float, float]
    used: np.ndarray
    residual: np.ndarray
    normalized_residual: np.ndarray
    scale: float
    kernel_points: np.ndarray
    kernel_residuals: np.ndarray
    length_km: float

    def _kernel(self, x, y) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        out = np.zeros(x.shape)
        if self.kernel_points.size == 0:
            return out
        xf, yf, flat = x.ravel(), y.ravel(), out.reshape(-1)
        step = max(1, 2**22 // len(self.kernel_points))  # points x stations per chunk
        for k in range(0, xf.size, step):
            dx = xf[k : k + step, None] - self.kernel_points[:, 0]
            dy = yf[k : k + step, None] - self.kernel_points[:, 1]
            w = np.exp(-(dx * dx + dy * dy) / (2.0 * self.length_km**2))
            flat[k : k + step] = (w @ self.kernel_residuals) / (1.0 + w.sum(axis=-1))
        return out

    def evaluate(self, lat, lon) -> np.ndarray:
        """Surface value at points (broadcast), units of the fitted data."""
        x, y = local_xy(lat, lon, *self.origin)
        return design_matrix(x, y, self.surface) @ self.coefficients + self._kernel(x, y)

    def sigma(self, lat, lon) -> np.ndarray:
        """1-sigma of the polynomial part at points, from the coefficient covariance."""
        x, y = local_xy(lat, lon, *self.origin)
        g = design_matrix(x, y, self.surface)
        return np.sqrt(np.maximum(np.einsum("...i,ij,...j->...", g, self.covariance, g), 0.0))


def _weighted_fit(a: np.ndarray, d: np.ndarray, sigma: np.ndarray):
    w = 1.0 / sigma
    coef, *_ = np.linalg.lstsq(a * w[:, None], d * w, rcond=None)
    normal = (a * (w * w)[:, None]).T @ a
    return coef, np.linalg.pinv(normal)


def fit_surface(
    lat,
    lon,
    difference,
    sigma,
    surface: str = "plane",
    outlier_threshold: float | None = 3.0,
    length_km: float = 50.0,
    origin: tuple[float, float] | None = None,
) -> SurfaceFit:
    """Fit a calibration surface to station differences, rejecting outlier stations.

    Parameters
    ----------
    lat, lon : array_like
        Station coordinates, degrees.
    difference : array_like
        InSAR minus GNSS LOS velocity at the stations.
    sigma : array_like
        1-sigma of each difference (> 0), same unit.
    surface : {"offset", "plane", "quadratic", "smooth"}
        Surface type (see the module docstring).
    outlier_threshold : float or None
        Reject stations beyond this many (robustly scaled) sigmas; ``None`` keeps all.
    length_km : float
        Kernel length scale of the ``smooth`` surface.
    origin : (lat0, lon0), optional
        Origin of the local coordinates (default: the stations' mean position).

    Raises
    ------
    ValueError
        If there are fewer stations than surface coefficients, or a sigma is not positive.
    """
    lat, lon, d, s = (np.asarray(v, dtype=np.float64) for v in (lat, lon, difference, sigma))
    npar = SURFACE_PARAMETERS.get(surface)
    if npar is None:
        raise ValueError(f"unknown surface {surface!r}; known: {sorted(SURFACE_PARAMETERS)}")
    if d.size < npar:
        raise ValueError(f"a {surface} surface needs at least {npar} stations, got {d.size}")
    if not np.all(s > 0):
        raise ValueError(f"station sigmas must be positive, got {s[~(s > 0)]}")
    if origin is None:
        origin = (float(lat.mean()), float(lon.mean()))
    x, y = local_xy(lat, lon, *origin)
    a = design_matrix(x, y, surface)
    used = np.ones(d.size, bool)
    while True:
        coef, cov = _weighted_fit(a[used], d[used], s[used])
        residual = d - a @ coef
        normalized = residual / s
        dof = int(used.sum()) - npar
        scale = 1.0
        if dof >= 2:
            z = normalized[used]
            scale = max(1.0, 1.4826 * float(np.median(np.abs(z - np.median(z)))))
        worst = np.argmax(np.where(used, np.abs(normalized), -np.inf))
        if (
            outlier_threshold is None
            or dof < 2
            or abs(normalized[worst]) <= outlier_threshold * scale
        ):
            break
        used[worst] = False
    chi2 = float(np.sum(normalized[used] ** 2) / dof) if dof > 0 else 1.0
    cov = cov * max(chi2, 1.0)
    kernel_points = np.empty((0, 2))
    kernel_residuals = np.empty(0)
    if surface == "smooth":
        kernel_points = np.stack([x[used], y[used]], axis=1)
        kernel_residuals = residual[used]
    fit = SurfaceFit(
        surface,
        coef,
        cov,
        origin,
        used,
        residual,
        normalized / scale,
        scale,
        kernel_points,
        kernel_residuals,
        float(length_km),
    )
    if surface == "smooth":  # residuals after the kernel part too
        residual = d - fit.evaluate(lat, lon)
        fit = replace(fit, residual=residual, normalized_residual=residual / s / scale)
    return fit


def cross_validate(
    lat,
    lon,
    difference,
    sigma,
    surface: str = "plane",
    outlier_threshold: float | None = 3.0,
    length_km: float = 50.0,
    folds: int = 0,
    seed: int = 0,
) -> np.ndarray:
    """Held-out residuals ``d_k - surface_without_k(station k)`` for every station.

    Parameters
    ----------
    lat, lon, difference, sigma, surface, outlier_threshold, length_km
        As in :func:`fit_surface`.
    folds : int
        0 = leave-one-out; otherwise the number of random folds (k-fold).
    seed : int
        Seed of the fold assignment.

    Returns
    -------
    numpy.ndarray
        Held-out residual per station; NaN where the training set is too small for the surface.
    """
    lat, lon, d, s = (np.asarray(v, dtype=np.float64) for v in (lat, lon, difference, sigma))
    n = d.size
    if folds and folds < n:
        assignment = np.random.default_rng(seed).permutation(n) % folds
    else:
        assignment = np.arange(n)
    origin = (float(lat.mean()), float(lon.mean()))
    heldout = np.full(n, np.nan)
    for fold in np.unique(assignment):
        test = assignment == fold
        train = ~test
        if train.sum() < SURFACE_PARAMETERS[surface] + 1:
            continue
        fit = fit_surface(
            lat[train],
            lon[train],
            d[train],
            s[train],
            surface,
            outlier_threshold,
            length_km,
            origin,
        )
        heldout[test] = d[test] - fit.evaluate(lat[test], lon[test])
    return heldout


#: surfaces :func:`select_surface` chooses from, simplest first
AUTO_CANDIDATES = ("offset", "plane", "quadratic")


def select_surface(
    lat,
    lon,
    difference,
    sigma,
    outlier_threshold: float | None = 3.0,
    folds: int = 0,
    tolerance: float = 0.05,
) -> tuple[str, dict[str, float]]:
    """Choose the surface that predicts held-out stations best (cross-validated RMSE).

    Each candidate of :data:`AUTO_CANDIDATES` with at least two more stations than
    coefficients is fitted and cross-validated on the stations it keeps; a more complex surface
    is chosen only if it lowers the RMSE by more than ``tolerance`` (relative) below every
    simpler one, so that noise alone does not buy coefficients.

    Returns
    -------
    surface : str
        The chosen surface (``offset`` when no candidate can be cross-validated).
    scores : dict
        Cross-validated RMSE of each candidate tried (units of ``difference``).
    """
    lat, lon, d, s = (np.asarray(v, dtype=np.float64) for v in (lat, lon, difference, sigma))
    scores: dict[str, float] = {}
    for surface in AUTO_CANDIDATES:
        if d.size < SURFACE_PARAMETERS[surface] + 2:
            break
        kept = fit_surface(lat, lon, d, s, surface, outlier_threshold).used
        held = cross_validate(lat[kept], lon[kept], d[kept], s[kept], surface, outlier_threshold,
                              folds=folds)  # fmt: skip
        scores[surface] = float(np.sqrt(np.nanmean(held**2)))
    best, simpler = "offset", np.inf
    for surface, score in scores.items():
        if score < (1.0 - tolerance) * simpler:
            best = surface
        simpler = min(simpler, score)
    return best, scores
