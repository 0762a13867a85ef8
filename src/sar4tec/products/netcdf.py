"""CF-1.8 NetCDF products: the displacement time series and the correction layers.

Layout (CF conventions 1.8, https://cfconventions.org): dimensions ``time``, ``lat``, ``lon``
(rows north to south, the order of the GeoTIFFs); coordinate variables ``time`` (days since
1970-01-01 UTC, the sensing times), ``lat`` / ``lon`` (pixel centres, degrees); a ``crs``
grid-mapping variable (``latitude_longitude`` on WGS84, with GDAL's ``spatial_ref`` and
``GeoTransform`` so GDAL/QGIS georeference it exactly); data variables in mm with
``grid_mapping = "crs"``.  Data are written in blocks of rows, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid

TIME_UNITS = "days since 1970-01-01 00:00:00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _create(nc, grid: Grid, times: Sequence[datetime] | None, attrs: Mapping[str, object]):
    nc.setncatts({"Conventions": "CF-1.8", **{k: _attr(v) for k, v in attrs.items()}})
    if times is not None:
        nc.createDimension("time", len(times))
        t = nc.createVariable("time", "f8", ("time",))
        t.setncatts(
            {"standard_name": "time", "long_name": "sensing time", "units": TIME_UNITS,
             "calendar": "standard", "axis": "T"}
        )  # fmt: skip
        t[:] = [(tt - _EPOCH).total_seconds() / 86400.0 for tt in times]
    nc.createDimension("lat", grid.rows)
    nc.createDimension("lon", grid.cols)
    lat = nc.createVariable("lat", "f8", ("lat",))
    lat.setncatts({"standard_name": "latitude", "long_name": "latitude of pixel centre",
                   "units": "degrees_north", "axis": "Y"})  # fmt: skip
    lat[:] = grid.y
    lon = nc.createVariable("lon", "f8", ("lon",))
    lon.setncatts({"standard_name": "longitude", "long_name": "longitude of pixel centre",
                   "units": "degrees_east", "axis": "X"})  # fmt: skip
    lon[:] = grid.x
    crs = nc.createVariable("crs", "i4")
    from pyproj import CRS

    wkt = CRS.from_user_input(grid.crs).to_wkt()
    crs.setncatts(
        {
            "grid_mapping_name": "latitude_longitude",
            "semi_major_axis": 6378137.0,
            "inverse_flattening": 298.257223563,
            "longitude_of_prime_meridian": 0.0,
            "crs_wkt": wkt,
            "spatial_ref": wkt,
            "GeoTransform": " ".join(repr(v) for v in grid.transform),
        }
    )


def _attr(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    return str(value)


def write_cube_netcdf(
    path: str | Path,
    grid: Grid,
    times: Sequence[datetime] | None,
    variables: Iterable[tuple[str, Mapping[str, object], Callable[[slice], np.ndarray]]],
    attrs: Mapping[str, object],
    block_rows: int = 128,
    compression_level: int = 1,
) -> Path:
    """Write a CF NetCDF of ``(time, lat, lon)`` cubes and/or ``(lat, lon)`` images.

    Parameters
    ----------
    path : str or Path
        Output file (written atomically).
    grid : Grid
        Grid of every variable.
    times : sequence of datetime or None
        Sensing times (``None`` for a file without a time axis).
    variables : iterable of (name, attributes, reader)
        ``reader(rows)`` returns the variable's values for a slice of rows, shape
        ``(N, rows, cols)`` for cubes or ``(rows, cols)`` for images (float, NaN = no data).
        Attributes should hold ``units`` and ``long_name``; ``grid_mapping`` is added.
    attrs : mapping
        Global attributes.
    block_rows : int
        Rows written at a time.
    compression_level : int
        zlib level (0 = none), with the byte-shuffle filter.
    """
    import netCDF4

    path = Path(path)
    with atomic_output(path) as tmp, netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        _create(nc, grid, times, attrs)
        for name, var_attrs, reader in variables:
            cube = np.ndim(reader(slice(0, 1))) == 3
            dims = ("time", "lat", "lon") if cube else ("lat", "lon")
            chunks = (
                (min(len(times), 16), min(grid.rows, 128), min(grid.cols, 128))
                if cube
                else (min(grid.rows, 256), min(grid.cols, 256))
            )
            var = nc.createVariable(
                name, "f4", dims, zlib=compression_level > 0, complevel=compression_level,
                shuffle=True, chunksizes=chunks, fill_value=np.float32(np.nan),
            )  # fmt: skip
            var.setncatts({**{k: _attr(v) for k, v in var_attrs.items()}, "grid_mapping": "crs"})
            for r0 in range(0, grid.rows, block_rows):
                rows = slice(r0, min(r0 + block_rows, grid.rows))
                block = np.asarray(reader(rows))
                if cube:
                    var[:, rows, :] = block.astype(np.float32)
                else:
                    var[rows, :] = block.astype(np.float32)
    return path
