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

Each date's layer is also kept in ``cache/{kind}/`` next to the output, under a key of all it
depends on (:mod:`sar4tec.corrections.cache`): when acquisitions are appended, the rule reruns
but computes the new dates only and copies the old ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sar4tec.constants import SENTINEL1_FREQUENCY
from sar4tec.corrections.cache import Checksums, LayerCache, date_key, geometry_digest
from sar4tec.files import atomic_output, format_time, to_utc, write_times
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest

log = logging.getLogger(__name__)

KINDS = ("troposphere", "ionosphere", "tides")
#: per kind, the geometry datasets it reads
GEOMETRY_DATASETS = {
    "troposphere": ("height", "incidence_angle"),
    "ionosphere": ("incidence_angle", "heading"),
    "tides": ("los_east", "los_north", "los_up"),
}

#: per kind, what the layer means (stored as the ``description`` attribute)
DESCRIPTIONS = {
    "troposphere": "apparent LOS displacement = -(ERA5 slant tropospheric delay)",
    "ionosphere": "apparent LOS displacement = +40.31 STEC / f^2 (IONEX thin shell)",
    "tides": "solid earth tide (pysolid, IERS 2010) projected on the LOS unit vector",
}

Block = dict[str, np.ndarray]
Evaluator = Callable[[Block], np.ndarray]
ForDate = Callable[[datetime], tuple[Evaluator, list[str]]]
#: the input files one date's layer reads (known without computing it)
InputsOf = Callable[[datetime], list[str]]


def _geometry_blocks(
    geometry: h5py.File, grid: Grid, rows: int, names: tuple[str, ...]
) -> Iterator[tuple[slice, Block]]:
    """Row blocks of the geometry datasets ``names`` plus the pixel-centre ``lat``/``lon``."""
    for r0 in range(0, grid.rows, rows):
        sl = slice(r0, min(r0 + rows, grid.rows))
        block = {name: geometry[name][sl].astype(np.float64) for name in names}
        if grid.crs == "EPSG:4326":
            block["lat"], block["lon"] = np.meshgrid(grid.y[sl], grid.x, indexing="ij")
        else:
            block["lat"], block["lon"] = grid.window(sl, slice(None)).latlon()
        yield sl, block


def _lonlat_bounds(grid: Grid) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` (degrees) covering the grid, whatever its CRS."""
    if grid.crs == "EPSG:4326":
        return grid.bounds
    from rasterio.warp import transform_bounds

    return transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)


def _ranges(geometry: h5py.File, names: tuple[str, ...], rows: int) -> dict[str, tuple]:
    """Finite ``(min, max)`` of datasets in one blockwise pass (``heading`` by ``angle_range``)."""
    from sar4tec.corrections.shell import angle_range

    extremes: dict[str, list[float]] = {name: [] for name in names}
    for r0 in range(0, geometry[names[0]].shape[0], rows):
        for name in names:
            values = geometry[name][r0 : r0 + rows]
            values = values[np.isfinite(values)].astype(np.float64)
            if values.size:
                extremes[name] += [values.min(), values.max()]
                if name == "heading":  # the headings at the ends of the 0..360 range too
                    turned = np.mod(values, 360.0)
                    extremes[name] += [values[turned.argmin()], values[turned.argmax()]]
    out = {}
    for name, found in extremes.items():
        if not found:
            raise ValueError(f"{geometry.filename}: /{name} holds no finite value")
        out[name] = angle_range(found) if name == "heading" else (min(found), max(found))
    return out


def _troposphere(manifest, geometry, grid, settings, rows) -> tuple[ForDate, InputsOf]:
    from sar4tec.corrections.troposphere import DelayModel, bracketing_times, weather_files_for

    if not manifest.era5:
        raise ValueError(f"{manifest.path}: lists no 'era5' files for the troposphere correction")
    fields = weather_files_for(manifest.era5)
    heights = _ranges(geometry, ("height",), rows)["height"]
    geoid = settings.get("geoid")

    def for_date(when: datetime) -> tuple[Evaluator, list[str]]:
        model = DelayModel(fields, when, _lonlat_bounds(grid), heights, geoid)

        def evaluate(b: Block) -> np.ndarray:
            return -model.slant(b["lat"], b["lon"], b["height"], b["incidence_angle"])

        return evaluate, model.sources

    def inputs(when: datetime) -> list[str]:
        used = [str(f.path) for f, _, _ in bracketing_times(fields, when)]
        return used + ([str(geoid)] if isinstance(geoid, str) and os.path.exists(geoid) else [])

    return for_date, inputs


def _ionosphere(manifest, geometry, grid, settings, rows) -> tuple[ForDate, InputsOf]:
    from sar4tec.corrections.ionosphere import IonexFiles
    from sar4tec.corrections.shell import ShellGeometry

    if not manifest.ionex:
        raise ValueError(f"{manifest.path}: lists no 'ionex' files for the ionosphere correction")
    frequency = float(geometry.attrs.get("frequency", SENTINEL1_FREQUENCY))
    files = IonexFiles(manifest.ionex)
    ranges = _ranges(geometry, ("heading", "incidence_angle"), rows)
    if grid.crs == "EPSG:4326":
        lat_range = (float(grid.y.min()), float(grid.y.max()))
    else:
        lat_range = _lonlat_bounds(grid)[1::2]
    shells: dict[tuple[float, float], ShellGeometry] = {}  # one table per shell of the files

    def for_date(when: datetime) -> tuple[Evaluator, list[str]]:
        ionex = files.pick(when)
        key = (ionex.shell_height, ionex.base_radius)
        if key not in shells:
            shells[key] = ShellGeometry(
                *key, lat_range, ranges["heading"], ranges["incidence_angle"]
            )
        shell = shells[key]

        def evaluate(b: Block) -> np.ndarray:
            return shell.range_change(
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

    spans: dict[Path, tuple[float, float] | None] = {}

    def inputs(when: datetime) -> list[str]:
        # every file whose header span covers the date (a superset of the one picked), read
        # from the headers alone: parsing the maps of every cached date would cost more
        t = to_utc(when).timestamp()
        for path in files.paths:
            if path not in spans:
                spans[path] = _ionex_span(path)
        covering = [str(p) for p in files.paths if spans[p] and spans[p][0] <= t <= spans[p][1]]
        return covering or [str(files.pick(when).path)]

    return for_date, inputs


def _ionex_span(path: Path) -> tuple[float, float] | None:
    """POSIX times of the first and last map an IONEX header announces (None if unreadable)."""
    from sar4tec.corrections.ionosphere import _open_text

    text = _open_text(path)
    epochs = {}
    for line in text[: text.find("END OF HEADER")].splitlines():
        label = line[60:].strip()
        if label in ("EPOCH OF FIRST MAP", "EPOCH OF LAST MAP"):
            try:
                fields = [int(float(v)) for v in line[:60].split()[:6]]
                epochs[label] = datetime(*fields, tzinfo=UTC).timestamp()
            except (TypeError, ValueError):
                return None
    if len(epochs) != 2:
        return None
    return epochs["EPOCH OF FIRST MAP"], epochs["EPOCH OF LAST MAP"]


def _tides(manifest, geometry, grid, settings, rows) -> tuple[ForDate, InputsOf]:
    from sar4tec.corrections.tides import enu_grid, interpolate

    west, south, east, north = _lonlat_bounds(grid)
    step = float(settings["grid_step_deg"])

    def for_date(when: datetime) -> tuple[Evaluator, list[str]]:
        lat, lon, enu = enu_grid(when, south, north, west, east, step)

        def evaluate(b: Block) -> np.ndarray:
            los = (b["los_east"], b["los_north"], b["los_up"])
            return interpolate(lat, lon, enu, b["lat"], b["lon"], los)

        return evaluate, ["pysolid"]

    return for_date, lambda when: []


_FACTORIES = {"troposphere": _troposphere, "ionosphere": _ionosphere, "tides": _tides}


def write_layer(
    kind: str,
    manifest_path: str | os.PathLike,
    geometry_path: str | os.PathLike,
    output_path: str | os.PathLike,
    settings: Mapping[str, Any],
    use_cache: bool = True,
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
    use_cache : bool
        Keep each date's layer in ``{output folder}/cache/{kind}/`` and reuse it when nothing
        it depends on changed (:mod:`sar4tec.corrections.cache`): appending acquisitions
        computes the new dates only.

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
        names = GEOMETRY_DATASETS[kind]
        missing = [d for d in names if d not in geometry]
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
                for_date, inputs = _FACTORIES[kind](manifest, geometry, grid, own, rows)
                cache = LayerCache(Path(output_path).parent / "cache" / kind) if use_cache else None
                checksums = Checksums(cache.folder / "checksums.json") if cache else None
                geo = geometry_digest(geometry, names, rows) if cache else ""
                computed = 0
                for n, when in enumerate(times):
                    key = found = None
                    if cache is not None:
                        used = [(os.path.basename(f), checksums(f)) for f in inputs(when)]
                        key = date_key(kind, when, own, geo, used)
                        found = cache.find(when, key)
                    if found is not None:
                        sources.append(cache.sources(found))
                        with h5py.File(found, "r") as h5:
                            for r0 in range(0, grid.rows, rows):
                                data[n, r0 : r0 + rows] = h5["correction"][r0 : r0 + rows]
                        continue
                    evaluate, used_files = for_date(when)
                    sources.append(used_files)
                    with (
                        cache.store(when, key, grid.shape, rows, used_files)
                        if cache is not None
                        else contextlib.nullcontext()
                    ) as kept:
                        for sl, block in _geometry_blocks(geometry, grid, rows, names):
                            values = evaluate(block).astype(np.float32)
                            data[n, sl] = values
                            if kept is not None:
                                kept[sl] = values
                    computed += 1
                    log.info("%s %s from %s", kind, format_time(when), ", ".join(used_files))
                if checksums is not None:
                    checksums.save()
                log.info(
                    "%s: computed %d of %d dates, %d from the cache",
                    kind,
                    computed,
                    len(times),
                    len(times) - computed,
                )
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
