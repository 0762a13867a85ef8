"""Network inversion to a time series, time-function fit, velocity uncertainty, corrections."""

from sar4tec.timeseries.inversion import invert_network, phase_variance
from sar4tec.timeseries.model import (
    TimeFunctions,
    ar1_velocity_std,
    bootstrap_velocity_std,
    fit_time_functions,
)

__all__ = [
    "TimeFunctions",
    "ar1_velocity_std",
    "bootstrap_velocity_std",
    "fit_time_functions",
    "invert_network",
    "phase_variance",
]
