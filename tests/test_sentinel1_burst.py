"""Bursts of real SAFE annotations: parameters, pixels, radar coordinates, TOPS ramp."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from sar4tec.constants import SPEED_OF_LIGHT
from sar4tec.files import parse_time
from sar4tec.sentinel1.burst import Burst, read_bursts
from sar4tec.sentinel1.deramp import TopsRamp
from sar4tec.sentinel1.geometry import zero_doppler_geometry
from sar4tec.sentinel1.safe import parse_burst_annotations, safe_members

SAFE_2022 = "sentinel1/safe/S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

SAFE_2020 = "sentinel1/safe/S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768.zip"


def test_annotation_values_of_every_burst(real_data):
    bursts = read_bursts(real_data / SAFE_2020)
    assert len(bursts) == 27  # 3 sub-swaths x 9 bursts, VV only
    by_swath = {s: [b for b in bursts if b.annotation.subswath == s] for s in ("IW1", "IW2", "IW3")}
    # lines per burst listed in PROVENANCE.md; raw-data PRF and rank read in the annotations
    for swath, lines, rank in (("IW1", 1497, 9), ("IW2", 1509, 8), ("IW3", 1515, 10)):
        group = by_swath[swath]
        assert len(group) == 9 and all(b.annotation.lines == lines for b in group)
        assert [b.line_offset for b in group] == [k * lines for k in range(9)]
        assert all(b.annotation.rank == rank for b in group)
    a = by_swath["IW1"][0].annotation
    assert a.samples == 21444 and a.burst_id == "071_151200_IW1"
    assert a.azimuth_steering_rate == pytest.approx(np.radians(1.590368784))
    assert a.radar_frequency == pytest.approx(5.405000454334350e9)
    assert a.first_valid_sample.shape == (a.lines,) and a.valid_lines[0] > 0
    # the polynomials nearest to the burst centre: annotations list one every ~2.76 s
    for b in bursts:
        for poly in (b.annotation.doppler, b.annotation.fm_rate):
            assert abs((poly.azimuth_time - b.annotation.sensing_mid).total_seconds()) < 1.5
    # the IPF's bistatic reference: the middle of IW2, the same for every burst
    iw2 = by_swath["IW2"][0].annotation
    assert {b.bistatic_reference_time for b in bursts} == {iw2.mid_range_time}
    assert all(b.orbit is b.annotation.orbit for b in bursts)  # no EOF given
    with pytest.raises(ValueError, match="no VV burst 071_999999_IW1"):
        read_bursts(real_data / SAFE_2020, burst_ids=["071_999999_IW1"])
    assert len(read_bursts(real_data / SAFE_2020, polarization="VH")) == 27


def test_missing_or_empty_measurements_are_named(real_data):
    with pytest.raises(ValueError, match="no measurement TIFF"):
        read_bursts(real_data / SAFE_2022)
    burst = read_bursts(real_data / SAFE_2020, burst_ids=["071_151200_IW1"])[0]
    with pytest.raises(ValueError, match="cannot read the measurement"):
        burst.open()  # the real product ships 0-byte TIFFs


def test_radar_coordinates_reproduce_esa_geolocation_grid(real_data):
    """ESA's geolocation grid (a real peer) gives line/pixel of known lat/lon/height.

    Range: our two-way time → sample reproduces ESA's pixel to 0.005 sample (1 cm).  Azimuth:
    the grid's line numbers refer to the swath's continuous line timeline, which differs from
    the burst start times by up to 0.14 line (measured on all four annotations), so lines agree
    to 0.15 line; the azimuth times themselves agree to 3 µs (test_sentinel1_geometry).
    """
    for name, track in ((SAFE_2022, 64), (SAFE_2020, 71)):
        files, _ = safe_members(real_data / name)
        for member in sorted(n for n in files if "/annotation/" in n and "-vv-" in n):
            root = ET.fromstring(files[member])
            annotations = parse_burst_annotations(root, track)
            points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
            v = {
                k: np.array([float(p.findtext(k)) for p in points])
                for k in ("line", "pixel", "latitude", "longitude", "height")
            }
            orbit = annotations[0].orbit
            geo = zero_doppler_geometry(orbit, v["latitude"], v["longitude"], v["height"])
            index = np.minimum(v["line"] // annotations[0].lines, len(annotations) - 1)
            line = np.empty(index.size)
            sample = np.empty(index.size)
            for k in np.unique(index).astype(int):
                a = annotations[k]
                burst = Burst(a, orbit, "", 0, None, "S1A", track, "", 0, name)
                sel = index == k
                line[sel], sample[sel] = burst.radar_coordinates(
                    geo.azimuth_time[sel],
                    geo.slant_range[sel],
                    orbit.reference_epoch,
                    bistatic=False,
                )
                line[sel] += k * a.lines
            assert np.abs(sample - v["pixel"]).max() < 0.005, member
            assert np.abs(line - v["line"]).max() < 0.15, member


def test_bistatic_delay_worked_example(real_data):
    """Gisinger et al. (2021) eq. 21 with the numbers of the IW1 annotation of 2020-05-11."""
    burst = read_bursts(real_data / SAFE_2020, burst_ids=["071_151200_IW1"])[0]
    tau_iw2_mid = 5.644353088882477e-03 + 0.5 * 25359 / 6.434523812571428e07  # IW2 annotation
    tau = 5.334431164884956e-03  # IW1 first sample
    expected = tau_iw2_mid / 2 + tau / 2 - 9 / 1.717128973878037e03  # rank 9, raw PRF
    assert burst.bistatic_delay(tau) == pytest.approx(expected, abs=1e-12)
    # the delay moves the line of a target by a fraction of a line (2 ms line interval)
    assert 0 < expected < 0.5 * burst.annotation.azimuth_time_interval
    epoch = burst.orbit.reference_epoch
    t = (burst.annotation.azimuth_time - epoch).total_seconds() + 0.5
    r = tau * SPEED_OF_LIGHT / 2
    with_delay, _ = burst.radar_coordinates(t, r, epoch)
    without, _ = burst.radar_coordinates(t, r, epoch, bistatic=False)
    assert without - with_delay == pytest.approx(expected / burst.annotation.azimuth_time_interval)


def test_tops_ramp_worked_example(real_data):
    """The ramp at one pixel, computed here step by step from ESA's document (Miranda 2017)."""
    burst = read_bursts(real_data / SAFE_2020, burst_ids=["071_151200_IW1"])[0]
    a = burst.annotation
    ramp = TopsRamp.from_burst(a, burst.orbit)
    line, sample = 100.0, 15000.0
    _, velocity = burst.orbit.interpolate(burst.orbit.seconds_since_epoch(a.sensing_mid))
    ks = (
        2
        * np.linalg.norm(velocity)
        * np.radians(1.590368784)
        / (SPEED_OF_LIGHT / 5.405000454334350e9)
    )
    tau = 5.334431164884956e-03 + sample / 6.434523812571428e07
    ka = np.polyval(a.fm_rate.coefficients[::-1], tau - a.fm_rate.t0)
    fdc = np.polyval(a.doppler.coefficients[::-1], tau - a.doppler.t0)
    tau_mid = 5.334431164884956e-03 + 21444 / 2 / 6.434523812571428e07
    ka_mid = np.polyval(a.fm_rate.coefficients[::-1], tau_mid - a.fm_rate.t0)
    fdc_mid = np.polyval(a.doppler.coefficients[::-1], tau_mid - a.doppler.t0)
    kt = ka * ks / (ka - ks)
    eta_ref = -fdc / ka + fdc_mid / ka_mid
    eta = (line - 1497 / 2) * 2.055556299999998e-03
    expected = np.pi * kt * (eta - eta_ref) ** 2 + 2 * np.pi * fdc * (eta - eta_ref)
    assert ramp.phase(line, sample) == pytest.approx(expected, rel=1e-12)
    # physical scale: the steered Doppler centroid sweeps ~kt * burst length (several kHz,
    # ten times the azimuth sampling rate) and kt is positive (beam steered aft to fore)
    assert 1000 < kt < 2500 and kt * a.lines * a.azimuth_time_interval > 8 / a.azimuth_time_interval
    # the local Doppler centroid is the derivative of the carrier phase
    h = 1e-3
    freq = (ramp.phase(line + h, sample) - ramp.phase(line - h, sample)) / (
        2 * h * a.azimuth_time_interval * 2 * np.pi
    )
    assert freq == pytest.approx(fdc + kt * (eta - eta_ref), abs=1e-3)


def _asf_burst_product(real_data, folder, burst_number: int):
    """An ASF burst-extractor product: the burst's TIFF and the combined metadata XML."""
    with zipfile.ZipFile(real_data / SAFE_2022) as z:
        names = z.namelist()
        annotation = z.read(next(n for n in names if "/annotation/" in n and n.endswith(".xml")))
        manifest = z.read(next(n for n in names if n.endswith("manifest.safe")))
    root = ET.Element("burst")
    product = ET.SubElement(ET.SubElement(root, "metadata"), "product")
    ET.SubElement(product, "swath").text = "IW2"
    ET.SubElement(product, "polarisation").text = "VV"
    content = ET.SubElement(product, "content")
    content.extend(list(ET.fromstring(annotation)))
    ET.SubElement(root, "manifest").append(ET.fromstring(manifest))
    stem = f"S1_{burst_number}_IW2_20221016T015052_VV_6681-BURST"
    (folder / f"{stem}.xml").write_bytes(ET.tostring(root))
    return folder / f"{stem}.tiff"


def test_single_burst_product(real_data, tmp_path):
    tiff = _asf_burst_product(real_data, tmp_path, 135521)
    rng = np.random.default_rng(3)
    block = rng.integers(-500, 500, (40, 60)) + 1j * rng.integers(-500, 500, (40, 60))
    profile = dict(
        driver="GTiff",
        width=25470,
        height=1508,
        count=1,
        dtype="complex_int16",
        tiled=True,
        blockxsize=256,
        blockysize=256,
        sparse_ok=True,
    )
    with rasterio.open(tiff, "w", **profile) as dst:
        dst.write(block.astype(np.complex64), 1, window=Window(3000, 700, 60, 40))
    (burst,) = read_bursts(tiff)  # the burst ID comes from the ASF file name
    assert burst.burst_id == "064_135521_IW2" and burst.line_offset == 0
    assert burst.annotation.azimuth_time == parse_time("2022-10-16T01:50:52.846785")
    assert burst.track == 64 and burst.direction == "ascending" and burst.mission == "S1A"
    assert burst.bistatic_reference_time == pytest.approx(burst.annotation.mid_range_time)
    with burst.open() as reader:
        assert np.array_equal(reader.read((700, 740), (3000, 3060)), block)
        with pytest.raises(ValueError, match="outside burst"):
            reader.read((1500, 1510), (0, 10))
    with pytest.raises(ValueError, match="a single-burst product holds one burst"):
        read_bursts(tiff, burst_ids=["064_135521_IW2", "064_135522_IW2"])
    wrong = _asf_burst_product(real_data, tmp_path, 135522)
    with rasterio.open(wrong, "w", **dict(profile, height=100)) as dst:
        pass
    (short,) = read_bursts(wrong)
    with pytest.raises(ValueError, match="cannot hold burst 064_135522_IW2"):
        short.open()
