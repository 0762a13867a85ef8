"""The spatial reference point: never on water, inside the main connected component everywhere.

Each unwrapped interferogram is known up to one integer number of cycles per connected
component; tying all of them to one pixel that lies in the largest component of every
interferogram makes them comparable (and lets triplet closures be evaluated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter

from sar4tec.grid import Grid

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferencePoint:
    """Chosen reference pixel and how it was chosen."""

    row: int
    col: int
    lat: float
    lon: float
    method: str
    n_main: int  # interferograms whose largest component contains the pixel


def largest_component(labels: np.ndarray) -> int:
    """Label of the largest non-zero connected component (0 if there is none)."""
    counts = np.bincount(np.asarray(labels).ravel())
    counts[0] = 0
    return int(np.argmax(counts)) if counts.max() > 0 else 0


def main_component_count(components) -> tuple[np.ndarray, np.ndarray]:
    """How many interferograms have each pixel in their largest component.

    Parameters
    ----------
    components : array-like (M, rows, cols)
        Connected-component labels (an h5py dataset works: read one interferogram at a time).

    Returns
    -------
    count : ndarray of int (rows, cols)
    main_labels : ndarray of int (M,)
        The largest component's label in each interferogram.
    """
    n_ifg = components.shape[0]
    count = np.zeros(components.shape[1:], dtype=np.int32)
    labels = np.zeros(n_ifg, dtype=np.int64)
    for m in range(n_ifg):
        cc = components[m]
        labels[m] = largest_component(cc)
        if labels[m]:
            count += cc == labels[m]
    return count, labels


def pixel_latlon(grid: Grid, row: int, col: int) -> tuple[float, float]:
    """Geodetic ``(lat, lon)`` (degrees) of the centre of pixel ``(row, col)``, any CRS."""
    if grid.crs == "EPSG:4326":
        return float(grid.y[row]), float(grid.x[col])
    lat, lon = grid.window(slice(row, row + 1), slice(col, col + 1)).latlon()
    return float(lat[0, 0]), float(lon[0, 0])


def user_pixel(grid: Grid, water: np.ndarray, lat: float | None, lon: float | None):
    """Pixel ``(row, col)`` of a user's reference point; raises if missing, outside, on water."""
    if lat is None or lon is None:
        raise ValueError("unwrap.reference.method is 'latlon' but lat/lon are not given")
    row, col = (int(np.floor(v + 0.5)) for v in grid.index_latlon(lat, lon))
    if not (0 <= row < grid.rows and 0 <= col < grid.cols):
        raise ValueError(
            f"reference point lat={lat}, lon={lon} lies outside the grid {grid.bounds} ({grid.crs})"
        )
    if water[row, col]:
        raise ValueError(f"reference point lat={lat}, lon={lon} (pixel {row},{col}) is on water")
    return row, col


def select_reference(
    components,
    temporal_coherence: np.ndarray,
    water_mask: np.ndarray,
    grid: Grid,
    method: str = "auto",
    lat: float | None = None,
    lon: float | None = None,
    window: int = 5,
) -> ReferencePoint:
    """Choose the reference pixel.

    Parameters
    ----------
    components : array-like (M, rows, cols)
        Connected-component labels of the unwrapped interferograms (0 = not unwrapped).
    temporal_coherence : ndarray (rows, cols)
        Phase-linking temporal coherence.
    water_mask : ndarray (rows, cols)
        True (or 1) on water.
    grid : Grid
        Output grid (for lat/lon).
    method : {"auto", "latlon"}
        ``auto``: among land pixels in the largest component of the most interferograms
        (all of them whenever possible), the one with the highest
        temporal coherence averaged over a ``window`` × ``window`` box (a stable
        neighbourhood, not one lucky pixel).  ``latlon``: the pixel containing ``(lat, lon)``;
        it must be on land and in the largest component of every interferogram.
    lat, lon : float, optional
        The user's point (degrees), for ``latlon``.
    window : int
        Side (pixels) of the box over which temporal coherence is averaged in ``auto``.

    Raises
    ------
    ValueError
        For a user point on water, outside the grid, or outside a main component.
    """
    water = np.asarray(water_mask).astype(bool)
    count, _ = main_component_count(components)
    n_ifg = components.shape[0]
    if method == "latlon":
        row, col = user_pixel(grid, water, lat, lon)
        if count[row, col] < n_ifg:
            raise ValueError(
                f"reference point lat={lat}, lon={lon} (pixel {row},{col}) lies outside the "
                f"largest connected component in {n_ifg - count[row, col]} of {n_ifg} "
                "interferograms; choose another point or method 'auto'"
            )
        return ReferencePoint(row, col, *pixel_latlon(grid, row, col), method, n_ifg)
    if method != "auto":
        raise ValueError(f"unknown reference method {method!r} (auto or latlon)")
    tcoh = np.nan_to_num(np.asarray(temporal_coherence, dtype=np.float64), nan=0.0)
    score = uniform_filter(tcoh, window, mode="nearest")
    land = ~water & (count > 0)
    if not land.any():
        raise ValueError("no land pixel is unwrapped in any interferogram: no reference point")
    best = count[land].max()
    candidates = land & (count == best)
    if best < n_ifg:
        log.warning(
            "no pixel lies in the largest component of all %d interferograms; the reference "
            "is in %d of them",
            n_ifg,
            best,
        )
    flat = np.where(candidates, score, -np.inf)
    row, col = np.unravel_index(int(np.argmax(flat)), flat.shape)
    return ReferencePoint(int(row), int(col), *pixel_latlon(grid, row, col), method, int(best))
