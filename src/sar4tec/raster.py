"""Reading GeoTIFF (or any GDAL raster) values onto a :class:`sar4tec.grid.Grid`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sar4tec.grid import Grid


def read_onto_grid(
    path: str | Path, grid: Grid, *, resampling: str = "bilinear", band: int = 1
) -> np.ndarray:
    """Resample band ``band`` of a raster onto ``grid`` (float64, NaN outside or at nodata).

    Raises
    ------
    ValueError
        If the raster does not cover the grid.
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    out = np.full(grid.shape, np.nan, dtype=np.float64)
    with rasterio.open(path) as src:
        west, south, east, north = grid.bounds
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
