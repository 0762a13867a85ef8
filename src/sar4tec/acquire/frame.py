"""Acquire every input of one real frame and write its ``manifest.json``.

For a ``sentinel1`` frame: search the frame's bursts (or SAFE products) between the configured
dates, report missing bursts and date gaps, download them into the shared cache; for a
``local`` frame: link the matching products of the local archives.  Then, for both: the orbit
file covering each acquisition, the ellipsoidal DEM and sea mask over the frame, and the ERA5
and IONEX files of the acquisition times (clients of :mod:`sar4tec.acquire.era5` and
:mod:`sar4tec.acquire.ionex`), all through the shared cache, honouring ``offline``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sar4tec.acquire import dem as dem_mod
from sar4tec.acquire.local import link_products, scan_archives, select_products
from sar4tec.acquire.orbits import DEFAULT_INDEXES, orbit_files
from sar4tec.acquire.sentinel1 import coverage_report, download, search
from sar4tec.files import format_time, parse_time
from sar4tec.manifest import relative, write_manifest
from sar4tec.regions.bursts import parse_full_burst_id, pass_direction

log = logging.getLogger(__name__)


def frame_identity(spec: dict[str, Any]) -> tuple[int, str]:
    """(track, direction) of a frame: from its spec, else from its burst IDs."""
    if "track" in spec and "orbit_direction" in spec:
        return int(spec["track"]), spec["orbit_direction"]
    bursts = spec.get("bursts") or []
    if not bursts:
        raise ValueError("a sentinel1/local frame needs its bursts (or track and direction)")
    tracks = {parse_full_burst_id(b)[0] for b in bursts}
    if len(tracks) != 1:
        raise ValueError(f"the bursts of a frame must share one track, got {sorted(tracks)}")
    track = tracks.pop()
    return track, pass_direction(track, parse_full_burst_id(bursts[0])[1])


def ingested_source(frame: str, spec: dict[str, Any], stack_section: dict[str, Any]):
    """Open a frame's ``stack`` and settle its track and direction.

    The product metadata (OPERA identification, ISCE2 burst XMLs) name them where they can;
    otherwise the frame entry must (``track`` and ``orbit_direction``, or ``bursts``).  Where
    both do, they must agree.  Every date whose product carries no orbit must name its
    satellite (else the frame's ``stack.mission``), so the right orbit file can be chosen.

    Raises
    ------
    ValueError
        Track or direction unknown or contradicted, or a satellite unknown (names the frame).
    """
    from sar4tec.ingest import IngestSettings, open_source
    from sar4tec.ingest.common import UNKNOWN_MISSION

    source = open_source(IngestSettings.from_config(spec["stack"], stack_section))
    where = f"frame {frame} (stack {spec['stack']['path']})"
    configured = (None, None)
    if spec.get("bursts") or ("track" in spec and "orbit_direction" in spec):
        configured = frame_identity(spec)
    for name, product, config in zip(
        ("track", "orbit_direction"), (source.track, source.direction), configured, strict=True
    ):
        if product is None and config is None:
            raise ValueError(
                f"{where}: the product does not give its {name}; set the frame's {name} "
                "(with track/orbit_direction) or bursts"
            )
        if product is not None and config is not None and product != config:
            raise ValueError(
                f"{where}: the product's {name} {product!r} is not the frame's {config!r}"
            )
    source.track = source.track if source.track is not None else configured[0]
    source.direction = source.direction or configured[1]
    unknown = [d.date for d in source.dates if d.orbit is None and d.mission == UNKNOWN_MISSION]
    if unknown:
        raise ValueError(
            f"{where}: the product does not name the satellite of {unknown[:3]}...; set the "
            "frame's stack.mission (S1A, S1B, S1C or S1D)"
        )
    return source


def _union_bounds(boxes: Sequence[Sequence[float]]) -> list[float]:
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def acquire_frame(
    frame: str,
    spec: dict[str, Any],
    settings: dict[str, Any],
    out_dir: str | os.PathLike,
    cache_dir: str | os.PathLike,
    stack_section: dict[str, Any] | None = None,
) -> Path:
    """Fetch or link a frame's inputs into ``out_dir`` and write ``out_dir/manifest.json``.

    Parameters
    ----------
    frame
        Frame ID.
    spec
        The frame's entry: ``source`` (``sentinel1``/``local``), ``bursts``, and optionally
        ``track``, ``orbit_direction``, ``bounds`` (frames expanded from a region have them),
        ``stack`` (a ``local`` frame whose existing SLC stack is ingested, docs/ingest.md).
    settings
        The validated ``acquire`` config section.
    out_dir, cache_dir
        ``data/{frame}`` and the shared cache root.
    stack_section
        The config's ``stack`` section (polarisation of OPERA stacks), for ingested frames.

    Notes
    -----
    An ingested frame (``stack`` entry) has no SAFE products: its dates and footprint come from
    the stack itself (:func:`sar4tec.ingest.open_source`), its track and pass direction from
    the product metadata where the format carries them (:func:`ingested_source`); orbit files
    are fetched only for the dates whose product carries no state vectors; the manifest lists
    the stack under ``ingested`` (format, resolved path, dates).
    """
    out, cache = Path(out_dir), Path(cache_dir)
    bursts = list(spec.get("bursts") or [])
    net = {
        "retries": settings["retries"],
        "backoff": settings["backoff"],
        "timeout": settings["timeout"],
    }
    offline = settings["offline"]
    start, end = parse_time(settings["start"]), parse_time(settings["end"])
    report: dict[str, Any] = {}
    ingested: dict[str, Any] = {}
    if spec["source"] == "local" and spec.get("stack"):
        source = ingested_source(frame, spec, stack_section or {})
        track, direction, safe = source.track, source.direction, []
        acquisitions = [(d.mission, d.start, d.stop) for d in source.dates if d.orbit is None]
        times = [d.start for d in source.dates]
        bounds = spec.get("bounds") or [float(v) for v in source.footprint()]
        ingested = {
            "format": spec["stack"]["format"],
            "path": str(Path(spec["stack"]["path"]).resolve()),
            "dates": [d.date for d in source.dates],
        }
    elif spec["source"] == "local":
        track, direction = frame_identity(spec)
        products = select_products(
            scan_archives(settings["local"]["archives"]), track, direction, bursts, start, end
        )
        if not products:
            raise FileNotFoundError(
                f"frame {frame}: no IW SLC of track {track} {direction} with bursts "
                f"{bursts[:3]}... in {settings['local']['archives']}"
            )
        links = link_products(products, out / "safe")
        safe = [
            {
                "path": relative(link, out),
                "sensing_time": format_time(p.start),
                "bursts": sorted(set(p.burst_ids) & set(bursts)) if bursts else p.burst_ids,
            }
            for link, p in zip(links, products, strict=True)
        ]
        acquisitions = [(p.mission, p.start, p.stop) for p in products]
        bounds = spec.get("bounds") or _union_bounds(
            [
                [
                    min(x for x, _ in p.footprint),
                    min(y for _, y in p.footprint),
                    max(x for x, _ in p.footprint),
                    max(y for _, y in p.footprint),
                ]
                for p in products
            ]
        )
    else:
        track, direction = frame_identity(spec)
        granules = search(
            start,
            end,
            burst_ids=bursts,
            track=track,
            intersects=_bounds_wkt(spec.get("bounds")) if spec.get("bounds") else None,
            product=settings["product"],
            polarization=settings["polarization"],
            host=settings["cmr_host"],
        )
        if not granules:
            raise FileNotFoundError(
                f"frame {frame}: the catalogue has no acquisition of "
                f"{bursts or track} between {start} and {end}"
            )
        report = coverage_report(granules, bursts, settings["max_gap_days"])
        paths = download(
            granules, cache / "sentinel1", workers=settings["workers"], offline=offline, **net
        )
        safe = [
            {
                "path": relative(p, out),
                "sensing_time": format_time(g.sensing_time),
                "bursts": [g.burst_id] if g.burst_id else [],
            }
            for p, g in zip(paths, granules, strict=True)
        ]
        by_date = {}
        for g in granules:
            by_date.setdefault(g.date, g)
        acquisitions = [
            (
                g.mission,
                min(t.sensing_time for t in granules if t.date == d),
                max(t.sensing_time for t in granules if t.date == d),
            )
            for d, g in by_date.items()
        ]
        bounds = spec.get("bounds") or _union_bounds([g.bounds for g in granules if g.bounds])
    orbits = (
        orbit_files(
            acquisitions,
            cache / "orbits",
            indexes=settings["orbit_indexes"] or DEFAULT_INDEXES,
            offline=offline,
            **net,
        )
        if acquisitions
        else []
    )
    dem_path, water_path = dem_mod.frame_dem(
        bounds,
        out / "dem.tif",
        out / "water_mask.tif",
        cache / "dem",
        base_url=settings["dem_url"],
        geoid_url=settings["geoid_url"],
        buffer_deg=settings["dem_buffer_deg"],
        offline=offline,
        **net,
    )
    if not ingested:
        times = [parse_time(s["sensing_time"]) for s in safe]
    times = sorted(set(times))
    manifest = {
        "frame": frame,
        "source": spec["source"],
        "track": track,
        "orbit_direction": direction,
        "bounds": bounds,
        "slc": [],
        "safe": safe,
        "orbits": sorted({relative(p, out) for p in orbits}),
        "dem": relative(dem_path, out),
        "water_mask": relative(water_path, out),
        "era5": [],
        "ionex": [],
        "report": report,
    }
    if ingested:
        manifest["ingested"] = ingested
    if settings["era5"]:
        from sar4tec.acquire.era5 import download_era5

        files = download_era5(bounds, times, cache / "era5", offline=offline)
        manifest["era5"] = [relative(p, out) for p in files]
    if settings["ionex"]:
        from sar4tec.acquire.ionex import download_ionex

        days = sorted({t.date() for t in times})
        manifest["ionex"] = [
            relative(
                download_ionex(
                    d,
                    cache / "ionex",
                    offline=offline,
                    retries=net["retries"],
                    backoff=net["backoff"],
                ),
                out,
            )
            for d in days
        ]
    if settings["gnss"]:
        from sar4tec.acquire.gnss import download_midas, manifest_gnss_entry, unr_frame

        realisation = unr_frame(max(times))
        table = download_midas(
            cache,
            realisation,
            base_url=settings["gnss_url"],
            offline=offline,
            retries=net["retries"],
            backoff=net["backoff"],
        )
        manifest["gnss"] = manifest_gnss_entry(table, out, realisation)
    return write_manifest(out / "manifest.json", manifest)


def _bounds_wkt(bounds: Sequence[float]) -> str:
    w, s, e, n = bounds
    return f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"
