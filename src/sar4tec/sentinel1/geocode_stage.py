"""The geocoding stage: from a manifest listing SAFE products or bursts to one CSLC per date.

Four steps, one rule each (``workflow/rules/geocode.smk``), so that dates run in parallel:

1. :func:`plan_geocoding` groups the manifest's ``safe`` entries into acquisitions (entries
   less than :data:`ACQUISITION_GAP_S` apart belong to one pass) and writes the plan;
2. :func:`write_frame_burst_map` chooses, once for the frame, the burst each pixel of the
   CSLC grid is taken from, on the plan's first acquisition (the reference);
3. :func:`geocode_date` geocodes one acquisition onto the frame's CSLC grid
   (:func:`cslc_grid`: the manifest ``bounds`` snapped outward to multiples of the spacing, so
   every date, and every rerun, gets the same grid), each pixel from the burst of the map;
4. :func:`write_cslc_manifest` writes the manifest the stack stage reads: the input manifest
   with ``slc`` filled and every path relative to its new folder.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sar4tec.files import atomic_output, format_time, parse_time
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest, relative, write_manifest
from sar4tec.sentinel1.burst import ORBIT_MARGIN_S, Burst, choose_orbit, read_bursts
from sar4tec.sentinel1.cslc import read_cslc_info
from sar4tec.sentinel1.geocode import geocode_acquisition, write_burst_map
from sar4tec.sentinel1.orbit import eof_validity, read_eof

log = logging.getLogger(__name__)

#: products sensed less than this apart (s) belong to the same acquisition
ACQUISITION_GAP_S = 600.0
#: EOF names carry mission and validity: S1A_OPER_AUX_POEORB_OPOD_<made>_V<start>_<stop>.EOF
_EOF_NAME = re.compile(r"^(S1[A-D])_.*_V(\d{8}T\d{6})_(\d{8}T\d{6})")
_EOF_KIND = re.compile(r"AUX_(POEORB|RESORB)")


def cslc_grid(bounds: Sequence[float], spacing: Sequence[float], crs: str = "EPSG:4326") -> Grid:
    """Grid covering geographic ``bounds = (west, south, east, north)`` (degrees).

    ``spacing = (dy, dx)`` in the CRS's units (degrees, metres for UTM).  ``crs`` is an EPSG
    code or ``utm``: the UTM zone of the bounds' centre.  The edges are snapped outward to
    whole multiples of the spacing (:meth:`sar4tec.grid.Grid.from_lonlat_bounds`).
    """
    from pyproj import CRS

    west, south, east, north = (float(v) for v in bounds)
    if crs.lower() == "utm":
        crs = Grid.utm_crs(0.5 * (south + north), 0.5 * (west + east))
    metric = CRS.from_user_input(crs).is_projected
    if (metric and min(spacing) < 0.1) or (not metric and max(spacing) > 0.1):
        unit = "metres" if metric else "degrees"
        raise ValueError(f"CSLC spacing {list(spacing)} is not in {unit}, the units of {crs}")
    return Grid.from_lonlat_bounds((west, south, east, north), tuple(spacing), crs)


def plan_geocoding(manifest_path: str | Path, plan_path: str | Path) -> list[str]:
    """Group the manifest's ``safe`` entries into acquisitions; write them to ``plan_path``.

    Returns
    -------
    list of str
        Acquisition dates ``YYYYMMDD`` (UTC date of each acquisition's first product).

    Raises
    ------
    ValueError
        If the manifest lists no ``safe`` entry or two acquisitions fall on one date.
    """
    manifest_path, plan_path = Path(manifest_path), Path(plan_path)
    read_manifest(manifest_path)  # validates it and checks that the listed files exist
    raw = json.loads(manifest_path.read_text())
    entries = sorted(raw.get("safe") or [], key=lambda e: parse_time(e["sensing_time"]))
    if not entries:
        raise ValueError(f"{manifest_path}: no 'safe' entries (SAFE products or bursts) to geocode")
    groups: list[list[dict]] = []
    for entry in entries:
        when = parse_time(entry["sensing_time"])
        if groups and when - parse_time(groups[-1][-1]["sensing_time"]) <= timedelta(
            seconds=ACQUISITION_GAP_S
        ):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    acquisitions = []
    for group in groups:
        start = parse_time(group[0]["sensing_time"])
        acquisitions.append(
            {
                "date": start.strftime("%Y%m%d"),
                "sensing_time": format_time(start),
                "products": [
                    {
                        "path": relative(manifest_path.parent / e["path"], plan_path.parent),
                        "bursts": list(e.get("bursts") or []),
                    }
                    for e in group
                ],
            }
        )
    dates = [a["date"] for a in acquisitions]
    if len(set(dates)) != len(dates):
        raise ValueError(f"{manifest_path}: two acquisitions on one date among {dates}")
    plan = {"frame": raw["frame"], "acquisitions": acquisitions}
    with atomic_output(plan_path) as tmp:
        tmp.write_text(json.dumps(plan, indent=2) + "\n")
    log.info("%s: %d acquisitions from %d products", raw["frame"], len(dates), len(entries))
    return dates


def plan_dates(plan_path: str | Path) -> list[str]:
    """The acquisition dates of a plan written by :func:`plan_geocoding`."""
    return [a["date"] for a in json.loads(Path(plan_path).read_text())["acquisitions"]]


def _orbit_files(paths: Sequence[Path], mission: str, start, stop) -> list[Path]:
    """EOF files of ``mission`` whose validity spans ``[start, stop]`` (names read first)."""
    found = []
    for path in paths:
        match = _EOF_NAME.match(path.name)
        if match:
            if match[1] != mission:
                continue
            begin, end = parse_time(match[2]), parse_time(match[3])
        else:
            begin, end = eof_validity(path)
        if begin <= start and stop <= end:
            found.append(path)
    return found


def _acquisition_bursts(
    manifest, plan_path: Path, acquisition: dict, polarization: str
) -> tuple[list[Burst], str | None]:
    """The bursts of an acquisition of the plan with their orbit, and the EOF kind used."""
    date = acquisition["date"]
    bursts = [
        burst
        for product in acquisition["products"]
        for burst in read_bursts(
            plan_path.parent / product["path"],
            burst_ids=product["bursts"] or None,
            polarization=polarization,
        )
    ]
    if not bursts:
        raise ValueError(f"{plan_path}: the products of {date} hold no {polarization} burst")
    margin = timedelta(seconds=ORBIT_MARGIN_S)
    start = min(b.annotation.sensing_start for b in bursts) - margin
    stop = max(b.annotation.sensing_stop for b in bursts) + margin
    paths = _orbit_files(manifest.orbits, bursts[0].mission, start, stop)
    if not paths:
        log.warning(
            "%s: no EOF orbit of the manifest covers %s; using the annotations'", date, start
        )
    orbits = [read_eof(paths[0])] if paths else []
    bursts = [replace(b, orbit=choose_orbit(orbits, b.annotation)) for b in bursts]
    kind = _EOF_KIND.search(paths[0].name) if orbits and bursts[0].orbit is orbits[0] else None
    return bursts, kind[1] if kind else None


def _frame(manifest_path, plan_path, spacing, crs):
    """The manifest, the plan's acquisitions and the CSLC grid of the frame."""
    manifest = read_manifest(manifest_path)
    bounds = manifest.extra.get("bounds")
    if not bounds:
        raise ValueError(f"{manifest_path}: no 'bounds' to define the CSLC grid")
    acquisitions = json.loads(Path(plan_path).read_text())["acquisitions"]
    return manifest, acquisitions, cslc_grid(bounds, spacing, crs)


def write_frame_burst_map(
    manifest_path: str | Path,
    plan_path: str | Path,
    output: str | Path,
    *,
    spacing: Sequence[float],
    crs: str = "EPSG:4326",
    polarization: str = "VV",
    block_size: int = 256,
    bistatic: bool = True,
) -> Path:
    """Write the frame's burst map: the burst each CSLC pixel is taken from on every date.

    The choice is made on the plan's first acquisition
    (:func:`sar4tec.sentinel1.geocode.write_burst_map`) and read by every :func:`geocode_date`.
    """
    manifest, acquisitions, grid = _frame(manifest_path, plan_path, spacing, crs)
    reference = acquisitions[0]
    bursts, _ = _acquisition_bursts(manifest, Path(plan_path), reference, polarization)
    return write_burst_map(
        bursts,
        manifest.dem,
        grid,
        output,
        block_size=block_size,
        bistatic=bistatic,
        reference=reference["date"],
    )


def geocode_date(
    manifest_path: str | Path,
    plan_path: str | Path,
    date: str,
    output: str | Path,
    *,
    burst_map: str | Path,
    spacing: Sequence[float],
    crs: str = "EPSG:4326",
    polarization: str = "VV",
    block_size: int = 256,
    bistatic: bool = True,
) -> Path:
    """Geocode the acquisition ``date`` of a plan onto the frame's CSLC grid.

    The grid is :func:`cslc_grid` of the manifest's ``bounds``; heights come from its ``dem``;
    the orbit is the first EOF of the manifest covering the acquisition (else the
    annotations' state vectors); each pixel comes from the burst that ``burst_map``
    (:func:`write_frame_burst_map`) names.
    """
    manifest, acquisitions, grid = _frame(manifest_path, plan_path, spacing, crs)
    acquisition = next((a for a in acquisitions if a["date"] == date), None)
    if acquisition is None:
        raise ValueError(f"{plan_path}: no acquisition on {date}")
    bursts, kind = _acquisition_bursts(manifest, Path(plan_path), acquisition, polarization)
    geocode_acquisition(
        bursts,
        manifest.dem,
        grid,
        output,
        burst_map=burst_map,
        polarization=polarization,
        block_size=block_size,
        bistatic=bistatic,
        orbit_type=kind,
    )
    return Path(output)


def write_cslc_manifest(
    manifest_path: str | Path,
    cslc_paths: Sequence[str | Path],
    output: str | Path,
    polarization: str = "VV",
) -> Path:
    """Write the input manifest, with ``slc`` listing the CSLCs, relative to ``output``.

    ``polarization`` is the CSLC layer that must be present (``stack.polarization``).
    """
    manifest_path, output = Path(manifest_path), Path(output)
    raw = json.loads(manifest_path.read_text())
    src, dst = manifest_path.parent, output.parent

    def rebase(path: str) -> str:
        return relative(src / path, dst)

    content = dict(raw)
    for key in ("orbits", "era5", "ionex"):
        content[key] = [rebase(p) for p in raw.get(key) or []]
    for key in ("dem", "water_mask"):
        if raw.get(key):
            content[key] = rebase(raw[key])
    if raw.get("gnss"):
        content["gnss"] = dict(raw["gnss"], path=rebase(raw["gnss"]["path"]))
    content["safe"] = [dict(e, path=rebase(e["path"])) for e in raw.get("safe") or []]
    infos = sorted(
        (read_cslc_info(p, polarization) for p in cslc_paths), key=lambda i: i.sensing_start
    )
    content["slc"] = [
        {"path": relative(i.path, dst), "sensing_time": format_time(i.sensing_mid)} for i in infos
    ]
    return write_manifest(output, content)
