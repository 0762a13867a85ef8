"""Radar scattering of the synthetic frame: coherence per land-cover patch, speckle, PS.

Distributed scatterers (DS) of a patch share one coherence matrix

    Γ_ij = s_i s_j [(γ0 − γ∞) exp(−|t_i − t_j| / τ) + γ∞]  (i ≠ j),  Γ_ii = 1,

an exponential decorrelation towards a long-term coherence (e.g. Rocca 2007; Parizzi et al.
2009) scaled by a seasonal factor ``s(t) = 1 − a (1 + cos(2π (doy − doy_low)/365.25)) / 2``
(snow, vegetation). It is positive semi-definite: the exponential kernel and the constant are,
``D Γ D`` stays so, and the remaining diagonal ``1 − s_i² γ0`` is non-negative. A pixel's
speckle is ``z = L w`` with ``L`` the Cholesky factor of Γ and ``w`` independent circular
Gaussian samples, independent between pixels (Goodman 1976).

Persistent scatterers (PS) are a strong point target of random constant phase on top of the
pixel's DS clutter, with signal-to-clutter ratio SCR: amplitude dispersion ≈ 1/√(2 SCR) and
phase noise ≈ the same in radians (Ferretti et al. 2001). Water is decorrelated (Γ = I).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sar4tec.simulate.terrain import CLASSES, WATER


@dataclass(frozen=True)
class CoherenceModel:
    """Parameters of the temporal coherence of one patch (see the module docstring)."""

    gamma0: float
    gamma_inf: float
    tau_days: float
    seasonal_amplitude: float
    low_doy: float

    def seasonal_factor(self, doy) -> np.ndarray:
        """``s(doy)`` in ``[1 - a, 1]``."""
        phase = 2.0 * np.pi * (np.asarray(doy, dtype=np.float64) - self.low_doy) / 365.25
        return 1.0 - self.seasonal_amplitude * (1.0 + np.cos(phase)) / 2.0

    def matrix(self, days, doy) -> np.ndarray:
        """Coherence matrix (N, N) at acquisition times ``days`` (days) with days of year."""
        days = np.asarray(days, dtype=np.float64)
        dt = np.abs(days[:, None] - days[None, :])
        decay = (self.gamma0 - self.gamma_inf) * np.exp(-dt / self.tau_days) + self.gamma_inf
        s = self.seasonal_factor(doy)
        gamma = s[:, None] * s[None, :] * decay
        np.fill_diagonal(gamma, 1.0)
        return gamma


DECORRELATED = CoherenceModel(0.0, 0.0, 1.0, 0.0, 0.0)


def patch_models(
    patch_class: np.ndarray,
    classes: Mapping[str, Mapping[str, Any]],
    spread: float,
    generator: np.random.Generator,
) -> list[CoherenceModel]:
    """One coherence model per patch: its class values, each scaled by ``1 + spread·N(0,1)``."""
    models = []
    for code in patch_class:
        name = CLASSES[int(code)]
        if code == WATER:
            models.append(DECORRELATED)
            continue
        cfg = classes[name]
        jitter = 1.0 + spread * generator.standard_normal(3)
        gamma0 = float(np.clip(cfg["gamma0"] * jitter[0], 0.05, 0.98))
        gamma_inf = float(np.clip(cfg["gamma_inf"] * jitter[1], 0.0, gamma0))
        models.append(
            CoherenceModel(
                gamma0,
                gamma_inf,
                float(max(cfg["tau_days"] * jitter[2], 1.0)),
                float(np.clip(cfg["seasonal_amplitude"], 0.0, 1.0)),
                float(cfg["low_doy"]),
            )
        )
    return models


def cholesky_factor(gamma: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a coherence matrix, computed row by row.

    Row ``i`` of the factor depends on ``gamma[:i+1, :i+1]`` alone, through operations whose
    shapes depend on ``i`` alone, so the factor of a stack extended by new dates starts with
    the bit-identical factor of the old stack (LAPACK's blocked or recursive factorisation
    reorders its sums with the matrix size).  A pivot below ``1e-9`` (a matrix that is only
    semi-definite) is raised to it: a tiny diagonal load.
    """
    from scipy.linalg import solve_triangular

    gamma = np.asarray(gamma, dtype=np.float64)
    n = gamma.shape[0]
    factor = np.zeros((n, n))
    for i in range(n):
        row = solve_triangular(factor[:i, :i], gamma[i, :i], lower=True) if i else np.empty(0)
        factor[i, :i] = row
        factor[i, i] = np.sqrt(max(gamma[i, i] - row @ row, 1e-9))
    return factor


def circular_gaussian(generator: np.random.Generator, shape) -> np.ndarray:
    """Unit-variance circular complex Gaussian samples."""
    return (generator.standard_normal(shape) + 1j * generator.standard_normal(shape)) / np.sqrt(2)


def distributed_speckle(factor: np.ndarray, pixels: int, generator: np.random.Generator):
    """``L w`` for ``pixels`` independent pixels: (N, pixels) complex, unit mean power."""
    return correlate(factor, circular_gaussian(generator, (factor.shape[0], pixels)))


def correlate(factor: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """``L w`` date by date: row ``k`` uses ``L[k, :k+1]`` and ``w[:k+1]`` only.

    With ``w`` drawn per date, appending dates (rows of ``L`` and ``w``) leaves the earlier
    rows of the result bit-identical, which one matrix product over all dates does not promise.
    """
    samples = np.ascontiguousarray(samples)
    out = np.empty(samples.shape, dtype=np.result_type(factor, samples))
    for k in range(factor.shape[0]):
        out[k] = factor[k, : k + 1] @ samples[: k + 1]
    return out


def persistent_scatterers(
    clutter: np.ndarray, scr_db: np.ndarray, generator: np.random.Generator
) -> np.ndarray:
    """PS echoes (N, P): a constant point target of power SCR plus the unit-power clutter."""
    phase = generator.uniform(-np.pi, np.pi, scr_db.shape)
    point = np.sqrt(10.0 ** (scr_db / 10.0)) * np.exp(1j * phase)
    return point[None, :] + clutter
