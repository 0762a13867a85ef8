"""The synthetic landscape: relief, lake, land cover and the patches that share a coherence model.

The relief is built around the fault (like the Sapanca valley on the North Anatolian fault): a
range south of the trace, hills to the north-west, a plain to the north-east with a town, a lake
in the fault valley. Fractal roughness (power-law spectrum, Hurst-like exponent) whose amplitude
grows with the regional height gives ridges and valleys in the mountains and a nearly flat plain.
Heights are orthometric (above the geoid); the DEM written to disk is ellipsoidal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from sar4tec.grid import Grid
from sar4tec.simulate.fields import local_km, power_law_field, rng
from sar4tec.simulate.grids import pixel_size

#: land-cover classes, their codes in ``land_cover`` arrays, in the order of the codes
CLASSES = ("water", "urban", "agriculture", "forest", "shrub", "rock")
WATER, URBAN, AGRICULTURE, FOREST, SHRUB, ROCK = range(len(CLASSES))


@dataclass(frozen=True)
class Terrain:
    """The landscape on the DEM grid (the SLC grid plus a margin).

    Attributes
    ----------
    grid : Grid
        DEM grid.
    orthometric : ndarray
        Height above the geoid (m).
    height : ndarray
        Height above the WGS84 ellipsoid (m): ``orthometric + geoid_undulation``.
    water : ndarray of bool
        Lake pixels.
    land_cover : ndarray of uint8
        Class codes, see :data:`CLASSES`.
    patch : ndarray of int32
        Patch index (0..P-1): pixels of one land-cover class inside one Voronoi cell.
    patch_class : ndarray of uint8, shape (P,)
        Land-cover class of each patch.
    """

    grid: Grid
    orthometric: np.ndarray
    height: np.ndarray
    water: np.ndarray
    land_cover: np.ndarray
    patch: np.ndarray
    patch_class: np.ndarray


def dem_grid(slc_grid: Grid, margin: int) -> Grid:
    """The SLC grid grown by ``margin`` pixels on each side (same pixel lattice)."""
    x0, dx, _, y0, _, dy = slc_grid.transform
    shape = (slc_grid.rows + 2 * margin, slc_grid.cols + 2 * margin)
    return Grid((x0 - margin * dx, dx, 0.0, y0 - margin * dy, 0.0, dy), shape, slc_grid.crs)


def _fault_coordinates(lat, lon, fault: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Distance along strike and to the left of the trace (km) of points."""
    east, north = local_km(lat, lon, fault["lat"], fault["lon"])
    strike = np.radians(fault["strike"])
    along = east * np.sin(strike) + north * np.cos(strike)
    left = -east * np.cos(strike) + north * np.sin(strike)
    return along, left


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lake_mask(lat, lon, lake: Mapping[str, Any], strike_deg: float) -> np.ndarray:
    """Pixels inside the lake ellipse (axes along and across the fault strike)."""
    east, north = local_km(lat, lon, lake["lat"], lake["lon"])
    strike = np.radians(strike_deg)
    along = east * np.sin(strike) + north * np.cos(strike)
    across = -east * np.cos(strike) + north * np.sin(strike)
    a = lake["length"] / 2000.0
    b = lake["width"] / 2000.0
    if a <= 0 or b <= 0:
        return np.zeros(np.shape(along), dtype=bool)
    return (along / a) ** 2 + (across / b) ** 2 <= 1.0


def relief(grid: Grid, sim: Mapping[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthometric heights (m) and the lake mask on ``grid``."""
    cfg = sim["terrain"]
    lat, lon = grid.latlon()
    along, left = _fault_coordinates(lat, lon, sim["fault"])
    ridge = (
        cfg["ridge_height"]
        * np.exp(-(((left + 16.0) / 10.0) ** 2))
        * (1.0 + 0.15 * np.sin(along / 9.0))
    )
    plain_weight = _sigmoid((along - 3.0) / 3.0) * _sigmoid((left - 2.0) / 1.5)
    hills = cfg["hills_height"] * np.exp(-(((left - 12.0) / 8.0) ** 2)) * (1.0 - plain_weight)
    regional = ridge + hills
    dy_km, dx_km = pixel_size(grid, lat.mean(), 111.2, 1e-3)
    rough = power_law_field(grid.shape, (dy_km, dx_km), 3.1, rng(seed, "terrain"))
    height = cfg["plain_height"] + regional + (3.0 + cfg["roughness"] * regional) * rough
    height = np.maximum(height, 5.0)
    lake = lake_mask(lat, lon, sim["lake"], sim["fault"]["strike"])
    if lake.any():
        level = sim["lake"]["level"]
        height = np.where(lake, level, np.maximum(height, level + 1.0))
    return height, lake


def slope_degrees(height: np.ndarray, grid: Grid) -> np.ndarray:
    """Terrain slope (degrees) from central differences."""
    dy, dx = pixel_size(grid, grid.latlon()[0], 111_195.0)
    grad_y, grad_x = np.gradient(height)
    return np.degrees(np.arctan(np.hypot(grad_x / dx, grad_y / dy)))


def land_cover(
    grid: Grid, orthometric: np.ndarray, lake: np.ndarray, sim: Mapping[str, Any], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Land-cover classes, patch index per pixel and class per patch."""
    lat, lon = grid.latlon()
    slope = slope_degrees(orthometric, grid)
    generator = rng(seed, "land_cover")
    city = sim["city"]
    east_c, north_c = local_km(lat, lon, city["lat"], city["lon"])
    dy_km, dx_km = pixel_size(grid, city["lat"], 111.2, 1e-3)
    wobble = power_law_field(grid.shape, (dy_km, dx_km), 4.0, generator)
    urban = np.hypot(east_c, north_c) < city["radius"] / 1000.0 * (1.0 + 0.25 * wobble)

    classes = np.full(grid.shape, SHRUB, dtype=np.uint8)
    # Voronoi cells split each class into patches with their own coherence parameters
    east, north = local_km(lat, lon, lat.mean(), lon.mean())
    cells = int(sim["scattering"]["cells"])
    seeds = np.column_stack(
        [
            generator.uniform(east.min(), east.max(), cells),
            generator.uniform(north.min(), north.max(), cells),
        ]
    )
    cell = cKDTree(seeds).query(np.column_stack([east.ravel(), north.ravel()]))[1]
    cell = cell.reshape(grid.shape)
    forest_chance = generator.uniform(0.0, 1.0, cells)[cell]
    p_forest = np.clip((orthometric - 150.0) / 700.0, 0.15, 0.85)
    classes[forest_chance < p_forest] = FOREST
    classes[(orthometric < 150.0) & (slope < 6.0)] = AGRICULTURE
    classes[(orthometric > 1100.0) | (slope > 28.0)] = ROCK
    classes[urban] = URBAN
    classes[lake] = WATER
    key = cell.astype(np.int64) * len(CLASSES) + classes
    unique, patch = np.unique(key, return_inverse=True)
    patch_class = (unique % len(CLASSES)).astype(np.uint8)
    return classes, patch.reshape(grid.shape).astype(np.int32), patch_class


def build_terrain(slc_grid: Grid, sim: Mapping[str, Any], seed: int) -> Terrain:
    """The whole landscape on the DEM grid (``slc_grid`` plus ``sim['dem_margin']`` pixels)."""
    grid = dem_grid(slc_grid, int(sim["dem_margin"]))
    orthometric, lake = relief(grid, sim, seed)
    classes, patch, patch_class = land_cover(grid, orthometric, lake, sim, seed)
    height = orthometric + float(sim["geoid_undulation"])
    return Terrain(grid, orthometric, height, lake, classes, patch, patch_class)


def crop_to(terrain_array: np.ndarray, margin: int) -> np.ndarray:
    """The SLC-grid part of an array on the DEM grid."""
    if margin == 0:
        return terrain_array
    return terrain_array[..., margin:-margin, margin:-margin]
