"""One Sentinel-1 IW burst: its annotation values, its orbit and a window on its pixels.

Two product forms hold bursts:

- a SAFE product (``.SAFE`` folder or its ``.zip``): one annotation and one measurement TIFF
  per sub-swath and polarisation; burst ``k`` occupies TIFF lines ``k·L … (k+1)·L − 1``;
- a single-burst product as ASF's burst extractor serves it: ``<name>.tiff`` holding the
  burst's ``L`` lines, next to ``<name>.xml``, the extractor's metadata document
  (``<burst><metadata><product><swath/><polarisation/><content>`` annotation ``</content>``
  ``</product>…</metadata><manifest>`` the SAFE manifest ``</manifest></burst>``).

The annotation is parsed by :mod:`sar4tec.sentinel1.safe`.  Pixel ``(line, sample)`` of a
burst is the zero-Doppler time ``t0 + line·Δt`` and the two-way range time
``τ0 + sample / f_s``.  The azimuth times of the IPF refer to a bulk bistatic delay computed
at the middle of IW2; :meth:`Burst.radar_coordinates` applies the pixel-wise bistatic delay
``Δt = τ_IW2,mid / 2 + τ / 2 − rank / PRF`` (Gisinger et al. 2021, eq. 21, as in the ETAD
ATBD and OPERA's COMPASS): the line of a target seen at zero-Doppler time ``t`` is at
``t − Δt``.
"""

from __future__ import annotations

import logging
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from sar4tec.constants import SPEED_OF_LIGHT
from sar4tec.files import to_utc
from sar4tec.regions.bursts import full_burst_id
from sar4tec.sentinel1.orbit import Orbit
from sar4tec.sentinel1.safe import (
    BurstAnnotation,
    parse_burst_annotations,
    parse_manifest,
    safe_members,
    swath_mid_range_time,
)

log = logging.getLogger(__name__)

#: ASF burst-extractor file names: S1_<burst number>_<swath>_<time>_<pol>_<id>-BURST
_ASF_BURST = re.compile(r"S1_(\d{6})_(IW[123])_\d{8}T\d{6}_([HV]{2})_")
#: margin around a burst's sensing interval that the orbit must cover (s)
ORBIT_MARGIN_S = 60.0


@dataclass(frozen=True, eq=False)
class Burst:
    """A burst ready for geocoding.

    Attributes
    ----------
    annotation
        The burst's annotation values.
    orbit
        The orbit to geocode with: a precise/restituted EOF orbit when one covers the burst,
        else the annotation's state vectors.
    measurement
        GDAL path of the TIFF holding the pixels.
    line_offset
        TIFF line of the burst's first line.
    bistatic_reference_time
        Two-way range time at the middle of IW2 (s), the IPF's bulk bistatic reference;
        ``None`` when no IW2 annotation came with the product.
    mission, track, direction, absolute_orbit, product
        From the SAFE manifest (``product``: the SAFE or burst file name).
    """

    annotation: BurstAnnotation
    orbit: Orbit
    measurement: str
    line_offset: int
    bistatic_reference_time: float | None
    mission: str
    track: int
    direction: str
    absolute_orbit: int
    product: str

    @property
    def burst_id(self) -> str:
        """ESA full burst ID, ``TTT_BBBBBB_IWs``."""
        return self.annotation.burst_id

    def bistatic_delay(self, range_time) -> np.ndarray:
        """Azimuth time (s) to add to the IPF's line times at two-way range time(s) ``τ``.

        Raises
        ------
        ValueError
            If the product brought no IW2 annotation (the bulk reference is unknown).
        """
        if self.bistatic_reference_time is None:
            raise ValueError(
                f"{self.product}: no IW2 annotation, so the bistatic delay cannot be computed "
                "(geocode without it: bistatic_correction: false)"
            )
        a = self.annotation
        return 0.5 * self.bistatic_reference_time + 0.5 * np.asarray(range_time) - a.rank / a.prf

    def radar_coordinates(
        self, azimuth_time, slant_range, epoch: datetime, *, bistatic: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fractional ``(line, sample)`` of targets seen at zero-Doppler time and range.

        Parameters
        ----------
        azimuth_time
            Zero-Doppler times, seconds since ``epoch``.
        slant_range
            One-way slant ranges (m).
        epoch
            UTC epoch of ``azimuth_time`` (e.g. the orbit's reference epoch).
        bistatic
            Apply the pixel-wise bistatic azimuth delay (see the module notes).
        """
        a = self.annotation
        tau = 2.0 * np.asarray(slant_range, dtype=np.float64) / SPEED_OF_LIGHT
        first = (to_utc(a.azimuth_time) - to_utc(epoch)).total_seconds()
        t = np.asarray(azimuth_time, dtype=np.float64) - first
        if bistatic:
            t = t - self.bistatic_delay(tau)
        line = t / a.azimuth_time_interval
        sample = (tau - a.slant_range_time) * a.range_sampling_rate
        return line, sample

    def open(self) -> BurstReader:
        """Open the measurement TIFF (use as a context manager)."""
        return BurstReader(self)


class BurstReader:
    """Windows of a burst's pixels, read from its measurement TIFF as complex64."""

    def __init__(self, burst: Burst) -> None:
        import rasterio

        self.burst = burst
        a = burst.annotation
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                self._src = rasterio.open(burst.measurement)
        except rasterio.errors.RasterioIOError as err:
            raise ValueError(f"{burst.measurement}: cannot read the measurement ({err})") from None
        if self._src.width != a.samples or self._src.height < burst.line_offset + a.lines:
            shape = (self._src.height, self._src.width)
            self._src.close()
            raise ValueError(
                f"{burst.measurement}: {shape} pixels cannot hold burst {burst.burst_id} "
                f"(lines {burst.line_offset}…{burst.line_offset + a.lines - 1}, "
                f"{a.samples} samples)"
            )

    def read(self, lines: tuple[int, int], samples: tuple[int, int]) -> np.ndarray:
        """Pixels of burst lines ``[l0, l1)`` and samples ``[s0, s1)`` (inside the burst)."""
        from rasterio.windows import Window

        (l0, l1), (s0, s1) = lines, samples
        a = self.burst.annotation
        if not (0 <= l0 < l1 <= a.lines and 0 <= s0 < s1 <= a.samples):
            raise ValueError(f"window {lines}, {samples} lies outside burst {self.burst.burst_id}")
        window = Window(s0, self.burst.line_offset + l0, s1 - s0, l1 - l0)
        return self._src.read(1, window=window).astype(np.complex64, copy=False)

    def close(self) -> None:
        """Close the TIFF."""
        self._src.close()

    def __enter__(self) -> BurstReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def choose_orbit(orbits: Sequence[Orbit], annotation: BurstAnnotation) -> Orbit:
    """The first of ``orbits`` covering the burst with a margin, else the annotation's."""
    margin = timedelta(seconds=ORBIT_MARGIN_S)
    start, stop = annotation.sensing_start - margin, annotation.sensing_stop + margin
    for orbit in orbits:
        if orbit.covers(start, stop):
            return orbit
    if orbits:
        log.warning(
            "no EOF orbit covers burst %s (%s); using the annotation's state vectors",
            annotation.burst_id,
            annotation.sensing_start,
        )
    return annotation.orbit


def read_bursts(
    path: str | Path,
    *,
    burst_ids: Sequence[str] | None = None,
    polarization: str = "VV",
    orbits: Sequence[Orbit] = (),
) -> list[Burst]:
    """The bursts of a SAFE product or of an ASF single-burst product.

    Parameters
    ----------
    path
        ``.SAFE`` folder, SAFE ``.zip``, or a single-burst ``.tiff`` with its ``.xml``.
    burst_ids
        Full burst IDs to keep (``None``: every burst of the polarisation).
    polarization
        ``VV``, ``VH``, ``HH`` or ``HV``.
    orbits
        EOF orbits; each burst takes the first covering it (see :func:`choose_orbit`).

    Returns
    -------
    list of Burst
        In annotation order (sub-swath, then time).

    Raises
    ------
    ValueError
        If the product lacks the polarisation, a wanted burst, or a measurement TIFF.
    """
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        found = _single_burst_product(path, burst_ids, polarization.upper(), orbits)
    else:
        found = _safe_product(path, burst_ids, polarization.upper(), orbits)
    if burst_ids is not None:
        missing = sorted(set(burst_ids) - {b.burst_id for b in found})
        if missing:
            raise ValueError(f"{path}: no {polarization} burst {', '.join(missing)}")
    return found


def _safe_product(path, burst_ids, polarization, orbits) -> list[Burst]:
    files, measurements = safe_members(path)
    manifest = next((k for k in files if k.endswith("manifest.safe")), None)
    if manifest is None:
        raise ValueError(f"{path}: no manifest.safe inside")
    fields = parse_manifest(files[manifest], f"{path}:{manifest}")
    annotations = {n: xml for n, xml in sorted(files.items()) if "/annotation/" in f"/{n}"}
    iw2 = next((xml for n, xml in annotations.items() if "-iw2-" in Path(n).name), None)
    reference = swath_mid_range_time(iw2) if iw2 is not None else None
    bursts = []
    for name, xml in annotations.items():
        stem = Path(name).stem
        if f"-slc-{polarization.lower()}-" not in stem:
            continue
        kept = [
            a
            for a in parse_burst_annotations(xml, fields["track"], f"{path}:{name}")
            if burst_ids is None or a.burst_id in burst_ids
        ]
        tiff = next((gdal for m, gdal in measurements.items() if Path(m).stem == stem), None)
        if kept and tiff is None:
            raise ValueError(f"{path}: no measurement TIFF for {name}")
        bursts.extend(
            _burst(a, orbits, tiff, a.index * a.lines, reference, fields, path) for a in kept
        )
    return bursts


def _single_burst_product(tiff: Path, burst_ids, polarization, orbits) -> list[Burst]:
    meta = tiff.with_suffix(".xml")
    if not meta.exists():
        raise ValueError(f"{tiff}: the burst's metadata {meta.name} is missing")
    root = ET.parse(meta).getroot()
    xfdu = root.find("manifest")
    if xfdu is None or len(xfdu) == 0:
        raise ValueError(f"{meta}: no <manifest> in the burst metadata")
    fields = parse_manifest(ET.tostring(xfdu[0]), f"{meta}:manifest")
    contents = {
        (p.findtext("swath", "").upper(), p.findtext("polarisation", "").upper()): p.find("content")
        for p in root.iterfind("metadata/product")
    }
    if burst_ids is None:
        match = _ASF_BURST.search(tiff.name)
        if match is None:
            raise ValueError(f"{tiff}: give its burst ID (the file name does not carry one)")
        burst_ids = [full_burst_id(fields["track"], int(match[1]), match[2])]
    if len(burst_ids) != 1:
        raise ValueError(f"{tiff}: a single-burst product holds one burst, asked {burst_ids}")
    swath = burst_ids[0].rsplit("_", 1)[-1].upper()
    content = contents.get((swath, polarization))
    if content is None:
        raise ValueError(f"{meta}: no {swath} {polarization} annotation")
    iw2 = next((c for (s, _), c in contents.items() if s == "IW2"), None)
    reference = swath_mid_range_time(iw2) if iw2 is not None else None
    return [
        _burst(a, orbits, str(tiff), 0, reference, fields, tiff)
        for a in parse_burst_annotations(content, fields["track"], f"{meta}:{swath}")
        if a.burst_id == burst_ids[0]
    ]


def _burst(annotation, orbits, measurement, line_offset, reference, fields, path) -> Burst:
    return Burst(
        annotation=annotation,
        orbit=choose_orbit(orbits, annotation),
        measurement=measurement,
        line_offset=line_offset,
        bistatic_reference_time=reference,
        mission=fields["mission"],
        track=fields["track"],
        direction=fields["direction"],
        absolute_orbit=fields["absolute_orbit"],
        product=Path(path).name,
    )
