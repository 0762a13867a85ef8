"""What every ingestion format shares: dates, nearest-sample resampling, the CSLC writer loop.

A *source* (one per format) lists its acquisitions (:class:`DateEntry`), says where it lies
(``footprint``), finds for a block of the frame grid which of its samples go where
(``locate``, once per block, shared by all dates) and reads one date's samples for that block
(``read``).  :func:`ingest_frame` walks the frame grid block by block, so memory is bounded by
the block and the source samples under it, and writes one CSLC per date plus the manifest.

Resampling is **nearest sample**, chosen once per block and used for every date: no two
samples are ever mixed, so the interferometric phase of every pair is the phase of the
ingested product at that sample, whatever carrier (TOPS azimuth ramp) or topographic phase
the samples carry; the price is a geolocation error of at most half an input sample.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import h5py
import numpy as np

from sar4tec.files import atomic_output, parse_time
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest
from sar4tec.sentinel1.cslc import CslcMetadata, create_cslc
from sar4tec.sentinel1.geocode_stage import cslc_grid, write_cslc_manifest
from sar4tec.sentinel1.orbit import Orbit, read_eof, select_orbit
from sar4tec.stack.blocks import iter_blocks

log = logging.getLogger(__name__)

FORMATS = ("opera", "isce2", "geotiff")
#: file-name pattern of the generic format: a ``date`` group (YYYYMMDD), optionally ``time``
DEFAULT_PATTERN = r"(?P<date>\d{8})(?:T(?P<time>\d{6}))?"
#: state vectors needed on each side of an acquisition (as the stack stage asks for)
ORBIT_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class DateEntry:
    """One acquisition of an ingested stack.

    Attributes
    ----------
    date
        ``YYYYMMDD`` (UTC) of the first sensing time.
    start, stop
        Zero-Doppler sensing interval (UTC); equal when the product gives a single time.
    mission
        ``S1A``, ``S1B``..., or :data:`UNKNOWN_MISSION` when the product does not say.
    orbit
        State vectors carried by the product itself (OPERA), else ``None``.
    """

    date: str
    start: datetime
    stop: datetime
    mission: str = "S1"
    orbit: Orbit | None = None


#: ``DateEntry.mission`` of products that do not name their satellite
UNKNOWN_MISSION = "S1"


class StackSource(Protocol):
    """What :func:`ingest_frame` needs from a format (see the module docstring)."""

    path: Path
    dates: list[DateEntry]
    #: relative orbit and pass direction (``ascending``/``descending``) when the product says
    track: int | None
    direction: str | None

    def footprint(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""

    def locate(self, grid: Grid) -> Any:
        """Where the samples for the pixels of ``grid`` (a block of the frame grid) are."""

    def read(self, k: int, where: Any) -> np.ndarray:
        """complex64 values of date ``k`` on the block, NaN where the source has none."""


@dataclass(frozen=True)
class IngestSettings:
    """The frame's ``stack`` entry (see ``config.schema.yaml``) and the stack section keys used.

    Attributes
    ----------
    format
        One of :data:`FORMATS`.
    path
        The OPERA folder, the ISCE2 topsStack folder (holding ``merged/``) or the GeoTIFF folder.
    pattern
        Regular expression searched in file names (GeoTIFF) with a ``date`` group and an
        optional ``time`` group (``HHMMSS``).
    time_utc
        ``HH:MM:SS`` of the acquisitions when the product carries no time of day.
    mission
        Satellite (``S1A``...) of the acquisitions whose product does not name it.
    polarization, spacing, block_size
        ``stack.polarization``, ``stack.cslc_spacing`` (dy, dx degrees), ``stack.block_size``.
    """

    format: str
    path: str
    pattern: str = DEFAULT_PATTERN
    time_utc: str | None = None
    mission: str | None = None
    polarization: str = "VV"
    spacing: tuple[float, float] = (0.0001, 0.00005)
    block_size: int = 256

    @classmethod
    def from_config(cls, frame_stack: dict, stack_section: dict) -> IngestSettings:
        """Settings from a frame's ``stack`` entry and the config's ``stack`` section."""
        return cls(
            format=frame_stack["format"],
            path=frame_stack["path"],
            pattern=frame_stack.get("pattern", DEFAULT_PATTERN),
            time_utc=frame_stack.get("time_utc"),
            mission=frame_stack.get("mission"),
            polarization=stack_section.get("polarization", "VV"),
            spacing=tuple(stack_section.get("cslc_spacing", (0.0001, 0.00005))),
            block_size=int(stack_section.get("block_size", 256)),
        )


def open_source(settings: IngestSettings) -> StackSource:
    """Open the stack that ``settings`` names (raises ``ValueError`` naming what is wrong).

    Acquisitions whose product does not name its satellite take ``settings.mission``.
    """
    if settings.format == "opera":
        from sar4tec.ingest.opera import OperaSource

        source = OperaSource(settings.path, settings.polarization)
    elif settings.format == "isce2":
        from sar4tec.ingest.isce2 import Isce2Source

        source = Isce2Source(settings.path, settings.time_utc)
    elif settings.format == "geotiff":
        from sar4tec.ingest.geotiff import GeotiffSource

        source = GeotiffSource(settings.path, settings.pattern, settings.time_utc)
    else:
        raise ValueError(f"unknown stack format {settings.format!r}; expected one of {FORMATS}")
    if settings.mission:
        source.dates = [
            replace(d, mission=settings.mission) if d.mission == UNKNOWN_MISSION else d
            for d in source.dates
        ]
    return source


def date_time(date: str, clock: str | None, where: str) -> datetime:
    """UTC time of ``date`` (YYYYMMDD) at ``clock`` (``HHMMSS`` or ``HH:MM:SS``).

    Raises
    ------
    ValueError
        No time of day is known (``where`` names the product that lacks it).
    """
    if not clock:
        raise ValueError(
            f"{where}: the product gives no time of day for {date}; set the frame's "
            "stack.time_utc (HH:MM:SS)"
        )
    digits = clock.replace(":", "")
    if not re.fullmatch(r"\d{6}(\.\d+)?", digits):
        raise ValueError(f"{where}: time of day {clock!r} is not HHMMSS or HH:MM:SS")
    return parse_time(f"{date[:4]}-{date[4:6]}-{date[6:]}T{digits[:2]}:{digits[2:4]}:{digits[4:]}")


def transform_points(x: np.ndarray, y: np.ndarray, src_crs: str, dst_crs: str):
    """Coordinates ``(x, y)`` (lon/lat for geographic CRSs) from ``src_crs`` to ``dst_crs``."""
    from pyproj import CRS, Transformer

    if CRS.from_user_input(src_crs) == CRS.from_user_input(dst_crs):
        return x, y
    return Transformer.from_crs(src_crs, dst_crs, always_xy=True).transform(x, y)


def nearest_indices(source: Grid, block: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the ``source`` pixel containing each ``block`` pixel centre (-1 outside).

    The centres are transformed into the source CRS first, so any pair of CRSs works.
    """
    lat, lon = block.meshgrid()
    x, y = transform_points(lon, lat, block.crs, source.crs)
    row, col = (np.floor(np.asarray(v) + 0.5).astype(np.int64) for v in source.index(y, x))
    outside = (row < 0) | (row >= source.rows) | (col < 0) | (col >= source.cols)
    row[outside] = -1
    col[outside] = -1
    return row, col


def gather(
    read_window: Callable[[tuple[slice, slice]], np.ndarray],
    rows: np.ndarray,
    cols: np.ndarray,
    dtype=np.complex64,
    zero_is_nodata: bool = True,
) -> np.ndarray:
    """Values at integer ``(rows, cols)`` (-1 = none → NaN), reading one bounding window.

    ``read_window((row_slice, col_slice))`` returns the source samples of that window.
    With ``zero_is_nodata`` (SLC products mark no-data with 0) zero samples become NaN.
    """
    out = np.full(rows.shape, np.nan, dtype=dtype)
    hit = rows >= 0
    if not hit.any():
        return out
    r0, r1 = int(rows[hit].min()), int(rows[hit].max()) + 1
    c0, c1 = int(cols[hit].min()), int(cols[hit].max()) + 1
    window = np.asarray(read_window((slice(r0, r1), slice(c0, c1))))
    values = window[rows[hit] - r0, cols[hit] - c0].astype(dtype)
    if zero_is_nodata:
        values[values == 0] = np.nan
    out[hit] = values
    return out


def _orbit_for(entry: DateEntry, orbits: Sequence[Orbit], where: str) -> Orbit:
    if entry.orbit is not None and entry.orbit.covers(entry.start, entry.stop):
        return entry.orbit
    try:
        return select_orbit(orbits, entry.start - ORBIT_MARGIN, entry.stop + ORBIT_MARGIN)
    except ValueError as err:
        raise ValueError(f"{where}, {entry.date}: {err}") from None


def ingest_frame(
    settings: IngestSettings,
    frame_manifest: str | Path,
    out_dir: str | Path,
    *,
    geometry: bool = True,
) -> Path:
    """Ingest a stack onto the frame grid: ``out_dir/{YYYYMMDD}.h5`` and ``out_dir/manifest.json``.

    Parameters
    ----------
    settings
        Which stack, and the frame grid's spacing and blocks.
    frame_manifest
        The acquire stage's manifest of the frame (``data/{frame}/manifest.json``): its
        ``bounds`` define the frame grid (else the stack's footprint does), its ``track`` and
        ``orbit_direction`` label the CSLCs, its EOF ``orbits`` give the state vectors of
        products that carry none, and its DEM, orbits, ERA5, IONEX and GNSS entries pass on.
    out_dir
        Folder of the CSLCs and the manifest (``work/{frame}/ingest``).
    geometry
        Also write ``out_dir/geometry_source.h5`` where the source has geometry layers
        (ISCE2's ``geom_reference``), listed in the manifest as ``source_geometry``.

    Returns
    -------
    Path
        The manifest, with ``slc`` listing the CSLCs (sensing time = middle of each interval).
    """
    out_dir = Path(out_dir)
    source = open_source(settings)
    manifest = read_manifest(frame_manifest)
    raw = json.loads(Path(frame_manifest).read_text())
    bounds = raw.get("bounds") or source.footprint()
    grid = cslc_grid(bounds, settings.spacing)
    direction = raw.get("orbit_direction")
    track = raw.get("track")
    if direction is None or track is None:
        raise ValueError(f"{frame_manifest}: 'track' and 'orbit_direction' are needed")
    eofs = [read_eof(p) for p in manifest.orbits]
    where = f"{settings.format} stack {settings.path}"
    metas = [
        CslcMetadata(
            sensing_start=d.start,
            sensing_stop=d.stop,
            direction=direction,
            track=int(track),
            mission=d.mission,
            absolute_orbit=-1,  # not carried by ingested products
            orbit=_orbit_for(d, eofs, where),
            orbit_type="product" if d.orbit is not None else "EOF",
            processing={
                "ingested_format": settings.format,
                "ingested_from": str(Path(settings.path).resolve()),
                "resampling": "nearest sample, the same for every date",
            },
            processing_center="sar4tec ingest",
        )
        for d in source.dates
    ]
    paths = [out_dir / f"{d.date}.h5" for d in source.dates]
    if len(set(paths)) != len(paths):
        raise ValueError(f"{where}: two acquisitions on one date")
    log.info("%s: %d dates onto the frame grid %s", where, len(paths), grid.shape)
    blocks = list(iter_blocks(grid.shape, (settings.block_size, settings.block_size)))
    write_geometry = geometry and hasattr(source, "geometry")
    with ExitStack() as stack:
        datasets = []
        for path, meta in zip(paths, metas, strict=True):
            tmp = stack.enter_context(atomic_output(path))
            h5 = stack.enter_context(h5py.File(tmp, "w"))
            datasets.append(create_cslc(h5, grid, meta, settings.polarization))
        if write_geometry:
            geo = _geometry_writer(stack, out_dir / "geometry_source.h5", grid, source)
        for block in blocks:
            where_block = source.locate(grid.window(*block.core))
            for k, dset in enumerate(datasets):
                dset[block.core] = source.read(k, where_block)
            if write_geometry:
                for name, values in source.geometry(where_block).items():
                    geo[name][block.core] = values
    out = write_cslc_manifest(
        frame_manifest, paths, out_dir / "manifest.json", settings.polarization
    )
    if write_geometry:
        content = json.loads(out.read_text())
        content["source_geometry"] = "geometry_source.h5"
        with atomic_output(out) as tmp:
            tmp.write_text(json.dumps(content, indent=2) + "\n")
    return out


def _geometry_writer(stack: ExitStack, path: Path, grid: Grid, source) -> dict[str, h5py.Dataset]:
    tmp = stack.enter_context(atomic_output(path))
    h5 = stack.enter_context(h5py.File(tmp, "w"))
    h5.attrs.update(grid.to_attrs())
    h5.attrs["source"] = str(source.path)
    chunks = (min(256, grid.rows), min(256, grid.cols))
    out = {}
    for name, (dtype, units, description) in source.GEOMETRY_LAYERS.items():
        fill = 0 if np.dtype(dtype).kind == "u" else np.nan
        out[name] = h5.create_dataset(
            name, shape=grid.shape, dtype=dtype, chunks=chunks, fillvalue=fill
        )
        out[name].attrs.update(units=units, description=description)
    return out
