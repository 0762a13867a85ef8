"""OPERA CSLC-S1: per-burst geocoded SLCs of many dates, mosaicked per date onto the frame grid.

Each file is one burst of one date on a UTM grid (5 m x 10 m, coordinates on multiples of the
spacing, so the bursts of a track share one lattice).  What a file says about itself comes from
``/identification`` where the file has it, else from its OPERA name
``OPERA_L2_CSLC-S1_T{track}-{burst}-IW{n}_{start}Z_{production}Z_{S1x}_{POL}_v{version}.h5``
(the metadata-only sample of the OPERA release carries no ``/identification``); the orbit from
``/metadata/orbit``.  Checked before any pixel is read: the polarisation, one EPSG code, one
spacing and lattice, one track and pass direction, one wavelength, at most one file per burst
and acquisition, state vectors spanning each burst.

**Mosaic.** Bursts overlap (along track by ~2 s of data, across sub-swaths by a few km).  A
frame pixel is owned by *one* burst ID for every date: the burst with valid data there on the
most dates, ties broken by the nearest burst-grid centre, which splits each overlap down its
middle.  Each date then takes the owner's sample (NaN if the owner has none that date).  Taking
the same burst for every date matters: the two bursts of an overlap see a target with Doppler
spectra kilohertz apart, so mixing them between dates would decorrelate the pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import parse_time
from sar4tec.grid import Grid
from sar4tec.ingest.common import DateEntry, gather, transform_points
from sar4tec.sentinel1.cslc import grid_from_coordinates, read_cslc_orbit
from sar4tec.sentinel1.geocode_stage import ACQUISITION_GAP_S
from sar4tec.sentinel1.orbit import Orbit

OPERA_NAME = re.compile(
    r"OPERA_L2_CSLC-S1_(?P<burst>T\d{3}-\d{6}-IW[1-3])_(?P<start>\d{8}T\d{6})Z_"
    r"(?P<production>\d{8}T\d{6})Z_(?P<mission>S1[A-D])_(?P<pol>[VH]{2})_v(?P<version>[\d.]+)"
)
_BURST_ID = re.compile(r"^t(\d{3})_(\d{6})_iw([1-3])$")


@dataclass(frozen=True)
class OperaBurst:
    """Metadata of one OPERA CSLC-S1 burst file."""

    path: Path
    burst_id: str  # t042_088905_iw1
    start: datetime
    stop: datetime
    mission: str
    polarization: str
    direction: str
    grid: Grid
    orbit: Orbit
    wavelength: float

    @property
    def track(self) -> int:
        """Relative orbit number from the burst ID."""
        return int(self.burst_id[1:4])


def _text(value) -> str:
    value = value[()] if isinstance(value, h5py.Dataset) else value
    return value.decode() if isinstance(value, bytes) else str(value)


def read_opera_burst(path: str | Path) -> OperaBurst:
    """Metadata of an OPERA CSLC-S1 file (see the module docstring); no pixels read.

    Raises
    ------
    ValueError
        Naming the file and the item it lacks.
    """
    path = Path(path)
    name = OPERA_NAME.search(path.name)
    try:
        with h5py.File(path, "r") as f:
            ident = f["identification"] if "identification" in f else {}
            grid = grid_from_coordinates(
                f["data/x_coordinates"][()],
                f["data/y_coordinates"][()],
                int(f["data/projection"][()]),
            )
            if "burst_id" in ident:
                burst = _text(ident["burst_id"]).lower()
            elif "burst_ids" in ident and ident["burst_ids"].size == 1:
                burst = _text(ident["burst_ids"][0]).lower()
            elif name:
                burst = name["burst"].lower().replace("-", "_")
            else:
                raise KeyError("identification/burst_id (nor an OPERA file name)")
            if "zero_doppler_start_time" in ident:
                start = parse_time(_text(ident["zero_doppler_start_time"]))
                stop = parse_time(_text(ident["zero_doppler_end_time"]))
            elif name:
                start = stop = parse_time(name["start"])
            else:
                raise KeyError("identification/zero_doppler_start_time")
            if "orbit_pass_direction" in ident:
                direction = _text(ident["orbit_pass_direction"]).lower()
            else:
                direction = _text(f["metadata/orbit/orbit_direction"]).lower()
            pol_key = "metadata/processing_information/input_burst_metadata/polarization"
            if pol_key in f:
                polarization = _text(f[pol_key]).upper()
            elif name:
                polarization = name["pol"]
            else:
                layers = [k for k in ("VV", "VH", "HH", "HV") if f"data/{k}" in f]
                if len(layers) != 1:
                    raise KeyError("the polarisation (one /data/<POL> layer)")
                polarization = layers[0]
            if "mission_id" in ident:
                mission = _text(ident["mission_id"])
            else:
                mission = name["mission"] if name else "S1"
            wavelength = float(
                f["metadata/processing_information/input_burst_metadata/wavelength"][()]
            )
    except KeyError as err:
        raise ValueError(f"{path}: not an OPERA CSLC-S1 file, missing {err}") from None
    if not _BURST_ID.match(burst):
        raise ValueError(f"{path}: burst ID {burst!r} is not tTTT_BBBBBB_iwN")
    orbit = read_cslc_orbit(path)
    if not orbit.covers(start, stop):
        raise ValueError(
            f"{path}: its state vectors ({orbit.start} – {orbit.stop}) do not span the burst "
            f"({start} – {stop})"
        )
    return OperaBurst(
        path, burst, start, stop, mission, polarization, direction, grid, orbit, wavelength
    )


def check_bursts(bursts: list[OperaBurst]) -> None:
    """Raise ``ValueError`` unless the bursts can be mosaicked (see the module docstring)."""
    first = bursts[0]
    x0, dx, _, y0, _, dy = first.grid.transform
    seen: dict[tuple[str, str], Path] = {}
    for b in bursts:
        if b.grid.crs != first.grid.crs:
            raise ValueError(f"{b.path}: {b.grid.crs} differs from {first.path}: {first.grid.crs}")
        bx0, bdx, _, by0, _, bdy = b.grid.transform
        offsets = np.array([(bx0 - x0) / dx, (by0 - y0) / dy])
        if not (np.isclose(bdx, dx) and np.isclose(bdy, dy)) or np.any(
            np.abs(offsets - np.round(offsets)) > 1e-3
        ):
            raise ValueError(f"{b.path}: its grid is not on the lattice of {first.path}")
        if b.track != first.track or b.direction != first.direction:
            raise ValueError(f"{b.path}: track/direction differ from {first.path}")
        if not np.isclose(b.wavelength, first.wavelength, rtol=1e-6):
            raise ValueError(f"{b.path}: wavelength differs from {first.path}")
        key = (b.burst_id, b.start.strftime("%Y%m%dT%H%M"))
        if key in seen:
            raise ValueError(f"{b.path} and {seen[key]} are the same burst and acquisition")
        seen[key] = b.path


def group_acquisitions(bursts: list[OperaBurst]) -> list[list[OperaBurst]]:
    """Bursts in time order, split where consecutive bursts are more than 10 minutes apart."""
    groups: list[list[OperaBurst]] = []
    for b in sorted(bursts, key=lambda b: b.start):
        if groups and (b.start - groups[-1][-1].stop).total_seconds() <= ACQUISITION_GAP_S:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


class OperaSource:
    """A folder (searched recursively) of OPERA CSLC-S1 burst files of one polarisation."""

    def __init__(self, path: str | Path, polarization: str = "VV"):
        self.path = Path(path)
        files = sorted(self.path.rglob("*.h5")) if self.path.is_dir() else []
        if not files:
            raise ValueError(f"no OPERA CSLC-S1 *.h5 files in {self.path}")
        bursts = [b for b in map(read_opera_burst, files) if b.polarization == polarization]
        if not bursts:
            raise ValueError(f"{self.path}: no CSLC of polarisation {polarization}")
        check_bursts(bursts)
        self.polarization = polarization
        self.groups = group_acquisitions(bursts)
        self.dates = []
        for group in self.groups:
            start, stop = min(b.start for b in group), max(b.stop for b in group)
            orbit = next((b.orbit for b in group if b.orbit.covers(start, stop)), None)
            self.dates.append(
                DateEntry(start.strftime("%Y%m%d"), start, stop, group[0].mission, orbit)
            )
        self.burst_grids = {}
        for b in bursts:  # each burst ID's lattice window (the first date's when they differ)
            self.burst_grids.setdefault(b.burst_id, b.grid)
        self.crs = bursts[0].grid.crs
        self.track, self.direction = bursts[0].track, bursts[0].direction  # one each (checked)

    def footprint(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees of the union of the burst grids."""
        from rasterio.warp import transform_bounds

        boxes = np.array(
            [transform_bounds(g.crs, "EPSG:4326", *g.bounds) for g in self.burst_grids.values()]
        )
        return (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())

    def _indices(self, grid: Grid, x: np.ndarray, y: np.ndarray):
        row, col = (np.floor(v + 0.5).astype(np.int64) for v in grid.index(y, x))
        outside = (row < 0) | (row >= grid.rows) | (col < 0) | (col >= grid.cols)
        row[outside] = -1
        col[outside] = -1
        return row, col

    def _read(self, burst: OperaBurst, rows, cols) -> np.ndarray:
        with h5py.File(burst.path, "r") as f:
            key = f"data/{self.polarization}"
            if key not in f:
                raise ValueError(f"{burst.path}: no /{key} layer (a metadata-only file?)")
            return gather(lambda w: f[key][w], rows, cols)

    def locate(self, grid: Grid) -> dict:
        """Owner burst ID of each pixel of ``grid`` and its UTM coordinates (module docstring)."""
        lat, lon = grid.meshgrid()
        x, y = (np.asarray(v) for v in transform_points(lon, lat, grid.crs, self.crs))
        count = {bid: np.zeros(grid.shape, np.int32) for bid in self.burst_grids}
        for group in self.groups:
            for b in group:
                rows, cols = self._indices(b.grid, x, y)
                count[b.burst_id] += np.isfinite(self._read(b, rows, cols))
        owner = np.full(grid.shape, "", dtype=object)
        best_count = np.zeros(grid.shape, np.int32)
        best_dist = np.full(grid.shape, np.inf)
        for bid, g in self.burst_grids.items():
            west, south, east, north = g.bounds
            dist = np.hypot(x - (west + east) / 2, y - (south + north) / 2)
            better = (count[bid] > best_count) | (
                (count[bid] == best_count) & (count[bid] > 0) & (dist < best_dist)
            )
            owner[better] = bid
            best_count[better] = count[bid][better]
            best_dist[better] = dist[better]
        return {"owner": owner, "x": x, "y": y}

    def read(self, k: int, where: dict) -> np.ndarray:
        """Date ``k`` mosaicked on the block: each pixel from its owner burst."""
        out = np.full(where["owner"].shape, np.nan, np.complex64)
        for b in self.groups[k]:
            mine = where["owner"] == b.burst_id
            if not mine.any():
                continue
            rows, cols = self._indices(b.grid, where["x"], where["y"])
            rows[~mine] = -1
            cols[~mine] = -1
            values = self._read(b, rows, cols)
            out[mine] = values[mine]
        return out
