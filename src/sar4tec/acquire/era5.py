"""ERA5 pressure-level downloads from the Copernicus Climate Data Store (new CDS, ``cdsapi``).

One request per (area, day, hour): geopotential, temperature and specific humidity on the 37
pressure levels of ``reanalysis-era5-pressure-levels``.  The area is the frame padded by a
margin and widened to a multiple of ``rounding`` degrees, so neighbouring frames ask for, and
find in the cache, the same files.  An acquisition needs the two hours that bracket it (one if
it falls on the hour).  Files land in the cache under a name made of area, day and hour, through
a temporary name (a killed download never looks complete).

Credentials: the new CDS uses ``url: https://cds.climate.copernicus.eu/api`` and a personal
access token (``key: <token>``) in ``~/.cdsapirc`` (or ``$CDSAPI_RC``, or the ``CDSAPI_URL``
and ``CDSAPI_KEY`` variables).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sar4tec.errors import Sar4tecError
from sar4tec.files import atomic_output, to_utc

log = logging.getLogger(__name__)

DATASET = "reanalysis-era5-pressure-levels"
CDS_URL = "https://cds.climate.copernicus.eu/api"
VARIABLES = ("geopotential", "temperature", "specific_humidity")
#: the 37 ERA5 pressure levels, hPa
PRESSURE_LEVELS = (
    1, 2, 3, 5, 7, 10, 20, 30, 50, 70, 100, 125, 150, 175, 200, 225, 250, 300, 350, 400, 450,
    500, 550, 600, 650, 700, 750, 775, 800, 825, 850, 875, 900, 925, 950, 975, 1000,
)  # fmt: skip
SUFFIX = {"grib": "grb", "netcdf": "nc"}


class CredentialsError(Sar4tecError, RuntimeError):
    """No usable CDS credentials were found."""


@dataclass(frozen=True)
class Area:
    """A request area in whole multiples of the rounding step, degrees."""

    north: float
    west: float
    south: float
    east: float

    def as_request(self) -> list[float]:
        """``[north, west, south, east]`` as the CDS expects it."""
        return [self.north, self.west, self.south, self.east]

    def tag(self) -> str:
        """File-name part, e.g. ``N40_S30_E120_E140`` (hemisphere letters, no signs)."""

        def lat(v: float) -> str:
            return f"{'N' if v >= 0 else 'S'}{abs(v):g}"

        def lon(v: float) -> str:
            return f"{'E' if v >= 0 else 'W'}{abs(v):g}"

        return f"{lat(self.north)}_{lat(self.south)}_{lon(self.west)}_{lon(self.east)}"


def request_area(
    bounds: tuple[float, float, float, float], padding: float = 1.0, rounding: float = 1.0
) -> Area:
    """The padded, rounded request area around ``bounds = (west, south, east, north)``."""
    west, south, east, north = bounds
    if not (west <= east and south <= north):
        raise ValueError(f"bounds must be (west, south, east, north), got {bounds}")

    def down(v: float) -> float:
        return math.floor(v / rounding + 1e-9) * rounding

    def up(v: float) -> float:
        return math.ceil(v / rounding - 1e-9) * rounding

    return Area(
        north=min(up(north + padding), 90.0),
        west=down(west - padding),
        south=max(down(south - padding), -90.0),
        east=up(east + padding),
    )


def bracketing_hours(when: datetime) -> list[datetime]:
    """The ERA5 hours needed for ``when``: itself if on the hour, else the two around it."""
    when = to_utc(when)
    start = when.replace(minute=0, second=0, microsecond=0)
    return [start] if start == when else [start, start + timedelta(hours=1)]


def build_request(area: Area, hour: datetime, data_format: str = "grib") -> dict[str, Any]:
    """The new-CDS request for one hour of z, t, q on all pressure levels over ``area``."""
    if data_format not in SUFFIX:
        raise ValueError(f"data_format must be one of {sorted(SUFFIX)}, got {data_format!r}")
    hour = to_utc(hour)
    return {
        "product_type": ["reanalysis"],
        "variable": list(VARIABLES),
        "pressure_level": [str(p) for p in PRESSURE_LEVELS],
        "year": [f"{hour:%Y}"],
        "month": [f"{hour:%m}"],
        "day": [f"{hour:%d}"],
        "time": [f"{hour:%H}:00"],
        "area": area.as_request(),
        "data_format": data_format,
        "download_format": "unarchived",
    }


def cache_path(cache_dir: str | os.PathLike, area: Area, hour: datetime, data_format: str) -> Path:
    """Cache file of one (area, hour): ``ERA5_<area>_<YYYYMMDD>_<HH>.<grb|nc>``."""
    hour = to_utc(hour)
    return Path(cache_dir) / f"ERA5_{area.tag()}_{hour:%Y%m%d_%H}.{SUFFIX[data_format]}"


def cds_credentials(url: str | None = None) -> tuple[str, str]:
    """CDS ``(url, key)`` from the arguments, the environment or ``~/.cdsapirc``.

    Raises
    ------
    CredentialsError
        If no key is found, or the key is a legacy ``UID:key`` pair (old CDS, shut down).
    """
    rc = Path(os.environ.get("CDSAPI_RC", Path.home() / ".cdsapirc"))
    values = {"url": os.environ.get("CDSAPI_URL"), "key": os.environ.get("CDSAPI_KEY")}
    if rc.is_file():
        for line in rc.read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() in values and values[name.strip()] is None:
                values[name.strip()] = value.strip()
    url = url or values["url"] or CDS_URL
    key = values["key"]
    if not key:
        raise CredentialsError(
            f"no CDS token: write '{rc}' with the lines 'url: {CDS_URL}' and "
            "'key: <your personal access token>' (see https://cds.climate.copernicus.eu/how-to-api),"
            " or set CDSAPI_KEY"
        )
    if ":" in key:
        raise CredentialsError(
            f"the CDS key in {rc} has the legacy 'UID:key' form; the new CDS needs the personal "
            "access token from your CDS profile"
        )
    return url, key


def _looks_complete(path: Path, data_format: str) -> bool:
    """A cached file is usable if it starts like its format (downloads are atomic)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as fh:
        magic = fh.read(4)
    return magic == b"GRIB" if data_format == "grib" else magic[:3] == b"CDF" or magic == b"\x89HDF"


def download_era5(
    bounds: tuple[float, float, float, float],
    times: Iterable[datetime],
    cache_dir: str | os.PathLike,
    *,
    url: str | None = None,
    dataset: str = DATASET,
    padding: float = 1.0,
    rounding: float = 1.0,
    data_format: str = "grib",
    offline: bool = False,
    client=None,
) -> list[Path]:
    """Make sure the ERA5 files for acquisitions at ``times`` over ``bounds`` are in the cache.

    Parameters
    ----------
    bounds : (west, south, east, north)
        Frame bounds, degrees.
    times : iterable of datetime
        Acquisition times (UTC); the bracketing hours of each are fetched.
    cache_dir : path
        Shared download cache folder.
    url, dataset, padding, rounding, data_format
        CDS address, dataset, request-area margin and rounding (degrees), file format.
    offline : bool
        Never contact the CDS; raise FileNotFoundError for files not in the cache.
    client : cdsapi.Client, optional
        Ready client (default: one built from :func:`cds_credentials`).

    Returns
    -------
    list of Path
        One file per needed hour, in time order.
    """
    area = request_area(bounds, padding, rounding)
    hours = sorted({h for t in times for h in bracketing_hours(t)})
    paths = []
    for hour in hours:
        path = cache_path(cache_dir, area, hour, data_format)
        paths.append(path)
        if _looks_complete(path, data_format):
            log.info("ERA5 %s in cache: %s", f"{hour:%Y-%m-%d %H}h", path)
            continue
        if offline:
            raise FileNotFoundError(f"offline mode: {path} is not in the cache")
        if client is None:
            import cdsapi

            cds_url, key = cds_credentials(url)
            client = cdsapi.Client(url=cds_url, key=key, quiet=True, progress=False)
        request = build_request(area, hour, data_format)
        log.info("ERA5 request %s %s -> %s", dataset, request, path)
        with atomic_output(path) as tmp:
            client.retrieve(dataset, request, str(tmp))
            if not _looks_complete(tmp, data_format):
                raise RuntimeError(f"the CDS answer for {path.name} is not a {data_format} file")
    return paths
