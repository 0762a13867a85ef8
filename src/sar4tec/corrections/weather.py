"""ERA5 pressure-level fields from GRIB or NetCDF (legacy and new-CDS layouts).

Whatever the file, :func:`read_weather` returns a :class:`WeatherFields` with latitude and
longitude ascending, pressure levels ascending (top of the atmosphere first) and the fields
geopotential ``z`` (m²/s²), temperature ``t`` (K) and specific humidity ``q`` (kg/kg) as
``(time, level, lat, lon)`` arrays.  GRIB messages are identified by short name, level and
validity time, never by their position; NetCDF variables by name, with packing
(``scale_factor``/``add_offset``) applied by netCDF4.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sar4tec.errors import InputFormatError, reading

#: the three fields of the delay model
FIELDS = ("z", "t", "q")


@dataclass(frozen=True)
class WeatherFields:
    """Pressure-level fields of one weather-model file.

    Attributes
    ----------
    path : Path
        File they were read from.
    times : list of datetime
        Validity times (UTC).
    lat, lon : ndarray
        Node coordinates in degrees, both ascending; ``lon`` as in the file (either
        -180..180 or 0..360).
    pressure : ndarray
        Pressure levels in Pa, ascending.
    z, t, q : ndarray
        Geopotential (m²/s²), temperature (K), specific humidity (kg/kg), float64,
        shape ``(time, level, lat, lon)``.
    """

    path: Path
    times: list[datetime]
    lat: np.ndarray
    lon: np.ndarray
    pressure: np.ndarray
    z: np.ndarray
    t: np.ndarray
    q: np.ndarray

    def at(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(z, t, q)`` of time ``index``, each ``(level, lat, lon)``."""
        return self.z[index], self.t[index], self.q[index]


def read_weather(path: str | os.PathLike) -> WeatherFields:
    """Read an ERA5 pressure-level file (GRIB 1/2, or NetCDF in the legacy or new-CDS layout).

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the file is truncated or corrupt, lacks a field or a level, or
        uses an unknown layout (the message names the file and what is wrong).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    GribInternalError = _eccodes().GribInternalError

    with reading(path, "ERA5 file"):
        try:
            if magic == b"GRIB":
                return _read_grib(path)
            if magic[:3] == b"CDF" or magic == b"\x89HDF":
                return _read_netcdf(path)
        except (OSError, RuntimeError, GribInternalError) as err:  # libraries on corrupt files
            raise InputFormatError(f"{path}: truncated or corrupt ERA5 file ({err})") from None
    raise InputFormatError(f"{path}: neither GRIB nor NetCDF (starts with {magic!r})")


def _sorted(fields: WeatherFields) -> WeatherFields:
    """Reorder axes so that latitude, longitude and pressure ascend."""
    ilat, ilon, ilev = np.argsort(fields.lat), np.argsort(fields.lon), np.argsort(fields.pressure)
    order = np.argsort(fields.times)

    def sort(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[order][:, ilev][:, :, ilat][:, :, :, ilon], dtype=np.float64)

    return WeatherFields(
        fields.path,
        [fields.times[i] for i in order],
        fields.lat[ilat].astype(np.float64),
        fields.lon[ilon].astype(np.float64),
        fields.pressure[ilev].astype(np.float64),
        sort(fields.z),
        sort(fields.t),
        sort(fields.q),
    )


def _check_classic_netcdf(path: Path) -> None:
    """Raise unless every variable of a classic (CDF-1/2) NetCDF file is complete.

    netCDF-C reads the missing tail of a truncated classic file as zeros without an error;
    scipy's reader checks the sizes.
    """
    from scipy.io import netcdf_file

    try:
        netcdf_file(path, mmap=False).close()
    except (ValueError, TypeError, OSError) as err:
        raise InputFormatError(f"{path}: truncated or corrupt NetCDF file ({err})") from None


def _read_netcdf(path: Path) -> WeatherFields:
    import netCDF4

    with open(path, "rb") as fh:
        if fh.read(3) == b"CDF":
            _check_classic_netcdf(path)
    with netCDF4.Dataset(path) as ds:
        names = ds.variables.keys()
        time_name = next((n for n in ("valid_time", "time") if n in names), None)
        level_name = next(
            (n for n in ("pressure_level", "level", "isobaricInhPa") if n in names), None
        )
        if time_name is None or level_name is None:
            raise InputFormatError(
                f"{path}: no time ('valid_time'/'time') or pressure level ('pressure_level'/"
                f"'level') coordinate; variables are {sorted(names)}"
            )
        missing = [f for f in FIELDS if f not in names]
        if missing:
            raise InputFormatError(f"{path}: lacks variable(s) {missing} (needs z, t, q)")
        level_units = getattr(ds[level_name], "units", "hPa").lower()
        if level_units not in ("hpa", "millibars", "mbar", "mb"):
            raise InputFormatError(f"{path}: pressure levels in unknown units {level_units!r}")
        tvar = ds[time_name]
        times = netCDF4.num2date(
            np.atleast_1d(tvar[:]),
            tvar.units,
            getattr(tvar, "calendar", "standard"),
            only_use_cftime_datetimes=False,
            only_use_python_datetimes=True,
        )
        times = [datetime(*t.timetuple()[:6], tzinfo=UTC) for t in times]
        dims_wanted = (time_name, level_name, "latitude", "longitude")
        arrays = {}
        for name in FIELDS:
            var = ds[name]
            dims = var.dimensions
            data = np.ma.filled(var[:].astype(np.float64), np.nan)
            # drop singleton extra dimensions (e.g. 'number', 'expver' of new-CDS files)
            for axis in reversed(range(len(dims))):
                if dims[axis] not in dims_wanted:
                    if data.shape[axis] != 1:
                        raise InputFormatError(
                            f"{path}: variable {name} has extra dimension {dims[axis]}"
                        )
                    data = data.take(0, axis=axis)
            kept = [d for d in dims if d in dims_wanted]
            if time_name not in kept:
                data, kept = data[np.newaxis], [time_name, *kept]
            if sorted(kept) != sorted(dims_wanted):
                raise InputFormatError(f"{path}: variable {name} has dimensions {dims}")
            arrays[name] = np.transpose(data, [kept.index(d) for d in dims_wanted])
        fields = WeatherFields(
            path,
            times,
            np.asarray(ds["latitude"][:], dtype=np.float64),
            np.asarray(ds["longitude"][:], dtype=np.float64),
            np.asarray(ds[level_name][:], dtype=np.float64) * 100.0,
            arrays["z"],
            arrays["t"],
            arrays["q"],
        )
    if np.isnan(fields.z).any() or np.isnan(fields.t).any() or np.isnan(fields.q).any():
        raise InputFormatError(f"{path}: fields hold missing values")
    return _sorted(fields)


def _grib_time(date: int, hhmm: int) -> datetime:
    return datetime.strptime(str(date), "%Y%m%d").replace(tzinfo=UTC) + timedelta(
        hours=hhmm // 100, minutes=hhmm % 100
    )


def _eccodes():
    """The ``eccodes`` module, imported after PROJ's database is open.

    The eccodes 2.50 and pyproj wheels bundle libraries that clash when eccodes loads first:
    PROJ then fails with "no database context specified" on its next projected CRS.
    Opening the database once (any CRS) before the import avoids it.
    """
    import pyproj

    pyproj.CRS("EPSG:4326")
    import eccodes

    return eccodes


def _read_grib(path: Path) -> WeatherFields:
    eccodes = _eccodes()

    messages: dict[tuple[str, float, datetime], np.ndarray] = {}
    lat = lon = None
    end = 0  # byte after the last complete message
    with open(path, "rb") as fh:
        while (gid := eccodes.codes_grib_new_from_file(fh)) is not None:
            try:
                end = int(eccodes.codes_get(gid, "offset", int)) + int(
                    eccodes.codes_get(gid, "totalLength", int)
                )
                short = eccodes.codes_get(gid, "shortName")
                if short not in FIELDS:
                    continue
                if eccodes.codes_get(gid, "typeOfLevel") != "isobaricInhPa":
                    raise InputFormatError(f"{path}: message {short} is not on pressure levels")
                if eccodes.codes_get(gid, "gridType") != "regular_ll":
                    raise InputFormatError(f"{path}: only regular lat/lon grids are supported")
                level = float(eccodes.codes_get_double(gid, "level"))
                when = _grib_time(
                    eccodes.codes_get(gid, "validityDate"), eccodes.codes_get(gid, "validityTime")
                )
                ni, nj = eccodes.codes_get(gid, "Ni"), eccodes.codes_get(gid, "Nj")
                if eccodes.codes_get(gid, "jPointsAreConsecutive") != 0:
                    raise InputFormatError(f"{path}: column-major GRIB grids are not supported")
                la = eccodes.codes_get_array(gid, "distinctLatitudes")
                lo = eccodes.codes_get_array(gid, "distinctLongitudes")
                if eccodes.codes_get(gid, "jScansPositively") == 0:
                    la = np.sort(la)[::-1]
                if eccodes.codes_get(gid, "iScansNegatively") == 1:
                    lo = np.sort(lo)[::-1]
                if lat is None:
                    lat, lon = la, lo
                elif not (np.array_equal(lat, la) and np.array_equal(lon, lo)):
                    raise InputFormatError(f"{path}: messages on different grids")
                values = eccodes.codes_get_values(gid).reshape(nj, ni)
                messages[(short, level, when)] = values
            finally:
                eccodes.codes_release(gid)
        fh.seek(end)
        if (start := fh.read().find(b"GRIB")) >= 0:  # ecCodes stops silently at a broken one
            raise InputFormatError(f"{path}: truncated GRIB message at byte {end + start}")
    if not messages:
        raise InputFormatError(f"{path}: no z, t or q message on pressure levels")
    times = sorted({k[2] for k in messages})
    levels = sorted({k[1] for k in messages})
    arrays = {}
    for name in FIELDS:
        cube = np.empty((len(times), len(levels), len(lat), len(lon)))
        for i, when in enumerate(times):
            for j, level in enumerate(levels):
                try:
                    cube[i, j] = messages[(name, level, when)]
                except KeyError:
                    raise InputFormatError(
                        f"{path}: no message for {name} at {level:g} hPa, {when:%Y-%m-%d %H:%M}"
                    ) from None
        arrays[name] = cube
    return _sorted(
        WeatherFields(
            path, times, lat, lon, np.asarray(levels) * 100.0, arrays["z"], arrays["t"], arrays["q"]
        )
    )
