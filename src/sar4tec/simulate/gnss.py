"""Continuous GNSS stations of the synthetic frame, written as a UNR MIDAS velocity file.

UNR's MIDAS files (Blewitt et al. 2016) have one station per line, whitespace-separated:
1 station, 2 MIDAS version, 3–4 first/last epoch (decimal year), 5 duration (yr), 6 number of
epochs, 7 number of good epochs, 8 number of velocity sample pairs, 9–11 east/north/up velocity
(m/yr), 12–14 their uncertainties (m/yr), 15–17 east/north/up intercepts (m), 18–20 outlier
fractions, 21–23 standard deviations of the velocity pairs (m/yr), 24 number of steps,
25–27 latitude (deg), longitude (deg), height (m).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid
from sar4tec.simulate.grids import GEOGRAPHIC, geodetic, grid_coordinates


@dataclass(frozen=True)
class Stations:
    """Station names, positions, true ITRF velocities and the noisy MIDAS velocities (m/yr)."""

    names: list[str]
    lat: np.ndarray
    lon: np.ndarray
    height: np.ndarray
    true_enu: np.ndarray
    observed_enu: np.ndarray
    sigma_enu: np.ndarray


def place_stations(
    frame: Grid,
    dem: Grid,
    water: np.ndarray,
    gnss: Mapping[str, Any],
    city: tuple[float, float],
    generator: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Station coordinates on land, at least 4 km apart.

    The first is in the town if the town lies in the frame; ``gnss['outside']`` of them lie in
    the DEM margin around the frame, the others inside the frame.
    """
    total = int(gnss["stations"])
    outside = min(int(gnss["outside"]), total)
    inside = total - outside
    # sites are drawn in the grids' own coordinates (y, x): lat/lon or projected metres
    west, south, east, north = frame.bounds
    d_west, d_south, d_east, d_north = dem.bounds
    pad = 0.1 * min(d_north - north, north - south)  # stay clear of the DEM edge
    chosen: list[tuple[float, float]] = []
    city_y, city_x = (float(v) for v in grid_coordinates(frame, *city))
    if inside > 0 and west < city_x < east and south < city_y < north:
        chosen.append((city_y, city_x))
    for _ in range(100_000):
        if len(chosen) == total:
            break
        want_inside = len(chosen) < inside
        y = generator.uniform(d_south + pad, d_north - pad)
        x = generator.uniform(d_west + pad, d_east - pad)
        is_inside = west < x < east and south < y < north
        if is_inside != want_inside:
            continue
        if water[dem.nearest_pixel(y, x)]:
            continue
        if frame.crs == GEOGRAPHIC:
            spacing = [
                np.hypot((y - a) * 111.2, (x - b) * 111.2 * np.cos(np.radians(y)))
                for a, b in chosen
            ]
        else:  # metres
            spacing = [np.hypot(y - a, x - b) / 1000.0 for a, b in chosen]
        if spacing and min(spacing) < 4.0:
            continue
        chosen.append((y, x))
    else:
        raise ValueError(f"could not place {total} GNSS stations in the frame and its margin")
    coords = np.array(chosen, dtype=np.float64).reshape(-1, 2)
    return geodetic(frame, coords[:, 0], coords[:, 1])


def observe(
    names: list[str],
    lat,
    lon,
    height,
    true_enu: np.ndarray,
    gnss: Mapping[str, Any],
    generator: np.random.Generator,
) -> Stations:
    """Add white velocity noise of the configured sigmas to the true ITRF velocities."""
    sigma = np.array([gnss["sigma_horizontal"], gnss["sigma_horizontal"], gnss["sigma_up"]])
    sigma = np.broadcast_to(sigma, true_enu.shape).copy()
    observed = true_enu + sigma * generator.standard_normal(true_enu.shape)
    return Stations(
        names, np.asarray(lat), np.asarray(lon), np.asarray(height), true_enu, observed, sigma
    )


def midas_lines(stations: Stations, generator: np.random.Generator) -> list[str]:
    """MIDAS lines (27 columns) for ``stations`` with plausible bookkeeping columns."""
    lines = []
    for i, name in enumerate(stations.names):
        first = round(float(generator.uniform(2008.0, 2014.5)), 4)
        last = round(float(generator.uniform(2023.2, 2023.9)), 4)
        duration = last - first
        epochs = int(duration * 365.25 * generator.uniform(0.85, 0.98))
        good = int(epochs * generator.uniform(0.96, 0.995))
        pairs = int(good * generator.uniform(0.80, 0.95))
        ve, vn, vu = stations.observed_enu[i]
        se, sn, su = stations.sigma_enu[i]
        intercept = generator.normal(0.0, [0.004, 0.004, 0.008])
        outliers = generator.uniform([0.01, 0.01, 0.02], [0.07, 0.07, 0.12])
        # MIDAS: sigma_v = 3 x 1.2533 std(pairs) / sqrt(pairs / 4), inverted here
        pair_std = np.array([se, sn, su]) / 3.0 / 1.2533 * np.sqrt(pairs / 4.0)
        steps = int(generator.integers(0, 4))
        lines.append(
            f"{name:4s} MIDAS5 {first:9.4f} {last:9.4f} {duration:7.4f} {epochs:5d} {good:5d} "
            f"{pairs:6d} {ve:9.6f} {vn:9.6f} {vu:9.6f} {se:8.6f} {sn:8.6f} {su:8.6f} "
            f"{intercept[0]:9.6f} {intercept[1]:9.6f} {intercept[2]:9.6f} "
            f"{outliers[0]:8.6f} {outliers[1]:8.6f} {outliers[2]:8.6f} "
            f"{pair_std[0]:9.6f} {pair_std[1]:9.6f} {pair_std[2]:9.6f} {steps:3d} "
            f"{stations.lat[i]:10.6f} {stations.lon[i]:11.6f} {stations.height[i]:10.5f}"
        )
    return lines


def write_midas(path: str | Path, stations: Stations, generator: np.random.Generator) -> Path:
    """Write ``stations`` as a UNR MIDAS velocity file (``midas.IGS14.txt`` layout)."""
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(midas_lines(stations, generator)) + "\n")
    return Path(path)
