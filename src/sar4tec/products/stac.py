"""STAC metadata: one item per frame (all products as assets) and a collection per region.

Items use the SAR, satellite, projection and raster extensions of STAC 1.x and the
processing extension (software version, lineage); sar4tec-specific fields (reference frame,
reference point and date, GNSS calibration statistics, configuration hash, inputs) carry the
``sar4tec:`` prefix.  Asset hrefs are relative to the item, so a results folder can be moved or
uploaded as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid

PROCESSING_SCHEMA = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"

#: media type and roles of each product file type
MEDIA = {
    ".tif": ("image/tiff; application=geotiff; profile=cloud-optimized", ["data"]),
    ".nc": ("application/netcdf", ["data"]),
    ".h5": ("application/x-hdf5", ["data"]),
    ".csv": ("text/csv", ["metadata"]),
    ".json": ("application/json", ["metadata"]),
    ".png": ("image/png", ["overview", "visual"]),
}


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of the configuration as canonical JSON (sorted keys): same config, same hash."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def valid_footprint(grid: Grid, valid: np.ndarray) -> tuple[float, float, float, float]:
    """Geodetic bounds ``(west, south, east, north)`` (degrees) of the valid pixels.

    The whole grid's if none is valid; a projected grid's box is transformed with densified
    edges, so the lon/lat box covers it (STAC bboxes and geometries are WGS84 lon/lat).
    """
    rows = np.flatnonzero(valid.any(axis=1))
    cols = np.flatnonzero(valid.any(axis=0))
    if rows.size:
        grid = grid.window(slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    if grid.crs == "EPSG:4326":
        return grid.bounds
    from rasterio.warp import transform_bounds

    return transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)


def make_item(
    frame: str,
    grid: Grid,
    footprint: tuple[float, float, float, float],
    times: Sequence[datetime],
    assets: Mapping[str, Mapping[str, Any]],
    properties: Mapping[str, Any],
    orbit_direction: str,
    track: int | None,
    software_version: str,
):
    """Build the frame's STAC item.

    Parameters
    ----------
    frame : str
        Frame identifier.
    grid : Grid
        Grid of the raster assets (projection extension).
    footprint : (west, south, east, north)
        Bounds of the valid data.
    times : sequence of datetime
        Sensing times (start/end datetimes of the item).
    assets : mapping
        ``{key: {"href": relative path, "title": ..., "unit": ..., "nodata": ..., "data_type":
        ...}}``; ``unit``/``nodata``/``data_type`` describe raster bands (``nodata`` "nan" for
        float bands, as the raster extension spells it).
    properties : mapping
        Extra properties (``sar4tec:...``, ``processing:lineage``).
    orbit_direction : str
        ``ascending`` or ``descending`` (anything else leaves ``sat:orbit_state`` out).
    track : int or None
        Relative orbit.
    software_version : str
        sar4tec version.
    """
    import pystac
    from pystac.extensions.projection import ProjectionExtension
    from pystac.extensions.raster import DataType, RasterBand, RasterExtension
    from pystac.extensions.sar import FrequencyBand, Polarization, SarExtension
    from pystac.extensions.sat import OrbitState, SatExtension
    from shapely.geometry import box, mapping

    geometry = box(*footprint)
    item = pystac.Item(
        id=f"sar4tec-{frame}-{times[0]:%Y%m%d}-{times[-1]:%Y%m%d}",
        geometry=mapping(geometry),
        bbox=list(geometry.bounds),
        datetime=None,
        start_datetime=times[0],
        end_datetime=times[-1],
        properties={
            "title": f"sar4tec LOS velocity and time series, frame {frame}",
            "platform": "sentinel-1",
            "constellation": "sentinel-1",
            "instruments": ["c-sar"],
            "processing:software": {"sar4tec": software_version},
            "processing:level": "L3",
            **properties,
        },
    )
    sar = SarExtension.ext(item, add_if_missing=True)
    sar.apply(
        instrument_mode="IW",
        frequency_band=FrequencyBand.C,
        polarizations=[Polarization.VV],
        product_type="LOS velocity and displacement time series",
        center_frequency=5.405,
        observation_direction=None,
    )
    sat = SatExtension.ext(item, add_if_missing=True)
    if orbit_direction.lower() in ("ascending", "descending"):
        sat.orbit_state = OrbitState(orbit_direction.lower())
    if track is not None:
        sat.relative_orbit = int(track)
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.code = grid.crs
    proj.shape = list(grid.shape)
    proj.transform = list(grid.rasterio_transform())[:6]
    item.stac_extensions.append(PROCESSING_SCHEMA)
    for key, spec in assets.items():
        suffix = Path(spec["href"]).suffix
        media, roles = MEDIA[suffix]
        asset = pystac.Asset(spec["href"], spec.get("title"), media_type=media, roles=roles)
        item.add_asset(key, asset)
        if suffix == ".tif":
            band = RasterBand.create(
                unit=spec.get("unit"),
                nodata=spec.get("nodata"),
                data_type=DataType(spec.get("data_type", "float32")),
            )
            RasterExtension.ext(asset, add_if_missing=True).bands = [band]
    return item


def write_item(item, path: str | Path) -> Path:
    """Write an item as JSON (self link and asset hrefs relative to it)."""
    path = Path(path)
    data = item.to_dict(include_self_link=False, transform_hrefs=False)
    text = json.dumps(data, indent=2, default=_json_default, allow_nan=False)
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n")
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def write_collection(
    item_paths: Sequence[str | Path],
    path: str | Path,
    collection_id: str,
    description: str,
    license: str,
) -> Path:
    """Write a STAC collection of frame items (extent = union of theirs, links relative)."""
    import os

    import pystac

    path = Path(path)
    items = [pystac.Item.from_file(str(p)) for p in item_paths]
    if not items:
        raise ValueError(f"{path}: a collection needs at least one item")
    bboxes = np.array([i.bbox for i in items])
    bbox = [*bboxes[:, :2].min(axis=0), *bboxes[:, 2:].max(axis=0)]
    starts = [i.common_metadata.start_datetime for i in items]
    ends = [i.common_metadata.end_datetime for i in items]
    collection = pystac.Collection(
        id=collection_id,
        description=description,
        extent=pystac.Extent(
            pystac.SpatialExtent([bbox]), pystac.TemporalExtent([[min(starts), max(ends)]])
        ),
        license=license,
        title=f"sar4tec products: {collection_id}",
    )
    data = collection.to_dict(include_self_link=False, transform_hrefs=False)
    data["links"] = [
        link for link in data["links"] if link["rel"] not in ("root", "self", "parent")
    ]
    for item_path, item in zip(item_paths, items, strict=True):
        rel = os.path.relpath(Path(item_path).resolve(), path.resolve().parent)
        data["links"].append(
            {"rel": "item", "href": rel, "type": "application/geo+json", "title": item.id}
        )
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    return path
