"""Synthetic distributed-scatterer stacks with a known answer, and the Cramér-Rao bound.

Used by the tests and the benchmark.  A distributed scatterer is a circular complex Gaussian
vector over the N dates with covariance ``diag(e^{i psi}) Gamma diag(e^{-i psi})``, with a real
coherence matrix ``Gamma`` (here: an exponential decay towards a long-term coherence, the usual
model of temporal decorrelation, e.g. Ansari et al. 2018) and the true phase history ``psi``.
Every pixel is an independent draw (spatially white speckle), so a window of L pixels gives
L independent looks.
"""

from __future__ import annotations

import numpy as np


def coherence_model(
    n_dates: int, gamma0: float = 0.7, tau: float = 10.0, gamma_inf: float = 0.2
) -> np.ndarray:
    """Real coherence ``(gamma0 - gamma_inf) exp(-|i - j| / tau) + gamma_inf``, unit diagonal."""
    lag = np.abs(np.subtract.outer(np.arange(n_dates), np.arange(n_dates)))
    gamma = (gamma0 - gamma_inf) * np.exp(-lag / tau) + gamma_inf
    np.fill_diagonal(gamma, 1.0)
    return gamma


def simulate_stack(
    gamma: np.ndarray,
    phase: np.ndarray,
    shape: tuple[int, int],
    rng: np.random.Generator,
    amplitude: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Complex64 stack ``(N, rows, cols)`` of independent DS pixels.

    Parameters
    ----------
    gamma : (N, N)
        Real, positive-definite coherence matrix.
    phase : (N,) or (N, rows, cols)
        True phase ``psi`` of each date (``SLC_k = A exp(i psi_k)`` convention).
    shape : (rows, cols)
        Image size.
    rng : numpy.random.Generator
        Source of the speckle.
    amplitude : float or (rows, cols)
        Scale of the speckle (mean intensity ``amplitude^2``).
    """
    n = gamma.shape[0]
    low = np.linalg.cholesky(gamma)
    white = rng.standard_normal((n, *shape, 2)).view(np.complex128)[..., 0] / np.sqrt(2.0)
    z = np.einsum("ij,j...->i...", low, white)
    phase = np.asarray(phase)
    if phase.ndim == 1:
        phase = phase[:, None, None]
    return (z * np.exp(1j * phase) * amplitude).astype(np.complex64)


def crlb_std(gamma: np.ndarray, n_looks: int) -> np.ndarray:
    """Cramér-Rao bound on the std (rad) of each date's phase relative to date 0.

    The Fisher information of the N phases from ``L`` looks of a Gaussian stack with real
    coherence ``Gamma`` is ``X = 2 L (Gamma^-1 o Gamma - I)`` (Guarnieri & Tebaldini 2008);
    fixing the phase of date 0 removes its row and column.  Returns ``(N,)`` with 0 first.
    """
    x = 2.0 * n_looks * (np.linalg.inv(gamma) * gamma - np.eye(gamma.shape[0]))
    cov = np.linalg.inv(x[1:, 1:])
    return np.concatenate([[0.0], np.sqrt(np.diag(cov))])
