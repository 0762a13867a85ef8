"""Sentinel-1 SAFE products: what an acquisition is, read from its manifest and annotations.

Reads a SAFE folder, its zip, or a bare ``manifest.safe``: mission (S1A/S1B/S1C), mode, product
type, relative orbit (track), pass direction, absolute orbit, sensing start/stop, footprint,
and from each annotation XML the bursts with their azimuth times and ESA burst IDs.  Annotations
written before IPF 3.40 carry no ``burstId``; the ID then follows from the burst's time since
the ascending node (``azimuthAnxTime``) by the ESA definition (:mod:`sar4tec.regions.bursts`).
Only metadata is read; the measurement TIFFs are never opened.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sar4tec.files import parse_time
from sar4tec.regions.bursts import T_BEAM, T_ORBIT, T_PRE, full_burst_id

_ANNOTATION = re.compile(r"annotation/s1[abcd]-(iw[123]|ew[1-5]|s[1-6])-slc-([hv]{2})-.*\.xml$")


@dataclass(frozen=True)
class SafeBurst:
    """One burst of one annotation (sub-swath, polarisation).

    ``anx_time`` / ``mid_anx_time``: seconds from the ascending node to the burst's first line
    and to its centre (the time that defines the ESA burst ID).
    """

    subswath: str
    polarization: str
    burst_id: int
    azimuth_time: datetime
    anx_time: float
    mid_anx_time: float

    def full_id(self, track: int) -> str:
        """``TTT_BBBBBB_IWs``."""
        return full_burst_id(track, self.burst_id, self.subswath)


@dataclass(frozen=True)
class SafeInfo:
    """Metadata of one SAFE product."""

    name: str
    path: Path
    mission: str
    mode: str
    product_type: str
    track: int
    absolute_orbit: int
    direction: str
    start: datetime
    stop: datetime
    footprint: list[tuple[float, float]]
    bursts: list[SafeBurst] = field(default_factory=list)

    @property
    def burst_ids(self) -> list[str]:
        """Sorted unique full burst IDs of the product (all sub-swaths)."""
        return sorted({b.full_id(self.track) for b in self.bursts})

    @property
    def polarizations(self) -> list[str]:
        """Polarisations with annotations, e.g. ``["VH", "VV"]``."""
        return sorted({b.polarization for b in self.bursts})


def burst_id_from_anx(track: int, mid_anx_time: float) -> int:
    """ESA burst ID of a burst whose middle is sensed ``mid_anx_time`` s after the ANX."""
    return 1 + math.floor((mid_anx_time - T_PRE + (track - 1) * T_ORBIT) / T_BEAM)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, name: str, source: str, attr: tuple[str, str] | None = None) -> str:
    for el in root.iter():
        if _local(el.tag) == name and (attr is None or el.get(attr[0]) == attr[1]):
            if el.text is not None:
                return el.text.strip()
    raise ValueError(f"{source}: no <{name}> in the manifest")


def parse_manifest(xml: bytes, source: str = "manifest.safe") -> dict:
    """Fields of a ``manifest.safe`` (see :class:`SafeInfo`), as a dict."""
    root = ET.fromstring(xml)
    coords = _find(root, "coordinates", source)
    footprint = []
    for pair in coords.split():
        lat, lon = (float(v) for v in pair.split(","))
        footprint.append((lon, lat))
    return {
        "mission": "S1" + _find(root, "number", source),
        "mode": _find(root, "mode", source),
        "product_type": _find(root, "productType", source),
        "track": int(_find(root, "relativeOrbitNumber", source, ("type", "start"))),
        "absolute_orbit": int(_find(root, "orbitNumber", source, ("type", "start"))),
        "direction": _find(root, "pass", source).lower(),
        "start": parse_time(_find(root, "startTime", source)),
        "stop": parse_time(_find(root, "stopTime", source)),
        "footprint": footprint,
    }


def parse_annotation(xml: bytes, track: int, source: str = "annotation") -> list[SafeBurst]:
    """Bursts of one product annotation XML (one sub-swath and polarisation)."""
    root = ET.fromstring(xml)
    header = root.find("adsHeader")
    if header is None:
        raise ValueError(f"{source}: not a Sentinel-1 annotation (no adsHeader)")
    swath = header.findtext("swath", "").upper()
    pol = header.findtext("polarisation", "").upper()
    half_burst = (
        0.5
        * float(root.findtext("swathTiming/linesPerBurst", "0"))
        * float(root.findtext("imageAnnotation/imageInformation/azimuthTimeInterval", "0"))
    )
    bursts = []
    for burst in root.iterfind("swathTiming/burstList/burst"):
        anx = float(burst.findtext("azimuthAnxTime"))
        given = burst.findtext("burstId")
        number = int(given) if given else burst_id_from_anx(track, anx + half_burst)
        when = parse_time(burst.findtext("azimuthTime"))
        bursts.append(SafeBurst(swath, pol, number, when, anx, anx + half_burst))
    return bursts


def read_safe(path: str | Path) -> SafeInfo:
    """Read a SAFE product (``.SAFE`` folder, its ``.zip``, or a bare ``manifest.safe``).

    Raises
    ------
    ValueError
        If the product has no manifest or a field is missing (the message names the file).
    """
    path = Path(path)
    files: dict[str, bytes] = {}
    if path.is_dir():
        for member in path.rglob("*"):
            rel = member.relative_to(path).as_posix()
            if member.name == "manifest.safe" or _ANNOTATION.search(rel):
                files[rel] = member.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith("/manifest.safe") or _ANNOTATION.search(name):
                    files[name] = zf.read(name)
    elif path.is_file():
        files[path.name] = path.read_bytes()
    else:
        raise FileNotFoundError(f"SAFE product not found: {path}")
    manifests = [k for k in files if k.endswith("manifest.safe") or k == path.name]
    manifest = next((k for k in manifests if k.endswith("manifest.safe")), None) or (
        manifests[0] if manifests else None
    )
    if manifest is None:
        raise ValueError(f"{path}: no manifest.safe inside")
    fields = parse_manifest(files[manifest], f"{path}:{manifest}")
    bursts = []
    for name, xml in sorted(files.items()):
        if _ANNOTATION.search(name):
            bursts.extend(parse_annotation(xml, fields["track"], f"{path}:{name}"))
    name = Path(manifest).parent.name or path.stem
    if not name.endswith(".SAFE"):
        name = path.name.removesuffix(".zip")
    return SafeInfo(name=name.removesuffix(".SAFE"), path=path, bursts=bursts, **fields)
