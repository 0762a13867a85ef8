"""Sentinel-1 IW SLC SAFE layout of the synthetic radar mode: manifest, annotations, TIFFs.

Writes what :mod:`sar4tec.sentinel1.safe` and :mod:`sar4tec.sentinel1.burst` read, in ESA's
element names (Sentinel-1 Product Specification, S1-RS-MDA-52-7441): ``manifest.safe`` (an XFDU
with the platform, acquisition period, orbit references and footprint), one product annotation
per sub-swath (``adsHeader``, ``generalAnnotation`` with product, downlink, orbit and azimuth
FM-rate information, ``imageAnnotation``, ``dopplerCentroid``, ``swathTiming`` with the bursts
and ``geolocationGrid``) and an empty tiled CInt16 measurement TIFF per sub-swath, which
:mod:`sar4tec.simulate.radar` fills burst by burst.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from sar4tec.files import atomic_output

_NS = {
    "xfdu": "urn:ccsds:schema:xfdu:1",
    "safe": "http://www.esa.int/safe/sentinel-1.0",
    "s1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1",
    "s1sarl1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1",
    "gml": "http://www.opengis.net/gml",
}


def iso(when: datetime) -> str:
    """ESA's annotation time format (UTC, microseconds, no zone)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _num(value: float) -> str:
    return f"{float(value):.15e}"


def _sub(parent: ET.Element, tag: str, text=None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text if isinstance(text, str) else _num(text)
    return el


@dataclass(frozen=True)
class BurstRecord:
    """One burst of an annotation: first-line time, time since the ANX, valid samples."""

    azimuth_time: datetime
    anx_time: float
    burst_id: int
    first_valid_sample: np.ndarray
    last_valid_sample: np.ndarray


@dataclass(frozen=True)
class SwathRecord:
    """Everything one sub-swath annotation states (values as written, SI units)."""

    mission: str
    swath: str
    polarization: str
    absolute_orbit: int
    datatake: int
    image_number: int
    direction: str
    heading: float
    radar_frequency: float
    range_sampling_rate: float
    azimuth_time_interval: float
    slant_range_time: float
    lines: int
    samples: int
    steering_rate_deg: float
    prf: float
    rank: int
    range_bandwidth: float
    azimuth_bandwidth: float
    range_window: float
    azimuth_window: float
    range_pixel_spacing: float
    azimuth_pixel_spacing: float
    incidence_mid: float
    fm_rate: tuple[float, float, float]
    doppler: tuple[float, float, float]
    orbit_times: Sequence[datetime]
    orbit_position: np.ndarray
    orbit_velocity: np.ndarray
    bursts: Sequence[BurstRecord]
    geolocation: Sequence[dict]

    @property
    def start(self) -> datetime:
        """First line of the first burst."""
        return self.bursts[0].azimuth_time

    @property
    def stop(self) -> datetime:
        """Last line of the last burst."""
        return self.bursts[-1].azimuth_time + timedelta(
            seconds=(self.lines - 1) * self.azimuth_time_interval
        )

    def stem(self) -> str:
        """File stem shared by the annotation and the measurement TIFF."""
        fmt = "%Y%m%dt%H%M%S"
        return (
            f"{self.mission.lower()}-{self.swath.lower()}-slc-{self.polarization.lower()}-"
            f"{self.start:{fmt}}-{self.stop:{fmt}}-{self.absolute_orbit:06d}-"
            f"{self.datatake:06x}-{self.image_number:03d}"
        )


def annotation_xml(s: SwathRecord) -> bytes:
    """The product annotation document of one sub-swath."""
    root = ET.Element("product")
    header = _sub(root, "adsHeader")
    for tag, text in (
        ("missionId", s.mission),
        ("productType", "SLC"),
        ("polarisation", s.polarization),
        ("mode", "IW"),
        ("swath", s.swath),
        ("startTime", iso(s.start)),
        ("stopTime", iso(s.stop)),
        ("absoluteOrbitNumber", str(s.absolute_orbit)),
        ("missionDataTakeId", str(s.datatake)),
        ("imageNumber", f"{s.image_number:03d}"),
    ):
        _sub(header, tag, text)
    general = _sub(root, "generalAnnotation")
    product = _sub(general, "productInformation")
    _sub(product, "pass", s.direction.capitalize())
    _sub(product, "timelinessCategory", "NRT-3h")
    _sub(product, "platformHeading", s.heading)
    _sub(product, "projection", "Slant Range")
    _sub(product, "rangeSamplingRate", s.range_sampling_rate)
    _sub(product, "radarFrequency", s.radar_frequency)
    _sub(product, "azimuthSteeringRate", s.steering_rate_deg)
    downlinks = _sub(general, "downlinkInformationList", count=1)
    downlink = _sub(downlinks, "downlinkInformation")
    _sub(downlink, "swath", s.swath)
    _sub(downlink, "prf", s.prf)
    _sub(_sub(downlink, "downlinkValues"), "rank", str(s.rank))
    orbits = _sub(general, "orbitList", count=len(s.orbit_times))
    for when, p, v in zip(s.orbit_times, s.orbit_position, s.orbit_velocity, strict=True):
        osv = _sub(orbits, "orbit")
        _sub(osv, "time", iso(when))
        _sub(osv, "frame", "Earth Fixed")
        for name, vec in (("position", p), ("velocity", v)):
            el = _sub(osv, name)
            for axis, value in zip("xyz", vec, strict=True):
                _sub(el, axis, repr(float(value)))
    fm_list = _sub(general, "azimuthFmRateList", count=len(s.bursts))
    for burst in s.bursts:
        item = _sub(fm_list, "azimuthFmRate")
        _sub(item, "azimuthTime", iso(burst.azimuth_time))
        _sub(item, "t0", s.slant_range_time)
        _sub(item, "azimuthFmRatePolynomial", " ".join(map(_num, s.fm_rate)), count=3)
    image = _sub(_sub(root, "imageAnnotation"), "imageInformation")
    for tag, value in (
        ("productFirstLineUtcTime", iso(s.start)),
        ("productLastLineUtcTime", iso(s.stop)),
        ("productComposition", "Slice"),
        ("slantRangeTime", s.slant_range_time),
        ("pixelValue", "Complex"),
        ("outputPixels", "16 bit Signed Integer"),
        ("rangePixelSpacing", s.range_pixel_spacing),
        ("azimuthPixelSpacing", s.azimuth_pixel_spacing),
        ("azimuthTimeInterval", s.azimuth_time_interval),
        ("azimuthFrequency", 1.0 / s.azimuth_time_interval),
        ("numberOfSamples", str(s.samples)),
        ("numberOfLines", str(s.lines * len(s.bursts))),
        ("incidenceAngleMidSwath", s.incidence_mid),
    ):
        _sub(image, tag, value)
    processing = root.find("imageAnnotation")
    params = _sub(
        _sub(_sub(processing, "processingInformation"), "swathProcParamsList", count=1),
        "swathProcParams",
    )
    _sub(params, "swath", s.swath)
    for axis, band, window in (
        ("rangeProcessing", s.range_bandwidth, s.range_window),
        ("azimuthProcessing", s.azimuth_bandwidth, s.azimuth_window),
    ):
        el = _sub(params, axis)
        _sub(el, "windowType", "Hamming")
        _sub(el, "windowCoefficient", window)
        _sub(el, "totalBandwidth", band)
        _sub(el, "processingBandwidth", band)
        _sub(el, "lookBandwidth", band)
        _sub(el, "numberOfLooks", "1")
    dc_list = _sub(_sub(root, "dopplerCentroid"), "dcEstimateList", count=len(s.bursts))
    for burst in s.bursts:
        item = _sub(dc_list, "dcEstimate")
        _sub(item, "azimuthTime", iso(burst.azimuth_time))
        _sub(item, "t0", s.slant_range_time)
        _sub(item, "geometryDcPolynomial", " ".join(map(_num, (0.0, 0.0, 0.0))), count=3)
        _sub(item, "dataDcPolynomial", " ".join(map(_num, s.doppler)), count=3)
    timing = _sub(root, "swathTiming")
    _sub(timing, "linesPerBurst", str(s.lines))
    _sub(timing, "samplesPerBurst", str(s.samples))
    bursts = _sub(timing, "burstList", count=len(s.bursts))
    for k, burst in enumerate(s.bursts):
        el = _sub(bursts, "burst")
        _sub(el, "azimuthTime", iso(burst.azimuth_time))
        _sub(el, "azimuthAnxTime", burst.anx_time)
        _sub(el, "sensingTime", iso(burst.azimuth_time))
        _sub(el, "byteOffset", str(k * s.lines * s.samples * 4))
        first, last = burst.first_valid_sample, burst.last_valid_sample
        _sub(el, "firstValidSample", " ".join(map(str, first)), count=first.size)
        _sub(el, "lastValidSample", " ".join(map(str, last)), count=last.size)
        _sub(el, "burstId", str(burst.burst_id), absolute="true")
    grid = _sub(_sub(root, "geolocationGrid"), "geolocationGridPointList", count=len(s.geolocation))
    for point in s.geolocation:
        el = _sub(grid, "geolocationGridPoint")
        _sub(el, "azimuthTime", iso(point["azimuth_time"]))
        for key, tag in (
            ("slant_range_time", "slantRangeTime"),
            ("line", "line"),
            ("pixel", "pixel"),
            ("latitude", "latitude"),
            ("longitude", "longitude"),
            ("height", "height"),
            ("incidence", "incidenceAngle"),
            ("elevation", "elevationAngle"),
        ):
            value = point[key]
            _sub(el, tag, str(int(value)) if tag in ("line", "pixel") else value)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


def manifest_xml(
    mission: str,
    track: int,
    absolute_orbit: int,
    direction: str,
    start: datetime,
    stop: datetime,
    footprint: Sequence[tuple[float, float]],
) -> bytes:
    """A ``manifest.safe`` (XFDU) with the metadata a SAFE reader needs.

    ``footprint``: (lat, lon) corners of the product.
    """
    for prefix, uri in _NS.items():
        ET.register_namespace(prefix, uri)

    def q(prefix: str, tag: str) -> str:
        return f"{{{_NS[prefix]}}}{tag}"

    root = ET.Element(
        q("xfdu", "XFDU"),
        {"version": "esa/safe/sentinel-1.0/sentinel-1/sar/level-1/slc/standard/iwdp"},
    )
    section = ET.SubElement(root, "metadataSection")

    def wrap(name: str) -> ET.Element:
        obj = ET.SubElement(section, "metadataObject", {"ID": name})
        return ET.SubElement(ET.SubElement(obj, "metadataWrap"), "xmlData")

    platform = ET.SubElement(wrap("platform"), q("safe", "platform"))
    ET.SubElement(platform, q("safe", "familyName")).text = "SENTINEL-1"
    ET.SubElement(platform, q("safe", "number")).text = mission[-1]
    instrument = ET.SubElement(platform, q("safe", "instrument"))
    mode = ET.SubElement(
        ET.SubElement(
            ET.SubElement(instrument, q("safe", "extension")), q("s1sarl1", "instrumentMode")
        ),
        q("s1sarl1", "mode"),
    )
    mode.text = "IW"
    general = ET.SubElement(
        wrap("generalProductInformation"), q("s1sarl1", "standAloneProductInformation")
    )
    ET.SubElement(general, q("s1sarl1", "productType")).text = "SLC"
    ET.SubElement(general, q("s1sarl1", "transmitterReceiverPolarisation")).text = "VV"
    period = ET.SubElement(wrap("acquisitionPeriod"), q("safe", "acquisitionPeriod"))
    ET.SubElement(period, q("safe", "startTime")).text = iso(start)
    ET.SubElement(period, q("safe", "stopTime")).text = iso(stop)
    orbit = ET.SubElement(wrap("measurementOrbitReference"), q("safe", "orbitReference"))
    for kind in ("start", "stop"):
        ET.SubElement(orbit, q("safe", "orbitNumber"), {"type": kind}).text = str(absolute_orbit)
    for kind in ("start", "stop"):
        ET.SubElement(orbit, q("safe", "relativeOrbitNumber"), {"type": kind}).text = str(track)
    ext = ET.SubElement(ET.SubElement(orbit, q("safe", "extension")), q("s1", "orbitProperties"))
    ET.SubElement(ext, q("s1", "pass")).text = direction.upper()
    frame = ET.SubElement(
        ET.SubElement(wrap("measurementFrameSet"), q("safe", "frameSet")), q("safe", "frame")
    )
    coords = ET.SubElement(ET.SubElement(frame, q("safe", "footPrint")), q("gml", "coordinates"))
    coords.text = " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in footprint)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


def safe_name(
    mission: str, start: datetime, stop: datetime, absolute_orbit: int, datatake: int
) -> str:
    """``S1A_IW_SLC__1SSV_<start>_<stop>_<orbit>_<datatake>_<id>.SAFE`` (single pol VV)."""
    fmt = "%Y%m%dT%H%M%S"
    unique = (absolute_orbit * 7919 + datatake) % 0x10000
    return (
        f"{mission}_IW_SLC__1SSV_{start:{fmt}}_{stop:{fmt}}_{absolute_orbit:06d}_"
        f"{datatake:06X}_{unique:04X}.SAFE"
    )


def write_safe(
    folder: Path,
    name: str,
    manifest: bytes,
    swaths: Sequence[SwathRecord],
) -> dict[str, Path]:
    """Write ``folder/name`` with its manifest, annotations and empty measurement TIFFs.

    Returns the measurement TIFF of each sub-swath.  The TIFFs are tiled and sparse: blocks
    never written read as zero, so a product costs only the bursts' simulated parts.
    """
    import rasterio

    safe = Path(folder) / name
    (safe / "annotation").mkdir(parents=True, exist_ok=True)
    (safe / "measurement").mkdir(exist_ok=True)
    with atomic_output(safe / "manifest.safe") as tmp:
        tmp.write_bytes(manifest)
    tiffs = {}
    for s in swaths:
        with atomic_output(safe / "annotation" / f"{s.stem()}.xml") as tmp:
            tmp.write_bytes(annotation_xml(s))
        tiff = safe / "measurement" / f"{s.stem()}.tiff"
        with rasterio.open(
            tiff,
            "w",
            driver="GTiff",
            width=s.samples,
            height=s.lines * len(s.bursts),
            count=1,
            dtype="complex_int16",
            tiled=True,
            blockxsize=256,
            blockysize=256,
            sparse_ok=True,
        ):
            pass
        tiffs[s.swath] = tiff
    return tiffs
