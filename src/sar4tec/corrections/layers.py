"""Correction layer files ``work/{frame}/corrections/{kind}.h5`` (the ``correction`` rule).

For every acquisition of the manifest, the effect is computed on the output grid of
``geometry.h5`` block of rows by block of rows (memory bounded by the block, not the frame)
and stored as an apparent LOS displacement in metres, positive toward the satellite, not
re-referenced:

* troposphere: ``-slant delay`` (a longer path looks like motion away from the satellite);
* ionosphere: ``+40.31 STEC / f^2`` (the phase advance looks like motion toward it);
* tides: the tide displacement projected on the ground-to-satellite unit vector.

A disabled correction still writes its file, with ``/correction`` all zeros (stored as the
dataset's fill value, no disk cost) and the attribute ``enabled = 0``, so the inversion treats
every kind alike and the product says what was not applied.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sar4tec.constants import SENTINEL1_FREQUENCY
from sar4tec.files import atomic_output, format_time, write_times
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest

log = logging.getLogger(__name__)

KINDS = ("troposphere", "ionosphere", "tides")
GEOMETRY_DATASETS = ("height", "incidence_angle", "heading", "los_east", "los_north", "los_up")

#: per kind, what the layer means (stored as the ``description`` attribute)
DESCRIPTIONS = {
    "troposphere": "apparent LOS displacement = -(ERA5 slant tropospheric delay)",
    "ionosphere": "apparent LOS displacement = +40.31 STEC / f^2 (IONEX thin shell)",
    "tides": "solid earth tide (pysolid, IERS 2010) projected on the LOS unit vector",
}

Block = dict[str, np.ndarray]
Evaluator = Callable[[Block], np.ndarray]
ForDate = Callable[[datetime], tuple[Evaluator, list[str]]]


def _geometry_blocks(geometry: h5py.File, grid: Grid, rows: int) -> Iterator[tuple[slice, Block]]:
    """Row blocks of the geometry datasets plus the pixel-centre ``lat``/``lon``."""
    for r0 in range(0, grid.rows, rows):
        sl = slice(r0, min(r0 + rows, grid.rows))
        block = {name: geometry[name][sl].astype(np.float64) for name in GEOMETRY_DATASETS}
        block["lat"], block["lon"] = np.meshgrid(grid.y[sl], grid.x, indexing="ij")
        yield sl, block


def _height_range(geometry: h5py.File, rows: int) -> tuple[float, float]:
    lo, hi = np.inf, -np.inf
    for r0 in range(0, geometry["height"].shape[0], rows):
        h = geometry["height"][r0 : r0 + rows]
        if np.isfinite(h).any():
            lo, hi = min(lo, float(np.nanmin(h))), max(hi, float(np.nanmax(h)))
    if not np.isfinite(lo):
        raise ValueError(f"{geometry.filename}: /height holds no finite value")
    return lo, hi


def _troposphere(manifest, geometry, grid, settings, rows) -> ForDate:
    from sar4tec.corrections.troposphere import DelayModel, weather_files_for

    if not manifest.era5:
        raise ValueError(f"{manifest.path}: lists no 'era5' files for the troposphere correction")
    fields = weather_files_for(manifest.era5)
    heights = _height_range(geometry, rows)
    geoid = settings.get("geoid")

    def for_date(when: datetime) -> tuple[Evaluator, list[str]]:
        model = DelayModel(fields, when, grid.bounds, heights, geoid)

        def evaluate(b: Block) -> np.ndarray:
            return -model.slant(b["lat"], b["lon"], b["height"], b["incidence_angle"])

        return evaluate, model.sources

    return for_date


def _ionosphere(manifest, geometry, grid, settings, rows) -> ForDate:
    from sar4tec.corrections.ionosphere import pick_ionex, slant_range_change

    if not manifest.ionex:
        raise ValueError(f"{manifest.path}: lists no 'ionex' files for the ionosphere correction")
    frequency = float(geometry.attrs.get("frequency", SENTINEL1_FREQUENCY))

    def for_date(when: datetime) -> tuple[Evaluator, list[str]]:
        ionex = pick_ionex(manifest.ionex, when)

        def evaluate(b: Block) -> np.ndarray:
            return slant_range_change(
                ionex,
                b["lat"],
                b["lon"],
                b["incidence_angle"],
                b["heading"],
                when,
                frequency,
                interpolation=settings["interpolation"],
            )

        return evaluate, [str(ionex.path)]

    return for_date


def _tides(manifest, geometry, grid, settings, rows) -> ForDate:
    from scipy.interpolate import RegularGridInterpolator

    from sar4tec.corrections.tides import enu_grid

    west, south, east, north = grid.bounds
    step = float(settings["grid_step_deg"])

    def for_date(when: datetime) -> tuple[Evaluator, list[str]]:
        lat, lon, enu = enu_grid(when, south, north, west, east, step)
        interp = RegularGridInterpolator((lat, lon), enu)

        def evaluate(b: Block) -> np.ndarray:
            points = np.stack([b["lat"].ravel(), b["lon"].ravel()], axis=-1)
            tide = interp(points).reshape(*b["lat"].shape, 3)
            los = np.stack([b["los_east"], b["los_north"], b["los_up"]], axis=-1)
            return np.sum(tide * los, axis=-1)

        return evaluate, ["pysolid"]

    return for_date


_FACTORIES = {"troposphere": _troposphere, "ionosphere": _ionosphere, "tides": _tides}


def write_layer(
    kind: str,
    manifest_path: str | os.PathLike,
    geometry_path: str | os.PathLike,
    output_path: str | os.PathLike,
    settings: Mapping[str, Any],
) -> Path:
    """Compute one correction layer for every acquisition of a frame and write it.

    Parameters
    ----------
    kind : {"troposphere", "ionosphere", "tides"}
        The correction to compute.
    manifest_path : path
        ``data/{frame}/manifest.json`` (sensing times, ERA5 and IONEX files).
    geometry_path : path
        ``work/{frame}/geometry.h5`` on the output grid.
    output_path : path
        ``work/{frame}/corrections/{kind}.h5``.
    settings : mapping
        The validated ``corrections`` configuration section.

    Returns
    -------
    Path
        ``output_path``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown correction kind {kind!r}; expected one of {KINDS}")
    manifest = read_manifest(manifest_path)
    times = manifest.sensing_times
    if not times:
        raise ValueError(f"{manifest_path}: no acquisitions ('slc' is empty)")
    own = settings[kind]
    rows = int(settings["block_rows"])
    with h5py.File(geometry_path, "r") as geometry, atomic_output(output_path) as tmp:
        missing = [d for d in GEOMETRY_DATASETS if d not in geometry]
        if missing:
            raise ValueError(f"{geometry_path}: lacks dataset(s) {missing}")
        grid = Grid.from_attrs(geometry.attrs)
        with h5py.File(tmp, "w") as out:
            out.attrs.update(grid.to_attrs())
            data = out.create_dataset(
                "correction",
                shape=(len(times), *grid.shape),
                dtype="float32",
                chunks=(1, min(rows, grid.rows), grid.cols),
                fillvalue=0.0,
            )
            data.attrs["units"] = "m"
            data.attrs["long_name"] = f"{kind} correction as apparent LOS displacement"
            write_times(out, times)
            sources: list[list[str]] = []
            if own["enabled"]:
                for_date = _FACTORIES[kind](manifest, geometry, grid, own, rows)
                for n, when in enumerate(times):
                    evaluate, used = for_date(when)
                    sources.append(used)
                    for sl, block in _geometry_blocks(geometry, grid, rows):
                        data[n, sl] = evaluate(block).astype(np.float32)
                    log.info("%s %s from %s", kind, format_time(when), ", ".join(used))
            else:
                log.info("%s correction disabled: writing a layer of zeros", kind)
            out.attrs.update(
                {
                    "kind": kind,
                    "enabled": int(bool(own["enabled"])),
                    "source": json.dumps(
                        sorted({os.path.basename(s) for day in sources for s in day})
                    ),
                    "source_per_date": json.dumps(sources),
                    "units": "m",
                    "sign": "positive toward the satellite; not re-referenced",
                    "description": DESCRIPTIONS[kind],
                    "settings": json.dumps(dict(own)),
                }
            )
    return Path(output_path)
