"""Coregistered, geocoded SLCs in the OPERA CSLC-S1 HDF5 layout.

The layout (as distributed by ASF/OPERA and written by ``sar4tec.simulate``)::

    /data/<POL>                 complex64 (rows, cols)
    /data/x_coordinates         pixel-centre x (cols,)
    /data/y_coordinates         pixel-centre y (rows,)
    /data/projection            EPSG code (int)
    /identification/zero_doppler_start_time, zero_doppler_end_time     time strings (UTC)
    /identification/orbit_pass_direction, track_number
    /metadata/processing_information/input_burst_metadata/wavelength   metres
    /metadata/orbit/{reference_epoch, time, position_[xyz], velocity_[xyz], orbit_type, ...}

:func:`read_cslc_info` / :func:`read_cslc` read it; :func:`create_cslc` writes it (the one
writer of the project: geocoding and the simulator), with OPERA's time strings
``YYYY-MM-DD HH:MM:SS.ffffff``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np

from sar4tec.constants import SENTINEL1_WAVELENGTH, SPEED_OF_LIGHT
from sar4tec.errors import InputFormatError
from sar4tec.files import parse_time, to_utc
from sar4tec.grid import Grid
from sar4tec.sentinel1.orbit import Orbit

_WAVELENGTH = "metadata/processing_information/input_burst_metadata/wavelength"


@dataclass(frozen=True)
class CslcInfo:
    """What a CSLC file says about itself (no pixels read)."""

    path: Path
    grid: Grid
    sensing_start: datetime
    sensing_stop: datetime
    orbit_direction: str
    track: int | None
    wavelength: float

    @property
    def sensing_mid(self) -> datetime:
        """Middle of the zero-Doppler sensing interval."""
        return self.sensing_start + (self.sensing_stop - self.sensing_start) / 2


def _text(value) -> str:
    value = value[()] if isinstance(value, h5py.Dataset) else value
    return value.decode() if isinstance(value, bytes) else str(value)


def grid_from_coordinates(x: np.ndarray, y: np.ndarray, epsg: int) -> Grid:
    """Grid of regularly spaced pixel-centre coordinates ``x`` (cols) and ``y`` (rows)."""
    dx = (x[-1] - x[0]) / (x.size - 1) if x.size > 1 else 1.0
    dy = (y[-1] - y[0]) / (y.size - 1) if y.size > 1 else -1.0
    for name, coords, step in (("x", x, dx), ("y", y, dy)):
        if coords.size > 1 and not np.allclose(np.diff(coords), step, rtol=1e-6, atol=0):
            raise ValueError(f"{name}_coordinates are not regularly spaced")
    return Grid((x[0] - dx / 2, dx, 0.0, y[0] - dy / 2, 0.0, dy), (y.size, x.size), f"EPSG:{epsg}")


def _open(path: Path) -> h5py.File:
    """Open an HDF5 file; a truncated or corrupt one raises InputFormatError naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"CSLC file not found: {path}")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise InputFormatError(f"{path}: not a readable HDF5 file, truncated? ({err})") from None


def read_cslc_info(path: str | Path, polarization: str = "VV") -> CslcInfo:
    """Read the metadata of one CSLC file; raises ``InputFormatError`` naming a missing item."""
    path = Path(path)
    with _open(path) as f:
        try:
            if f"data/{polarization}" not in f:
                raise KeyError(f"data/{polarization}")
            grid = grid_from_coordinates(
                f["data/x_coordinates"][()],
                f["data/y_coordinates"][()],
                int(f["data/projection"][()]),
            )
            ident = f["identification"]
            start = parse_time(_text(ident["zero_doppler_start_time"]))
            stop = parse_time(_text(ident["zero_doppler_end_time"]))
            direction = _text(ident["orbit_pass_direction"]).lower()
            track = int(ident["track_number"][()]) if "track_number" in ident else None
            wavelength = float(f[_WAVELENGTH][()])
        except KeyError as err:
            raise InputFormatError(f"{path}: not a CSLC file, missing {err}") from None
    return CslcInfo(path, grid, start, stop, direction, track, wavelength)


def read_cslc(path: str | Path, polarization: str = "VV", window=None) -> np.ndarray:
    """Read the complex SLC layer (or a ``(row_slice, col_slice)`` window of it) as complex64."""
    path = Path(path)
    with _open(path) as f:
        data = f[f"data/{polarization}"]
        try:
            values = data[window] if window is not None else data[()]
        except OSError as err:  # a chunk past the end of a truncated file
            raise InputFormatError(f"{path}: cannot read data/{polarization} ({err})") from None
        return np.asarray(values, dtype=np.complex64)


@dataclass(frozen=True)
class CslcMetadata:
    """What a CSLC file records about its acquisition (see :func:`create_cslc`).

    Attributes
    ----------
    sensing_start, sensing_stop
        Zero-Doppler time of the first and last line that went into the file (UTC).
    direction
        ``ascending`` or ``descending``.
    track, absolute_orbit
        Relative and absolute orbit numbers.
    mission
        ``S1A``, ``S1B``, ``S1C``...
    orbit
        State vectors (written under ``/metadata/orbit``).
    orbit_type
        ``POEORB``, ``RESORB`` or ``annotation``.
    wavelength
        Radar wavelength in metres.
    burst_ids
        ESA full burst IDs that went into the file.
    processing
        Free-text provenance (name → value), written under
        ``/metadata/processing_information/parameters``.
    processing_center
        Who made the file.
    """

    sensing_start: datetime
    sensing_stop: datetime
    direction: str
    track: int
    mission: str
    absolute_orbit: int
    orbit: Orbit
    orbit_type: str = "POEORB"
    wavelength: float = SENTINEL1_WAVELENGTH
    burst_ids: tuple[str, ...] = ()
    processing: Mapping[str, str] = field(default_factory=dict)
    processing_center: str = "sar4tec"


def _opera_time(when: datetime) -> np.bytes_:
    return np.bytes_(to_utc(when).strftime("%Y-%m-%d %H:%M:%S.%f"))


def _put(group: h5py.Group, name: str, value, description: str, units: str | None = None):
    dataset = group.create_dataset(name, data=value)
    dataset.attrs["description"] = np.bytes_(description)
    if units:
        dataset.attrs["units"] = np.bytes_(units)
    return dataset


def create_cslc(
    h5: h5py.File, grid: Grid, meta: CslcMetadata, polarization: str = "VV"
) -> h5py.Dataset:
    """Write the metadata of a CSLC file; return its pixel dataset (NaN-filled, chunked).

    Parameters
    ----------
    h5
        A file open for writing (e.g. the temporary path of
        :func:`sar4tec.files.atomic_output`).
    grid
        The geocoded grid (any CRS with an EPSG code; EPSG:4326 for sar4tec's stacks).
    meta
        Acquisition metadata.
    polarization
        Name of the pixel dataset under ``/data``.

    Returns
    -------
    h5py.Dataset
        ``/data/<polarization>``, complex64, to be filled block by block.
    """
    from pyproj import CRS

    crs = CRS.from_user_input(grid.crs)
    epsg = crs.to_epsg()
    if epsg is None:
        raise ValueError(f"the CSLC grid CRS {grid.crs} has no EPSG code")
    geographic = crs.is_geographic
    data = h5.create_group("data")
    chunks = (min(grid.rows, 64), min(grid.cols, 512))
    pixels = data.create_dataset(
        polarization,
        shape=grid.shape,
        dtype=np.complex64,
        chunks=chunks,
        fillvalue=np.complex64(complex(np.nan, np.nan)),
    )
    pixels.attrs["description"] = np.bytes_(f"Geocoded SLC image ({polarization})")
    pixels.attrs["units"] = np.bytes_("unitless")
    for name, values, axis in (("x_coordinates", grid.x, "x"), ("y_coordinates", grid.y, "y")):
        ds = _put(data, name, values, f"CF compliant dimension of the {axis} coordinate")
        if geographic:
            ds.attrs["standard_name"] = np.bytes_("longitude" if axis == "x" else "latitude")
        else:
            ds.attrs["standard_name"] = np.bytes_(f"projection_{axis}_coordinate")
        ds.attrs["units"] = np.bytes_("degrees" if geographic else "meters")
    unit = "degrees" if geographic else "meters"
    _put(data, "x_spacing", grid.spacing[1], "Spacing of the grid along X", unit)
    _put(data, "y_spacing", grid.spacing[0], "Spacing of the grid along Y", unit)
    projection = data.create_dataset("projection", data=np.int32(epsg))
    projection.attrs.update(
        {
            "description": np.bytes_("Projection system"),
            "epsg_code": np.int64(epsg),
            "spatial_ref": np.bytes_(crs.to_wkt("WKT1_GDAL")),
        }
    )

    ident = h5.create_group("identification")
    direction = meta.direction.capitalize()
    _put(ident, "zero_doppler_start_time", _opera_time(meta.sensing_start), "Azimuth start time")
    _put(ident, "zero_doppler_end_time", _opera_time(meta.sensing_stop), "Azimuth stop time")
    _put(ident, "orbit_pass_direction", np.bytes_(direction), "Orbit direction")
    _put(ident, "track_number", np.int64(meta.track), "Relative orbit number")
    _put(ident, "absolute_orbit_number", np.int64(meta.absolute_orbit), "Absolute orbit number")
    _put(ident, "mission_id", np.bytes_(meta.mission), "Mission identifier")
    _put(ident, "look_direction", np.bytes_("Right"), "Look direction")
    _put(ident, "product_type", np.bytes_("CSLC-S1"), "Product type")
    _put(ident, "is_geocoded", np.bool_(True), "Flag indicating geocoded data")
    _put(ident, "instrument_name", np.bytes_("C-SAR"), "Name of the instrument")
    _put(ident, "processing_center", np.bytes_(meta.processing_center), "Data processing center")
    if meta.burst_ids:
        _put(ident, "burst_ids", np.array(meta.burst_ids, dtype="S"), "ESA full burst IDs used")

    orbit = h5.create_group("metadata/orbit")
    o = meta.orbit
    epoch = _put(orbit, "reference_epoch", _opera_time(o.reference_epoch), "Orbit reference epoch")
    epoch.attrs["format"] = np.bytes_("YYYY-MM-DD HH:MM:SS.6f")
    _put(orbit, "time", o.time, "State vector times since the reference epoch", "seconds")
    for k, axis in enumerate("xyz"):
        _put(orbit, f"position_{axis}", o.position[:, k], f"ECEF {axis} position", "meters")
        _put(orbit, f"velocity_{axis}", o.velocity[:, k], f"ECEF {axis} velocity", "meters/second")
    _put(orbit, "orbit_direction", np.bytes_(direction), "Direction of the orbit ephemeris")
    _put(orbit, "orbit_type", np.bytes_(meta.orbit_type), "Type of orbit used for processing")

    info = h5.create_group("metadata/processing_information")
    burst = info.create_group("input_burst_metadata")
    _put(burst, "wavelength", np.float64(meta.wavelength), "Radar wavelength", "meters")
    _put(
        burst,
        "radar_center_frequency",
        np.float64(SPEED_OF_LIGHT / meta.wavelength),
        "Radar center frequency",
        "Hz",
    )
    if meta.processing:
        params = info.create_group("parameters")
        for name, value in meta.processing.items():
            params.create_dataset(name, data=np.bytes_(str(value)))
    return pixels


def read_cslc_orbit(path: str | Path) -> Orbit:
    """The state vectors stored under ``/metadata/orbit`` of a CSLC file."""
    with h5py.File(path, "r") as f:
        try:
            g = f["metadata/orbit"]
            epoch = parse_time(_text(g["reference_epoch"]))
            position = np.stack([g[f"position_{a}"][()] for a in "xyz"], axis=-1)
            velocity = np.stack([g[f"velocity_{a}"][()] for a in "xyz"], axis=-1)
            return Orbit(epoch, g["time"][()].astype(np.float64), position, velocity)
        except KeyError as err:
            raise ValueError(f"{path}: no orbit in the CSLC ({err})") from None
