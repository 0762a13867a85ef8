"""A generic stack: one complex GeoTIFF/VRT per date, in any CRS rasterio reads.

The files (``*.tif``, ``*.tiff``, ``*.vrt`` in the folder, sorted) are taken when their name
matches the configured pattern (a regular expression searched in the file name with a ``date``
group ``YYYYMMDD`` and an optional ``time`` group ``HHMMSS``); the time of day comes from the
``time`` group, else from ``time_utc``.  They must be coregistered already (one scene grid);
each file is resampled onto the frame grid by nearest sample (``sar4tec.ingest.common``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sar4tec.grid import Grid
from sar4tec.ingest.common import DateEntry, date_time, gather, nearest_indices

_SUFFIXES = (".tif", ".tiff", ".vrt")


def _grid_of(src) -> Grid:
    t = src.transform
    if src.crs is None:
        raise ValueError(f"{src.name}: no coordinate reference system")
    if t.b != 0 or t.d != 0:
        raise ValueError(f"{src.name}: rotated rasters are not supported ({t})")
    return Grid((t.c, t.a, 0.0, t.f, 0.0, t.e), (src.height, src.width), src.crs.to_wkt())


class GeotiffSource:
    """Complex rasters, one per date, in one folder (see the module docstring)."""

    #: a bare raster says nothing of its orbit: the frame config gives track and direction
    track = None
    direction = None

    def __init__(self, path: str | Path, pattern: str, time_utc: str | None = None):
        import rasterio

        self.path = Path(path)
        if not self.path.is_dir():
            raise ValueError(f"GeoTIFF stack folder not found: {self.path}")
        regex = re.compile(pattern)
        if "date" not in regex.groupindex:
            raise ValueError(f"stack pattern {pattern!r} has no (?P<date>...) group")
        found = []
        for file in sorted(p for p in self.path.iterdir() if p.suffix.lower() in _SUFFIXES):
            match = regex.search(file.name)
            if not match:
                continue
            date = match.group("date")
            clock = match.groupdict().get("time") or time_utc
            start = date_time(date, clock, str(file))
            found.append((start, file))
        if not found:
            raise ValueError(f"{self.path}: no *.tif/*.tiff/*.vrt file name matches {pattern!r}")
        found.sort()
        self.files = [f for _, f in found]
        self.dates = [DateEntry(t.strftime("%Y%m%d"), t, t) for t, _ in found]
        seen: dict[str, Path] = {}
        for entry, file in zip(self.dates, self.files, strict=True):
            if entry.date in seen:
                raise ValueError(f"{file} and {seen[entry.date]} are both dated {entry.date}")
            seen[entry.date] = file
        self.grids = []
        for file in self.files:
            with rasterio.open(file) as src:
                if not np.issubdtype(np.dtype(src.dtypes[0]), np.complexfloating):
                    raise ValueError(f"{file}: band 1 is {src.dtypes[0]}, not complex")
                self.grids.append(_grid_of(src))

    def footprint(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees of the union of the files."""
        from rasterio.warp import transform_bounds

        boxes = np.array([transform_bounds(g.crs, "EPSG:4326", *g.bounds) for g in self.grids])
        return (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())

    def locate(self, grid: Grid) -> dict:
        """Nearest sample of each file's grid for the pixels of ``grid`` (files may differ)."""
        found: dict = {}
        for g in self.grids:
            key = (g.transform, g.shape, g.crs)
            if key not in found:
                found[key] = nearest_indices(g, grid)
        return found

    def read(self, k: int, where: dict) -> np.ndarray:
        """File ``k`` at the located samples (complex64, NaN where none)."""
        import rasterio
        from rasterio.windows import Window

        g = self.grids[k]
        rows, cols = where[(g.transform, g.shape, g.crs)]
        with rasterio.open(self.files[k]) as src:
            nodata = src.nodata
            values = gather(lambda w: src.read(1, window=Window.from_slices(*w)), rows, cols)
        if nodata is not None and not np.isnan(nodata):
            values[values == nodata] = np.nan
        return values
