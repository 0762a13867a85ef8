"""EOF orbits and zero-Doppler geometry, checked against ESA's own annotation (a real peer)."""

import xml.etree.ElementTree as ET
import zipfile
from datetime import timedelta

import numpy as np
import pytest

from sar4tec.constants import SPEED_OF_LIGHT
from sar4tec.files import parse_time
from sar4tec.sentinel1.geometry import zero_doppler_geometry
from sar4tec.sentinel1.orbit import Orbit, eof_validity, read_eof, select_orbit

RESORB = "S1A_OPER_AUX_RESORB_OPOD_20230823T162050_V20230823T123139_20230823T154909.EOF"
SAFE = "S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"


@pytest.fixture(scope="module")
def annotation(real_data):
    with zipfile.ZipFile(real_data / "sentinel1/safe" / SAFE) as z:
        name = next(n for n in z.namelist() if "/annotation/" in n and n.endswith(".xml"))
        return ET.fromstring(z.read(name))


def _annotation_orbit(root) -> Orbit:
    osvs = root.find("generalAnnotation/orbitList")
    times = [parse_time(o.findtext("time")) for o in osvs]
    pos = [[float(o.findtext(f"position/{c}")) for c in "xyz"] for o in osvs]
    vel = [[float(o.findtext(f"velocity/{c}")) for c in "xyz"] for o in osvs]
    return Orbit.from_state_vectors(times, np.array(pos), np.array(vel))


def test_read_real_eof_files(real_data):
    orbit = read_eof(real_data / "sentinel1/orbits" / RESORB)
    assert orbit.time.size == 1186
    assert np.allclose(np.diff(orbit.time), 10.0)
    radius = np.linalg.norm(orbit.position, axis=1)
    # Sentinel-1 flies ~693 km above a ~6371 km Earth at ~7.6 km/s (Earth-fixed)
    assert 7.0e6 < radius.min() and radius.max() < 7.1e6
    assert np.allclose(np.linalg.norm(orbit.velocity, axis=1), 7.6e3, rtol=0.02)
    start, stop = eof_validity(real_data / "sentinel1/orbits" / RESORB)
    # the header's validity period is given to whole seconds
    assert (
        abs((orbit.start - start).total_seconds()) < 1
        and abs((orbit.stop - stop).total_seconds()) < 1
    )
    example = read_eof(real_data / "sentinel1/orbits/S1_orbit_example.EOF")
    assert example.time.size == 8 and str(example.start) == "2018-11-12 23:00:02+00:00"
    with pytest.raises(ValueError, match="no orbit covers"):
        select_orbit([example], orbit.start, orbit.stop)


def test_hermite_interpolation_reproduces_held_out_vectors(real_data):
    orbit = read_eof(real_data / "sentinel1/orbits" / RESORB)
    sub = Orbit(orbit.reference_epoch, orbit.time[::2], orbit.position[::2], orbit.velocity[::2])
    held_out = orbit.time[1:-1:2][:200]
    pos, vel = sub.interpolate(held_out)
    index = np.searchsorted(orbit.time, held_out)
    # cubic Hermite over 20 s of a 7.6 km/s orbit: centimetre-level (10 s spacing: better)
    assert np.abs(pos - orbit.position[index]).max() < 0.05
    assert np.abs(vel - orbit.velocity[index]).max() < 0.01
    with pytest.raises(ValueError, match="outside the orbit"):
        orbit.interpolate(orbit.time[-1] + 1.0)


def test_zero_doppler_matches_esa_geolocation_grid(annotation):
    orbit = _annotation_orbit(annotation)
    points = annotation.find("geolocationGrid/geolocationGridPointList")
    values = {
        key: np.array([float(p.findtext(key)) for p in points])
        for key in ("latitude", "longitude", "height", "incidenceAngle", "slantRangeTime")
    }
    azimuth = np.array(
        [orbit.seconds_since_epoch(parse_time(p.findtext("azimuthTime"))) for p in points]
    )
    geo = zero_doppler_geometry(orbit, values["latitude"], values["longitude"], values["height"])
    # ESA lists geolocation-grid times to microseconds and ranges as two-way times to ~1e-15 s
    assert np.abs(geo.azimuth_time - azimuth).max() < 1e-5
    assert np.abs(geo.slant_range - values["slantRangeTime"] * SPEED_OF_LIGHT / 2).max() < 0.01
    # ESA's incidence is within 0.05 deg of ours (its ellipsoid-normal convention differs slightly)
    assert np.abs(geo.incidence - values["incidenceAngle"]).max() < 0.05
    # relative orbit 64 ascending: heading ~ -10 deg, LOS points west and up
    assert np.all((geo.heading > -15) & (geo.heading < -5))
    assert np.all(geo.los_enu[..., 0] < 0) and np.all(geo.los_enu[..., 2] > 0.7)


def test_zero_doppler_rejects_targets_the_orbit_does_not_see(annotation):
    orbit = _annotation_orbit(annotation)
    short = Orbit(orbit.reference_epoch, orbit.time[:3], orbit.position[:3], orbit.velocity[:3])
    with pytest.raises(ValueError):
        zero_doppler_geometry(short, 34.0, -118.0, 0.0)


def test_covering_orbit_selection(real_data):
    orbit = read_eof(real_data / "sentinel1/orbits" / RESORB)
    t = orbit.start + timedelta(minutes=30)
    assert select_orbit([orbit], t, t + timedelta(seconds=30)) is orbit
