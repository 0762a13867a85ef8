"""Seeded random streams and spatially correlated random fields.

Every random draw of the simulator comes from :func:`rng` with a seed and a name, so each
concept (speckle, weather, turbulence, GNSS noise, ...) has its own independent stream and
changing one part of the scene never changes the realisation of another.

Two kinds of correlated fields are used:

- :func:`power_law_field`: a Gaussian field on a regular grid with a power-law spectrum
  ``P(k) ∝ (k² + k0²)^(-beta/2)`` synthesised by FFT (fractal terrain, atmospheric turbulence;
  Hanssen 2001, ch. 4, for the ``beta = 8/3`` turbulence spectrum), optionally steepening by
  one more power of ``k`` below a break scale (three-dimensional turbulence at scales shorter
  than the thickness of the turbulent layer, ~2 km: Hanssen 2001, ch. 4).
- :class:`PlaneWaveField`: a sum of long-wavelength plane waves that can be evaluated at any
  point and time (weather anomalies seen by a weather model at 0.25° and by the truth at every
  pixel alike), optionally advected by a wind.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0


def rng(seed: int, *keys: str | int) -> np.random.Generator:
    """Independent random generator for ``seed`` and a stream name such as ``("speckle", 3)``."""
    words = [int(seed)] + [
        zlib.crc32(k.encode()) if isinstance(k, str) else int(k) & 0xFFFFFFFF for k in keys
    ]
    return np.random.default_rng(np.random.SeedSequence(words))


def local_km(lat, lon, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """East and north distances (km) from ``(lat0, lon0)`` on a local tangent plane."""
    east = np.radians(np.asarray(lon) - lon0) * EARTH_RADIUS_KM * np.cos(np.radians(lat0))
    north = np.radians(np.asarray(lat) - lat0) * EARTH_RADIUS_KM
    return east, north


def power_law_field(
    shape: tuple[int, int],
    spacing_km: tuple[float, float],
    beta: float,
    generator: np.random.Generator,
    outer_scale_km: float = np.inf,
    pad: int = 2,
    break_scale_km: float = 0.0,
) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian field with spectrum ``(k² + k0²)^(-beta/2)``.

    Parameters
    ----------
    shape : (rows, cols)
        Output shape.
    spacing_km : (dy, dx)
        Pixel size in km (absolute values are used).
    beta : float
        Spectral exponent of the 2-D power spectrum (8/3 for Kolmogorov-like tropospheric
        turbulence, 3 to 4 for terrain).
    generator : numpy.random.Generator
        Source of the white noise.
    outer_scale_km : float
        ``k0 = 1/outer_scale_km`` flattens the spectrum at wavelengths longer than it.
    pad : int
        The field is synthesised on a grid ``pad`` times larger and cropped, so it is not
        periodic across the output.
    break_scale_km : float
        If positive, the spectrum is multiplied by ``(1 + (k·break)²)^(-1/2)``: unchanged at
        wavelengths longer than the break, one power of ``k`` steeper at shorter ones.
    """
    rows, cols = shape
    big = (int(2 ** np.ceil(np.log2(rows * pad))), int(2 ** np.ceil(np.log2(cols * pad))))
    ky = np.fft.fftfreq(big[0], d=abs(spacing_km[0]))
    kx = np.fft.rfftfreq(big[1], d=abs(spacing_km[1]))
    k2 = ky[:, None] ** 2 + kx[None, :] ** 2
    k0 = 0.0 if not np.isfinite(outer_scale_km) else 1.0 / outer_scale_km
    k2[0, 0] = np.inf  # no mean
    amplitude = (k2 + k0**2) ** (-beta / 4.0)
    if break_scale_km > 0:
        amplitude = amplitude * (1.0 + k2 * break_scale_km**2) ** -0.25
    white = generator.standard_normal(big)
    field = np.fft.irfft2(np.fft.rfft2(white) * amplitude, s=big)[:rows, :cols]
    field -= field.mean()
    std = field.std()
    return field / std if std > 0 else field


@dataclass(frozen=True)
class PlaneWaveField:
    """Smooth random field ``f(x, y, t) = sqrt(2/K) Σ a_k cos(k·(r − u t) + φ_k)``.

    Unit variance over space; wavelengths log-uniform between ``min_wavelength_km`` and
    ``max_wavelength_km`` with a red spectrum (amplitude ∝ wavelength), so most of the variance
    lies at the longest scales, as for synoptic weather.

    Attributes
    ----------
    wavevectors : ndarray, shape (K, 2)
        Angular wavenumbers (east, north) in rad/km.
    phases : ndarray, shape (K,)
        Phases in radians.
    amplitudes : ndarray, shape (K,)
        Wave amplitudes (their squares sum to K).
    wind_kmh : ndarray, shape (2,)
        Advection velocity (east, north) in km/h.
    """

    wavevectors: np.ndarray
    phases: np.ndarray
    amplitudes: np.ndarray
    wind_kmh: np.ndarray

    @classmethod
    def random(
        cls,
        generator: np.random.Generator,
        waves: int = 12,
        min_wavelength_km: float = 200.0,
        max_wavelength_km: float = 2000.0,
        wind_speed_kmh: float = 0.0,
    ) -> PlaneWaveField:
        """Draw a field from ``generator``."""
        wavelength = np.exp(
            generator.uniform(np.log(min_wavelength_km), np.log(max_wavelength_km), waves)
        )
        direction = generator.uniform(0.0, 2.0 * np.pi, waves)
        k = 2.0 * np.pi / wavelength
        wavevectors = np.stack([k * np.sin(direction), k * np.cos(direction)], axis=-1)
        amplitudes = wavelength / np.sqrt(np.mean(wavelength**2))
        wind_direction = generator.uniform(0.0, 2.0 * np.pi)
        wind = wind_speed_kmh * np.array([np.sin(wind_direction), np.cos(wind_direction)])
        return cls(wavevectors, generator.uniform(0.0, 2.0 * np.pi, waves), amplitudes, wind)

    def __call__(self, east_km, north_km, hours=0.0) -> np.ndarray:
        """Field value at local coordinates (km) and time (hours since the field's epoch)."""
        east = np.asarray(east_km, dtype=np.float64)[..., None] - self.wind_kmh[0] * hours
        north = np.asarray(north_km, dtype=np.float64)[..., None] - self.wind_kmh[1] * hours
        arg = east * self.wavevectors[:, 0] + north * self.wavevectors[:, 1] + self.phases
        return np.sqrt(2.0 / self.phases.size) * np.sum(self.amplitudes * np.cos(arg), axis=-1)
