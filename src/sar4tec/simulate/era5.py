"""ERA5 pressure-level files in the NetCDF layout of the new Climate Data Store (2024+).

The new CDS converts GRIB to NetCDF-4 with cfgrib: dimensions ``valid_time`` (int64 seconds
since 1970-01-01), ``pressure_level`` (hPa, stored decreasing 1000 → 1), ``latitude``
(decreasing) and ``longitude``; a scalar ``number`` and a per-time ``expver`` string; float32
variables ``z`` (geopotential, m² s⁻²), ``t`` (K) and ``q`` (kg kg⁻¹) with their ``GRIB_*``
attributes, compressed. This module writes the simulated atmosphere that way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from sar4tec.files import atomic_output, to_utc

#: the 37 ERA5 pressure levels (hPa), in the order the new CDS stores them
PRESSURE_LEVELS_HPA = np.array(
    [
        1000,
        975,
        950,
        925,
        900,
        875,
        850,
        825,
        800,
        775,
        750,
        700,
        650,
        600,
        550,
        500,
        450,
        400,
        350,
        300,
        250,
        225,
        200,
        175,
        150,
        125,
        100,
        70,
        50,
        30,
        20,
        10,
        7,
        5,
        3,
        2,
        1,
    ],
    dtype=np.float64,
)
GRID_STEP = 0.25

_VARIABLES = {
    "z": (129, "Geopotential", "geopotential", "m**2 s**-2"),
    "t": (130, "Temperature", "air_temperature", "K"),
    "q": (133, "Specific humidity", "specific_humidity", "kg kg**-1"),
}


def era5_grid(bounds: Sequence[float], pad: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """ERA5 0.25° node latitudes (decreasing) and longitudes covering ``bounds`` + ``pad``."""
    west, south, east, north = bounds
    lat0 = np.floor((south - pad) / GRID_STEP) * GRID_STEP
    lat1 = np.ceil((north + pad) / GRID_STEP) * GRID_STEP
    lon0 = np.floor((west - pad) / GRID_STEP) * GRID_STEP
    lon1 = np.ceil((east + pad) / GRID_STEP) * GRID_STEP
    lat = np.round(np.arange(lat1, lat0 - GRID_STEP / 2, -GRID_STEP), 6)
    lon = np.round(np.arange(lon0, lon1 + GRID_STEP / 2, GRID_STEP), 6)
    return lat, lon


def era5_name(times: Sequence[datetime]) -> str:
    """File name of a download holding ``times``: ``ERA5_pl_YYYYMMDDTHH_YYYYMMDDTHH.nc``."""
    return f"ERA5_pl_{to_utc(times[0]):%Y%m%dT%H}_{to_utc(times[-1]):%Y%m%dT%H}.nc"


def write_era5(
    path: str | Path,
    times: Sequence[datetime],
    lat: np.ndarray,
    lon: np.ndarray,
    fields: dict[str, np.ndarray],
) -> Path:
    """Write ``z``, ``t``, ``q`` of shape (time, 37 levels, lat, lon) as a new-CDS NetCDF file.

    Parameters
    ----------
    path : path
        Output file.
    times : sequence of datetime
        ``valid_time`` values (UTC, whole hours).
    lat, lon : ndarray
        Node coordinates; ``lat`` decreasing.
    fields : dict
        ``{"z": ..., "t": ..., "q": ...}`` on the levels :data:`PRESSURE_LEVELS_HPA`.
    """
    import netCDF4

    shape = (len(times), PRESSURE_LEVELS_HPA.size, lat.size, lon.size)
    for name in _VARIABLES:
        if fields[name].shape != shape:
            raise ValueError(f"ERA5 field {name!r} has shape {fields[name].shape}, need {shape}")
    seconds = np.array([int(to_utc(t).timestamp()) for t in times], dtype=np.int64)
    history = (
        f"{to_utc(times[-1]):%Y-%m-%dT%H:%M} GRIB to CDM+CF via cfgrib-0.9.15.0/ecCodes-2.39.0 "
        'with {"source": "data.grib", "filter_by_keys": {"stream": ["oper"], "stepType": '
        '["instant"]}, "encode_cf": ["parameter", "time", "geography", "vertical"]} '
        "(simulated atmosphere written by sar4tec.simulate)"
    )
    with atomic_output(path) as tmp, netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        nc.setncatts(
            {
                "GRIB_centre": "ecmf",
                "GRIB_centreDescription": "European Centre for Medium-Range Weather Forecasts",
                "GRIB_subCentre": np.int64(0),
                "Conventions": "CF-1.7",
                "institution": "European Centre for Medium-Range Weather Forecasts",
                "history": history,
            }
        )
        nc.createDimension("valid_time", len(times))
        nc.createDimension("pressure_level", PRESSURE_LEVELS_HPA.size)
        nc.createDimension("latitude", lat.size)
        nc.createDimension("longitude", lon.size)
        number = nc.createVariable("number", "i8")
        number.setncatts(
            {
                "long_name": "ensemble member numerical id",
                "units": "1",
                "standard_name": "realization",
            }
        )
        number.assignValue(0)
        vt = nc.createVariable("valid_time", "i8", ("valid_time",))
        vt.setncatts(
            {
                "long_name": "time",
                "standard_name": "time",
                "units": "seconds since 1970-01-01",
                "calendar": "proleptic_gregorian",
            }
        )
        vt[:] = seconds
        plev = nc.createVariable("pressure_level", "f8", ("pressure_level",), fill_value=np.nan)
        plev.setncatts(
            {
                "long_name": "pressure",
                "units": "hPa",
                "positive": "down",
                "stored_direction": "decreasing",
                "standard_name": "air_pressure",
            }
        )
        plev[:] = PRESSURE_LEVELS_HPA
        for name, values, units, direction in (
            ("latitude", lat, "degrees_north", "decreasing"),
            ("longitude", lon, "degrees_east", None),
        ):
            var = nc.createVariable(name, "f8", (name,), fill_value=np.nan)
            attrs = {"units": units, "standard_name": name, "long_name": name}
            if direction:
                attrs["stored_direction"] = direction
            var.setncatts(attrs)
            var[:] = values
        expver = nc.createVariable("expver", str, ("valid_time",))
        expver.setncatts({"long_name": "experiment version", "units": "1"})
        for i in range(len(times)):
            expver[i] = "0001"
        dims = ("valid_time", "pressure_level", "latitude", "longitude")
        for name, (param, long_name, standard, units) in _VARIABLES.items():
            var = nc.createVariable(
                name,
                "f4",
                dims,
                fill_value=np.float32(np.nan),
                zlib=True,
                complevel=1,
                chunksizes=(1, PRESSURE_LEVELS_HPA.size, lat.size, lon.size),
            )
            var.setncatts(
                {
                    "GRIB_paramId": np.int64(param),
                    "GRIB_dataType": "an",
                    "GRIB_numberOfPoints": np.int64(lat.size * lon.size),
                    "GRIB_typeOfLevel": "isobaricInhPa",
                    "GRIB_stepUnits": np.int64(1),
                    "GRIB_stepType": "instant",
                    "GRIB_gridType": "regular_ll",
                    "GRIB_uvRelativeToGrid": np.int64(0),
                    "GRIB_NV": np.int64(0),
                    "GRIB_Nx": np.int64(lon.size),
                    "GRIB_Ny": np.int64(lat.size),
                    "GRIB_cfName": standard,
                    "GRIB_cfVarName": name,
                    "GRIB_gridDefinitionDescription": "Regular Lat/Lon Grid",
                    "GRIB_iDirectionIncrementInDegrees": GRID_STEP,
                    "GRIB_iScansNegatively": np.int64(0),
                    "GRIB_jDirectionIncrementInDegrees": GRID_STEP,
                    "GRIB_jPointsAreConsecutive": np.int64(0),
                    "GRIB_jScansPositively": np.int64(0),
                    "GRIB_latitudeOfFirstGridPointInDegrees": float(lat[0]),
                    "GRIB_latitudeOfLastGridPointInDegrees": float(lat[-1]),
                    "GRIB_longitudeOfFirstGridPointInDegrees": float(lon[0]),
                    "GRIB_longitudeOfLastGridPointInDegrees": float(lon[-1]),
                    "GRIB_missingValue": 3.4028234663852886e38,
                    "GRIB_name": long_name,
                    "GRIB_shortName": name,
                    "GRIB_totalNumber": np.int64(0),
                    "GRIB_units": units,
                    "long_name": long_name,
                    "units": units,
                    "standard_name": standard,
                    "GRIB_surface": 0.0,
                    "coordinates": "number valid_time pressure_level latitude longitude expver",
                }
            )
            var[:] = fields[name].astype(np.float32)
    return Path(path)
