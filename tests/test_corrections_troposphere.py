"""Troposphere: ERA5 readers, delay physics against analytic truth, pyaps3 and Saastamoinen."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sar4tec.corrections import troposphere as tp
from sar4tec.corrections.weather import WeatherFields, read_weather

GRIB = "era5/ERA5_N30_N40_E120_E140_20101017_14.grb"
GRIB_TIME = datetime(2010, 10, 17, 14, tzinfo=UTC)
PIXEL = (100, 100)


def isce_geometry(real_data):
    """PyAPS's ISCE radar-geometry rasters: 460 lines x 237 samples, los band 1 = incidence."""
    folder = real_data / "era5/pyaps_geometry"
    shape = (460, 237)
    lat, lon, hgt = (np.fromfile(folder / f"{n}.rdr").reshape(shape) for n in ("lat", "lon", "hgt"))
    los = np.fromfile(folder / "los.rdr", dtype=np.float32).reshape(shape[0], 2, shape[1])
    return lat, lon, hgt, los[:, 0, :].astype(np.float64)


def write_new_cds_netcdf(fields: WeatherFields, path, times=None) -> None:
    """Write fields in the new-CDS NetCDF layout: valid_time, pressure_level, latitude descending,
    int16-packed z, t, q (as the CDS does)."""
    import netCDF4

    times = times or fields.times
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("valid_time", len(times))
        ds.createDimension("pressure_level", fields.pressure.size)
        ds.createDimension("latitude", fields.lat.size)
        ds.createDimension("longitude", fields.lon.size)
        vt = ds.createVariable("valid_time", "i8", ("valid_time",))
        vt.units = "seconds since 1970-01-01"
        vt.calendar = "proleptic_gregorian"
        vt[:] = [int(t.timestamp()) for t in times]
        pl = ds.createVariable("pressure_level", "f8", ("pressure_level",))
        pl.units = "hPa"
        pl[:] = fields.pressure[::-1] / 100.0  # the CDS writes 1000 hPa first
        ds.createVariable("latitude", "f8", ("latitude",))[:] = fields.lat[::-1]
        ds.createVariable("longitude", "f8", ("longitude",))[:] = fields.lon
        for name in ("z", "t", "q"):
            data = getattr(fields, name)[:, ::-1, ::-1, :]
            if len(times) != data.shape[0]:
                data = np.repeat(data[:1], len(times), axis=0)
            lo, hi = float(data.min()), float(data.max())
            scale = (hi - lo) / 65000.0
            var = ds.createVariable(
                name, "i2", ("valid_time", "pressure_level", "latitude", "longitude")
            )
            var.scale_factor = scale
            var.add_offset = (hi + lo) / 2.0
            var[:] = data


def test_read_grib_layout(real_data):
    w = read_weather(real_data / GRIB)
    assert w.times == [GRIB_TIME]
    assert w.z.shape == (1, 37, 41, 81)
    assert w.pressure[0] == 100.0 and w.pressure[-1] == 100_000.0
    assert np.all(np.diff(w.lat) > 0) and np.all(np.diff(w.lon) > 0)
    # physical sanity: geopotential decreases with pressure, 1000 hPa is near sea level
    assert np.all(np.diff(w.z, axis=1) < 0)
    assert np.all(np.abs(w.z[0, -1] / 9.80665) < 500)


def test_pyaps3_peer(real_data):
    """pyaps3 0.3.7 at pixel (100, 100): slant 3.04178 m (dry 2.94752, wet 0.09425).

    The heights in hgt.rdr are orthometric (sea at 0 m), which is also what pyaps compares ERA5
    geopotential heights with, so no geoid is applied here.  Our result is 3.07 m; the 3 cm are
    three pyaps conventions, each checked below (docs/corrections.md):
    - dry: pyaps divides by a constant g = 9.81 m/s², we integrate dP/g with the gravity of each
      level (column mean ~9.772 m/s² at 31.6°N: -0.39 %, -11.5 mm), and pyaps drops the
      hydrostatic delay above its top height, the 1 hPa level (1e-6 k1 Rd 100 Pa / g: -2.3 mm
      zenith);
    - wet: pyaps's cumulative trapezoid is one height step (160.3 m here) out of register, so
      it reports the wet delay of a point 160 m higher (-15 mm in this humid boundary layer).
    """
    lat, lon, hgt, inc = isce_geometry(real_data)
    r, c = PIXEL
    grib = read_weather(real_data / GRIB)
    step = (grib.z.max() / 9.81 - (-200.0)) / 299  # pyaps: 300 heights from -200 m to the top
    hyd, wet = tp.zenith_delay(
        grib, lat[r, c], lon[r, c], np.array([hgt[r, c], hgt[r, c] + step]), GRIB_TIME
    )
    mapping = 1.0 / np.cos(np.radians(inc[r, c]))
    ours = (hyd[0] + wet[0]) * mapping
    slant = tp.slant_delay(grib, lat[r, c], lon[r, c], hgt[r, c], inc[r, c], GRIB_TIME)
    assert slant == pytest.approx(ours, abs=1e-9)
    # the total: our physics is ~3 cm longer; asserted to the size the conventions explain
    assert 0.0 < ours - 3.04178 < 0.035
    # dry, in pyaps's conventions: column-mean gravity (Saastamoinen's g_m) -> 9.81, minus top
    phi = np.radians(lat[r, c])
    g_mean = 9.784 * (1 - 0.00266 * np.cos(2 * phi) - 0.00028 * hgt[r, c] / 1000)
    top = 1e-6 * tp.K1 * tp.RD * 100.0 / 9.81
    dry_pyaps_convention = (hyd[0] * g_mean / 9.81 - top) * mapping
    # 3 mm: g_m is Saastamoinen's approximation of our column gravity (~1e-4 relative) and
    # pyaps interpolates pressure with cubic splines, we log-linearly
    assert dry_pyaps_convention == pytest.approx(2.94752, abs=3e-3)
    # wet, one pyaps height step higher; 3 mm: cubic-spline vs exponential vapour profiles
    assert wet[1] * mapping == pytest.approx(0.09425, abs=3e-3)


def test_new_cds_netcdf_and_reordered_grib_match_grib(real_data, tmp_path):
    import eccodes

    lat, lon, hgt, inc = isce_geometry(real_data)
    sl = (slice(None, None, 23), slice(None, None, 17))
    lat, lon, hgt, inc = lat[sl], lon[sl], hgt[sl], inc[sl]
    reference = tp.slant_delay(real_data / GRIB, lat, lon, hgt, inc, GRIB_TIME)

    # the same messages in another order (as new-CDS GRIB files come)
    with open(real_data / GRIB, "rb") as fh:
        messages = []
        while (gid := eccodes.codes_grib_new_from_file(fh)) is not None:
            messages.append(eccodes.codes_get_message(gid))
            eccodes.codes_release(gid)
    random.Random(1).shuffle(messages)
    shuffled = tmp_path / "shuffled.grib"
    shuffled.write_bytes(b"".join(messages))
    reordered = tp.slant_delay(shuffled, lat, lon, hgt, inc, GRIB_TIME)
    np.testing.assert_array_equal(reordered, reference)

    nc = tmp_path / "new_cds.nc"
    write_new_cds_netcdf(read_weather(real_data / GRIB), nc)
    from_nc = tp.slant_delay(nc, lat, lon, hgt, inc, GRIB_TIME)
    # int16 packing quantises z to ~7 m²/s² (0.7 m of height), t to 5 mK, q to 3e-7:
    # together well under 1 mm of slant delay
    np.testing.assert_allclose(from_nc, reference, atol=1e-3)


def test_legacy_netcdf_hydrostatic_matches_saastamoinen(real_data):
    """ZHD from the ERA5 levels vs Saastamoinen (1972) from the pressure at the same height.

    The pressure at each test height is interpolated (log-linear in geometric height) from the
    levels independently here; Saastamoinen's column gravity g_m approximates our level-by-level
    integral of dP/g to ~1e-4, i.e. a few tenths of a mm on 2.3 m.
    """
    w = read_weather(real_data / "era5/ERA-5_2018_03_27_T13_00_00.nc")
    assert w.times == [datetime(2018, 3, 27, 13, tzinfo=UTC)]
    assert w.z.shape == (1, 37, 24, 67)
    i, j = 10, 30
    lat, lon = w.lat[i], w.lon[j]
    h_levels = tp.geometric_height(w.z[0, :, i, j], lat)
    heights = h_levels[-1] + np.array([5.0, 350.0, 1200.0, 2500.0])  # above the 1000 hPa level
    hyd, wet = tp.zenith_delay(w, lat, lon, heights, w.times[0])
    p_at = np.exp(np.interp(heights, h_levels[::-1], np.log(w.pressure[::-1])))
    phi = np.radians(lat)
    saastamoinen = (
        0.0022768 * (p_at / 100) / (1 - 0.00266 * np.cos(2 * phi) - 0.00028 * heights / 1000)
    )
    np.testing.assert_allclose(hyd, saastamoinen, atol=3e-3)
    assert np.all(np.diff(hyd) < 0) and np.all(np.diff(wet) < 0)
    assert 0.0 < wet[0] < 0.5


def synthetic_atmosphere(times, temperature=280.0, e0=1500.0, scale_wet=2000.0):
    """Isothermal atmosphere (P = P0 exp(-Φ/(Rd T))) with exponential vapour pressure."""
    pressure = np.array(tp_levels()) * 100.0
    lat = np.array([10.0, 10.25, 10.5])
    lon = np.array([20.0, 20.25, 20.5])
    p0 = 101_325.0
    phi = tp.RD * temperature * np.log(p0 / pressure)  # geopotential of each level
    z = np.broadcast_to(phi[:, None, None], (pressure.size, 3, 3)).copy()
    h = tp.geometric_height(z, lat[None, :, None])
    e = e0 * np.exp(-h / scale_wet)
    q = tp.EPSILON * e / (pressure[:, None, None] - (1 - tp.EPSILON) * e)
    t = np.full_like(z, temperature)
    stack = [np.stack([a] * len(times)) for a in (z, t, q)]
    return WeatherFields(Path("synthetic.nc"), list(times), lat, lon, pressure, *stack)


def tp_levels():
    from sar4tec.acquire.era5 import PRESSURE_LEVELS

    return PRESSURE_LEVELS


def test_analytic_isothermal_atmosphere():
    """Truth: exponential vapour gives ZWD = 1e-6 (k2'/T + k3/T²) e0 He exp(-h/He) exactly;
    the hydrostatic delay is 1e-6 k1 Rd ∫ dP/g, integrated finely here."""
    when = datetime(2020, 1, 1, tzinfo=UTC)
    temperature, e0, scale = 280.0, 1500.0, 2000.0
    fields = synthetic_atmosphere([when], temperature, e0, scale)
    heights = np.array([-150.0, 0.0, 37.0, 820.0, 3300.0])  # -150 m: below the 1000 hPa level
    hyd, wet = tp.zenith_delay(fields, 10.1, 20.3, heights, when)
    wet_truth = 1e-6 * (tp.K2_PRIME / temperature + tp.K3 / temperature**2) * e0 * scale
    wet_truth = wet_truth * np.exp(-heights / scale)
    # the exponential-layer integral is exact for this profile; what is left is the linear
    # interpolation between table heights 20 m apart: (20²/8) / 2000² = 1.25e-5 relative
    np.testing.assert_allclose(wet, wet_truth, rtol=2e-5)

    lat = 10.1
    p0 = 101_325.0
    for h, value in zip(heights, hyd, strict=True):
        p_h = p0 * np.exp(-_geopotential(h, lat) / (tp.RD * temperature))
        p = np.linspace(0.0, p_h, 200_001)[1:]
        z = tp.geometric_height(tp.RD * temperature * np.log(p0 / p), lat)
        r = tp.effective_radius(lat)
        g = tp.normal_gravity(lat) * (r / (r + z)) ** 2
        truth = 1e-6 * tp.K1 * tp.RD * (np.trapezoid(1 / g, p) + p[0] / g[0])
        # 20 m table spacing with linear interpolation: < 0.05 mm
        assert value == pytest.approx(truth, abs=5e-5)


def _geopotential(h, lat):
    r = tp.effective_radius(lat)
    return tp.normal_gravity(lat) * r * h / (r + h)


def test_geometric_height_inverts_geopotential():
    lat = np.array([0.0, 45.0, 80.0])
    h = np.array([-300.0, 5000.0, 48000.0])
    np.testing.assert_allclose(tp.geometric_height(_geopotential(h, lat), lat), h, atol=1e-6)
    # at 45° and 10 km geopotential height, geometric height is ~15 m higher (textbook value)
    assert tp.geometric_height(10_000 * tp.G0, 45.0) - 10_000 == pytest.approx(15.7, abs=1.0)


def test_time_interpolation_and_bracketing():
    t0 = datetime(2020, 1, 1, 15, tzinfo=UTC)
    dry = synthetic_atmosphere([t0, t0 + timedelta(hours=1)], e0=500.0)
    wet = synthetic_atmosphere([t0], e0=2500.0)
    fields = WeatherFields(
        dry.path,
        dry.times,
        dry.lat,
        dry.lon,
        dry.pressure,
        dry.z,
        dry.t,
        np.stack([dry.q[0], wet.q[0]]),
    )
    args = (10.2, 20.2, 100.0, 35.0)
    d0 = tp.slant_delay(fields, *args, t0)
    d1 = tp.slant_delay(fields, *args, t0 + timedelta(hours=1))
    quarter = tp.slant_delay(fields, *args, t0 + timedelta(minutes=15))
    assert d1 > d0
    assert quarter == pytest.approx(0.75 * d0 + 0.25 * d1, abs=1e-12)
    with pytest.raises(ValueError, match="bracket"):
        tp.slant_delay(fields, *args, t0 + timedelta(hours=2))


def test_geoid_shifts_heights(real_data, tmp_path):
    """ERA5 heights + N = ellipsoidal: the delay at ellipsoidal h with a geoid N equals the
    delay at h - N without one, but for normal gravity taken 35 m higher (2 x 35 m / 6371 km
    = 1.1e-5 relative, 25 µm on 2.3 m) and the table interpolation (< 10 µm)."""
    w = read_weather(real_data / GRIB)
    with_geoid = tp.zenith_delay(w, 31.6, 130.7, 300.0, GRIB_TIME, geoid=35.0)
    without = tp.zenith_delay(w, 31.6, 130.7, 300.0 - 35.0, GRIB_TIME)
    np.testing.assert_allclose(with_geoid, without, atol=5e-5)

    # a geoid raster: the real EGM2008 cut-out of Los Angeles, sampled at a pixel centre
    import rasterio

    path = real_data / "dem/dem_stitcher_glo30_los_angeles/egm_08_los_angeles.tif"
    with rasterio.open(path) as src:
        band = src.read(1)
        lon_c, lat_c = src.xy(5, 5)
    assert tp.geoid_undulation(str(path), lat_c, lon_c) == pytest.approx(band[5, 5], abs=1e-6)
    with pytest.raises(ValueError, match="does not cover"):
        tp.geoid_undulation(str(path), 31.6, 130.7)


def test_bad_inputs(real_data, tmp_path):
    bogus = tmp_path / "bogus.nc"
    bogus.write_bytes(b"not a weather file")
    with pytest.raises(ValueError, match="neither GRIB nor NetCDF"):
        read_weather(bogus)
    with pytest.raises(ValueError, match="does not cover the pixels"):
        tp.slant_delay(real_data / GRIB, 45.0, 130.0, 0.0, 35.0, GRIB_TIME)


def test_slant_kernel_is_zenith_over_cosine_and_keeps_nan(real_data):
    w = read_weather(real_data / GRIB)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(31.0, 33.0, 500), rng.uniform(130.0, 132.0, 500)
    height, inc = rng.uniform(0.0, 2000.0, 500), rng.uniform(30.0, 46.0, 500)
    height[3] = np.nan
    model = tp.DelayModel(w, GRIB_TIME, (130.0, 31.0, 132.0, 33.0), (0.0, 2000.0))
    hyd, wet = model.zenith(lat, lon, height)
    slant = model.slant(lat, lon, height, inc)
    # one table (hydrostatic + wet) instead of two: the same to rounding
    np.testing.assert_allclose(slant, (hyd + wet) / np.cos(np.radians(inc)), rtol=1e-13)
    assert np.isnan(slant[3]) and np.isfinite(np.delete(slant, 3)).all()


def test_longitudes_wrap_at_the_antimeridian():
    """A 0..360° weather grid serves pixels given at negative longitudes."""
    when = datetime(2020, 1, 1, tzinfo=UTC)
    base = synthetic_atmosphere([when])
    q = base.q * np.array([1.0, 1.2, 1.5])  # wetter to the east
    east = replace(base, lon=np.array([359.5, 359.75, 360.0]), q=q)
    west = replace(base, lon=np.array([-0.5, -0.25, 0.0]), q=q)
    lon = np.array([-0.4, -0.1, -0.05])
    wrapped = tp.slant_delay(east, 10.1, lon, 100.0, 35.0, when)
    np.testing.assert_allclose(wrapped, tp.slant_delay(west, 10.1, lon, 100.0, 35.0, when))
    assert np.all(np.diff(wrapped) > 1e-3)
