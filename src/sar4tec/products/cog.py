"""Cloud-optimised GeoTIFFs: tiled, compressed, with overviews, nodata, CRS, description and units.

The image is written to a temporary tiled GeoTIFF and copied with GDAL's COG driver, which
builds the overviews and orders the file so that clients can read any tile or overview with
HTTP range requests (https://gdal.org/drivers/raster/cog.html).  Band description and the
``units`` (GDAL unit type) are set on the band, free-form tags on the dataset, so QGIS and
``rasterio`` show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid


def write_cog(
    path: str | Path,
    image: np.ndarray,
    grid: Grid,
    *,
    description: str,
    units: str,
    nodata: float | int | None = None,
    tags: Mapping[str, object] | None = None,
    compress: str = "DEFLATE",
    blocksize: int = 256,
    resampling: str = "AVERAGE",
) -> Path:
    """Write one band as a cloud-optimised GeoTIFF.

    Parameters
    ----------
    path : str or Path
        Output file (written atomically).
    image : numpy.ndarray
        ``(rows, cols)`` on ``grid``; float images keep NaN as no-data.
    grid : Grid
        Georeferencing (transform and CRS).
    description, units : str
        Band description and unit (e.g. ``"mm/yr"``).
    nodata : float or int, optional
        No-data value; default NaN for float images, none for integer images.
    tags : mapping, optional
        Dataset metadata (reference frame, sign convention, ...), written as strings.
    compress : str
        GDAL compression (DEFLATE, LZW, ZSTD).
    blocksize : int
        Tile size in pixels.
    resampling : str
        Overview resampling (AVERAGE for continuous data, NEAREST for masks).
    """
    import rasterio
    from rasterio.shutil import copy as rio_copy

    image = np.asarray(image)
    if image.shape != grid.shape:
        raise ValueError(f"{path}: image shape {image.shape} differs from the grid {grid.shape}")
    if nodata is None and np.issubdtype(image.dtype, np.floating):
        nodata = float("nan")
    profile = {
        "driver": "GTiff",
        "width": grid.cols,
        "height": grid.rows,
        "count": 1,
        "dtype": image.dtype.name,
        "crs": grid.crs,
        "transform": grid.rasterio_transform(),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": blocksize,
        "blockysize": blocksize,
    }
    path = Path(path)
    with atomic_output(path) as tmp:
        staging = tmp.with_name(tmp.stem + ".staging.tif")
        try:
            with rasterio.open(staging, "w", **profile) as dst:
                dst.write(image, 1)
                dst.set_band_description(1, description)
                dst.set_band_unit(1, units)
                dst.update_tags(**{k: str(v) for k, v in (tags or {}).items()}, units=units)
                dst.update_tags(1, units=units, description=description)
            rio_copy(
                staging,
                tmp,
                driver="COG",
                COMPRESS=compress,
                BLOCKSIZE=blocksize,
                OVERVIEWS="AUTO",
                RESAMPLING=resampling,
                PREDICTOR="YES",
            )
        finally:
            staging.unlink(missing_ok=True)
    return path
