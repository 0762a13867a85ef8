"""Strain-rate grids: readers, the second invariant, and the high-strain region they outline.

A strain-rate model such as GSRM v2.1 (Kreemer, Blewitt & Klein 2014, G-Cubed 15,
doi:10.1002/2014GC005407) gives the horizontal strain-rate tensor ``(exx, eyy, exy)`` on a
regular longitude/latitude grid, in nanostrain per year (1e-9 /yr).  Its licence forbids
redistribution, so the user supplies the file; two layouts are read:

* text columns (GSRM's ``GSRM_strain.txt``): whitespace-separated, ``#`` comments, one row per
  grid node, with latitude, longitude, exx, eyy, exy in configurable columns;
* GMT/COARDS NetCDF grids: a 2-D variable on 1-D ``lon``/``lat`` (or ``x``/``y``) axes, either
  one file holding ``exx``, ``eyy``, ``exy`` variables or one grid per component (a path
  template with ``{component}``), or a single grid of the second invariant itself.

The region is where the second invariant ``I2 = sqrt(exx^2 + eyy^2 + 2 exy^2)`` (Kreemer et al.
2014, eq. 1) reaches a threshold, dilated by a margin in kilometres and outlined by polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sar4tec.constants import WGS84_A
from sar4tec.grid import Grid

#: components of the horizontal strain-rate tensor
COMPONENTS = ("exx", "eyy", "exy")
#: names a NetCDF longitude / latitude axis goes by
LON_NAMES = ("lon", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
#: kilometres per degree of latitude (sphere of the WGS84 semi-major axis; margins only)
KM_PER_DEG = np.pi * WGS84_A / 180.0 / 1000.0


@dataclass(frozen=True)
class StrainGrid:
    """Second invariant of the strain rate on a north-up lon/lat grid.

    Attributes
    ----------
    grid
        Pixel-corner grid of the nodes (each node is a pixel centre).
    invariant
        ``I2`` in nanostrain/yr, shape ``grid.shape``; NaN where the model has no value.
    """

    grid: Grid
    invariant: np.ndarray


def second_invariant(exx: np.ndarray, eyy: np.ndarray, exy: np.ndarray) -> np.ndarray:
    """Second invariant ``sqrt(exx^2 + eyy^2 + 2 exy^2)`` of the horizontal strain-rate tensor.

    Units are those of the inputs (nanostrain/yr for GSRM).
    """
    exx, eyy, exy = (np.asarray(a, dtype=np.float64) for a in (exx, eyy, exy))
    return np.sqrt(exx**2 + eyy**2 + 2.0 * exy**2)


def grid_from_axes(lon: np.ndarray, lat: np.ndarray, source: str) -> tuple[Grid, bool]:
    """Grid whose pixel centres are the regular axes ``lon`` x ``lat``.

    Returns the grid and whether ``lat`` ascends (then the rows must be flipped to north-up).
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    steps = []
    for name, axis in (("longitude", lon), ("latitude", lat)):
        if axis.size < 2:
            raise ValueError(f"{source}: the {name} axis needs at least 2 nodes, has {axis.size}")
        step = np.diff(axis)
        if not np.allclose(step, step[0], rtol=1e-4, atol=1e-9) or step[0] == 0:
            raise ValueError(f"{source}: the {name} nodes are not regularly spaced")
        steps.append(step[0])
    dx, dy = abs(steps[0]), abs(steps[1])
    west = lon.min() - dx / 2
    north = lat.max() + dy / 2
    if steps[0] < 0:
        raise ValueError(f"{source}: longitudes must increase along the grid")
    return Grid((west, dx, 0.0, north, 0.0, -dy), (lat.size, lon.size)), bool(steps[1] > 0)


def read_strain_text(
    path: str | Path,
    columns: dict[str, int] | None = None,
    scale: float = 1.0,
) -> StrainGrid:
    """Read strain-rate columns (GSRM ``GSRM_strain.txt`` layout) into a :class:`StrainGrid`.

    Parameters
    ----------
    path
        Text file, ``#`` comments, whitespace separated, one grid node per row.
    columns
        0-based column of ``lat``, ``lon``, ``exx``, ``eyy``, ``exy``; default 0, 1, 2, 3, 4.
    scale
        Factor taking the file's units to nanostrain/yr (1 for GSRM).

    Raises
    ------
    ValueError
        If the nodes do not form a complete regular grid (the message names the file).
    """
    cols = {"lat": 0, "lon": 1, "exx": 2, "eyy": 3, "exy": 4, **(columns or {})}
    names = ("lat", "lon", *COMPONENTS)
    try:
        table = np.loadtxt(path, comments="#", usecols=[cols[n] for n in names], ndmin=2)
    except (ValueError, IndexError) as err:
        raise ValueError(f"{path}: cannot read columns {cols}: {err}") from err
    lat, lon = table[:, 0], table[:, 1]
    lon = np.where(lon > 180.0, lon - 360.0, lon)  # 0..360 files to -180..180
    ulon, ilon = np.unique(np.round(lon, 6), return_inverse=True)
    ulat, ilat = np.unique(np.round(lat, 6), return_inverse=True)
    grid, _ = grid_from_axes(ulon, ulat, str(path))
    values = np.full(grid.shape, np.nan)
    rows = grid.rows - 1 - ilat  # unique() sorts latitude ascending; north-up flips it
    values[rows, ilon] = second_invariant(table[:, 2], table[:, 3], table[:, 4]) * scale
    return StrainGrid(grid, values)


def _read_netcdf_variable(path: str | Path, variable: str | None) -> tuple[Grid, np.ndarray]:
    """One 2-D variable of a GMT/COARDS NetCDF grid, north-up, NaN for fill values."""
    import netCDF4

    with netCDF4.Dataset(path) as ds:
        axes = {}
        for key, names in (("lon", LON_NAMES), ("lat", LAT_NAMES)):
            found = [n for n in names if n in ds.variables]
            if not found:
                raise ValueError(f"{path}: no {key} axis (looked for {', '.join(names)})")
            axes[key] = found[0]
        if variable is None:
            grids = [v for v in ds.variables.values() if v.ndim == 2]
            if len(grids) != 1:
                raise ValueError(f"{path}: name the variable; 2-D variables: {list(ds.variables)}")
            var = grids[0]
        elif variable not in ds.variables:
            raise ValueError(f"{path}: no variable {variable!r} (has {list(ds.variables)})")
        else:
            var = ds.variables[variable]
        if var.dimensions != (ds[axes["lat"]].dimensions[0], ds[axes["lon"]].dimensions[0]):
            raise ValueError(f"{path}: {var.name} is not laid out (lat, lon): {var.dimensions}")
        lon, lat = ds[axes["lon"]][:].filled(np.nan), ds[axes["lat"]][:].filled(np.nan)
        data = np.ma.filled(var[:].astype(np.float64), np.nan)
    lon = np.where(lon > 180.0, lon - 360.0, lon)
    order = np.argsort(lon)
    grid, ascending = grid_from_axes(lon[order], lat, str(path))
    data = data[:, order]
    return grid, data[::-1] if ascending else data


def read_strain_netcdf(
    path: str | Path,
    variables: dict[str, str] | None = None,
    scale: float = 1.0,
) -> StrainGrid:
    """Read GMT/COARDS NetCDF strain-rate grids into a :class:`StrainGrid`.

    Parameters
    ----------
    path
        One file, or a template containing ``{component}`` (replaced by ``exx``, ``eyy``,
        ``exy``, or ``second_invariant``) for one grid per file.
    variables
        Variable names: ``{"exx": ..., "eyy": ..., "exy": ...}`` or
        ``{"second_invariant": ...}``; a ``None`` value means "the only 2-D variable" (GMT's
        ``z``).  Default: the three components named ``exx``, ``eyy``, ``exy`` in one file, or
        one ``z`` grid per component file when ``path`` is a template.
    scale
        Factor taking the file's units to nanostrain/yr.
    """
    path = str(path)
    template = "{component}" in path
    if variables is None:
        variables = dict.fromkeys(COMPONENTS) if template else {c: c for c in COMPONENTS}
    wanted = ("second_invariant",) if "second_invariant" in variables else COMPONENTS
    fields, grid = {}, None
    for component in wanted:
        if component not in variables:
            raise ValueError(f"{path}: strain variables must name {', '.join(wanted)}")
        file = path.format(component=component) if template else path
        this_grid, fields[component] = _read_netcdf_variable(file, variables[component])
        if grid is not None and not grid.almost_equal(this_grid):
            raise ValueError(f"{file}: grid differs from the other components' grid")
        grid = this_grid
    if "second_invariant" in fields:
        return StrainGrid(grid, fields["second_invariant"] * scale)
    return StrainGrid(grid, second_invariant(*(fields[c] for c in COMPONENTS)) * scale)


def read_strain(
    path: str | Path,
    fmt: str = "auto",
    columns: dict[str, int] | None = None,
    variables: dict[str, str] | None = None,
    scale: float = 1.0,
) -> StrainGrid:
    """Read a strain-rate model in either layout (``fmt``: ``auto``, ``text``, ``netcdf``).

    ``auto`` picks NetCDF for ``.nc``/``.grd``/``.nc4`` names, text otherwise.
    """
    if fmt == "auto":
        suffix = Path(str(path).replace("{component}", "exx")).suffix.lower()
        fmt = "netcdf" if suffix in (".nc", ".grd", ".nc4", ".cdf") else "text"
    if fmt == "netcdf":
        return read_strain_netcdf(path, variables, scale)
    if fmt == "text":
        return read_strain_text(path, columns, scale)
    raise ValueError(f"unknown strain file format {fmt!r} (auto, text or netcdf)")


def dilate_km(mask: np.ndarray, grid: Grid, margin_km: float) -> np.ndarray:
    """Grow a lon/lat mask by ``margin_km`` on the sphere (latitude-aware, pixel accuracy).

    A pixel is set when some set pixel lies within ``margin_km`` of it, distances taken on the
    local tangent plane: ``dy = KM_PER_DEG * dlat`` and ``dx = KM_PER_DEG * cos(lat) * dlon``
    with the latitude of the pixel being tested.
    """
    mask = np.asarray(mask, bool)
    if margin_km <= 0 or not mask.any():
        return mask.copy()
    (dy_deg, dx_deg), lat = grid.spacing, grid.y
    dy_km = abs(dy_deg) * KM_PER_DEG
    reach_rows = int(np.floor(margin_km / dy_km))
    # prefix sums along each row give "any set pixel in [j - w, j + w]" in O(1) per pixel
    csum = np.zeros((mask.shape[0], mask.shape[1] + 1), np.int64)
    np.cumsum(mask, axis=1, out=csum[:, 1:])
    out = np.zeros_like(mask)
    cols = np.arange(mask.shape[1])
    dx_km = np.maximum(abs(dx_deg) * KM_PER_DEG * np.cos(np.radians(lat)), 1e-9)
    for drow in range(-reach_rows, reach_rows + 1):
        half = np.sqrt(max(margin_km**2 - (drow * dy_km) ** 2, 0.0))
        width = np.floor(half / dx_km).astype(np.int64)  # per target row
        lo = slice(max(0, -drow), mask.shape[0] - max(0, drow))
        src = slice(max(0, drow), mask.shape[0] - max(0, -drow))
        w = width[lo][:, None]
        left = np.clip(cols[None, :] - w, 0, mask.shape[1])
        right = np.clip(cols[None, :] + w + 1, 0, mask.shape[1])
        rows_csum = csum[src]
        hits = np.take_along_axis(rows_csum, right, 1) - np.take_along_axis(rows_csum, left, 1)
        out[lo] |= hits > 0
    return out


def region_mask(strain: StrainGrid, threshold: float = 3.0, margin_km: float = 0.0) -> np.ndarray:
    """Pixels where ``I2 >= threshold`` (nanostrain/yr), dilated by ``margin_km``."""
    with np.errstate(invalid="ignore"):
        mask = strain.invariant >= threshold
    return dilate_km(mask, strain.grid, margin_km)


def mask_polygons(mask: np.ndarray, grid: Grid):
    """Outline a mask with polygons (lon/lat, pixel edges) as one shapely (Multi)Polygon."""
    import rasterio.features
    import shapely
    from shapely.geometry import shape

    mask = np.asarray(mask, np.uint8)
    parts = [
        shape(geom)
        for geom, value in rasterio.features.shapes(
            mask, mask=mask.astype(bool), transform=grid.rasterio_transform()
        )
        if value == 1
    ]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()
