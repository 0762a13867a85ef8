"""Ionosphere: IONEX reader and interpolation against MintPy's values, slant geometry truth."""

from __future__ import annotations

import bz2
import gzip
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sar4tec.corrections.ionosphere import (
    pick_ionex,
    pierce_point,
    range_change_per_tecu,
    read_ionex,
    slant_range_change,
)
from sar4tec.geometry import los_unit_vector

JPL = "ionex/jplg3190.15i"


def test_jpl_map_block_matches_mintpy(real_data):
    ionex = read_ionex(real_data / JPL)
    expected = [
        [71.8, 64.2, 55.9, 47.1, 38.6, 31.2],
        [80.2, 73.9, 66.6, 58.2, 49.5, 41.1],
        [83.2, 79.6, 74.6, 68.0, 60.1, 51.6],
        [79.6, 79.5, 78.1, 74.5, 68.5, 60.9],
        [71.9, 74.5, 76.5, 76.2, 73.1, 67.3],
    ]
    assert ionex.times[1] == datetime(2015, 11, 15, 2, tzinfo=UTC)
    np.testing.assert_allclose(ionex.tec[1, 28:33, 3:9], expected, atol=1e-9)
    assert ionex.shell_height == 450e3 and ionex.base_radius == 6371e3
    assert ionex.tec.shape == ionex.rms.shape == (13, 71, 73)


@pytest.mark.parametrize(
    ("interpolation", "value"),
    [
        ("nearest", 60.8),
        ("linear2d", 58.90687978),
        ("linear3d", 64.96605174),
        ("rotated", 65.15525905),
    ],
)
def test_jpl_vtec_matches_mintpy(real_data, interpolation, value):
    ionex = read_ionex(real_data / JPL)
    when = datetime(2015, 11, 15, 23, 7, tzinfo=UTC)
    # 0.01 TECU: the tolerance; the values are interpolations of 0.1-TECU integers
    assert ionex.vtec(-21.3, -67.4, when, interpolation) == pytest.approx(value, abs=0.01)


def test_all_real_files_and_compression(real_data, tmp_path):
    codg = read_ionex(real_data / "ionex/codg0080.20i")
    assert codg.tec.shape == (25, 71, 73) and codg.rms.shape == (25, 71, 73)
    assert codg.times[0] == datetime(2020, 1, 8, tzinfo=UTC)
    igs = read_ionex(real_data / "ionex/IGS0OPSFIN_20243490000_01D_02H_GIM.INX")
    assert igs.tec.shape == (13, 71, 73) and np.nanmax(igs.tec) == pytest.approx(121.3)
    raw = (real_data / "ionex/codg0080.20i").read_bytes()
    for name, data in (("c.INX.gz", gzip.compress(raw)), ("c.bz2", bz2.compress(raw))):
        (tmp_path / name).write_bytes(data)
        np.testing.assert_array_equal(read_ionex(tmp_path / name).tec, codg.tec)
    # two analysis centres for the same day agree to ~1.5 TECU RMS (CODE vs ESA final maps)
    esa = read_ionex(real_data / "ionex/esag0080.20i")
    lat, lon = np.meshgrid(np.arange(-60, 61, 5.0), np.arange(-175, 176, 10.0), indexing="ij")
    when = datetime(2020, 1, 8, 13, tzinfo=UTC)
    diff = codg.vtec(lat, lon, when) - esa.vtec(lat, lon, when)
    assert np.sqrt(np.mean(diff**2)) < 3.0


def test_pick_by_epochs_not_names(real_data, tmp_path):
    renamed = tmp_path / "anything.txt"
    renamed.write_bytes((real_data / JPL).read_bytes())
    files = [real_data / "ionex/codg0080.20i", renamed]
    assert pick_ionex(files, datetime(2015, 11, 15, 12, tzinfo=UTC)).path == renamed
    with pytest.raises(ValueError, match="no IONEX file covers"):
        pick_ionex(files, datetime(2016, 1, 1, tzinfo=UTC))


def test_rotation_follows_the_sun(real_data):
    """Truth: a TEC pattern fixed to the Sun, VTEC = 10 + 8 cos(lon + 15°/h t).

    Rotated interpolation reproduces it between maps up to bilinear error on the 5° grid
    (8 (5°)²/8 = 0.008 TECU); linear3d, without rotation, flattens it by cos(15°) midway.
    """
    base = read_ionex(real_data / JPL)
    hours = (base.epochs - base.epochs[0]) / 3600.0
    lon_sun = base.lon[None, None, :] + 15.0 * hours[:, None, None]
    tec = 10.0 + 8.0 * np.cos(np.radians(lon_sun)) + 0.0 * base.lat[None, :, None]
    ionex = replace(base, tec=tec)
    when = base.times[5] + timedelta(hours=1)
    lon = np.linspace(-170, 170, 35)
    truth = 10.0 + 8.0 * np.cos(np.radians(lon + 15.0 * 11.0))
    assert np.abs(ionex.vtec(20.0, lon, when) - truth).max() < 0.02
    assert np.abs(ionex.vtec(20.0, lon, when, "linear3d") - truth).max() > 0.2


def test_range_change_numbers(real_data):
    """At 20 TECU: 313.4 / 341.1 / 372.6 mm at 30.5 / 39 / 46 deg incidence (issue 5)."""
    base = read_ionex(real_data / JPL)
    flat = replace(base, tec=np.full_like(base.tec, 20.0))
    when = datetime(2015, 11, 15, 5, 30, tzinfo=UTC)
    out = slant_range_change(flat, 10.0, 30.0, np.array([30.5, 39.0, 46.0]), -12.0, when)
    np.testing.assert_allclose(out * 1e3, [313.4, 341.1, 372.6], atol=0.05)
    assert range_change_per_tecu() * 1e3 == pytest.approx(13.80, abs=0.005)


def test_pierce_point_against_ray_sphere_intersection():
    """Truth: intersect the LOS ray (ground -> satellite) with the sphere R + H in 3-D."""
    radius, shell = 6371e3, 450e3
    lat, lon = np.array([35.0, -20.0, 60.0]), np.array([-118.0, 10.0, 170.0])
    inc, heading = np.array([30.5, 39.0, 46.0]), np.array([-12.0, -168.0, -15.0])
    lat_p, lon_p, zen = pierce_point(lat, lon, inc, heading, shell, radius)
    phi, lam = np.radians(lat), np.radians(lon)
    up = np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], -1)
    east = np.stack([-np.sin(lam), np.cos(lam), np.zeros_like(lam)], -1)
    north = np.cross(up, east)
    enu = los_unit_vector(inc, heading)
    d = enu[:, :1] * east + enu[:, 1:2] * north + enu[:, 2:] * up
    p = radius * up
    b = np.sum(p * d, -1)
    s = -b + np.sqrt(b**2 - (radius**2 - (radius + shell) ** 2))
    x = p + s[:, None] * d
    lat_t = np.degrees(np.arcsin(x[:, 2] / (radius + shell)))
    lon_t = np.degrees(np.arctan2(x[:, 1], x[:, 0]))
    np.testing.assert_allclose(lat_p, lat_t, atol=1e-9)
    np.testing.assert_allclose((lon_p - lon_t + 180) % 360 - 180, 0, atol=1e-9)
    cos_zen = np.sum(x / (radius + shell) * d, -1)
    np.testing.assert_allclose(zen, np.degrees(np.arccos(cos_zen)), atol=1e-9)


def test_errors(real_data, tmp_path):
    ionex = read_ionex(real_data / JPL)
    with pytest.raises(ValueError, match="outside the maps"):
        ionex.vtec(0, 0, datetime(2015, 11, 17, tzinfo=UTC))
    with pytest.raises(ValueError, match="interpolation"):
        ionex.vtec(0, 0, ionex.times[0], "cubic")
    bad = tmp_path / "bad.15i"
    bad.write_text("hello\n")
    with pytest.raises(ValueError, match="not an IONEX file"):
        read_ionex(bad)
