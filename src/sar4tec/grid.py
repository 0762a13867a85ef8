"""The geocoded raster grid that every stage of a frame shares.

A :class:`Grid` follows GDAL's pixel-corner convention: ``transform`` is the geotransform
``(x0, dx, 0, y0, 0, dy)`` where ``(x0, y0)`` is the outer corner of the upper-left pixel and
``dy`` is negative for north-up grids.  Pixel ``(row, col)`` has its centre at
``(x0 + (col + 0.5) * dx, y0 + (row + 0.5) * dy)``.  The CRS is EPSG:4326 (lon/lat degrees)
unless stated otherwise; a projected CRS such as UTM (EPSG:326zz north, 327zz south, metres)
works too, and :meth:`Grid.latlon` / :meth:`Grid.index_latlon` convert to and from geodetic
coordinates for any CRS.

Phase linking may estimate only every ``(sy, sx)``-th pixel.  Output pixel ``(i, j)`` is
estimated at input pixel ``(i*sy + sy//2, j*sx + sx//2)``; :meth:`Grid.decimate` returns the
grid whose pixel centres are exactly those input pixel centres, so products and truth line up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """A north-up geocoded raster grid.

    Parameters
    ----------
    transform : tuple of 6 float
        GDAL geotransform ``(x0, dx, 0, y0, 0, dy)``.
    shape : tuple of int
        ``(rows, cols)``.
    crs : str
        Coordinate reference system understood by pyproj/rasterio, default ``"EPSG:4326"``.
    """

    transform: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]
    crs: str = "EPSG:4326"

    def __post_init__(self) -> None:
        if len(self.transform) != 6 or self.transform[2] != 0 or self.transform[4] != 0:
            raise ValueError(f"only north-up geotransforms are supported, got {self.transform}")
        object.__setattr__(self, "transform", tuple(float(v) for v in self.transform))
        object.__setattr__(self, "shape", (int(self.shape[0]), int(self.shape[1])))

    @classmethod
    def from_bounds(
        cls, west: float, south: float, east: float, north: float, spacing: float
    ) -> Grid:
        """Grid covering ``[west, east] x [south, north]`` with square pixels of ``spacing``."""
        cols = int(round((east - west) / spacing))
        rows = int(round((north - south) / spacing))
        return cls((west, spacing, 0.0, north, 0.0, -spacing), (rows, cols))

    @property
    def rows(self) -> int:
        """Number of rows."""
        return self.shape[0]

    @property
    def cols(self) -> int:
        """Number of columns."""
        return self.shape[1]

    @property
    def spacing(self) -> tuple[float, float]:
        """Pixel size ``(dy, dx)``; ``dy`` negative for north-up grids."""
        return self.transform[5], self.transform[1]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Outer bounds ``(west, south, east, north)``."""
        x0, dx, _, y0, _, dy = self.transform
        x1 = x0 + dx * self.cols
        y1 = y0 + dy * self.rows
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    @property
    def x(self) -> np.ndarray:
        """Pixel-centre x coordinates (longitude for EPSG:4326), shape ``(cols,)``."""
        x0, dx = self.transform[0], self.transform[1]
        return x0 + (np.arange(self.cols) + 0.5) * dx

    @property
    def y(self) -> np.ndarray:
        """Pixel-centre y coordinates (latitude for EPSG:4326), shape ``(rows,)``."""
        y0, dy = self.transform[3], self.transform[5]
        return y0 + (np.arange(self.rows) + 0.5) * dy

    def meshgrid(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre ``(y, x)`` (lat, lon) as 2-D arrays of shape ``(rows, cols)``."""
        yy, xx = np.meshgrid(self.y, self.x, indexing="ij")
        return yy, xx

    def index(self, y: np.ndarray | float, x: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Fractional ``(row, col)`` of coordinates, with pixel centres at integers."""
        x0, dx, _, y0, _, dy = self.transform
        return (np.asarray(y) - y0) / dy - 0.5, (np.asarray(x) - x0) / dx - 0.5

    def nearest_pixel(self, y: float, x: float) -> tuple[int, int]:
        """Integer ``(row, col)`` of the pixel containing ``(y, x)``; raises outside the grid."""
        row, col = (int(np.floor(v + 0.5)) for v in self.index(y, x))
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            raise ValueError(f"point (y={y}, x={x}) lies outside the grid {self.bounds}")
        return row, col

    def decimate(self, strides: tuple[int, int]) -> Grid:
        """Grid of the output pixels estimated every ``strides = (sy, sx)`` input pixels."""
        sy, sx = (int(s) for s in strides)
        if sy < 1 or sx < 1:
            raise ValueError(f"strides must be >= 1, got {strides}")
        x0, dx, _, y0, _, dy = self.transform
        # centre of output pixel j = centre of input pixel j*sx + sx//2
        cx0 = x0 + (sx // 2 + 0.5) * dx
        cy0 = y0 + (sy // 2 + 0.5) * dy
        out_rows = -(-self.rows // sy)
        out_cols = -(-self.cols // sx)
        return Grid(
            (cx0 - 0.5 * sx * dx, sx * dx, 0.0, cy0 - 0.5 * sy * dy, 0.0, sy * dy),
            (out_rows, out_cols),
            self.crs,
        )

    def almost_equal(self, other: Grid, tolerance: float = 1e-6) -> bool:
        """Same shape and CRS, and a transform equal to ``tolerance`` of a pixel."""
        if self.shape != other.shape or self.crs != other.crs:
            return False
        dx, dy = abs(self.transform[1]), abs(self.transform[5])
        scale = np.array([dx, dx, 1.0, dy, 1.0, dy])
        diff = np.abs(np.subtract(self.transform, other.transform)) / scale
        return bool(np.all(diff <= tolerance))

    def to_attrs(self) -> dict[str, str]:
        """Attributes for an HDF5 file or group (see :meth:`from_attrs`)."""
        return {
            "grid_transform": json.dumps(list(self.transform)),
            "grid_shape": json.dumps(list(self.shape)),
            "grid_crs": self.crs,
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping) -> Grid:
        """Read a grid written by :meth:`to_attrs` (e.g. ``h5py.File(...).attrs``)."""
        try:
            transform = json.loads(_as_str(attrs["grid_transform"]))
            shape = json.loads(_as_str(attrs["grid_shape"]))
            crs = _as_str(attrs["grid_crs"])
        except KeyError as err:
            raise KeyError(f"no grid description (attribute {err}) in these attributes") from err
        return cls(tuple(transform), tuple(shape), crs)

    @classmethod
    def from_lonlat_bounds(
        cls,
        bounds: tuple[float, float, float, float],
        spacing: tuple[float, float],
        crs: str = "EPSG:4326",
    ) -> Grid:
        """Grid in ``crs`` covering geographic ``bounds = (west, south, east, north)`` (degrees).

        ``spacing = (dy, dx)`` (positive, in the CRS's units: degrees or metres).  The bounds
        are transformed into ``crs`` (densified edges) and snapped outward to whole multiples
        of the spacing, so every date and every rerun gets the same pixels.
        """
        dy, dx = (float(v) for v in spacing)
        west, south, east, north = (float(v) for v in bounds)
        if not (west < east and south < north) or dx <= 0 or dy <= 0:
            raise ValueError(f"invalid grid: bounds {list(bounds)}, spacing {list(spacing)}")
        if crs != "EPSG:4326":
            from pyproj import Transformer

            to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
            west, south, east, north = to_crs.transform_bounds(west, south, east, north, 21)
        eps = 1e-6  # of a pixel: bounds that are multiples of the spacing stay put
        x0, x1 = np.floor(west / dx + eps), np.ceil(east / dx - eps)
        y0, y1 = np.floor(south / dy + eps), np.ceil(north / dy - eps)
        return cls((x0 * dx, dx, 0.0, y1 * dy, 0.0, -dy), (int(y1 - y0), int(x1 - x0)), crs)

    @staticmethod
    def utm_crs(lat: float, lon: float) -> str:
        """``EPSG:326zz`` (north) or ``EPSG:327zz`` (south) of the UTM zone of a point."""
        zone = int(np.floor((float(lon) + 180.0) / 6.0)) % 60 + 1
        return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"

    def latlon(self) -> tuple[np.ndarray, np.ndarray]:
        """Geodetic ``(lat, lon)`` (degrees) of the pixel centres, shape ``(rows, cols)``."""
        y, x = self.meshgrid()
        if self.crs == "EPSG:4326":
            return y, x
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True).transform(x, y)
        return np.asarray(lat), np.asarray(lon)

    def index_latlon(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """Fractional ``(row, col)`` of geodetic coordinates (degrees), any CRS."""
        if self.crs == "EPSG:4326":
            return self.index(lat, lon)
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True).transform(lon, lat)
        return self.index(np.asarray(y), np.asarray(x))

    def rasterio_transform(self):
        """The geotransform as a :class:`affine.Affine` for rasterio."""
        from affine import Affine

        return Affine.from_gdal(*self.transform)

    def window(self, row_slice: slice, col_slice: slice) -> Grid:
        """Sub-grid of ``[row_slice, col_slice]`` (steps of 1)."""
        r0, r1, _ = row_slice.indices(self.rows)
        c0, c1, _ = col_slice.indices(self.cols)
        x0, dx, _, y0, _, dy = self.transform
        return Grid((x0 + c0 * dx, dx, 0.0, y0 + r0 * dy, 0.0, dy), (r1 - r0, c1 - c0), self.crs)


def _as_str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
