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
    # ESA measures incidence from the geocentric radius, we from the ellipsoid normal: 0.03 deg
    # here (tests/test_sentinel1_geolocation.py checks both conventions)
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


def hills(lat, lon):
    """Smooth synthetic terrain (m above the ellipsoid) around the 2022 IW2 scene."""
    return 600.0 + 400.0 * np.sin(np.radians(lat - 34.8) * 900) * np.cos(np.radians(lon) * 700)


def test_rdr2geo_inverts_geo2rdr_over_a_dem(annotation):
    from sar4tec.grid import Grid
    from sar4tec.sentinel1.geometry import radar_to_geo

    orbit = _annotation_orbit(annotation)
    dem_grid = Grid.from_bounds(-118.2, 34.5, -117.2, 35.2, 0.001)
    lat_d, lon_d = dem_grid.meshgrid()
    dem = (hills(lat_d, lon_d), dem_grid)
    # targets between DEM posts, on the bilinear surface of the DEM
    rng = np.random.default_rng(1)
    lat = rng.uniform(34.6, 35.1, 500)
    lon = rng.uniform(-118.0, -117.4, 500)
    row, col = dem_grid.index(lat, lon)
    from scipy.ndimage import map_coordinates

    height = map_coordinates(dem[0], [row, col], order=1)
    geo = zero_doppler_geometry(orbit, lat, lon, height)
    lat2, lon2, h2 = radar_to_geo(orbit, geo.azimuth_time, geo.slant_range, dem=dem)
    # Newton stops below 1e-5 m; double precision of ECEF coordinates is ~1e-9 m
    metres = np.hypot((lat2 - lat) * 111e3, (lon2 - lon) * 111e3 * np.cos(np.radians(lat)))
    assert metres.max() < 1e-4 and np.abs(h2 - height).max() < 1e-4
    # the same with the heights given instead of the DEM
    lat3, lon3, _ = radar_to_geo(orbit, geo.azimuth_time, geo.slant_range, height)
    assert np.abs(lat3 - lat).max() < 1e-9 and np.abs(lon3 - lon).max() < 1e-9


def test_rdr2geo_look_side_and_errors(annotation):
    from sar4tec.grid import Grid
    from sar4tec.sentinel1.geometry import radar_to_geo

    orbit = _annotation_orbit(annotation)
    geo = zero_doppler_geometry(orbit, 34.8, -117.7, 700.0)
    lat, lon, _ = radar_to_geo(orbit, geo.azimuth_time, geo.slant_range, 700.0, look="left")
    # the mirror point, west of the ascending track, seen with the same time and range
    mirror = zero_doppler_geometry(orbit, lat, lon, 700.0, look="left")
    assert lon < -120.0
    assert abs(mirror.azimuth_time - geo.azimuth_time) < 1e-8
    assert abs(mirror.slant_range - geo.slant_range) < 1e-4
    assert mirror.los_enu[0] > 0 > geo.los_enu[0]
    small = Grid.from_bounds(-117.0, 34.0, -116.9, 34.1, 0.01)  # east of the target
    nan = radar_to_geo(orbit, geo.azimuth_time, geo.slant_range, dem=(np.zeros(small.shape), small))
    assert np.isnan(nan[0]) and np.isnan(nan[1])
    with pytest.raises(ValueError, match="either height or dem"):
        radar_to_geo(orbit, 0.0, 8e5, 0.0, dem=(np.zeros(small.shape), small))
    with pytest.raises(ValueError, match="look"):
        radar_to_geo(orbit, 0.0, 8e5, look="up")


def test_parallel_geo2rdr_kernel_matches_the_numpy_solver(annotation):
    """The numba kernel the geocoder uses (zero_doppler_solve) against the vectorised numpy
    Newton solver (zero_doppler_range, which the simulator and zero_doppler_geometry use) on
    3600 DEM points over the scene.  Both converge to the same root; what is left is rounding
    (ECEF coordinates carry ~1e-9 m, i.e. ~1e-13 s), so 1e-6 pixel (2 ns in azimuth, 2.3 µm in
    range) is a tolerance a wrong orbit interpolation or Doppler derivative cannot meet: an
    error of one millisecond in the orbit time would move the pixels by half a line."""
    import numba

    from sar4tec.sentinel1.geometry import zero_doppler_range, zero_doppler_solve

    orbit = _annotation_orbit(annotation)
    info = annotation.find("imageAnnotation/imageInformation")
    line_s = float(info.findtext("azimuthTimeInterval"))
    sample_m = (
        SPEED_OF_LIGHT
        / 2
        / float(annotation.findtext("generalAnnotation/productInformation/rangeSamplingRate"))
    )
    points = annotation.find("geolocationGrid/geolocationGridPointList")
    lats = [float(p.findtext("latitude")) for p in points]
    lons = [float(p.findtext("longitude")) for p in points]
    lat, lon = np.meshgrid(
        np.linspace(min(lats), max(lats), 60), np.linspace(min(lons), max(lons), 60), indexing="ij"
    )
    height = hills(lat, lon)
    height[7, 11] = np.nan  # no DEM height: NaN out, the others unaffected
    t, r = zero_doppler_solve(orbit, lat, lon, height)
    known = np.isfinite(height)
    t_ref, r_ref = zero_doppler_range(orbit, lat[known], lon[known], height[known])
    assert t.shape == lat.shape and np.isnan(t[7, 11]) and np.isnan(r[7, 11])
    assert np.isfinite(t[known]).all()
    assert np.abs(t[known] - t_ref).max() / line_s < 1e-6
    assert np.abs(r[known] - r_ref).max() / sample_m < 1e-6
    # the targets are chunked independently of the thread count: identical results
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        t1, r1 = zero_doppler_solve(orbit, lat, lon, height)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(t1, t)
    np.testing.assert_array_equal(r1, r)
    short = Orbit(orbit.reference_epoch, orbit.time[:3], orbit.position[:3], orbit.velocity[:3])
    with pytest.raises(ValueError):
        zero_doppler_solve(short, lat, lon, height)
