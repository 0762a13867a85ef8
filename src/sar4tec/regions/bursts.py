"""The Sentinel-1 burst-ID map: readers (SQLite, CSV, GeoJSON) and the burst-ID arithmetic.

ESA assigns every IW burst a fixed footprint and an ID (Sentinel-1 Product Specification,
S1-RS-MDA-52-7441 §9.25, "burst ID").  With ``T_orb = 12 d / 175`` the nominal orbit period,
``T_beam = 2.758273 s`` the burst cycle and ``T_pre = 2.299849 s`` the preamble, a burst
whose centre is sensed ``dt`` seconds after the ascending node (ANX) of relative orbit ``n`` gets

    ``burst_id = 1 + floor((dt - T_pre + (n - 1) T_orb) / T_beam)``

so IDs run 1 … 375 887 through the 175 tracks.  Inverting it gives each burst's position
along the orbit, hence its pass direction (ascending before a quarter orbit after ANX and
after three quarters), and the first burst of every track, which anchors the stable frame
tiling of :mod:`sar4tec.regions.frames`.

A burst's full ID is ``TTT_BBBBBB_IWs`` (track, burst ID, sub-swath), as ASF and OPERA write it.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sqlite3
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: nominal orbit period (s): 175 orbits in a 12-day repeat cycle
T_ORBIT = 12 * 86400.0 / 175
#: burst cycle time (s) of the IW burst-ID definition
T_BEAM = 2.758273
#: preamble time (s) of the IW burst-ID definition
T_PRE = 2.299849
#: relative orbits (tracks) of Sentinel-1
N_TRACKS = 175

_FULL_ID = re.compile(r"^t?(\d{1,3})_(\d{1,6})_(iw[123]|ew[1-5])$", re.IGNORECASE)


@dataclass(frozen=True)
class Burst:
    """One burst of the burst-ID map.

    Attributes
    ----------
    track
        Relative orbit number 1…175.
    burst_id
        ESA relative burst ID.
    subswath
        ``IW1``, ``IW2`` or ``IW3``.
    direction
        ``ascending`` or ``descending``.
    geometry
        Footprint (shapely geometry, lon/lat).
    """

    track: int
    burst_id: int
    subswath: str
    direction: str
    geometry: object

    @property
    def full_id(self) -> str:
        """``TTT_BBBBBB_IWs``, e.g. ``064_136230_IW2``."""
        return full_burst_id(self.track, self.burst_id, self.subswath)


def full_burst_id(track: int, burst_id: int, subswath: str) -> str:
    """Full burst ID ``TTT_BBBBBB_IWs``."""
    return f"{int(track):03d}_{int(burst_id):06d}_{subswath.upper()}"


def parse_full_burst_id(text: str) -> tuple[int, int, str]:
    """(track, burst_id, subswath) from ``064_136230_IW2`` or JPL's ``t064_136230_iw2``."""
    match = _FULL_ID.match(text.strip())
    if match is None:
        raise ValueError(f"not a burst ID (expected like 064_136230_IW2): {text!r}")
    return int(match[1]), int(match[2]), match[3].upper()


def track_burst_range(track: int) -> tuple[int, int]:
    """First and last burst ID of a relative orbit (inclusive)."""
    if not 1 <= track <= N_TRACKS:
        raise ValueError(f"relative orbit must be 1..{N_TRACKS}, got {track}")
    first = 1 if track == 1 else math.floor(((track - 1) * T_ORBIT - T_PRE) / T_BEAM) + 2
    last = math.floor((track * T_ORBIT - T_PRE) / T_BEAM) + 1
    return first, last


def time_from_anx(track: int, burst_id: int) -> float:
    """Start of the burst's ID interval in seconds after the track's ascending node."""
    return (burst_id - 1) * T_BEAM + T_PRE - (track - 1) * T_ORBIT


def pass_direction(track: int, burst_id: int) -> str:
    """``ascending`` or ``descending`` from the burst's position along the orbit.

    Sentinel-1's orbit is near-circular, so the argument of latitude grows uniformly from the
    ascending node: north-bound before a quarter orbit and after three quarters.
    """
    phase = (time_from_anx(track, burst_id) + 0.5 * T_BEAM) / T_ORBIT % 1.0
    return "ascending" if phase < 0.25 or phase >= 0.75 else "descending"


# --- geometry blobs -------------------------------------------------------------------------


def _spatialite_to_wkb(blob: bytes) -> bytes:
    """Translate a SpatiaLite BLOB-Geometry into WKB (2-D classes).

    Layout: 0x00, endian byte, SRID (int32), MBR (4 doubles), 0x7C, class (int32), body,
    0xFE.  The body is WKB's, except that each member of a multi-geometry is introduced by
    the marker 0x69 where WKB repeats the endian byte.
    """
    if len(blob) < 44 or blob[0] != 0x00 or blob[38] != 0x7C or blob[-1] != 0xFE:
        raise ValueError("not a SpatiaLite BLOB-Geometry")
    endian = blob[1]
    fmt = "<I" if endian == 1 else ">I"
    out = bytearray([endian])
    pos = 39

    def take(n: int) -> None:
        nonlocal pos
        out.extend(blob[pos : pos + n])
        pos += n

    def count() -> int:
        value = struct.unpack_from(fmt, blob, pos)[0]
        take(4)
        return value

    def body(cls: int) -> None:
        nonlocal pos
        if cls == 1:
            take(16)
        elif cls == 2:
            take(16 * count())
        elif cls == 3:
            for _ in range(count()):
                take(16 * count())
        elif cls in (4, 5, 6, 7):
            for _ in range(count()):
                if blob[pos] != 0x69:
                    raise ValueError("SpatiaLite multi-geometry member without its 0x69 marker")
                out.append(endian)
                pos += 1
                body(count())
        else:
            raise ValueError(f"SpatiaLite geometry class {cls} is not supported (2-D only)")

    body(count())
    return bytes(out)


def _gpkg_to_wkb(blob: bytes) -> bytes:
    """Strip the GeoPackage binary header (magic ``GP``, flags, SRID, envelope)."""
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0x07]
    return blob[8 + envelope :]


def geometry_from_value(value):
    """Shapely geometry from WKT text, GeoJSON, WKB, GeoPackage or SpatiaLite blobs."""
    import shapely

    if isinstance(value, str):
        text = value.strip()
        return shapely.from_geojson(text) if text.startswith("{") else shapely.from_wkt(text)
    if isinstance(value, dict):
        return shapely.geometry.shape(value)
    blob = bytes(value)
    if blob[:2] == b"GP":
        blob = _gpkg_to_wkb(blob)
    elif blob[:1] == b"\x00" and len(blob) > 38 and blob[38] == 0x7C:
        blob = _spatialite_to_wkb(blob)
    return shapely.from_wkb(blob)


# --- records → bursts ------------------------------------------------------------------------


def _first(record: dict, *names: str):
    lowered = {k.lower(): v for k, v in record.items()}
    for name in names:
        if lowered.get(name) not in (None, ""):
            return lowered[name]
    return None


def burst_from_record(record: dict, geometry, source: str = "") -> Burst:
    """A :class:`Burst` from one row/feature of any supported burst map.

    Understood keys (case-insensitive): ``burst_id_jpl`` / ``full_burst_id`` /
    ``burst_id_full`` (``t064_136230_iw2``), or ``burst_id`` + ``subswath_name`` (or
    ``subswath``) + ``relative_orbit_number`` (or ``track``); optional ``orbit_pass`` /
    ``flight_direction``.  The direction is computed from the burst ID when absent.
    """
    full = _first(record, "burst_id_jpl", "full_burst_id", "burst_id_full", "fullburstid")
    if full is not None:
        track, burst_id, swath = parse_full_burst_id(str(full))
    else:
        burst_id = _first(record, "burst_id", "relative_burst_id")
        swath = _first(record, "subswath_name", "subswath", "subswath_id", "swath")
        track = _first(record, "relative_orbit_number", "track", "relative_orbit")
        if None in (burst_id, swath, track):
            raise ValueError(
                f"{source}: a burst needs burst_id_jpl, or burst_id + subswath_name + "
                f"relative_orbit_number; got keys {sorted(record)}"
            )
        burst_id, track, swath = int(burst_id), int(track), str(swath).upper()
    direction = _first(record, "orbit_pass", "flight_direction", "pass_direction")
    direction = str(direction).lower() if direction else pass_direction(track, burst_id)
    if direction not in ("ascending", "descending"):
        raise ValueError(f"{source}: orbit direction {direction!r} of burst {full or burst_id}")
    return Burst(int(track), int(burst_id), swath, direction, geometry)


def _read_csv(path: Path) -> Iterable[Burst]:
    csv.field_size_limit(1 << 30)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            geom_key = next((k for k in row if k.lower() in ("geometry", "wkt", "geom")), None)
            if geom_key is None:
                raise ValueError(f"{path}: no geometry/wkt column in {list(row)}")
            yield burst_from_record(row, geometry_from_value(row[geom_key]), str(path))


def _read_geojson(path: Path) -> Iterable[Burst]:
    with open(path) as f:
        collection = json.load(f)
    for feature in collection.get("features", []):
        geom = geometry_from_value(feature["geometry"])
        yield burst_from_record(feature.get("properties") or {}, geom, str(path))


def _read_sqlite(path: Path, table: str | None) -> Iterable[Burst]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")
        ]
        candidates = [table] if table else tables
        for name in candidates:
            if name not in tables:
                raise ValueError(f"{path}: no table {name!r} (tables: {tables})")
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
            lower = [c.lower() for c in cols]
            geom = next((c for c in cols if c.lower() in ("geometry", "geom", "wkt")), None)
            has_id = "burst_id_jpl" in lower or "burst_id" in lower
            if geom is None or not has_id:
                continue
            cursor = con.execute(f'SELECT * FROM "{name}"')
            for row in cursor:
                record = dict(zip(cols, row, strict=True))
                yield burst_from_record(record, geometry_from_value(record[geom]), str(path))
            return
        raise ValueError(f"{path}: no table with a geometry and a burst_id column ({tables})")
    finally:
        con.close()


def read_burst_db(path: str | Path, table: str | None = None) -> list[Burst]:
    """Read a burst-ID map (SQLite/GeoPackage, CSV with a WKT column, or GeoJSON).

    SQLite suffixes: ``.sqlite``, ``.sqlite3``, ``.db``, ``.gpkg``; geometries may be WKT,
    WKB, GeoPackage or SpatiaLite blobs.

    Parameters
    ----------
    path
        The map file.
    table
        SQLite table to read; default: the first with a geometry and a burst ID column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"burst database not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        bursts = list(_read_csv(path))
    elif suffix in (".geojson", ".json"):
        bursts = list(_read_geojson(path))
    elif suffix in (".sqlite", ".sqlite3", ".db", ".gpkg"):
        bursts = list(_read_sqlite(path, table))
    else:
        raise ValueError(f"{path}: unknown burst database format {suffix!r}")
    if not bursts:
        raise ValueError(f"{path}: no bursts in the burst database")
    return bursts
