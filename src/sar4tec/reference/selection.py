"""Which GNSS stations calibrate a frame: inside it, with InSAR around them, with enough data."""

from __future__ import annotations

import numpy as np

from sar4tec.reference.projection import StationSample
from sar4tec.reference.stations import StationVelocities

#: status of a station that calibrates the frame
USED = "used"


def select_stations(
    stations: StationVelocities,
    sample: StationSample,
    sigma_los: np.ndarray,
    min_pixels: int = 1,
    min_duration_years: float = 0.0,
    max_sigma_los: float = np.inf,
    exclude=(),
) -> np.ndarray:
    """Status of each station: ``"used"`` or the reason it is left out.

    Parameters
    ----------
    stations : StationVelocities
        The candidate stations.
    sample : StationSample
        InSAR averaged around the stations (:func:`~sar4tec.reference.projection.sample_around`).
    sigma_los : numpy.ndarray
        1-sigma of the GNSS LOS velocities (same unit as ``max_sigma_los``).
    min_pixels : int
        Fewest valid InSAR pixels within the averaging radius.
    min_duration_years : float
        Shortest GNSS record; stations of unknown duration pass.
    max_sigma_los : float
        Largest accepted GNSS LOS uncertainty.
    exclude : sequence of str
        Station identifiers left out by the user.

    Returns
    -------
    numpy.ndarray of str
        The first failed criterion in the order: excluded, outside frame, no InSAR,
        short record, large sigma.
    """
    status = np.full(len(stations), USED, dtype=object)
    duration = stations.duration
    checks = [
        ("excluded by configuration", np.isin(stations.station, list(exclude))),
        ("outside frame", ~sample.inside),
        (f"fewer than {min_pixels} valid InSAR pixels", sample.count < min_pixels),
        (
            f"record shorter than {min_duration_years} yr",
            np.isfinite(duration) & (duration < min_duration_years),
        ),
        ("GNSS LOS sigma too large", ~(sigma_los <= max_sigma_los)),
    ]
    for reason, failed in reversed(checks):
        status[failed] = reason
    return status.astype(str)
