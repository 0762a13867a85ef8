"""Reading GeoTIFF (or any GDAL raster) values onto a :class:`sar4tec.grid.Grid`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sar4tec.errors import InputFormatError
from sar4tec.grid import Grid


def read_onto_grid(
    path: str | Path, grid: Grid, *, resampling: str = "bilinear", band: int = 1
) -> np.ndarray:
    """Resample band ``band`` of a raster onto ``grid`` (float64, NaN outside or at nodata).

    The raster may be in another CRS than the grid (an EPSG:4326 DEM onto a UTM grid): it is
    reprojected, and its coverage checked on the grid's bounds transformed into its CRS.

    Raises
    ------
    ValueError
        If the raster does not cover the grid, or (:class:`~sar4tec.errors.InputFormatError`)
        cannot be read.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, reproject, transform_bounds

    if not Path(path).is_file():
        raise FileNotFoundError(f"raster not found: {path}")
    try:
        src = rasterio.open(path)
    except RasterioIOError as err:
        raise InputFormatError(f"{path}: not a readable raster, truncated? ({err})") from None
    out = np.full(grid.shape, np.nan, dtype=np.float64)
    with src:
        west, south, east, north = grid.bounds
        if src.crs is not None and src.crs.to_string() != grid.crs:
            # the grid's footprint in the raster's CRS (edges densified: a UTM grid's
            # straight edges are curved in EPSG:4326)
            west, south, east, north = transform_bounds(
                grid.crs, src.crs, west, south, east, north, densify_pts=21
            )
        b = src.bounds
        tol = 0.5 * max(abs(src.transform.a), abs(src.transform.e))
        if (
            west < b.left - tol
            or east > b.right + tol
            or south < b.bottom - tol
            or north > b.top + tol
        ):
            raise ValueError(f"{path} (bounds {tuple(b)}) does not cover the grid {grid.bounds}")
        reproject(
            source=rasterio.band(src, band),
            destination=out,
            dst_transform=grid.rasterio_transform(),
            dst_crs=grid.crs,
            dst_nodata=np.nan,
            resampling=getattr(Resampling, resampling),
        )
    return out
