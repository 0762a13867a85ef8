"""Physical constants and the sign conventions every module shares.

Phase convention
----------------
The phase of a coregistered SLC is ``-4*pi*R/wavelength`` (plus scattering phase), so the
phase of a date relative to the reference date, ``phi = angle(sec * conj(ref))``, grows when
the range ``R`` shrinks.  Displacement along the line of sight is therefore::

    d = wavelength / (4*pi) * phi          (positive = toward the satellite)

which is the same as ``d = -wavelength * angle(ref * conj(sec)) / (4*pi)``.
All linked phases, unwrapped phases and time series in sar4tec follow it.
"""

import numpy as np

SPEED_OF_LIGHT = 299_792_458.0  # m/s
SENTINEL1_FREQUENCY = 5.405e9  # Hz
SENTINEL1_WAVELENGTH = SPEED_OF_LIGHT / SENTINEL1_FREQUENCY  # 0.05546576 m

WGS84_A = 6_378_137.0  # m, semi-major axis
WGS84_F = 1.0 / 298.257223563
WGS84_B = WGS84_A * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

DAYS_PER_YEAR = 365.25
SECONDS_PER_YEAR = DAYS_PER_YEAR * 86400.0


def phase_to_los(phase: np.ndarray | float, wavelength: float = SENTINEL1_WAVELENGTH):
    """Convert ``angle(sec * conj(ref))`` phase (rad) to LOS displacement (m, + toward sat)."""
    return np.asarray(phase) * (wavelength / (4.0 * np.pi))


def los_to_phase(displacement: np.ndarray | float, wavelength: float = SENTINEL1_WAVELENGTH):
    """Inverse of :func:`phase_to_los`: LOS displacement (m) to phase (rad)."""
    return np.asarray(displacement) * (4.0 * np.pi / wavelength)
