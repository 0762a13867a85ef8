"""``sar4tec inspect PRODUCT``: what a product file holds, in a few readable lines.

GeoTIFF, NetCDF, HDF5, STAC item/collection JSON, ``gnss_residuals.csv`` and PNG are
recognised by their suffix; each description gives the grid and CRS, units, the reference
frame, point and date where the file states them, and value statistics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

#: attributes worth showing when a file has them
KEYS = (
    "reference_frame", "REFERENCE_FRAME", "sign_convention", "reference_point", "reference_date",
    "reference_lat", "reference_lon", "REF_DATE", "REF_LAT", "REF_LON", "FILE_TYPE", "UNIT",
    "WAVELENGTH", "ORBIT_DIRECTION", "plate", "plate_model", "gnss_reference_frame",
    "calibration_surface", "calibration_summary", "frame", "software", "Conventions",
    "software_version", "git_commit", "config_hash",
)  # fmt: skip


def _stats(values: np.ndarray) -> str:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return "no valid values"
    p2, p50, p98 = np.percentile(finite, [2, 50, 98])
    return (
        f"valid {finite.size}/{np.size(values)}, min {finite.min():.4g}, p2 {p2:.4g}, "
        f"median {p50:.4g}, p98 {p98:.4g}, max {finite.max():.4g}, mean {finite.mean():.4g}"
    )


def _attrs(attrs) -> list[str]:
    lines = []
    for key in KEYS:
        if key in attrs:
            value = attrs[key]
            value = value.decode() if isinstance(value, bytes) else value
            lines.append(f"  {key}: {value}")
    return lines


def describe_geotiff(path: Path) -> list[str]:
    """Grid, CRS, band description/units, tags and statistics of a GeoTIFF."""
    import rasterio

    with rasterio.open(path) as src:
        layout = src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "GTiff")
        lines = [
            f"GeoTIFF ({layout}) {src.width} x {src.height} pixels, {src.count} band(s), "
            f"{src.dtypes[0]}, CRS {src.crs}",
            f"  transform: {tuple(src.transform)[:6]}",
            f"  bounds: {tuple(round(v, 6) for v in src.bounds)}",
            f"  tiles {src.block_shapes[0]}, overviews {src.overviews(1)}, "
            f"compression {src.compression.value if src.compression else 'none'}, "
            f"nodata {src.nodata}",
            f"  band 1: {src.descriptions[0]} [{src.units[0]}]",
        ]
        lines += _attrs(src.tags())
        data = src.read(1, masked=True)
        lines.append("  " + _stats(data.filled(np.nan).astype(float)))
    return lines


def describe_netcdf(path: Path) -> list[str]:
    """Dimensions, coordinates, variables with units and statistics of a NetCDF file."""
    import xarray as xr

    with xr.open_dataset(path) as ds:
        lines = [f"NetCDF {dict(ds.sizes)}"]
        if "time" in ds.coords:
            t = ds["time"].values
            lines.append(f"  time: {len(t)} dates {str(t[0])[:19]} .. {str(t[-1])[:19]}")
        for c in ("y", "x", "lat", "lon"):
            if c in ds.variables:  # 1-D: first .. last; 2-D auxiliary lat/lon: min .. max
                v = ds[c].values
                first, last = (v[0], v[-1]) if v.ndim == 1 else (np.nanmin(v), np.nanmax(v))
                lines.append(f"  {c}: {float(first):.6f} .. {float(last):.6f}")
        if "crs" in ds:
            lines.append(f"  crs: {ds['crs'].attrs.get('grid_mapping_name')}")
        lines += _attrs(ds.attrs)
        for name, var in ds.data_vars.items():
            if name == "crs":
                continue
            lines.append(f"  {name} {var.dims} [{var.attrs.get('units', '?')}]: "
                         f"{var.attrs.get('long_name', '')}")  # fmt: skip
            lines.append("    " + _stats(var.values))
    return lines


def describe_hdf5(path: Path) -> list[str]:
    """Datasets with shapes, units and statistics, and the reference attributes of an HDF5."""
    import h5py

    lines = []
    with h5py.File(path, "r") as f:
        lines.append(f"HDF5 with {len(f)} datasets")
        if "grid_transform" in f.attrs:
            from sar4tec.grid import Grid

            g = Grid.from_attrs(f.attrs)
            lines.append(
                f"  grid {g.shape}, {g.crs}, bounds {tuple(round(v, 6) for v in g.bounds)}"
            )
        elif "X_FIRST" in f.attrs:
            lines.append(
                f"  grid {f.attrs['LENGTH']} x {f.attrs['WIDTH']}, EPSG:{f.attrs.get('EPSG')}, "
                f"X_FIRST {f.attrs['X_FIRST']} Y_FIRST {f.attrs['Y_FIRST']} "
                f"step {f.attrs['X_STEP']} {f.attrs['Y_STEP']}"
            )
        lines += _attrs(f.attrs)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                unit = obj.attrs.get("units", obj.attrs.get("UNIT", ""))
                lines.append(f"  /{name} {obj.shape} {obj.dtype} [{unit}]")
                if obj.dtype.kind in "fiu" and 0 < obj.size <= 50_000_000:
                    lines.append("    " + _stats(obj[()]))

        f.visititems(visit)
    return lines


def describe_json(path: Path) -> list[str]:
    """Identity, time span, footprint and assets of a STAC item or collection, or provenance."""
    data = json.loads(path.read_text())
    if "input_checksums" in data:  # provenance.json
        return [
            f"provenance: {data['software']} {data['software_version']}, git {data['git_commit']}"
            f"{' (modified)' if data['git_dirty'] else ''}",
            f"  config_hash: {data['config_hash']}",
            f"  {len(data['input_checksums'])} input checksums (sha256)",
        ]
    kind = data.get("type", "?")
    lines = [f"STAC {kind} {data.get('id')}"]
    props = data.get("properties", {})
    if kind == "Feature":
        lines.append(f"  {props.get('start_datetime')} .. {props.get('end_datetime')}")
        lines.append(f"  bbox {data.get('bbox')}")
        for key in ("sar4tec:reference_frame", "sar4tec:reference_point", "sar4tec:config_hash",
                    "sar4tec:gnss_calibration", "processing:software", "sat:orbit_state",
                    "sat:relative_orbit", "proj:code"):  # fmt: skip
            if key in props:
                lines.append(f"  {key}: {props[key]}")
        for key, asset in data.get("assets", {}).items():
            lines.append(f"  asset {key}: {asset['href']} ({asset.get('type', '')})")
    else:
        lines.append(f"  extent {data.get('extent')}")
        items = [link["href"] for link in data.get("links", []) if link["rel"] == "item"]
        lines.append(f"  {len(items)} item(s): {', '.join(items)}")
    return lines


def describe_csv(path: Path) -> list[str]:
    """Station counts by status and residual statistics of ``gnss_residuals.csv``."""
    from sar4tec.reference.stage import read_residuals

    table = read_residuals(path)
    if not table:
        return ["CSV without rows"]
    status, counts = np.unique(table["status"], return_counts=True)
    lines = [f"GNSS residuals: {len(table['station'])} stations, frame {table['frame'][0]}"]
    lines += [f"  {c} {s}" for s, c in zip(status, counts, strict=True)]
    used = table["status"] == "used"
    if used.any():
        lines.append(f"  residual (mm/yr) of used stations: {_stats(table['residual'][used])}")
        held = table["heldout_residual"][used]
        if np.isfinite(held).any():
            rmse = np.sqrt(np.nanmean(held**2))
            lines.append(f"  cross-validation held-out RMSE {rmse:.3f} mm/yr")
    return lines


def describe(path: str | Path) -> str:
    """Readable description of a product file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If its type is not recognised.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    handlers = {
        ".tif": describe_geotiff,
        ".tiff": describe_geotiff,
        ".nc": describe_netcdf,
        ".h5": describe_hdf5,
        ".json": describe_json,
        ".csv": describe_csv,
        ".png": lambda p: [f"PNG image, {p.stat().st_size} bytes"],
    }
    handler = handlers.get(path.suffix.lower())
    if handler is None:
        raise ValueError(f"{path}: unknown product type {path.suffix!r}; known {sorted(handlers)}")
    return "\n".join([str(path), *handler(path)])
