"""Sentinel-1 SAFE products: what an acquisition is, read from its manifest and annotations.

Reads a SAFE folder, its zip, or a bare ``manifest.safe``: mission (S1A/S1B/S1C), mode, product
type, relative orbit (track), pass direction, absolute orbit, sensing start/stop, footprint,
and from each annotation XML the bursts with their azimuth times and ESA burst IDs.  Annotations
written before IPF 3.40 carry no ``burstId``; the ID then follows from the burst's time since
the ascending node (``azimuthAnxTime``) by the ESA definition (:mod:`sar4tec.regions.bursts`).
Only metadata is read here; the measurement TIFFs are located (:func:`safe_members`) but opened
by :mod:`sar4tec.sentinel1.burst`.

For geocoding, :func:`parse_burst_annotations` reads per burst what focusing left in the
annotation: timing, sampling, valid samples, Doppler centroid and azimuth FM-rate polynomials,
steering rate, raw-data PRF and rank, and the annotation's orbit state vectors.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from sar4tec.constants import SPEED_OF_LIGHT
from sar4tec.errors import InputFormatError, reading
from sar4tec.files import parse_time
from sar4tec.regions.bursts import T_BEAM, T_ORBIT, T_PRE, full_burst_id
from sar4tec.sentinel1.orbit import Orbit

_ANNOTATION = re.compile(r"annotation/s1[abcd]-(iw[123]|ew[1-5]|s[1-6])-slc-([hv]{2})-.*\.xml$")
_MEASUREMENT = re.compile(r"measurement/s1[abcd]-(iw[123]|ew[1-5]|s[1-6])-slc-([hv]{2})-.*\.tiff?$")


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
    raise InputFormatError(f"{source}: no <{name}> in the manifest")


def parse_manifest(xml: bytes, source: str = "manifest.safe") -> dict:
    """Fields of a ``manifest.safe`` (see :class:`SafeInfo`), as a dict.

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the XML is malformed or a field is missing (naming ``source``).
    """
    with reading(source, "manifest.safe"):
        return _parse_manifest(ET.fromstring(xml), source)


def _parse_manifest(root: ET.Element, source: str) -> dict:
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


def _bursts_of(root: ET.Element, track: int, source: str) -> list[SafeBurst]:
    header = root.find("adsHeader")
    if header is None:
        raise InputFormatError(f"{source}: not a Sentinel-1 annotation (no adsHeader)")
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


def parse_annotation(xml: bytes, track: int, source: str = "annotation") -> list[SafeBurst]:
    """Bursts of one product annotation XML (one sub-swath and polarisation).

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the XML is malformed or a burst field is missing.
    """
    with reading(source, "Sentinel-1 annotation"):
        return _bursts_of(ET.fromstring(xml), track, source)


def safe_members(path: str | Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """Manifest and annotation XMLs of a SAFE (folder, zip or bare manifest), and its TIFFs.

    Returns
    -------
    xml : dict
        Member name → bytes, for ``manifest.safe`` and the product annotations.
    measurements : dict
        Member name (``.../measurement/s1a-iw2-slc-vv-....tiff``) → a path GDAL opens
        (``/vsizip/...`` inside a zip).
    """
    path = Path(path)
    files: dict[str, bytes] = {}
    measurements: dict[str, str] = {}
    if path.is_dir():
        for member in path.rglob("*"):
            rel = member.relative_to(path).as_posix()
            if member.name == "manifest.safe" or _ANNOTATION.search(rel):
                files[rel] = member.read_bytes()
            elif _MEASUREMENT.search(rel):
                measurements[rel] = str(member)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith("/manifest.safe") or _ANNOTATION.search(name):
                    files[name] = zf.read(name)
                elif _MEASUREMENT.search(name):
                    measurements[name] = f"/vsizip/{path.resolve()}/{name}"
    elif path.is_file():
        files[path.name] = path.read_bytes()
    else:
        raise FileNotFoundError(f"SAFE product not found: {path}")
    return files, measurements


def read_safe(path: str | Path) -> SafeInfo:
    """Read a SAFE product (``.SAFE`` folder, its ``.zip``, or a bare ``manifest.safe``).

    Raises
    ------
    ValueError
        If the product has no manifest or a field is missing (the message names the file).
    """
    path = Path(path)
    files, _ = safe_members(path)
    manifests = [k for k in files if k.endswith("manifest.safe") or k == path.name]
    manifest = next((k for k in manifests if k.endswith("manifest.safe")), None) or (
        manifests[0] if manifests else None
    )
    if manifest is None:
        raise InputFormatError(f"{path}: no manifest.safe inside")
    fields = parse_manifest(files[manifest], f"{path}:{manifest}")
    bursts = []
    for name, xml in sorted(files.items()):
        if _ANNOTATION.search(name):
            bursts.extend(parse_annotation(xml, fields["track"], f"{path}:{name}"))
    name = Path(manifest).parent.name or path.stem
    if not name.endswith(".SAFE"):
        name = path.name.removesuffix(".zip")
    return SafeInfo(name=name.removesuffix(".SAFE"), path=path, bursts=bursts, **fields)


@dataclass(frozen=True)
class RangePolynomial:
    """``sum_k c_k (tau - t0)^k`` of the two-way slant range time ``tau``, given at one time.

    The annotation's Doppler centroid (``dataDcPolynomial``, Hz) and azimuth FM rate
    (``azimuthFmRatePolynomial``, Hz/s) have this form, one per ``azimuth_time``.
    """

    azimuth_time: datetime
    t0: float
    coefficients: tuple[float, ...]

    def __call__(self, tau) -> np.ndarray:
        """Value at the two-way slant range time(s) ``tau`` (s)."""
        return np.polynomial.polynomial.polyval(np.asarray(tau, float) - self.t0, self.coefficients)


@dataclass(frozen=True, eq=False)
class BurstAnnotation:
    """What the annotation of one sub-swath says about one of its bursts.

    Times are UTC; ``line`` and ``sample`` count from the burst's first line and sample.

    Attributes
    ----------
    subswath, polarization, burst_id
        e.g. ``"IW2"``, ``"VV"``, ``"064_135518_IW2"`` (ESA full burst ID).
    index
        Position of the burst in the annotation's burst list (its lines in the swath TIFF
        start at ``index * lines``).
    azimuth_time
        Zero-Doppler time of the first line.
    azimuth_time_interval
        Line spacing in seconds.
    slant_range_time
        Two-way slant range time of the first sample (s).
    range_sampling_rate
        Hz.
    lines, samples
        Burst size.
    first_valid_sample, last_valid_sample
        Per line (int arrays of length ``lines``); ``-1`` marks a line without valid samples.
    radar_frequency
        Hz.
    azimuth_steering_rate
        TOPS beam steering rate, rad/s (the annotation gives deg/s).
    doppler, fm_rate
        Doppler centroid (``dataDcPolynomial``) and azimuth FM rate nearest to the burst centre.
    rank, prf
        Pulses in flight between transmission and reception, and the raw-data PRF (Hz), which
        give the bistatic azimuth delay.
    azimuth_pixel_spacing, range_pixel_spacing
        Metres (ground-projected azimuth, slant range).
    azimuth_bandwidth, range_bandwidth
        Processed bandwidths (Hz) of the focused burst.
    orbit
        The annotation's state vectors (used when no EOF orbit is given).
    """

    subswath: str
    polarization: str
    burst_id: str
    index: int
    azimuth_time: datetime
    azimuth_time_interval: float
    slant_range_time: float
    range_sampling_rate: float
    lines: int
    samples: int
    first_valid_sample: np.ndarray
    last_valid_sample: np.ndarray
    radar_frequency: float
    azimuth_steering_rate: float
    doppler: RangePolynomial
    fm_rate: RangePolynomial
    rank: int
    prf: float
    azimuth_pixel_spacing: float
    range_pixel_spacing: float
    azimuth_bandwidth: float
    range_bandwidth: float
    orbit: Orbit

    @property
    def wavelength(self) -> float:
        """Radar wavelength in metres."""
        return SPEED_OF_LIGHT / self.radar_frequency

    @property
    def sensing_start(self) -> datetime:
        """Zero-Doppler time of the first line."""
        return self.azimuth_time

    @property
    def sensing_stop(self) -> datetime:
        """Zero-Doppler time of the last line."""
        return self.azimuth_time + timedelta(seconds=(self.lines - 1) * self.azimuth_time_interval)

    @property
    def sensing_mid(self) -> datetime:
        """Burst centre, ``lines / 2`` line intervals after the first line."""
        return self.azimuth_time + timedelta(seconds=self.lines / 2 * self.azimuth_time_interval)

    @property
    def mid_range_time(self) -> float:
        """Two-way slant range time at the middle of the swath (s)."""
        return self.slant_range_time + 0.5 * self.samples / self.range_sampling_rate

    @property
    def bands(self) -> tuple[float, float]:
        """Processed bandwidth as a fraction of the sampling rate, (azimuth, range)."""
        return (
            self.azimuth_bandwidth * self.azimuth_time_interval,
            self.range_bandwidth / self.range_sampling_rate,
        )

    @property
    def valid_lines(self) -> tuple[int, int]:
        """First and last line that hold valid samples."""
        valid = np.flatnonzero(self.first_valid_sample >= 0)
        if valid.size == 0:
            raise ValueError(f"burst {self.burst_id} has no valid line")
        return int(valid[0]), int(valid[-1])


def annotation_orbit(root: ET.Element) -> Orbit:
    """The state vectors of an annotation's ``generalAnnotation/orbitList``."""
    osvs = root.findall("generalAnnotation/orbitList/orbit")
    if len(osvs) < 2:
        raise ValueError("the annotation lists fewer than two orbit state vectors")
    times = [parse_time(o.findtext("time")) for o in osvs]
    position = [[float(o.findtext(f"position/{c}")) for c in "xyz"] for o in osvs]
    velocity = [[float(o.findtext(f"velocity/{c}")) for c in "xyz"] for o in osvs]
    return Orbit.from_state_vectors(times, np.array(position), np.array(velocity))


def swath_mid_range_time(xml: bytes | ET.Element) -> float:
    """Two-way slant range time (s) at the middle of the swath of an annotation."""
    root = ET.fromstring(xml) if isinstance(xml, bytes) else xml
    first = float(root.findtext("imageAnnotation/imageInformation/slantRangeTime"))
    samples = int(root.findtext("swathTiming/samplesPerBurst"))
    rate = float(root.findtext("generalAnnotation/productInformation/rangeSamplingRate"))
    return first + 0.5 * samples / rate


def _polynomials(root: ET.Element, path: str, name: str) -> list[RangePolynomial]:
    """Polynomials of a list; old IPFs wrote the FM rate as ``c0 c1 c2`` elements."""
    found = []
    for item in root.iterfind(path):
        text = item.findtext(name)
        if text is not None:
            coefficients = tuple(float(v) for v in text.split())
        else:
            coefficients = tuple(float(item.findtext(c)) for c in ("c0", "c1", "c2"))
        found.append(
            RangePolynomial(
                parse_time(item.findtext("azimuthTime")), float(item.findtext("t0")), coefficients
            )
        )
    return found


def _nearest(polynomials: list[RangePolynomial], when: datetime, what: str) -> RangePolynomial:
    if not polynomials:
        raise ValueError(f"the annotation has no {what}")
    return min(polynomials, key=lambda p: abs((p.azimuth_time - when).total_seconds()))


def parse_burst_annotations(
    xml: bytes | ET.Element, track: int, source: str = "annotation"
) -> list[BurstAnnotation]:
    """Per-burst geocoding parameters of one product annotation (sub-swath, polarisation).

    Parameters
    ----------
    xml
        The annotation document (bytes) or its root element (``<product>``, or the
        ``<content>`` element of an ASF burst-extractor metadata file, which holds the same).
    track
        Relative orbit, for the burst IDs of IPFs that wrote none.
    source
        Name used in error messages.

    Raises
    ------
    InputFormatError
        (a ``ValueError``) If the XML is malformed or an element the geocoder needs is missing
        (the message names ``source``).
    """
    with reading(source, "Sentinel-1 annotation"):
        root = ET.fromstring(xml) if isinstance(xml, bytes) else xml
        return _burst_annotations(root, track, source)


def _burst_annotations(root: ET.Element, track: int, source: str) -> list[BurstAnnotation]:
    bursts = _bursts_of(root, track, source)
    image = root.find("imageAnnotation/imageInformation")
    product = root.find("generalAnnotation/productInformation")
    downlink = root.find("generalAnnotation/downlinkInformationList/downlinkInformation")
    processing = root.find(
        "imageAnnotation/processingInformation/swathProcParamsList/swathProcParams"
    )
    interval = float(image.findtext("azimuthTimeInterval"))
    common = {
        "azimuth_time_interval": interval,
        "slant_range_time": float(image.findtext("slantRangeTime")),
        "range_sampling_rate": float(product.findtext("rangeSamplingRate")),
        "lines": int(root.findtext("swathTiming/linesPerBurst")),
        "samples": int(root.findtext("swathTiming/samplesPerBurst")),
        "radar_frequency": float(product.findtext("radarFrequency")),
        "azimuth_steering_rate": np.radians(float(product.findtext("azimuthSteeringRate"))),
        "rank": int(downlink.findtext("downlinkValues/rank")),
        "prf": float(downlink.findtext("prf")),
        "azimuth_pixel_spacing": float(image.findtext("azimuthPixelSpacing")),
        "range_pixel_spacing": float(image.findtext("rangePixelSpacing")),
        "azimuth_bandwidth": float(processing.findtext("azimuthProcessing/processingBandwidth")),
        "range_bandwidth": float(processing.findtext("rangeProcessing/processingBandwidth")),
        "orbit": annotation_orbit(root),
    }
    dopplers = _polynomials(root, "dopplerCentroid/dcEstimateList/dcEstimate", "dataDcPolynomial")
    fm_rates = _polynomials(
        root, "generalAnnotation/azimuthFmRateList/azimuthFmRate", "azimuthFmRatePolynomial"
    )
    elements = root.findall("swathTiming/burstList/burst")
    out = []
    for index, (burst, element) in enumerate(zip(bursts, elements, strict=True)):
        first = np.array(element.findtext("firstValidSample").split(), dtype=np.int32)
        last = np.array(element.findtext("lastValidSample").split(), dtype=np.int32)
        if first.size != common["lines"] or last.size != common["lines"]:
            raise ValueError(f"burst {index} lists {first.size} valid-sample entries")
        mid = burst.azimuth_time + timedelta(seconds=common["lines"] / 2 * interval)
        out.append(
            BurstAnnotation(
                subswath=burst.subswath,
                polarization=burst.polarization,
                burst_id=burst.full_id(track),
                index=index,
                azimuth_time=burst.azimuth_time,
                first_valid_sample=first,
                last_valid_sample=last,
                doppler=_nearest(dopplers, mid, "Doppler centroid estimate"),
                fm_rate=_nearest(fm_rates, mid, "azimuth FM rate"),
                **common,
            )
        )
    return out
