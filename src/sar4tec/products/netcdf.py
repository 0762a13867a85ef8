"""CF-1.8 NetCDF products: the displacement time series and the correction layers.

Layout (CF conventions 1.8, https://cfconventions.org): dimensions ``time``, ``lat``, ``lon``
(rows north to south, the order of the GeoTIFFs); coordinate variables ``time`` (days since
1970-01-01 UTC, the sensing times), ``lat`` / ``lon`` (pixel centres, degrees); a ``crs``
grid-mapping variable (``latitude_longitude`` on WGS84, with GDAL's ``spatial_ref`` and
``GeoTransform`` so GDAL/QGIS georeference it exactly); data variables in mm with
``grid_mapping = "crs"``.  On a projected grid (UTM) the dimensions are ``y``, ``x`` with
coordinate variables in metres (``projection_y/x_coordinate``), ``lat`` / ``lon`` are 2-D
auxiliary coordinates (``coordinates = "lat lon"`` on every data variable) and ``crs`` holds
the CF ``transverse_mercator`` parameters (from pyproj's ``CRS.to_cf``) with ``crs_wkt``.
Data are written in blocks of rows, so memory stays bounded.
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
    from pyproj import CRS

    ydim, xdim = spatial_dims(grid)
    nc.createDimension(ydim, grid.rows)
    nc.createDimension(xdim, grid.cols)
    lat_attrs = {"standard_name": "latitude", "long_name": "latitude of pixel centre",
                 "units": "degrees_north"}  # fmt: skip
    lon_attrs = {"standard_name": "longitude", "long_name": "longitude of pixel centre",
                 "units": "degrees_east"}  # fmt: skip
    crs = CRS.from_user_input(grid.crs)
    wkt = crs.to_wkt()
    if crs.is_geographic:
        lat = nc.createVariable("lat", "f8", ("lat",))
        lat.setncatts({**lat_attrs, "axis": "Y"})
        lat[:] = grid.y
        lon = nc.createVariable("lon", "f8", ("lon",))
        lon.setncatts({**lon_attrs, "axis": "X"})
        lon[:] = grid.x
        mapping = {
            "grid_mapping_name": "latitude_longitude",
            "semi_major_axis": 6378137.0,
            "inverse_flattening": 298.257223563,
            "longitude_of_prime_meridian": 0.0,
        }
    else:  # projected: x/y coordinates, 2-D lat/lon auxiliary coordinates
        for name, values, axis in (("y", grid.y, "Y"), ("x", grid.x, "X")):
            var = nc.createVariable(name, "f8", (name,))
            long_name = f"{name} of pixel centre in {grid.crs}"
            var.setncatts({"standard_name": f"projection_{name}_coordinate", "units": "m",
                           "long_name": long_name, "axis": axis})  # fmt: skip
            var[:] = values
        lat = nc.createVariable("lat", "f8", ("y", "x"), zlib=True)
        lat.setncatts(lat_attrs)
        lon = nc.createVariable("lon", "f8", ("y", "x"), zlib=True)
        lon.setncatts(lon_attrs)
        for r0 in range(0, grid.rows, 256):  # row blocks: memory bounded by the block
            rows = slice(r0, min(r0 + 256, grid.rows))
            lat[rows, :], lon[rows, :] = grid.window(rows, slice(None)).latlon()
        mapping = {k: v for k, v in crs.to_cf().items() if k != "crs_wkt"}
    var = nc.createVariable("crs", "i4")
    var.setncatts(
        {
            **mapping,
            "crs_wkt": wkt,
            "spatial_ref": wkt,
            "GeoTransform": " ".join(repr(v) for v in grid.transform),
        }
    )


def spatial_dims(grid: Grid) -> tuple[str, str]:
    """NetCDF dimension names of the rows and columns: ``lat, lon`` or ``y, x`` (projected)."""
    return ("lat", "lon") if grid.crs == "EPSG:4326" else ("y", "x")


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
            dims = ("time", *spatial_dims(grid)) if cube else spatial_dims(grid)
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
            if grid.crs != "EPSG:4326":
                var.setncatts({"coordinates": "lat lon"})
            for r0 in range(0, grid.rows, block_rows):
                rows = slice(r0, min(r0 + block_rows, grid.rows))
                block = np.asarray(reader(rows))
                if cube:
                    var[:, rows, :] = block.astype(np.float32)
                else:
                    var[rows, :] = block.astype(np.float32)
    return path
