"""Physics of the synthetic frame's parts, each against an independent or analytic truth."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from sar4tec.config import load_config
from sar4tec.geometry import ecef_to_enu_vectors, geodetic_to_ecef
from sar4tec.grid import Grid
from sar4tec.simulate import deformation, era5, ionex, ionosphere, orbit, scattering, troposphere
from sar4tec.simulate.fields import PlaneWaveField, power_law_field, rng
from sar4tec.simulate.gnss import midas_lines, observe
from sar4tec.simulate.terrain import WATER, build_terrain
from sar4tec.simulate.tides import solid_earth_tide_enu


@pytest.fixture(scope="module")
def sim():
    """The demo's simulation section with all defaults."""
    return load_config_defaults()["simulation"]


def load_config_defaults():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text("frames: {demo: {source: simulate}}\n")
        return load_config(path)


# --- random fields ---------------------------------------------------------------------------


def test_rng_streams_are_reproducible_and_independent():
    a = rng(3, "speckle", 1).standard_normal(4)
    assert np.array_equal(a, rng(3, "speckle", 1).standard_normal(4))
    assert not np.allclose(a, rng(3, "speckle", 2).standard_normal(4))
    assert not np.allclose(a, rng(4, "speckle", 1).standard_normal(4))


def test_power_law_field_spectrum_slope():
    """Radially averaged power of a beta = 8/3 field falls as k^(-8/3) (fit within ±0.25)."""
    field = power_law_field((256, 256), (1.0, 1.0), 8 / 3, rng(0, "t"))
    assert abs(field.mean()) < 1e-12 and field.std() == pytest.approx(1.0)
    power = np.abs(np.fft.fft2(field)) ** 2
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(256), np.fft.fftfreq(256), indexing="ij"))
    bins = np.geomspace(0.02, 0.3, 12)
    centre = np.sqrt(bins[1:] * bins[:-1])
    mean = [power[(k >= a) & (k < b)].mean() for a, b in zip(bins[:-1], bins[1:], strict=True)]
    slope = np.polyfit(np.log(centre), np.log(mean), 1)[0]
    # the field is cropped from a grid twice as large, which leaks a little power across k
    assert slope == pytest.approx(-8 / 3, abs=0.25)


def test_power_law_field_steepens_below_the_break_scale():
    """With a 40-pixel break, wavelengths far shorter than it fall as k^(-8/3 - 1)."""
    field = power_law_field((512, 512), (1.0, 1.0), 8 / 3, rng(0, "t"), break_scale_km=40.0)
    window = np.outer(np.hanning(512), np.hanning(512))  # no leakage from the crop edges
    power = np.abs(np.fft.fft2(field * window)) ** 2
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(512), np.fft.fftfreq(512), indexing="ij"))
    bins = np.geomspace(0.1, 0.35, 8)  # wavelengths 3-10 pixels, well below the break
    centre = np.sqrt(bins[1:] * bins[:-1])
    mean = [power[(k >= a) & (k < b)].mean() for a, b in zip(bins[:-1], bins[1:], strict=True)]
    slope = np.polyfit(np.log(centre), np.log(mean), 1)[0]
    assert slope == pytest.approx(-11 / 3, abs=0.3)


def test_plane_wave_field_unit_variance_and_advection():
    field = PlaneWaveField.random(rng(1, "w"), wind_speed_kmh=36.0)
    east, north = np.meshgrid(np.linspace(-3000, 3000, 301), np.linspace(-3000, 3000, 301))
    # spatial variance over a domain larger than the longest wavelength is about 1
    assert field(east, north).std() == pytest.approx(1.0, rel=0.25)
    # after one hour the pattern has moved by the wind (36 km/h)
    shift = field.wind_kmh
    assert field(10.0 + shift[0], 20.0 + shift[1], hours=1.0) == pytest.approx(field(10.0, 20.0))


# --- deformation -----------------------------------------------------------------------------


def test_screw_dislocation_far_field_and_slope():
    s, d = 0.022, 15000.0
    # far away v -> ±s/2 - (s/π)(D/x): 1e-5 of s/2 at 1e6 km
    assert deformation.screw_dislocation(1e9, s, d) == pytest.approx(s / 2, rel=2e-5)
    assert deformation.screw_dislocation(-1e9, s, d) == pytest.approx(-s / 2, rel=2e-5)
    assert deformation.screw_dislocation(d, s, d) == pytest.approx(s / 4)  # arctan(1) = π/4
    # strain rate at the trace: dv/dx = s / (pi D)
    h = 1.0
    slope = (deformation.screw_dislocation(h, s, d) - deformation.screw_dislocation(-h, s, d)) / 2
    assert slope == pytest.approx(s / (np.pi * d), rel=1e-6)


def test_fault_is_right_lateral_with_fixed_side_at_rest(sim):
    fault = dict(sim["fault"], strike=90.0, lat=40.0, lon=30.0, fixed_side="left")
    # 400 km north (left of an eastward strike) and south of the trace
    north = deformation.fault_velocity_enu(43.6, 30.0, fault)
    south = deformation.fault_velocity_enu(36.4, 30.0, fault)
    # far field: arctan(400/15) reaches 97.6 % of s/2, so 2.4 % of s/2 = 0.27 mm/yr remains
    assert north[0] == pytest.approx(0.0, abs=3e-4)
    # right-lateral: the south block moves west relative to the north block, by s far away
    assert south[0] == pytest.approx(-fault["slip_rate"], abs=3e-4)
    assert north[1] == pytest.approx(0.0) and north[2] == 0.0


def test_mogi_pattern():
    depth = 3000.0
    up = deformation.mogi_enu(40.0, 30.0, 40.0, 30.0, depth)
    assert up == pytest.approx([0.0, 0.0, 1.0])
    # horizontal displacement is largest at r = d / sqrt(2), 2/(3 sqrt 3) = 0.385 of the peak
    lat = 40.0 + depth / np.sqrt(2) / 6_371_000.0 * 180 / np.pi
    at = deformation.mogi_enu(lat, 30.0, 40.0, 30.0, depth)
    assert at[1] == pytest.approx(2 / (3 * np.sqrt(3)), rel=1e-3)


def test_plate_velocity_matches_published_itrf2014_eurasia_pole():
    """ITRF2014-PMM Eurasia (Altamimi et al. 2017, Table 1): ω = (-0.085, -0.531, 0.770) mas/yr."""
    omega = np.array([-0.085, -0.531, 0.770]) * np.pi / (180 * 3600 * 1000)  # rad/yr
    lat, lon = 40.7, 30.25
    v_ecef = np.cross(omega, geodetic_to_ecef(lat, lon, 0.0))
    expected = ecef_to_enu_vectors(v_ecef, lat, lon)
    got = deformation.plate_velocity_enu("EURA", "ITRF2014", lat, lon)
    # published poles are rounded to 0.001 mas/yr: 0.03 mm/yr at 6400 km
    np.testing.assert_allclose(got[:2], expected[:2], atol=5e-5)
    assert np.hypot(*got[:2]) == pytest.approx(0.028, abs=0.002)  # ~28 mm/yr in Turkey


# --- troposphere -----------------------------------------------------------------------------


def _saastamoinen(pressure_pa, lat, height):
    return (
        0.0022768
        * pressure_pa
        / 100
        / (1 - 0.00266 * np.cos(2 * np.radians(lat)) - 0.00028 * height / 1000)
    )


@pytest.mark.parametrize("month", [1, 7])
@pytest.mark.parametrize("height", [0.0, 1500.0])
def test_hydrostatic_delay_matches_saastamoinen(sim, month, height):
    """Zenith hydrostatic delay of the integrated column vs Saastamoinen from its pressure.

    Both are k1 R_d P / g_m; they differ only by Saastamoinen's approximation of the mean
    gravity of the column, a few 0.01 % of 2.3 m, i.e. well below 1 mm.
    """
    when = datetime(2018, month, 10, 15, 55, tzinfo=UTC)
    weather = troposphere.draw_weather(sim["troposphere"], when, (40.7, 30.25), 0, month)
    column = weather.column(np.array([40.7, 38.0]), np.array([30.25, 33.0]), when)
    hydro, _ = column.zenith_delays()
    i = np.argmin(np.abs(troposphere.HEIGHTS - height))
    for p in range(2):
        expected = _saastamoinen(column.pressure[p, i], column.lat[p], height)
        assert hydro[p, i] == pytest.approx(expected, abs=1e-3)


def test_wet_delay_seasonal_cycle(sim):
    """Zenith wet delay near sea level: about 5 cm in winter and 15-20 cm in summer."""
    wet = {}
    for month in (1, 7):
        values = []
        for index in range(12):
            when = datetime(2019, month, 1 + 2 * index, 15, 55, tzinfo=UTC)
            weather = troposphere.draw_weather(sim["troposphere"], when, (40.7, 30.25), 5, index)
            _, w = weather.column(np.array([40.7]), np.array([30.25]), when).zenith_delays()
            values.append(w[0, troposphere._SEA_LEVEL])
        wet[month] = np.mean(values)
    assert 0.03 < wet[1] < 0.08
    assert 0.13 < wet[7] < 0.25


def test_true_delay_interpolation_is_exact_to_0_01_mm(sim):
    """Node tables every 0.05° + linear time interpolation vs a direct column at each pixel."""
    when = datetime(2017, 8, 1, 15, 55, 21, tzinfo=UTC)
    weather = troposphere.draw_weather(sim["troposphere"], when, (40.7, 30.25), 0, 3)
    lat = np.array([40.47, 40.71, 40.93])
    lon = np.array([29.97, 30.26, 30.52])
    height = np.array([12.0, 733.0, 1850.0])
    got = troposphere.true_zenith_delay(weather, when, lat, lon, height)
    first, second = troposphere.bracketing_hours(when)
    w = (when - first).total_seconds() / 3600
    for k in range(3):
        direct = []
        for hour in (first, second):
            hydro, wet = weather.column(lat[k : k + 1], lon[k : k + 1], hour).zenith_delays()
            direct.append(np.interp(height[k], troposphere.HEIGHTS, (hydro + wet)[0]))
        # bilinear error over 5 km of weather with >= 200 km wavelengths: << 0.01 mm
        assert got[k] == pytest.approx((1 - w) * direct[0] + w * direct[1], abs=1e-5)


def _delay_from_pressure_levels(phi, t, q, levels_pa, lat, height):
    """Independent weather-model integration: geometric heights from geopotential, trapezoid
    refractivity from ``height`` to the top level, hydrostatic remainder above it."""
    g0 = 9.80665
    r_earth = 6_371_000.0
    gph = phi / g0
    z = r_earth * gph / (r_earth - gph)  # geopotential height -> geometric (spherical Earth)
    order = np.argsort(z)
    z, t, q, p = z[order], t[order], q[order], levels_pa[order]
    e = q * p / (0.622 + 0.378 * q)
    tv = t * (1 + 0.608 * q)
    n = 0.776 * p / tv + 0.233 * e / t + 3750 * e / t**2
    fine = np.linspace(height, z[-1], 20000)
    # refractivity is close to exponential in height: interpolate its logarithm
    n_fine = np.exp(np.interp(fine, z, np.log(n)))
    top = 0.776 * 287.0531 * p[-1] / 9.7  # hydrostatic delay above the 1 hPa level
    return 1e-6 * (np.trapezoid(n_fine, fine) + top)


def test_era5_file_roundtrip_and_weather_model_delay(sim, tmp_path):
    """The written NetCDF holds the atmosphere; a weather-model integration of its 37 levels
    reproduces the true zenith delay within 5 mm, which is what a correction from these files
    can reach at a node (measured: 1-2 mm from the 25 hPa level spacing near the ground, the
    log-linear refractivity between levels and the geopotential-height conversion)."""
    xr = pytest.importorskip("xarray")
    when = datetime(2020, 6, 15, 15, 55, 21, tzinfo=UTC)
    weather = troposphere.draw_weather(sim["troposphere"], when, (40.7, 30.25), 2, 0)
    lat, lon = era5.era5_grid((29.95, 40.45, 30.55, 40.95))
    hours = troposphere.bracketing_hours(when)
    levels_pa = era5.PRESSURE_LEVELS_HPA * 100
    nodes = np.meshgrid(lat, lon, indexing="ij")
    sampled = [weather.column(*nodes, h).on_pressure_levels(levels_pa) for h in hours]
    fields = {v: np.stack([np.moveaxis(s[i], -1, 0) for s in sampled]) for i, v in enumerate("ztq")}
    path = era5.write_era5(tmp_path / era5.era5_name(hours), hours, lat, lon, fields)
    ds = xr.open_dataset(path)
    assert ds.z.dims == ("valid_time", "pressure_level", "latitude", "longitude")
    assert list(ds.pressure_level.values) == list(era5.PRESSURE_LEVELS_HPA)
    assert ds.pressure_level.attrs["units"] == "hPa" and ds.z.attrs["units"] == "m**2 s**-2"
    assert np.all(np.diff(ds.latitude.values) < 0) and np.all(np.diff(ds.longitude.values) > 0)
    assert list(ds.valid_time.values.astype("datetime64[s]").astype(int)) == [
        int(h.timestamp()) for h in hours
    ]
    np.testing.assert_array_equal(ds.t.values, fields["t"].astype(np.float32))
    # hydrostatic consistency between two levels: dz = R_d Tv_mean / g ln(p1/p2)
    z = ds.z.values[0, :, 5, 5] / 9.80665
    assert np.all(np.diff(z) > 0)
    # weather-model delay at the node nearest the frame centre, at 300 m above the geoid
    iy, ix = int(np.argmin(np.abs(lat - 40.75))), int(np.argmin(np.abs(lon - 30.25)))
    model = _delay_from_pressure_levels(
        ds.z.values[0, :, iy, ix].astype(float),
        ds.t.values[0, :, iy, ix].astype(float),
        ds.q.values[0, :, iy, ix].astype(float),
        levels_pa,
        lat[iy],
        300.0,
    )
    hydro, wet = weather.column(lat[iy : iy + 1], lon[ix : ix + 1], hours[0]).zenith_delays()
    truth = np.interp(300.0, troposphere.HEIGHTS, (hydro + wet)[0])
    assert model == pytest.approx(truth, abs=0.005)


# --- ionosphere ------------------------------------------------------------------------------


class _ConstantTec:
    def vtec(self, lat, lon, when):
        return np.full(np.shape(lat), 20.0)


@pytest.mark.parametrize(
    ("incidence", "expected_mm"), [(30.5, 313.4), (39.0, 341.1), (46.0, 372.6)]
)
def test_thin_shell_range_change_at_20_tecu(incidence, expected_mm):
    """The peer values of issue 5 (20 TECU, 450 km shell, 6371 km radius, 5.405 GHz)."""
    los = np.array([-np.sin(np.radians(incidence)), 0.0, np.cos(np.radians(incidence))])
    got = ionosphere.range_change(_ConstantTec(), 40.0, 30.0, los, datetime.now(UTC), 450e3)
    assert got * 1000 == pytest.approx(expected_mm, abs=0.1)


def test_pierce_point_lies_toward_the_satellite():
    los = np.array([-0.606, -0.110, 0.788])  # ascending: satellite to the west
    lat_p, lon_p, zenith = ionosphere.pierce_point(40.7, 30.25, los, 450e3)
    assert lon_p < 30.25 - 2.0  # ~ 330 km west at 450 km height and 38° incidence
    assert np.degrees(zenith) < 38.0


def test_tec_model_solar_cycle_and_diurnal_peak():
    model = ionosphere.TecModel(seed=0, day_to_day=0.0)
    noon = [model.vtec(40.7, 30.25, datetime(y, 4, 1, 12, tzinfo=UTC)) for y in (2016, 2020, 2022)]
    assert noon[1] < noon[0] < noon[2]  # minimum 2019-2020, rise through 2022
    hours = np.arange(0, 24, 0.25)
    day = [
        model.vtec(0.0, 0.0, datetime(2016, 4, 1, tzinfo=UTC) + timedelta(hours=h)) for h in hours
    ]
    assert hours[int(np.argmax(day))] == pytest.approx(14.0, abs=0.5)  # local time = UTC at 0°E
    cycle = ionosphere.sunspot_number(np.arange(2016.0, 2023.0, 0.05))
    assert 2019.0 < 2016.0 + 0.05 * int(np.argmin(cycle)) < 2020.5


def _parse_ionex(text):
    """Minimal independent IONEX reader: header dict and the TEC maps (in TECU)."""
    lines = text.splitlines()
    header = {}
    for i, line in enumerate(lines):
        header.setdefault(line[60:].strip(), line[:60])
        if line[60:].strip() == "END OF HEADER":
            body = lines[i + 1 :]
            break
    exponent = int(header["EXPONENT"])
    labels = {
        "START OF TEC MAP",
        "END OF TEC MAP",
        "EPOCH OF CURRENT MAP",
        "START OF RMS MAP",
        "END OF RMS MAP",
        "LAT/LON1/LON2/DLON/H",
        "END OF FILE",
    }
    maps, current = [], None
    for line in body:
        label = line[60:].strip()
        if label == "START OF TEC MAP":
            current = []
        elif label == "END OF TEC MAP":
            maps.append(np.array(current, dtype=float).reshape(71, 73) * 10.0**exponent)
            current = None
        elif current is not None and label not in labels:  # a data line (16 values of I5)
            current.extend(int(line[i : i + 5]) for i in range(0, len(line), 5))
    return header, maps


def test_ionex_file_layout_and_roundtrip(tmp_path):
    model = ionosphere.TecModel(seed=1)
    day = date(2019, 3, 14)
    path = ionex.write_ionex(tmp_path / ionex.ionex_name(day), day, model, 450e3)
    assert path.name == "COD0OPSFIN_20190730000_01D_01H_GIM.INX.gz"
    text = gzip.decompress(path.read_bytes()).decode("ascii")
    assert all(len(line) <= 80 for line in text.splitlines())
    header, maps = _parse_ionex(text)
    assert header["IONEX VERSION / TYPE"].split()[:3] == ["1.0", "IONOSPHERE", "MAPS"]
    assert header["LAT1 / LAT2 / DLAT"].split() == ["87.5", "-87.5", "-2.5"]
    assert header["LON1 / LON2 / DLON"].split() == ["-180.0", "180.0", "5.0"]
    assert header["HGT1 / HGT2 / DHGT"].split() == ["450.0", "450.0", "0.0"]
    assert float(header["BASE RADIUS"]) == 6371.0 and int(header["# OF MAPS IN FILE"]) == 25
    assert len(maps) == 25 and text.count("START OF RMS MAP") == 25
    lat, lon = np.meshgrid(ionex.LATITUDES, ionex.LONGITUDES, indexing="ij")
    when = datetime(2019, 3, 14, 17, tzinfo=UTC)
    # values are rounded to 0.1 TECU (EXPONENT -1): at most 0.05 TECU off
    np.testing.assert_allclose(maps[17], model.vtec(lat, lon, when), atol=0.05 + 1e-9)
    # gzip stream without a time stamp: same bytes every time
    again = ionex.write_ionex(tmp_path / "again.INX.gz", day, model, 450e3)
    assert again.read_bytes() == path.read_bytes()


# --- tides -----------------------------------------------------------------------------------


def test_tide_grid_nodes_equal_pysolid_point_mode():
    pysolid = pytest.importorskip("pysolid")
    grid = Grid.from_bounds(30.0, 40.5, 30.3, 40.8, 0.01)
    when = datetime(2020, 11, 5, 12, 0, 0, tzinfo=UTC)
    enu = solid_earth_tide_enu(when, grid, 0.05)
    # a pixel between nodes: grid mode interpolated there vs point mode computed there
    row, col = 7, 12
    _, e, n, u = pysolid.calc_solid_earth_tides_point(
        grid.y[row],
        grid.x[col],
        when.replace(tzinfo=None),
        when.replace(tzinfo=None),
        step_sec=60,
        display=False,
        verbose=False,
    )
    # bilinear interpolation over 0.05° of a field varying over ~10000 km: < 0.01 mm
    np.testing.assert_allclose(enu[row, col], [e[0], n[0], u[0]], atol=1e-5)


# --- orbit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["ascending", "descending"])
def test_orbit_geometry(direction, tmp_path):
    when = datetime(2017, 6, 1, 15, 55, 21, tzinfo=UTC)
    o = orbit.design_orbit(when, 40.7, 30.25, 100.0, 38.0, direction)
    times = orbit.state_vector_times(when, 400.0)
    pos, vel = o.state([(t - when).total_seconds() for t in times])
    assert np.all(np.diff([t.timestamp() for t in times]) == 10.0)
    assert np.linalg.norm(pos, axis=1) - 6378137.0 == pytest.approx(693e3, abs=1.0)
    # inertial velocity (ECEF velocity + ω × r) gives the orbit normal: inclination 98.18°
    v_inertial = vel + np.cross([0.0, 0.0, orbit.OMEGA_EARTH], pos)
    normal = np.cross(pos, v_inertial)
    inclination = np.degrees(np.arccos(normal[:, 2] / np.linalg.norm(normal, axis=1)))
    np.testing.assert_allclose(inclination, 98.18, atol=1e-9)
    assert np.all(np.sign(vel[:, 2]) == (1 if direction == "ascending" else -1))
    incidence, right = orbit.look_geometry(o, 40.7, 30.25, 100.0)
    assert incidence == pytest.approx(38.0, abs=1e-6) and right
    # the lead's zero-Doppler solver on the written EOF sees the centre at the epoch
    from sar4tec.sentinel1.geometry import zero_doppler_geometry
    from sar4tec.sentinel1.orbit import read_eof

    path = orbit.write_eof(
        tmp_path / orbit.eof_name("S1A", times[0], times[-1], when + timedelta(days=20)),
        "S1A",
        times,
        pos,
        vel,
        orbit.absolute_orbit("S1A", 87, when),
        when + timedelta(days=20),
    )
    eof = read_eof(path)
    geometry = zero_doppler_geometry(eof, 40.7, 30.25, 100.0)
    assert eof.datetime_at(float(geometry.azimuth_time)) - when < timedelta(milliseconds=1)
    heading = float(geometry.heading)
    assert heading == pytest.approx(-10.0 if direction == "ascending" else -170.0, abs=3.0)
    root = ET.parse(path).getroot()
    osv = root.find(".//OSV")
    tai = datetime.fromisoformat(osv.findtext("TAI")[4:])
    utc = datetime.fromisoformat(osv.findtext("UTC")[4:])
    assert (tai - utc).total_seconds() == 37.0  # leap seconds after 2017-01-01
    assert root.findtext(".//Ref_Frame") == "EARTH_FIXED"
    absolute = int(osv.findtext("Absolute_Orbit"))
    assert (absolute - 73) % 175 + 1 == 87  # S1A relative orbit relation


def test_retarget_keeps_zero_doppler_with_a_baseline():
    when = datetime(2016, 5, 3, 15, 55, 21, tzinfo=UTC)
    nominal = orbit.design_orbit(when, 40.7, 30.25, 100.0, 38.0, "ascending")
    later = when + timedelta(days=48)
    moved = orbit.retarget(nominal, later, 40.7, 30.25, 100.0, node_offset=1e-5, radius_offset=20)
    target = geodetic_to_ecef(40.7, 30.25, 100.0)
    assert abs(orbit._doppler(moved, target)) < 1e-12
    baseline = np.linalg.norm(moved.state(0.0)[0] - nominal.state(0.0)[0])
    assert 20 < baseline < 120  # 1e-5 rad of node at 7071 km and 40.7° + 20 m radial


# --- scattering ------------------------------------------------------------------------------


def test_coherence_matrix_is_a_valid_coherence():
    model = scattering.CoherenceModel(0.7, 0.2, 30.0, 0.4, 30.0)
    days = np.arange(0, 50 * 48, 48.0)
    gamma = model.matrix(days, (days + 120) % 365.25)
    assert np.allclose(np.diag(gamma), 1.0) and np.allclose(gamma, gamma.T)
    assert np.linalg.eigvalsh(gamma).min() > -1e-12
    assert gamma[0, 1] <= 0.7 and gamma[0, -1] >= 0.2 * (1 - 0.4) ** 2 - 1e-12


def test_empirical_coherence_of_distributed_speckle_matches_model():
    """Sample coherence over L = 20000 pixels; its std is (1 - γ²)/sqrt(2L) < 0.005: check 5σ."""
    model = scattering.CoherenceModel(0.8, 0.3, 60.0, 0.3, 30.0)
    days = np.arange(0, 10 * 24, 24.0)
    gamma = model.matrix(days, days % 365.25)
    z = scattering.distributed_speckle(scattering.cholesky_factor(gamma), 20000, rng(0, "c"))
    power = np.mean(np.abs(z) ** 2, axis=1)
    empirical = np.abs(z @ z.conj().T / z.shape[1]) / np.sqrt(np.outer(power, power))
    sigma = (1 - gamma**2) / np.sqrt(2 * z.shape[1])
    assert np.all(np.abs(empirical - gamma) <= 5 * sigma + 1e-12)
    assert power == pytest.approx(1.0, abs=0.05)


def test_persistent_scatterers_have_low_amplitude_dispersion():
    g = rng(0, "ps")
    scr_db = np.array([14.0, 20.0, 30.0])
    clutter = scattering.circular_gaussian(g, (4000, 3))
    echoes = scattering.persistent_scatterers(clutter, scr_db, g)
    amplitude = np.abs(echoes)
    dispersion = amplitude.std(axis=0) / amplitude.mean(axis=0)
    expected = 1 / np.sqrt(2 * 10 ** (scr_db / 10))  # Ferretti et al. 2001, high-SCR limit
    np.testing.assert_allclose(dispersion, expected, rtol=0.1)
    assert np.all(dispersion < 0.25)


# --- terrain and GNSS ------------------------------------------------------------------------


def test_terrain_relief_lake_and_classes(sim):
    grid = Grid.from_bounds(*sim["bounds"], sim["spacing"])
    terrain = build_terrain(grid, sim, 0)
    assert terrain.grid.shape == (grid.rows + 50, grid.cols + 50)
    assert terrain.height.max() - terrain.height.min() > 1000  # a range above a plain
    assert np.all(terrain.height[terrain.water] == sim["lake"]["level"])
    assert np.all(terrain.land_cover[terrain.water] == WATER)
    assert set(np.unique(terrain.land_cover)) == set(range(6))
    assert terrain.patch.max() + 1 == terrain.patch_class.size


def test_midas_lines_have_27_columns(sim):
    g = rng(0, "g")
    true = np.array([[0.025, 0.012, -0.001], [0.010, 0.015, -0.020]])
    stations = observe(
        ["SM01", "SM02"], [40.7, 40.8], [30.2, 30.4], [50.0, 80.0], true, sim["gnss"], g
    )
    lines = midas_lines(stations, g)
    for line, ve in zip(lines, stations.observed_enu[:, 0], strict=True):
        cols = line.split()
        assert len(cols) == 27 and cols[1] == "MIDAS5" and len(cols[0]) == 4
        first, last, duration = map(float, cols[2:5])
        assert duration == pytest.approx(last - first, abs=2e-4)
        assert int(cols[6]) <= int(cols[5])  # good epochs <= epochs
        assert float(cols[8]) == pytest.approx(ve, abs=1e-6)
        assert float(cols[11]) == pytest.approx(sim["gnss"]["sigma_horizontal"])
