"""Synthetic Sentinel-1 IW SLC products: the forward model of what the geocoder inverts.

The radar mode of the simulator (``simulation.radar.enabled: true``) writes, for every date of the
frame, a SAFE product in radar geometry instead of a geocoded CSLC:

- **Orbit**: the date's EOF (:mod:`sar4tec.simulate.orbit`: circular Keplerian orbit, 693 km,
  98.18°, re-timed per date, offset by the orbital tube = perpendicular baselines).
- **Timing**: nominal IW parameters (facts of S1A annotations, IPF 3.x): radar frequency, range
  sampling rate, azimuth time interval, per sub-swath slant range time, lines and samples per
  burst, steering rate, raw PRF and rank, processed bandwidths and Hamming coefficients.  Bursts
  follow ESA's burst-ID timing (``T_beam``, ``T_pre``, sub-swaths a third of a cycle apart),
  counted from the ascending node, so every date has the same bursts over the same ground.
- **Echo**: for each burst pixel ``(line, sample)`` the two-way range time is
  ``τ = τ0 + sample / f_s`` and the zero-Doppler time ``t = t_first + line Δt + Δt_bi(τ)`` (the
  IPF's bistatic time tagging, ``Δt_bi = τ_mid,IW2 / 2 + τ / 2 − rank / PRF``).  The ground
  point ``X`` seen there is found on the DEM (rdr2geo,
  :func:`sar4tec.sentinel1.geometry.radar_to_geo`).  The scene is one band-limited complex
  field ``G`` sampled on the zero-Doppler (time, range) lattice of the *first* date's orbit
  (Hamming-weighted bands, the narrowest of the sub-swaths', so every sub-swath sees the same
  scene); ``X`` is located in that lattice (geo2rdr) at ``(u, v)`` with range ``R_ref``.  The
  pixel is ::

      A · G(u, v) · exp(−j 4π (R − R_ref) / λ) · exp(+j 4π d(X) / λ) · exp(+j ψ_ref,b(X))

  with ``R = c τ / 2`` the pixel's range, ``d`` the date's apparent LOS displacement at ``X``
  (deformation, atmosphere, tides, ramps; positive toward the satellite) and ``ψ_ref,b(X)`` the
  TOPS carrier (ESA's deramping function, :class:`sar4tec.sentinel1.deramp.TopsRamp`) of the
  same burst ``b`` on the first date, at ``X``'s position in it.  A scatterer keeps the carrier
  phase of where it was imaged, so after the date's own deramping the burst is base band (the
  two carriers differ by a slowly varying phase) and the carrier cancels in interferograms,
  also across burst seams.  The speckle is common to all dates, the scene perfectly coherent
  (no temporal or baseline decorrelation).  Samples outside the valid area are zero; values are
  rounded to CInt16.

Geocoded with the same orbit and DEM, burst ``b`` of a date gives
``A G exp(+j4πR_ref/λ) exp(+jψ_ref,b) exp(+j4πd/λ)``: the interferogram of two dates is
``4π (d_2 − d_1) / λ``, whatever their baseline.  The DEM is the 1-arc-second lattice of the
frame's relief (the layout of Copernicus GLO-30), also written as GLO-30 tiles and a constant
geoid grid into a download cache, so an offline ``acquire_local`` rebuilds exactly this surface.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from sar4tec.constants import SPEED_OF_LIGHT
from sar4tec.files import atomic_output, format_time
from sar4tec.geometry import geodetic_to_ecef
from sar4tec.grid import Grid
from sar4tec.regions.bursts import T_BEAM, T_ORBIT, T_PRE
from sar4tec.sentinel1.deramp import TopsRamp
from sar4tec.sentinel1.geometry import (
    geocentric_look_angles,
    radar_to_geo,
    zero_doppler_geometry,
    zero_doppler_time,
)
from sar4tec.sentinel1.interpolate import SincKernel, interpolate
from sar4tec.sentinel1.orbit import Orbit
from sar4tec.sentinel1.safe import RangePolynomial
from sar4tec.simulate import radar_safe

log = logging.getLogger("sar4tec.simulate")

#: Sentinel-1 C-SAR (S1A annotations)
RADAR_FREQUENCY = 5.405000454334350e09
RANGE_SAMPLING_RATE = 6.434523812571428e07
AZIMUTH_TIME_INTERVAL = 2.055556299999998e-03
WAVELENGTH = SPEED_OF_LIGHT / RADAR_FREQUENCY
#: a typical IW data Doppler-centroid estimate (Hz, in powers of τ − τ0)
DOPPLER_POLYNOMIAL = (-4.394663, 2.982885e04, -4.269558e07)
#: invalid lines at each end of a burst, invalid samples at each end of a line
INVALID_LINES = 25
INVALID_SAMPLES = 60
#: pixels simulated beyond the frame (interpolation kernels at its edges)
MARGIN_PIXELS = 48
#: GLO-30 pixel (1 arc-second)
ARCSEC = 1.0 / 3600.0
#: kernel evaluating the scene field (long: its error stays far below the geocoder's)
SCENE_TAPS = (16, 32)
#: the largest scene lattice (samples) the radar mode builds in memory
MAX_SCENE_SAMPLES = 60_000_000


@dataclass(frozen=True)
class SwathSpec:
    """Nominal parameters of one IW sub-swath (S1A annotations of 2020-05-11, IPF 3.x)."""

    name: str
    slant_range_time: float
    samples: int
    lines: int
    steering_rate_deg: float
    prf: float
    rank: int
    range_bandwidth: float
    azimuth_bandwidth: float
    azimuth_window: float
    range_window: float = 0.75

    @property
    def index(self) -> int:
        """0, 1, 2 for IW1, IW2, IW3."""
        return int(self.name[-1]) - 1

    @property
    def mid_range_time(self) -> float:
        """Two-way range time at mid swath (s)."""
        return self.slant_range_time + 0.5 * self.samples / RANGE_SAMPLING_RATE

    @property
    def last_range_time(self) -> float:
        """Two-way range time of the last sample (s)."""
        return self.slant_range_time + (self.samples - 1) / RANGE_SAMPLING_RATE


SWATHS = (
    SwathSpec("IW1", 5.334431164884956e-03, 21444, 1497, 1.590368784, 1717.128973878037, 9,
              56.5e6, 327.0, 0.70),
    SwathSpec("IW2", 5.644353088882477e-03, 25359, 1509, 0.979863325, 1451.627112193990, 8,
              48.3e6, 313.0, 0.75),
    SwathSpec("IW3", 6.015320711278467e-03, 24492, 1515, 1.397440818, 1685.817302492702, 10,
              42.78991840322842e6, 314.0, 0.75),
)  # fmt: skip
_IW2 = SWATHS[1]


def bistatic_delay(swath: SwathSpec, range_time) -> np.ndarray:
    """``Δt_bi(τ)`` (s): zero-Doppler time minus the IPF's line time of a sample."""
    return 0.5 * _IW2.mid_range_time + 0.5 * np.asarray(range_time) - swath.rank / swath.prf


def burst_anx_time(track: int, burst_id: int, swath: SwathSpec) -> float:
    """Seconds from the ascending node to the first line of burst ``burst_id`` of a swath.

    The burst's centre lies a third of a burst cycle into ESA's ID interval per sub-swath, so
    :func:`sar4tec.sentinel1.safe.burst_id_from_anx` gives ``burst_id`` back.
    """
    centre = T_PRE + (burst_id - 1 + (swath.index + 0.5) / 3.0) * T_BEAM - (track - 1) * T_ORBIT
    return centre - 0.5 * swath.lines * AZIMUTH_TIME_INTERVAL


def _round_us(when: datetime) -> datetime:
    return when.replace(microsecond=0) + timedelta(microseconds=round(when.microsecond))


@dataclass(frozen=True)
class BurstTiming:
    """First-line time of one burst of one date and its place in the swath's TIFF."""

    swath: SwathSpec
    burst_id: int
    index: int
    first_line: datetime
    anx_time: float


def burst_timings(
    anx_epoch: datetime, track: int, bursts: Mapping[str, Sequence[int]]
) -> list[BurstTiming]:
    """The bursts ``{swath: [burst IDs]}`` of a pass whose ascending node is at ``anx_epoch``."""
    out = []
    for swath in SWATHS:
        for index, burst_id in enumerate(sorted(bursts.get(swath.name, ()))):
            first = _round_us(anx_epoch + timedelta(seconds=burst_anx_time(track, burst_id, swath)))
            out.append(
                BurstTiming(swath, burst_id, index, first, (first - anx_epoch).total_seconds())
            )
    return out


def valid_samples(swath: SwathSpec) -> tuple[np.ndarray, np.ndarray]:
    """``firstValidSample``/``lastValidSample`` per line (−1 on the invalid lines)."""
    first = np.full(swath.lines, INVALID_SAMPLES, dtype=np.int32)
    last = np.full(swath.lines, swath.samples - 1 - INVALID_SAMPLES, dtype=np.int32)
    first[:INVALID_LINES] = first[-INVALID_LINES:] = -1
    last[:INVALID_LINES] = last[-INVALID_LINES:] = -1
    return first, last


# --------------------------------------------------------------------------- scene and DEM
@dataclass(frozen=True)
class RadarScene:
    """What every date shares: the DEM surface, the scene field and its lattice.

    ``field[i, j]`` is the scene at zero-Doppler time ``t0 + i Δt`` (seconds since
    ``orbit.reference_epoch``) and slant range ``r0 + j c / (2 f_s)`` of ``orbit`` (the first
    date's).  ``carriers`` holds, per ``(swath, burst ID)``, the first date's TOPS carrier and
    first-line time (s since the orbit's epoch).
    """

    dem: np.ndarray
    dem_grid: Grid
    bounds: tuple[float, float, float, float]
    orbit: Orbit
    field: np.ndarray
    t0: float
    r0: float
    bands: tuple[float, float]
    amplitude: float
    carriers: Mapping[tuple[str, int], tuple[TopsRamp, float]] = dataclass_field(
        default_factory=dict
    )

    def carrier(self, swath: SwathSpec, burst_id: int, t_ref, r_ref) -> np.ndarray:
        """The first date's TOPS carrier of a burst at first-date times and ranges (locate)."""
        ramp, first = self.carriers[(swath.name, burst_id)]
        tau = 2.0 * r_ref / SPEED_OF_LIGHT
        line = (t_ref - bistatic_delay(swath, tau) - first) / AZIMUTH_TIME_INTERVAL
        return ramp.phase(line, (tau - swath.slant_range_time) * RANGE_SAMPLING_RATE)

    def locate(self, points: np.ndarray) -> tuple[np.ndarray, ...]:
        """Lattice coordinates ``(u, v)``, zero-Doppler time and range of ECEF points (N, 3)."""
        t = zero_doppler_time(self.orbit, points)
        position, _ = self.orbit.interpolate(t)
        r_ref = np.linalg.norm(points - position, axis=-1)
        dr = SPEED_OF_LIGHT / (2.0 * RANGE_SAMPLING_RATE)
        return (t - self.t0) / AZIMUTH_TIME_INTERVAL, (r_ref - self.r0) / dr, t, r_ref

    def value(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The band-limited field at lattice positions (NaN where it is not defined)."""
        kernel = SincKernel.for_bands(self.bands, SCENE_TAPS)
        return interpolate(self.field, u, v, kernel)


def fine_dem(terrain_height: np.ndarray, terrain_grid: Grid, bounds: Sequence[float]) -> tuple:
    """Ellipsoidal heights on the whole-arc-second lattice (GLO-30's) over ``bounds``.

    Bilinear interpolation of the frame's DEM; float32, as the acquire stage writes DEMs.
    """
    from scipy.ndimage import map_coordinates

    west, south, east, north = bounds
    x0 = (math.floor(west / ARCSEC) - 0.5) * ARCSEC
    y1 = (math.ceil(north / ARCSEC) + 0.5) * ARCSEC
    cols = math.ceil((east - x0) / ARCSEC) + 1
    rows = math.ceil((y1 - south) / ARCSEC) + 1
    grid = Grid((x0, ARCSEC, 0.0, y1, 0.0, -ARCSEC), (rows, cols))
    gx0, gdx, _, gy0, _, gdy = terrain_grid.transform
    r = (grid.y - gy0) / gdy - 0.5
    c = (grid.x - gx0) / gdx - 0.5
    rr, cc = np.meshgrid(r, c, indexing="ij")
    heights = map_coordinates(terrain_height.astype(np.float64), [rr, cc], order=1, mode="nearest")
    return heights.astype(np.float32), grid


def band_limited_spectrum(
    shape: tuple[int, int], bands: tuple[float, float], windows: tuple[float, float], rng
) -> np.ndarray:
    """DFT of a circular complex Gaussian field filling ``bands`` of the sampling rate.

    Each axis is Hamming-weighted, ``α + (1 − α) cos(2π f / band)`` for ``|f| ≤ band / 2``
    with ``α`` from ``windows``, like the spectrum of a focused SLC; zero outside the band.
    """
    weights = []
    for n, band, alpha in zip(shape, bands, windows, strict=True):
        f = np.fft.fftfreq(n)
        weights.append(
            np.where(np.abs(f) <= band / 2, alpha + (1 - alpha) * np.cos(2 * np.pi * f / band), 0)
        )
    noise = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return noise * weights[0][:, None] * weights[1][None, :]


def band_limited_field(
    shape: tuple[int, int], bands: tuple[float, float], windows: tuple[float, float], rng
) -> np.ndarray:
    """The field of :func:`band_limited_spectrum` (periodic over ``shape``), RMS 1, complex64."""
    field = np.fft.ifft2(band_limited_spectrum(shape, bands, windows, rng))
    field /= np.sqrt(np.mean(np.abs(field) ** 2))
    return field.astype(np.complex64)


def _footprint_points(bounds, dem: np.ndarray, margin_deg: float) -> np.ndarray:
    """ECEF points around the frame (edges at the DEM's lowest and highest heights)."""
    west, south, east, north = bounds
    lon = np.linspace(west - margin_deg, east + margin_deg, 9)
    lat = np.linspace(south - margin_deg, north + margin_deg, 9)
    lat, lon = np.meshgrid(lat, lon, indexing="ij")
    lo, hi = float(np.nanmin(dem)), float(np.nanmax(dem))
    return np.concatenate(
        [geodetic_to_ecef(lat.ravel(), lon.ravel(), h) for h in (lo - 10.0, hi + 10.0)]
    )


def build_scene(
    orbit: Orbit,
    bounds: Sequence[float],
    dem: np.ndarray,
    dem_grid: Grid,
    amplitude: float,
    rng,
) -> RadarScene:
    """The scene field over the frame in the zero-Doppler lattice of ``orbit``.

    Raises
    ------
    ValueError
        If the lattice would exceed :data:`MAX_SCENE_SAMPLES` (the radar mode is for frames
        of a few to a few tens of kilometres).
    """
    points = _footprint_points(bounds, dem, 0.01)
    t = zero_doppler_time(orbit, points)
    position, _ = orbit.interpolate(t)
    r = np.linalg.norm(points - position, axis=-1)
    dr = SPEED_OF_LIGHT / (2.0 * RANGE_SAMPLING_RATE)
    pad = MARGIN_PIXELS + SCENE_TAPS[1]
    t0 = float(t.min()) - pad * AZIMUTH_TIME_INTERVAL
    r0 = float(r.min()) - pad * dr
    shape = (
        int((t.max() - t0) / AZIMUTH_TIME_INTERVAL) + 2 * pad,
        int((r.max() - r0) / dr) + 2 * pad,
    )
    if shape[0] * shape[1] > MAX_SCENE_SAMPLES:
        raise ValueError(
            f"simulation.radar: the frame {list(bounds)} needs a scene of {shape} radar samples "
            f"(more than {MAX_SCENE_SAMPLES}); simulate a smaller frame in radar mode"
        )
    bands = (
        min(s.azimuth_bandwidth for s in SWATHS) * AZIMUTH_TIME_INTERVAL,
        min(s.range_bandwidth for s in SWATHS) / RANGE_SAMPLING_RATE,
    )
    field = band_limited_field(shape, bands, (0.75, 0.75), rng)
    return RadarScene(dem, dem_grid, tuple(bounds), orbit, field, t0, r0, bands, amplitude)


# --------------------------------------------------------------------------- one date
@dataclass(frozen=True)
class DateProduct:
    """One date's pass: its orbit, bursts and apparent LOS displacement on the frame."""

    orbit: Orbit
    orbit_times: Sequence[datetime]
    anx_epoch: datetime
    absolute_orbit: int
    displacement: Callable[[np.ndarray, np.ndarray], np.ndarray]


def tops_ramp(swath: SwathSpec, timing: BurstTiming, orbit: Orbit, fm_rate) -> TopsRamp:
    """The carrier of a burst, from the values its annotation states."""
    mid = timing.first_line + timedelta(seconds=swath.lines / 2 * AZIMUTH_TIME_INTERVAL)
    _, velocity = orbit.interpolate(orbit.seconds_since_epoch(mid))
    speed = float(np.linalg.norm(velocity))
    return TopsRamp(
        lines=swath.lines,
        azimuth_time_interval=AZIMUTH_TIME_INTERVAL,
        slant_range_time=swath.slant_range_time,
        range_sampling_rate=RANGE_SAMPLING_RATE,
        steering_doppler_rate=2.0 * speed * math.radians(swath.steering_rate_deg) / WAVELENGTH,
        doppler=RangePolynomial(timing.first_line, swath.slant_range_time, DOPPLER_POLYNOMIAL),
        fm_rate=RangePolynomial(timing.first_line, swath.slant_range_time, fm_rate),
        mid_range_time=swath.mid_range_time,
    )


def burst_window(
    swath: SwathSpec, timing: BurstTiming, orbit: Orbit, points: np.ndarray
) -> tuple[int, int, int, int] | None:
    """Valid lines ``[l0, l1)`` and samples ``[s0, s1)`` of a burst over the given points."""
    t = zero_doppler_time(orbit, points)
    position, _ = orbit.interpolate(t)
    tau = 2.0 * np.linalg.norm(points - position, axis=-1) / SPEED_OF_LIGHT
    first = (timing.first_line - orbit.reference_epoch).total_seconds()
    line = (t - bistatic_delay(swath, tau) - first) / AZIMUTH_TIME_INTERVAL
    sample = (tau - swath.slant_range_time) * RANGE_SAMPLING_RATE
    l0 = max(int(line.min()) - MARGIN_PIXELS, INVALID_LINES)
    l1 = min(int(line.max()) + MARGIN_PIXELS, swath.lines - INVALID_LINES)
    s0 = max(int(sample.min()) - MARGIN_PIXELS, INVALID_SAMPLES)
    s1 = min(int(sample.max()) + MARGIN_PIXELS, swath.samples - INVALID_SAMPLES)
    return (l0, l1, s0, s1) if l0 < l1 and s0 < s1 else None


def echo(
    scene: RadarScene,
    date: DateProduct,
    swath: SwathSpec,
    timing: BurstTiming,
    lines: np.ndarray,
    samples: np.ndarray,
) -> np.ndarray:
    """Complex SLC values (with the TOPS carrier) at burst pixels ``lines × samples``.

    Pixels whose ground point leaves the DEM or the scene are 0.
    """
    tau = swath.slant_range_time + samples / RANGE_SAMPLING_RATE
    first = (timing.first_line - date.orbit.reference_epoch).total_seconds()
    t = first + lines[:, None] * AZIMUTH_TIME_INTERVAL + bistatic_delay(swath, tau)[None, :]
    slant = np.broadcast_to(0.5 * SPEED_OF_LIGHT * tau, t.shape)
    lat, lon, height = radar_to_geo(date.orbit, t, slant, dem=(scene.dem, scene.dem_grid))
    out = np.zeros(t.shape, dtype=np.complex64)
    ok = np.isfinite(lat)
    if not ok.any():
        return out
    points = geodetic_to_ecef(lat[ok], lon[ok], height[ok])
    u, v, t_ref, r_ref = scene.locate(points)
    value = scene.value(u, v).astype(np.complex128)
    phase = (
        -4.0 * np.pi / WAVELENGTH * (slant[ok] - r_ref)
        + 4.0 * np.pi / WAVELENGTH * date.displacement(lat[ok], lon[ok])
        + scene.carrier(swath, timing.burst_id, t_ref, r_ref)
    )
    value = scene.amplitude * value * np.exp(1j * phase)
    out[ok] = np.where(np.isfinite(value), value, 0.0)
    return out


def write_burst(
    tiff_path: Path,
    scene: RadarScene,
    date: DateProduct,
    swath: SwathSpec,
    timing: BurstTiming,
    window: tuple[int, int, int, int],
    chunk_lines: int = 128,
) -> None:
    """Synthesise one burst's window, in chunks of lines, into its TIFF (CInt16)."""
    import rasterio
    from rasterio.windows import Window

    l0, l1, s0, s1 = window
    samples = np.arange(s0, s1, dtype=np.float64)
    with rasterio.open(tiff_path, "r+") as dst:
        for a in range(l0, l1, chunk_lines):
            b = min(a + chunk_lines, l1)
            values = echo(scene, date, swath, timing, np.arange(a, b, dtype=np.float64), samples)
            if np.abs(values).max(initial=0) >= 32767:
                raise ValueError(f"{tiff_path}: amplitude overflows CInt16; lower the amplitude")
            quantised = (np.round(values.real) + 1j * np.round(values.imag)).astype(np.complex64)
            row = timing.index * swath.lines + a
            dst.write(quantised, 1, window=Window(s0, row, s1 - s0, b - a))


# --------------------------------------------------------------------------- products
def fm_rate_polynomial(orbit: Orbit, when: datetime, target: np.ndarray, t0: float) -> tuple:
    """Azimuth FM rate ``k_a(τ) = −2 V_eff² / (λ R)`` as a quadratic in ``τ − t0``.

    ``V_eff² = |V_s| · V_g`` with the ground speed ``V_g = |V_s| |X| / |P|`` (spherical Earth).
    """
    position, velocity = orbit.interpolate(orbit.seconds_since_epoch(when))
    speed = float(np.linalg.norm(velocity))
    v_eff2 = speed * speed * float(np.linalg.norm(target)) / float(np.linalg.norm(position))
    k = -4.0 * v_eff2 / (WAVELENGTH * SPEED_OF_LIGHT)  # k_a = k / τ
    return (k / t0, -k / t0**2, k / t0**3)


def _geolocation(
    swath: SwathSpec, timings: Sequence[BurstTiming], orbit: Orbit, height: float
) -> list[dict]:
    """Annotation geolocation grid: every burst start (and the last line) × 21 samples."""
    lines = [k * swath.lines for k in range(len(timings))] + [len(timings) * swath.lines - 1]
    pixels = np.linspace(0, swath.samples - 1, 21).round()
    points = []
    for line in lines:
        k = min(line // swath.lines, len(timings) - 1)
        when = timings[k].first_line + timedelta(
            seconds=(line - k * swath.lines) * AZIMUTH_TIME_INTERVAL
        )
        tau = swath.slant_range_time + pixels / RANGE_SAMPLING_RATE
        t = orbit.seconds_since_epoch(when) + bistatic_delay(swath, tau)
        lat, lon, h = radar_to_geo(orbit, t, 0.5 * SPEED_OF_LIGHT * tau, height)
        position, _ = orbit.interpolate(t)
        elevation, incidence = geocentric_look_angles(position, geodetic_to_ecef(lat, lon, h))
        for j, pixel in enumerate(pixels):
            points.append(
                {
                    "azimuth_time": when,
                    "slant_range_time": tau[j],
                    "line": line,
                    "pixel": pixel,
                    "latitude": lat[j],
                    "longitude": lon[j],
                    "height": h[j],
                    "incidence": incidence[j],
                    "elevation": elevation[j],
                }
            )
    return points


def frame_bursts(
    orbit: Orbit, anx_epoch: datetime, track: int, points: np.ndarray
) -> dict[str, list[int]]:
    """Burst IDs per sub-swath whose valid area holds any of the points (ECEF)."""
    t = zero_doppler_time(orbit, points)
    position, _ = orbit.interpolate(t)
    tau = 2.0 * np.linalg.norm(points - position, axis=-1) / SPEED_OF_LIGHT
    chosen: dict[str, list[int]] = {}
    for swath in SWATHS:
        usable = (tau >= swath.slant_range_time + INVALID_SAMPLES / RANGE_SAMPLING_RATE) & (
            tau <= swath.last_range_time - INVALID_SAMPLES / RANGE_SAMPLING_RATE
        )
        if not usable.any():
            continue
        line_time = t[usable] - bistatic_delay(swath, tau[usable])
        since = line_time - orbit.seconds_since_epoch(anx_epoch)
        first_id = 1 + math.floor(
            (since.min() - swath.lines * AZIMUTH_TIME_INTERVAL - T_PRE + (track - 1) * T_ORBIT)
            / T_BEAM
        )
        ids = []
        for burst_id in range(first_id - 1, first_id + int(np.ptp(since) / T_BEAM) + 4):
            start = burst_anx_time(track, burst_id, swath) + INVALID_LINES * AZIMUTH_TIME_INTERVAL
            stop = start + (swath.lines - 2 * INVALID_LINES) * AZIMUTH_TIME_INTERVAL
            if ((since >= start) & (since <= stop)).any():
                ids.append(burst_id)
        if ids:
            chosen[swath.name] = ids
    if not chosen:
        raise ValueError("simulation.radar: no IW burst covers the frame (check the incidence)")
    return chosen


def scene_centre(scene: RadarScene) -> np.ndarray:
    """ECEF centre of the frame at the DEM's mean height (FM-rate reference)."""
    west, south, east, north = scene.bounds
    return geodetic_to_ecef(
        0.5 * (south + north), 0.5 * (west + east), float(np.nanmean(scene.dem))
    )


def reference_carriers(
    scene: RadarScene, anx_epoch: datetime, track: int, bursts: Mapping[str, Sequence[int]]
) -> dict[tuple[str, int], tuple[TopsRamp, float]]:
    """Carrier and first-line time (s since the scene orbit's epoch) of the first date's bursts.

    Every date's scatterers carry this phase ``ψ`` (see :meth:`RadarScene.carrier`).
    """
    timings = burst_timings(anx_epoch, track, bursts)
    out = {}
    for swath in SWATHS:
        own = [b for b in timings if b.swath is swath]
        if not own:
            continue
        fm = fm_rate_polynomial(
            scene.orbit, own[0].first_line, scene_centre(scene), swath.slant_range_time
        )
        for b in own:
            first = scene.orbit.seconds_since_epoch(b.first_line)
            out[(swath.name, b.burst_id)] = (tops_ramp(swath, b, scene.orbit, fm), first)
    return out


def write_product(
    folder: Path,
    date: DateProduct,
    bursts: Mapping[str, Sequence[int]],
    centre: tuple[float, float, float],
    cfg: Mapping[str, Any],
) -> tuple[Path, dict[str, Path], list[BurstTiming]]:
    """Write a SAFE product's manifest, annotations and empty (sparse) measurement TIFFs.

    Parameters
    ----------
    folder, date, bursts
        Output folder, the pass, and ``{swath: [burst IDs]}`` over the frame; sub-swaths
        without bursts get the burst IDs of another so that all three annotations exist.
    centre
        (lat, lon, height) of the frame centre: heading and azimuth FM-rate reference.
    cfg
        The ``simulation.orbit`` section (``track``, ``mission``, ``direction``).

    Returns
    -------
    path, tiffs, timings
        The ``.SAFE`` folder, the TIFF of each sub-swath, the bursts to fill.
    """
    track, mission, direction = int(cfg["track"]), cfg["mission"], cfg["direction"]
    timings = burst_timings(date.anx_epoch, track, bursts)
    lat_c, lon_c, mean_height = centre
    geo = zero_doppler_geometry(date.orbit, lat_c, lon_c, mean_height)
    target = geodetic_to_ecef(lat_c, lon_c, mean_height)
    datatake = (date.absolute_orbit * 37) % 0xFFFFF
    records = []
    for swath in SWATHS:
        own = [b for b in timings if b.swath is swath]
        if not own:  # a swath without frame bursts: its nominal burst nearest the frame
            ids = sorted(bursts.get("IW2") or next(iter(bursts.values())))
            own = burst_timings(date.anx_epoch, track, {swath.name: ids})
        fm = fm_rate_polynomial(date.orbit, own[0].first_line, target, swath.slant_range_time)
        first, last = valid_samples(swath)
        geolocation = _geolocation(swath, own, date.orbit, mean_height)
        mid = geolocation[len(geolocation) // 2]
        record = radar_safe.SwathRecord(
            mission=mission,
            swath=swath.name,
            polarization="VV",
            absolute_orbit=date.absolute_orbit,
            datatake=datatake,
            image_number=swath.index + 1,
            direction=direction,
            heading=float(geo.heading),
            radar_frequency=RADAR_FREQUENCY,
            range_sampling_rate=RANGE_SAMPLING_RATE,
            azimuth_time_interval=AZIMUTH_TIME_INTERVAL,
            slant_range_time=swath.slant_range_time,
            lines=swath.lines,
            samples=swath.samples,
            steering_rate_deg=swath.steering_rate_deg,
            prf=swath.prf,
            rank=swath.rank,
            range_bandwidth=swath.range_bandwidth,
            azimuth_bandwidth=swath.azimuth_bandwidth,
            range_window=swath.range_window,
            azimuth_window=swath.azimuth_window,
            range_pixel_spacing=SPEED_OF_LIGHT / (2.0 * RANGE_SAMPLING_RATE),
            azimuth_pixel_spacing=AZIMUTH_TIME_INTERVAL
            * float(np.linalg.norm(date.orbit.velocity[0]))
            * float(np.linalg.norm(target))
            / float(np.linalg.norm(date.orbit.position[0])),
            incidence_mid=float(mid["incidence"]),
            fm_rate=fm,
            doppler=DOPPLER_POLYNOMIAL,
            orbit_times=date.orbit_times,
            orbit_position=date.orbit.position,
            orbit_velocity=date.orbit.velocity,
            bursts=[
                radar_safe.BurstRecord(b.first_line, b.anx_time, b.burst_id, first, last)
                for b in own
            ],
            geolocation=geolocation,
        )
        records.append(record)
    start = min(r.start for r in records)
    stop = max(r.stop for r in records)
    corners = [
        (p["latitude"], p["longitude"])
        for r in (records[0], records[-1])
        for p in (r.geolocation[0], r.geolocation[-1])
    ]
    name = radar_safe.safe_name(mission, start, stop, date.absolute_orbit, datatake)
    manifest = radar_safe.manifest_xml(
        mission, track, date.absolute_orbit, direction, start, stop, corners
    )
    tiffs = radar_safe.write_safe(folder, name, manifest, records)
    return folder / name, tiffs, timings


def write_date_product(
    folder: Path,
    scene: RadarScene,
    date: DateProduct,
    bursts: Mapping[str, Sequence[int]],
    frame_points: np.ndarray,
    cfg: Mapping[str, Any],
) -> Path:
    """Write one date's SAFE product: all three sub-swaths, pixels only over the frame."""
    west, south, east, north = scene.bounds
    centre = (0.5 * (south + north), 0.5 * (west + east), float(np.nanmean(scene.dem)))
    # the product is written in a staging folder and renamed into place when complete, so a
    # killed simulation never leaves a SAFE that looks whole
    staging = Path(folder) / f".staging-{uuid.uuid4().hex[:8]}"
    try:
        path, tiffs, timings = write_product(staging, date, bursts, centre, cfg)
        for timing in timings:
            window = burst_window(timing.swath, timing, date.orbit, frame_points)
            if window is not None:
                write_burst(tiffs[timing.swath.name], scene, date, timing.swath, timing, window)
        final = Path(folder) / path.name
        if final.exists():
            shutil.rmtree(final)
        os.replace(path, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


# --------------------------------------------------------------------------- cache for acquire
def glo30_name(lat: int, lon: int) -> str:
    """Copernicus GLO-30 tile name of the 1°×1° cell with south-west corner (lat, lon)."""
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"Copernicus_DSM_COG_10_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"


def write_dem_cache(
    cache: Path, heights: np.ndarray, grid: Grid, geoid_undulation: float
) -> list[Path]:
    """GLO-30 tiles (geoid heights ``h − N``) and a constant geoid, as the acquire stage caches.

    Paths: ``<cache>/dem/glo30/<tile>.tif`` and ``<cache>/dem/geoid/egm08_25.tif``.

    Tiles hold the lattice of ``grid`` (pixel centres on whole arc-seconds, as GLO-30's); the
    rest of each tile is never written (sparse) and reads as 0, the ocean value.
    """
    import rasterio
    from rasterio.windows import Window

    written = []
    west, south, east, north = grid.bounds
    for lat in range(math.floor(south), math.ceil(north)):
        for lon in range(math.floor(west), math.ceil(east)):
            name = glo30_name(lat, lon)
            path = cache / "dem" / "glo30" / f"{name}.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            transform = (lon - 0.5 * ARCSEC, ARCSEC, 0.0, lat + 1 + 0.5 * ARCSEC, 0.0, -ARCSEC)
            tile = Grid(transform, (3600, 3600))
            r0 = round((tile.transform[3] - grid.transform[3]) / ARCSEC)
            c0 = round((grid.transform[0] - tile.transform[0]) / ARCSEC)
            rows = slice(max(r0, 0), min(r0 + grid.rows, 3600))
            cols = slice(max(c0, 0), min(c0 + grid.cols, 3600))
            with atomic_output(path) as tmp, rasterio.open(
                tmp, "w", driver="GTiff", width=3600, height=3600, count=1, dtype="float32",
                crs="EPSG:4326", transform=tile.rasterio_transform(), tiled=True,
                blockxsize=256, blockysize=256, sparse_ok=True, compress="deflate",
            ) as dst:  # fmt: skip
                if rows.start < rows.stop and cols.start < cols.stop:
                    part = heights[
                        rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0
                    ]
                    dst.write(
                        (part - np.float32(geoid_undulation)).astype(np.float32),
                        1,
                        window=Window(cols.start, rows.start, part.shape[1], part.shape[0]),
                    )
            written.append(path)
    geoid = cache / "dem" / "geoid" / "egm08_25.tif"
    geoid.parent.mkdir(parents=True, exist_ok=True)
    step = 2.5 / 60.0
    with atomic_output(geoid) as tmp, rasterio.open(
        tmp, "w", driver="GTiff", width=int(360 / step), height=int(180 / step), count=1,
        dtype="float32", crs="EPSG:4326",
        transform=Grid((-180.0, step, 0.0, 90.0, 0.0, -step), (1, 1)).rasterio_transform(),
    ) as dst:  # fmt: skip
        dst.write(np.full((int(180 / step), int(360 / step)), geoid_undulation, np.float32), 1)
    return written + [geoid]


# --------------------------------------------------------------------------- driver
def write_radar_products(
    outdir: Path,
    sim: Mapping[str, Any],
    times: Sequence[datetime],
    eofs: Sequence[Path],
    anx_offset: float,
    terrain_height: np.ndarray,
    terrain_grid: Grid,
    displacement: Callable[[int, np.ndarray, np.ndarray], np.ndarray],
    seed_rng,
    report: Callable[[str], None],
) -> dict[str, Any]:
    """Write every date's SAFE product, the 1" DEM and the download cache.

    Parameters
    ----------
    outdir
        The frame folder; gets ``safe/``, ``dem_radar.tif`` and ``cache/`` (``orbits/``,
        ``dem/``) for an offline ``acquire_local`` run.
    sim
        The ``simulation`` section.
    times, eofs
        Acquisition times (frame-centre zero-Doppler time) and the EOF of each date.
    anx_offset
        Seconds from the ascending node to the frame centre.
    terrain_height, terrain_grid
        The frame's ellipsoidal DEM.
    displacement
        ``displacement(k, lat, lon)``: apparent LOS displacement (m) of date ``k``.
    seed_rng
        Random generator of the scene speckle.
    report
        Receives one progress line per step.

    Returns
    -------
    dict
        Manifest entries: ``safe`` (path relative to ``outdir``, ``sensing_time``, ``bursts``),
        ``dem``, ``bounds``.
    """
    import rasterio

    from sar4tec.sentinel1.orbit import read_eof
    from sar4tec.simulate import orbit as orbit_mod

    cfg = sim["orbit"]
    radar = sim["radar"]
    bounds = list(sim["bounds"])
    buffer = float(radar["dem_buffer"])
    padded = (bounds[0] - buffer, bounds[1] - buffer, bounds[2] + buffer, bounds[3] + buffer)
    dem, dem_grid = fine_dem(terrain_height, terrain_grid, padded)
    profile = {
        "driver": "GTiff", "height": dem_grid.rows, "width": dem_grid.cols, "count": 1,
        "dtype": "float32", "crs": dem_grid.crs, "transform": dem_grid.rasterio_transform(),
        "compress": "deflate", "tiled": True,
    }  # fmt: skip
    with atomic_output(outdir / "dem_radar.tif") as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(dem, 1)
    cache = outdir / "cache"
    write_dem_cache(cache, dem, dem_grid, float(sim["geoid_undulation"]))
    orbits = [read_eof(p) for p in eofs]
    frame_points = _footprint_points(bounds, dem, 0.0)
    scene = build_scene(orbits[0], bounds, dem, dem_grid, float(radar["amplitude"]), seed_rng)
    anx = [t - timedelta(seconds=anx_offset) for t in times]
    bursts = frame_bursts(orbits[0], anx[0], int(cfg["track"]), frame_points)
    scene = replace(scene, carriers=reference_carriers(scene, anx[0], int(cfg["track"]), bursts))
    report(
        f"radar: scene lattice {scene.field.shape}, bursts "
        + ", ".join(f"{s}: {ids}" for s, ids in bursts.items())
    )
    entries = []
    (cache / "orbits").mkdir(parents=True, exist_ok=True)
    for k, (when, eof, orbit) in enumerate(zip(times, eofs, orbits, strict=True)):
        cached = cache / "orbits" / eof.name
        if not cached.exists():
            with atomic_output(cached) as tmp:
                tmp.write_bytes(eof.read_bytes())
        date = DateProduct(
            orbit=orbit,
            orbit_times=[orbit.datetime_at(s) for s in orbit.time],
            anx_epoch=anx[k],
            absolute_orbit=orbit_mod.absolute_orbit(cfg["mission"], int(cfg["track"]), when),
            displacement=lambda lat, lon, k=k: displacement(k, lat, lon),
        )
        path = write_date_product(outdir / "safe", scene, date, bursts, frame_points, cfg)
        start = min(b.first_line for b in burst_timings(date.anx_epoch, int(cfg["track"]), bursts))
        entries.append(
            {
                "path": f"safe/{path.name}",
                "sensing_time": format_time(start),
                "bursts": sorted(
                    f"{int(cfg['track']):03d}_{i:06d}_{s}" for s, ids in bursts.items() for i in ids
                ),
            }
        )
        report(f"radar: {k + 1}/{len(times)} SAFE products")
    return {"safe": entries, "dem": "dem_radar.tif", "bounds": bounds}


def anx_offset(sim: Mapping[str, Any], when: datetime, centre: tuple[float, float, float]) -> float:
    """Seconds from the ascending node to the zero-Doppler time of the frame centre.

    The nominal orbit of :func:`sar4tec.simulate.orbit.design_orbit` sees the centre at
    ``when`` with argument of latitude ``u0``; the node was crossed ``u0 / n`` seconds before.
    """
    from sar4tec.simulate import orbit as orbit_mod

    cfg = sim["orbit"]
    nominal = orbit_mod.design_orbit(
        when,
        *centre,
        cfg["centre_incidence"],
        cfg["direction"],
        cfg["altitude"],
        cfg["inclination"],
    )
    return float(np.mod(nominal.latitude_argument, 2.0 * np.pi) / nominal.mean_motion)


def simulate_radar(scene, sim: Mapping[str, Any], seed: int, outdir: Path, signal, report):
    """Radar mode of :func:`sar4tec.simulate.frame.simulate_frame` (see the module notes).

    ``scene`` is the frame's :class:`sar4tec.simulate.frame.Scene`, ``signal`` the apparent LOS
    displacement (m) of every date on its SLC grid, interpolated bilinearly to the ground point
    of each radar pixel.  Returns the manifest entries of :func:`write_radar_products`.
    """
    from scipy.ndimage import map_coordinates

    from sar4tec.simulate.fields import rng

    x0, dx, _, y0, _, dy = scene.grid.transform

    def displacement(k: int, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        rows, cols = (lat - y0) / dy - 0.5, (lon - x0) / dx - 0.5
        return map_coordinates(np.asarray(signal[k]), [rows, cols], order=1, mode="nearest")

    r, c = scene.grid.rows // 2, scene.grid.cols // 2
    centre = (float(scene.lat[r, c]), float(scene.lon[r, c]), float(scene.height[r, c]))
    return write_radar_products(
        outdir,
        sim,
        scene.times,
        [a.eof for a in scene.acquisitions],
        anx_offset(sim, scene.times[0], centre),
        scene.terrain.height,
        scene.terrain.grid,
        displacement,
        rng(seed, "radar_scene"),
        report,
    )
