"""Network inversion of the time-series stage: the observation weights, and the inversion.

The per-pixel L2/L1 inversion of a network (banded normal equations, IRLS) lives with the
networks in :mod:`sar4tec.unwrap.network_inversion`, because the unwrap stage's closure
correction uses it too; it is re-exported here.
"""

from __future__ import annotations

import numpy as np

from sar4tec.unwrap.network_inversion import invert_network

__all__ = ["invert_network", "phase_variance"]


def phase_variance(coherence: np.ndarray, nlooks: float) -> np.ndarray:
    """Interferometric phase variance (rad²) from coherence, Cramér-Rao bound.

    ``sigma^2 = (1 - g^2) / (2 L g^2)`` (Rodriguez & Martin 1992); coherence is clipped to
    ``[0.05, 0.999]`` so that weights stay finite.

    Parameters
    ----------
    coherence : ndarray
        Coherence magnitude in [0, 1].
    nlooks : float
        Effective number of independent looks of the coherence estimate.
    """
    g2 = np.clip(np.asarray(coherence, dtype=np.float64), 0.05, 0.999) ** 2
    return (1.0 - g2) / (2.0 * nlooks * g2)
