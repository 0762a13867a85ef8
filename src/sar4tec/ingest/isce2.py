"""ISCE2 topsStack: coregistered radar-geometry SLCs geocoded with the reference lookup tables.

Layout read (``stackSentinel.py`` after its ``merge_reference_secondary_slc`` step)::

    merged/SLC/YYYYMMDD/YYYYMMDD.slc.full (+ .vrt, .xml)   complex64, reference radar grid
    merged/geom_reference/lat.rdr.full, lon.rdr.full       WGS84 degrees of each radar sample
    merged/geom_reference/hgt.rdr.full                     height of the DEM used (m)
    merged/geom_reference/los.rdr.full                     band 1 incidence at the target,
                                                           band 2 azimuth of the ground-to-
                                                           satellite vector, degrees
                                                           anticlockwise from north
    merged/geom_reference/shadowMask.rdr.full              layover/shadow flags (optional)
    reference/IW*.xml, secondarys/YYYYMMDD/IW*.xml         burst sensingstart/sensingstop,
                                                           mission, passdirection, orbitnumber

(``.rdr`` instead of ``.rdr.full`` is accepted when its size is the SLCs'.)  Every raster is
opened through GDAL: its ``.vrt`` when present, else the file itself (GDAL's ISCE driver reads
the ``.xml``).

**What this relies on.** topsStack resamples every secondary onto the reference radar grid and,
with its default flattening, removes the geometric (orbit + DEM) range phase difference to the
reference, and re-applies the TOPS azimuth carrier of the reference burst (its
``resamp_withCarrier``).  Hence sample ``(i, j)`` of every date is the same ground cell, and
``sec * conj(ref)`` at that sample holds only the phase of range changes not in the geometry
(deformation, atmosphere, orbit and DEM errors); the phase common to every date (the reference's
``-4 pi R / lambda`` and the azimuth carrier) cancels in every pair.  ISCE's SLC phase follows
``exp(-j 4 pi R / lambda)`` like the project's, so motion toward the satellite gives
``angle(sec * conj(ref)) > 0`` with no sign change.

**Geocoding** is an inverse mapping through the lookup tables: for each frame-grid pixel the
nearest radar sample on the ground (a k-d tree of the radar samples' local east/north metres
under the block), accepted within one radar cell diagonal.  Nearest sample, never an
interpolation, because the merged SLCs still carry the TOPS azimuth carrier (up to a few kHz of
Doppler across a burst at ~486 Hz line rate): an interpolation kernel would have to deramp
first, and any mixing across burst seams would combine different Doppler spectra.
"""

from __future__ import annotations

import logging
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from sar4tec.files import parse_time
from sar4tec.geometry import los_unit_vector
from sar4tec.grid import Grid
from sar4tec.ingest.common import UNKNOWN_MISSION, DateEntry, date_time, gather

log = logging.getLogger(__name__)

#: radar samples are grouped in tiles of this size for the k-d tree look-ups
TILE = 256
#: metres per degree of latitude (mean Earth radius 6371 km): only to compare ground distances
_M_PER_DEG = 6371000.0 * np.pi / 180.0


def _raster(path: Path):
    """Open an ISCE raster: ``path.vrt`` when it exists, else ``path`` (GDAL's ISCE driver)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    vrt = path.with_name(path.name + ".vrt")
    with warnings.catch_warnings():  # radar-geometry rasters have no geotransform, by design
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(vrt if vrt.exists() else path)


def _reader(src, band: int = 1):
    """``read_window`` for :func:`gather` from an open rasterio dataset."""
    from rasterio.windows import Window

    return lambda w: src.read(band, window=Window.from_slices(*w))


def _layer(folder: Path, name: str, shape: tuple[int, int], required: bool = True) -> Path | None:
    for candidate in (folder / f"{name}.rdr.full", folder / f"{name}.rdr"):
        if candidate.exists() or candidate.with_name(candidate.name + ".vrt").exists():
            with _raster(candidate) as src:
                if (src.height, src.width) == shape:
                    return candidate
    if required:
        raise ValueError(
            f"{folder}: no {name}.rdr.full (or {name}.rdr) of the SLCs' size {shape[0]} x "
            f"{shape[1]}"
        )
    return None


#: relative orbit = (absolute orbit - offset) mod 175 + 1 (Sentinel-1 numbering per satellite)
_ORBIT_OFFSET = {"S1A": 73, "S1B": 27}


@dataclass(frozen=True)
class BurstXmlInfo:
    """What ISCE2 burst XMLs (``reference/IW*.xml``, ``secondarys/*/IW*.xml``) say of a date."""

    start: datetime
    stop: datetime
    mission: str | None
    direction: str | None
    track: int | None


def read_burst_xmls(xml_files: list[Path]) -> BurstXmlInfo | None:
    """What ISCE2 swath-product XMLs say of one date; ``None`` without sensing times.

    The sensing interval runs from the earliest ``sensingstart`` to the latest ``sensingstop``.
    ISCE writes a property's public name lower-cased without spaces (``sensing start`` →
    ``sensingstart``); both spellings are read.  The relative orbit is computed from the
    absolute ``orbitnumber`` and the mission, because ISCE's own ``tracknumber`` applies the S1A
    numbering to every satellite.
    """
    starts, stops, values = [], [], {}
    for path in xml_files:
        for prop in ET.parse(path).iter("property"):
            name = (prop.get("name") or "").lower().replace(" ", "")
            value = (prop.findtext("value") or "").strip()
            if not value:
                continue
            if name == "sensingstart":
                starts.append(parse_time(value))
            elif name == "sensingstop":
                stops.append(parse_time(value))
            elif name in ("mission", "passdirection", "orbitnumber"):
                values.setdefault(name, value)
    if not starts:
        return None
    mission = values.get("mission", "").upper() or None
    direction = values.get("passdirection", "").lower() or None
    orbit = values.get("orbitnumber")
    track = None
    if mission in _ORBIT_OFFSET and orbit and orbit.isdigit():
        track = (int(orbit) - _ORBIT_OFFSET[mission]) % 175 + 1
    return BurstXmlInfo(min(starts), max(stops or starts), mission, direction, track)


@dataclass(frozen=True)
class _Where:
    rows: np.ndarray
    cols: np.ndarray


class Isce2Source:
    """An ISCE2 topsStack folder (the one holding ``merged/``); see the module docstring."""

    GEOMETRY_LAYERS = {
        "height": (np.float32, "m", "height of the DEM topsStack used (ISCE hgt.rdr)"),
        "incidence_angle": (np.float32, "degree", "incidence at the target (ISCE los.rdr 1)"),
        "heading": (np.float32, "degree", "flight direction clockwise from north (los.rdr 2)"),
        "los_east": (np.float32, "1", "east component of the unit vector ground to satellite"),
        "los_north": (np.float32, "1", "north component of the unit vector ground to satellite"),
        "los_up": (np.float32, "1", "up component of the unit vector ground to satellite"),
        "layover_shadow": (np.uint8, "1", "ISCE shadowMask value (0 = neither)"),
    }

    def __init__(self, path: str | Path, time_utc: str | None = None):
        self.path = Path(path)
        slc_dir = self.path / "merged" / "SLC"
        if not slc_dir.is_dir():
            raise ValueError(f"{self.path}: not an ISCE2 topsStack folder (no merged/SLC)")
        self.slcs: list[Path] = []
        self.dates: list[DateEntry] = []
        infos: list[BurstXmlInfo] = []
        for folder in sorted(p for p in slc_dir.iterdir() if re.fullmatch(r"\d{8}", p.name)):
            slc = folder / f"{folder.name}.slc.full"
            if not (slc.exists() or slc.with_name(slc.name + ".vrt").exists()):
                raise ValueError(f"{folder}: no {slc.name}")
            self.slcs.append(slc)
            entry, info = self._date(folder.name, time_utc)
            self.dates.append(entry)
            infos += [info] if info else []
        if not self.slcs:
            raise ValueError(f"{slc_dir}: no YYYYMMDD/YYYYMMDD.slc.full")
        #: relative orbit and pass direction from the burst XMLs (``None`` without them)
        self.track, self.direction = (
            _the_one({getattr(i, name) for i in infos} - {None}, name, self.path)
            for name in ("track", "direction")
        )
        shapes = set()
        for slc in self.slcs:
            with _raster(slc) as src:
                if not np.issubdtype(np.dtype(src.dtypes[0]), np.complexfloating):
                    raise ValueError(f"{slc}: not complex ({src.dtypes[0]})")
                shapes.add((src.height, src.width))
        if len(shapes) != 1:
            raise ValueError(f"{slc_dir}: SLCs of different sizes {sorted(shapes)}")
        self.shape = shapes.pop()
        geom = self.path / "merged" / "geom_reference"
        self.lat, self.lon, self.hgt, self.los = (
            _layer(geom, name, self.shape) for name in ("lat", "lon", "hgt", "los")
        )
        self.shadow = _layer(geom, "shadowMask", self.shape, required=False)
        self._index_tiles()

    def _date(self, date: str, time_utc: str | None) -> tuple[DateEntry, BurstXmlInfo | None]:
        folders = [self.path / "secondarys" / date, self.path / "slaves" / date]
        info = read_burst_xmls([x for f in folders for x in sorted(f.glob("IW*.xml"))])
        reference = sorted((self.path / "reference").glob("IW*.xml"))
        if info is None and reference:
            ref = read_burst_xmls(reference)
            if ref is not None and ref.start.strftime("%Y%m%d") == date:
                info = ref
        if info is None:
            start = date_time(date, time_utc, f"{self.path} (no burst XML for {date})")
            return DateEntry(date, start, start), None
        return DateEntry(date, info.start, info.stop, info.mission or UNKNOWN_MISSION), info

    def _index_tiles(self) -> None:
        """Bounding box of each radar tile's valid lookup samples, and the ground spacing."""
        tiles, boxes = [], []
        rows, cols = self.shape
        with _raster(self.lat) as lat_src, _raster(self.lon) as lon_src:
            for r0 in range(0, rows, TILE):
                for c0 in range(0, cols, TILE):
                    window = ((r0, min(r0 + TILE, rows)), (c0, min(c0 + TILE, cols)))
                    lat = lat_src.read(1, window=window).astype(np.float64)
                    lon = lon_src.read(1, window=window).astype(np.float64)
                    ok = _valid(lat, lon)
                    if ok.any():
                        tiles.append(window)
                        boxes.append((lon[ok].min(), lat[ok].min(), lon[ok].max(), lat[ok].max()))
            r0, c0 = rows // 2, cols // 2
            window = ((max(r0 - 8, 0), min(r0 + 8, rows)), (max(c0 - 8, 0), min(c0 + 8, cols)))
            lat = lat_src.read(1, window=window).astype(np.float64)
            lon = lon_src.read(1, window=window).astype(np.float64)
        if not tiles:
            raise ValueError(f"{self.lat}: no valid latitude/longitude")
        self._tiles, self._boxes = tiles, np.array(boxes)
        east, north = _local_metres(lat, lon, lat[0, 0], lon[0, 0])
        steps = [
            np.nanmedian(np.hypot(np.diff(east, axis=a), np.diff(north, axis=a))) for a in (0, 1)
        ]
        if not all(np.isfinite(s) and s > 0 for s in steps):
            raise ValueError(f"{self.lat}: cannot measure the radar sample spacing")
        #: a frame pixel takes a radar sample closer than one radar cell diagonal, else NaN
        self.max_distance = float(np.hypot(*steps))
        log.info(
            "%s: %d x %d radar samples, ground spacing %.1f m (azimuth) x %.1f m (range)",
            self.path,
            *self.shape,
            *steps,
        )

    def footprint(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the valid lookup samples, degrees."""
        b = self._boxes
        return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    def locate(self, grid: Grid) -> _Where:
        """Nearest radar sample (line, sample) of each pixel of ``grid``, -1 where none."""
        from scipy.spatial import cKDTree

        lat, lon = grid.meshgrid()
        lat0, lon0 = float(lat.mean()), float(lon.mean())
        margin = self.max_distance / _M_PER_DEG
        margin_lon = margin / max(np.cos(np.radians(lat0)), 1e-6)
        west, south, east, north = grid.bounds
        b = self._boxes
        near = (
            (b[:, 0] <= east + margin_lon)
            & (b[:, 2] >= west - margin_lon)
            & (b[:, 1] <= north + margin)
            & (b[:, 3] >= south - margin)
        )
        rows = np.full(grid.shape, -1, np.int64)
        cols = np.full(grid.shape, -1, np.int64)
        if not near.any():
            return _Where(rows, cols)
        lines, samples, xs, ys = [], [], [], []
        with _raster(self.lat) as lat_src, _raster(self.lon) as lon_src:
            for k in np.flatnonzero(near):
                (r0, r1), (c0, c1) = window = self._tiles[k]
                tlat = lat_src.read(1, window=window).astype(np.float64)
                tlon = lon_src.read(1, window=window).astype(np.float64)
                keep = (
                    _valid(tlat, tlon)
                    & (tlon >= west - margin_lon)
                    & (tlon <= east + margin_lon)
                    & (tlat >= south - margin)
                    & (tlat <= north + margin)
                )
                r, c = np.nonzero(keep)
                x, y = _local_metres(tlat[keep], tlon[keep], lat0, lon0)
                lines.append(r + r0)
                samples.append(c + c0)
                xs.append(x)
                ys.append(y)
        lines, samples = np.concatenate(lines), np.concatenate(samples)
        if lines.size == 0:
            return _Where(rows, cols)
        tree = cKDTree(np.column_stack([np.concatenate(xs), np.concatenate(ys)]))
        qx, qy = _local_metres(lat, lon, lat0, lon0)
        dist, idx = tree.query(
            np.column_stack([qx.ravel(), qy.ravel()]), distance_upper_bound=self.max_distance
        )
        hit = np.isfinite(dist).reshape(grid.shape)
        rows[hit] = lines[idx[np.isfinite(dist)]]
        cols[hit] = samples[idx[np.isfinite(dist)]]
        return _Where(rows, cols)

    def read(self, k: int, where: _Where) -> np.ndarray:
        """Date ``k`` at the located samples (complex64, NaN where none)."""
        with _raster(self.slcs[k]) as src:
            return gather(_reader(src), where.rows, where.cols)

    def geometry(self, where: _Where) -> dict[str, np.ndarray]:
        """Geometry layers of ``geom_reference`` at the located samples."""

        def layer(path: Path, band: int = 1) -> np.ndarray:
            with _raster(path) as src:
                return gather(_reader(src, band), where.rows, where.cols, np.float64, False)

        height = layer(self.hgt)
        inc, azimuth = layer(self.los, 1), layer(self.los, 2)
        heading = np.mod(90.0 - azimuth, 360.0)
        los = los_unit_vector(inc, heading)
        out = {
            "height": height,
            "incidence_angle": inc,
            "heading": heading,
            "los_east": los[..., 0],
            "los_north": los[..., 1],
            "los_up": los[..., 2],
        }
        if self.shadow is not None:
            out["layover_shadow"] = np.nan_to_num(layer(self.shadow)).astype(np.uint8)
        return out


def _the_one(values: set, name: str, where: Path):
    """The single value of ``values`` (``None`` if empty); several are an error."""
    if len(values) > 1:
        raise ValueError(f"{where}: burst XMLs of several {name}s {sorted(values)}")
    return values.pop() if values else None


def _valid(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Finite lookup samples that are not ISCE's zero fill."""
    return np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))


def _local_metres(lat, lon, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """East and north metres from ``(lat0, lon0)`` on a sphere (for nearest-sample search)."""
    east = (np.asarray(lon) - lon0) * _M_PER_DEG * np.cos(np.radians(lat0))
    north = (np.asarray(lat) - lat0) * _M_PER_DEG
    return east, north
