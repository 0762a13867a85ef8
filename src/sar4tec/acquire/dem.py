"""Copernicus GLO-30 DEM over a frame, converted from EGM2008 to WGS84 ellipsoidal heights.

GLO-30 is distributed as 1x1 degree Cloud-Optimised GeoTIFFs named
``Copernicus_DSM_COG_10_<N|S>yy_00_<E|W>xxx_00_DEM`` (heights above the EGM2008 geoid, pixel
centres on whole arc-seconds; longitude spacing widens above 50 deg latitude).  Tiles that do
not exist (open ocean) answer 404 and are skipped.  The tiles are mosaicked on a 1-arc-second
grid over the requested bounds (bilinear where a tile is coarser), and the geoid undulation
``N`` (an EGM2008 GeoTIFF, resampled with cubic convolution, as dem-stitcher does) is added:
``h = H + N``.  The water mask marks sea: pixels without a tile or with height exactly 0,
the value the Copernicus DEM gives the ocean; inland water is not flagged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sar4tec.acquire.download import DownloadError, fetch
from sar4tec.files import atomic_output

#: public GLO-30 COG bucket (AWS open data)
GLO30_URL = "https://copernicus-dem-30m.s3.amazonaws.com"
#: global EGM2008 undulation grid (2.5 arc-minutes) as used by dem-stitcher
GEOID_URL = "https://aria-geoid-rasters.s3.us-west-2.amazonaws.com/global/egm08_25.tif"
#: output pixel size, degrees (1 arc-second)
SPACING = 1.0 / 3600.0


def glo30_tile_names(bounds: Sequence[float]) -> list[str]:
    """Names of the GLO-30 tiles intersecting ``(west, south, east, north)``."""
    west, south, east, north = bounds
    names = []
    for lat in range(math.floor(south), math.ceil(north)):
        for lon in range(math.floor(west), math.ceil(east)):
            ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
            names.append(f"Copernicus_DSM_COG_10_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM")
    return names


def download_tiles(
    bounds: Sequence[float],
    cache_dir: str | os.PathLike,
    base_url: str = GLO30_URL,
    **fetch_options,
) -> list[Path]:
    """Fetch the existing GLO-30 tiles over ``bounds`` into ``cache_dir`` (404 = ocean)."""
    paths = []
    for name in glo30_tile_names(bounds):
        url, dest = f"{base_url}/{name}/{name}.tif", Path(cache_dir) / f"{name}.tif"
        for attempt in range(2):  # no published checksums: a tile that does not open is refetched
            try:
                fetch(url, dest, **fetch_options)
            except DownloadError as err:
                if err.status != 404:
                    raise
                break
            if _opens(dest):
                paths.append(dest)
                break
            if fetch_options.get("offline") or attempt:
                raise DownloadError(f"{dest} (from {url}) is not a readable GeoTIFF")
            dest.unlink()
    return paths


def _opens(path: Path) -> bool:
    import rasterio

    try:
        with rasterio.open(path) as src:
            src.read(1, window=((0, 1), (0, 1)))
        return True
    except rasterio.errors.RasterioError:
        return False


def snap_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """Grow bounds to pixel edges of the GLO-30 grid (pixel centres on whole arc-seconds).

    Mosaicking on the tiles' own grid copies their heights without resampling.
    """
    west, south, east, north = (v / SPACING for v in bounds)
    return (
        (math.floor(west + 0.5) - 0.5) * SPACING,
        (math.floor(south + 0.5) - 0.5) * SPACING,
        (math.ceil(east - 0.5) + 0.5) * SPACING,
        (math.ceil(north - 0.5) + 0.5) * SPACING,
    )


def mosaic(tiles: Sequence[str | os.PathLike], bounds: Sequence[float]):
    """Mosaic tiles on the 1-arc-second grid; NaN where no tile covers.

    ``bounds`` are grown to the tiles' pixel edges first (:func:`snap_bounds`).

    Returns ``(heights, transform)`` (float32 array, rasterio Affine).
    """
    from rasterio.enums import Resampling
    from rasterio.merge import merge

    bounds = snap_bounds(bounds)
    if not tiles:
        west, south, east, north = bounds
        rows, cols = round((north - south) / SPACING), round((east - west) / SPACING)
        from rasterio.transform import from_origin

        return np.full((rows, cols), np.nan, np.float32), from_origin(west, north, SPACING, SPACING)
    data, transform = merge(
        [str(t) for t in tiles],
        bounds=tuple(bounds),
        res=(SPACING, SPACING),
        nodata=np.nan,
        dtype="float32",
        resampling=Resampling.bilinear,
    )
    return data[0], transform


def geoid_to_ellipsoid(heights: np.ndarray, transform, geoid_path: str | os.PathLike) -> np.ndarray:
    """``h = H + N``: add the geoid undulation, cubic-resampled onto the DEM grid (EPSG:4326)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    undulation = np.zeros(heights.shape, np.float32)
    with rasterio.open(geoid_path) as src:
        reproject(
            rasterio.band(src, 1),
            undulation,
            dst_transform=transform,
            dst_crs="EPSG:4326",
            resampling=Resampling.cubic,
        )
    return (heights + undulation).astype(np.float32)


def write_geotiff(path: str | os.PathLike, array: np.ndarray, transform, nodata=None) -> Path:
    """Write one band, EPSG:4326, tiled and deflate-compressed, atomically."""
    import rasterio

    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": "EPSG:4326",
        "transform": transform,
        "compress": "deflate",
        "tiled": True,
        "nodata": nodata,
    }
    with atomic_output(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)
    return Path(path)


def frame_dem(
    bounds: Sequence[float],
    dem_path: str | os.PathLike,
    water_mask_path: str | os.PathLike,
    cache_dir: str | os.PathLike,
    *,
    base_url: str = GLO30_URL,
    geoid_url: str = GEOID_URL,
    buffer_deg: float = 0.05,
    **fetch_options,
) -> tuple[Path, Path]:
    """Ellipsoidal-height DEM and sea mask GeoTIFFs over ``bounds`` (plus ``buffer_deg``)."""
    west, south, east, north = bounds
    padded = (west - buffer_deg, south - buffer_deg, east + buffer_deg, north + buffer_deg)
    tiles = download_tiles(padded, Path(cache_dir) / "glo30", base_url, **fetch_options)
    geoid = fetch(geoid_url, Path(cache_dir) / "geoid" / Path(geoid_url).name, **fetch_options)
    heights, transform = mosaic(tiles, padded)
    sea = ~np.isfinite(heights) | (heights == 0)
    ellipsoid = geoid_to_ellipsoid(np.where(np.isfinite(heights), heights, 0.0), transform, geoid)
    write_geotiff(dem_path, ellipsoid, transform)
    write_geotiff(water_mask_path, sea.astype(np.uint8), transform)
    return Path(dem_path), Path(water_mask_path)
