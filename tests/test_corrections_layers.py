"""Correction layer files: contract (datasets, attrs, sign), blockwise = whole, disabled layers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest
from test_corrections_troposphere import GRIB, write_new_cds_netcdf

from sar4tec.config import validate_config
from sar4tec.corrections import ionosphere, tides, troposphere
from sar4tec.corrections.layers import write_layer
from sar4tec.corrections.weather import read_weather
from sar4tec.files import read_times
from sar4tec.geometry import los_unit_vector
from sar4tec.grid import Grid

# two acquisitions on the day of the real CODE map, between 13:00 and 14:00 UTC
TIMES = [datetime(2020, 1, 8, 13, 20, 11, tzinfo=UTC), datetime(2020, 1, 8, 13, 50, tzinfo=UTC)]


@pytest.fixture
def frame(real_data, tmp_path):
    """A 30 x 40 frame over Kyushu with the real ERA5 fields (re-dated) and the real CODE map."""
    data = tmp_path / "data"
    (data / "slc").mkdir(parents=True)
    era5 = data / "era5.nc"
    # the real 2010-10-17 14h fields, written for 13h and 14h of the acquisition day, with the
    # 14h humidity scaled so that the time interpolation matters
    fields = read_weather(real_data / GRIB)
    write_new_cds_netcdf(fields, era5, [TIMES[0].replace(minute=0, second=0)])
    wetter = type(fields)(fields.path, fields.times, fields.lat, fields.lon, fields.pressure,
                          fields.z, fields.t, fields.q * 1.3)  # fmt: skip
    write_new_cds_netcdf(
        wetter, data / "era5_14.nc", [TIMES[0].replace(hour=14, minute=0, second=0)]
    )
    slcs = []
    for t in TIMES:
        name = f"slc/{t:%Y%m%d}.h5"
        (data / name).touch()
        slcs.append({"path": name, "sensing_time": t.isoformat()})
    (data / "dem.tif").touch()
    manifest = data / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "frame": "kyushu",
                "source": "local",
                "slc": slcs,
                "dem": "dem.tif",
                "era5": ["era5_14.nc", "era5.nc"],
                "ionex": [str(real_data / "ionex/codg0080.20i")],
            }
        )
    )
    grid = Grid((130.3, 0.01, 0.0, 31.9, 0.0, -0.01), (30, 40))
    lat, lon = grid.meshgrid()
    height = 50.0 + 900.0 * np.exp(-((lat - 31.75) ** 2 + (lon - 130.5) ** 2) / 0.01)
    incidence = np.broadcast_to(np.linspace(30.0, 46.0, grid.cols), grid.shape).copy()
    heading = np.full(grid.shape, -12.0)
    los = los_unit_vector(incidence, heading)
    height[0, 0] = np.nan  # a no-data pixel stays NaN
    geometry = tmp_path / "geometry.h5"
    with h5py.File(geometry, "w") as f:
        f.attrs.update(grid.to_attrs())
        for name, value in {
            "height": height,
            "incidence_angle": incidence,
            "heading": heading,
            "los_east": los[..., 0],
            "los_north": los[..., 1],
            "los_up": los[..., 2],
        }.items():
            f[name] = value.astype(np.float32)
    return manifest, geometry, grid, (lat, lon, height, incidence, heading, los)


def settings(**changes):
    config = validate_config({"frames": {"x": {"source": "local"}}, "corrections": changes})
    return config["corrections"]


def read_layer(path):
    with h5py.File(path) as f:
        return f["correction"][()], dict(f.attrs), read_times(f), Grid.from_attrs(f.attrs)


@pytest.mark.parametrize("kind", ["troposphere", "ionosphere", "tides"])
def test_layer_contract_and_values(frame, tmp_path, kind):
    manifest, geometry, grid, (lat, lon, height, inc, heading, los) = frame
    out = write_layer(kind, manifest, geometry, tmp_path / f"{kind}.h5", settings(block_rows=7))
    layer, attrs, times, out_grid = read_layer(out)
    assert layer.dtype == np.float32 and layer.shape == (2, *grid.shape)
    assert times == TIMES and out_grid == grid
    assert attrs["kind"] == kind and attrs["units"] == "m" and attrs["enabled"] == 1
    # the geometry is float32 on disk: compare with what the layer saw
    h, i, hd = (a.astype(np.float32).astype(float) for a in (height, inc, heading))
    los32 = los.astype(np.float32).astype(float)
    for n, when in enumerate(TIMES):
        if kind == "troposphere":
            files = [manifest.parent / "era5.nc", manifest.parent / "era5_14.nc"]
            expected = -troposphere.slant_delay(files, lat, lon, h, i, when)
            assert np.nanmax(expected) < -2.0  # ~2.3 m zenith delay: apparent motion away
            assert json.loads(attrs["source"]) == ["era5.nc", "era5_14.nc"]
        elif kind == "ionosphere":
            maps = ionosphere.read_ionex(json.loads(attrs["source_per_date"])[n][0])
            expected = ionosphere.slant_range_change(maps, lat, lon, i, hd, when)
            assert np.nanmin(expected) > 0  # phase advance: apparent motion toward
            assert json.loads(attrs["source"]) == ["codg0080.20i"]
        else:
            expected = tides.los_displacement(lat, lon, when, los32)
        # float32 storage: 1e-7 relative of ~2.4 m is < 1 µm
        np.testing.assert_allclose(layer[n], expected, atol=1e-6, equal_nan=True)
    if kind == "troposphere":
        assert np.isnan(layer[:, 0, 0]).all() and np.isfinite(layer[:, 1:, 1:]).all()
        # humidity rises toward 14h: the later acquisition has the longer delay
        assert np.nanmean(layer[1]) < np.nanmean(layer[0])


def test_blocks_do_not_change_the_result(frame, tmp_path):
    manifest, geometry, *_ = frame
    small = write_layer(
        "troposphere", manifest, geometry, tmp_path / "a.h5", settings(block_rows=4)
    )
    whole = write_layer(
        "troposphere", manifest, geometry, tmp_path / "b.h5", settings(block_rows=999)
    )
    np.testing.assert_array_equal(read_layer(small)[0], read_layer(whole)[0])


def test_disabled_layer_is_zeros_and_says_so(frame, tmp_path):
    manifest, geometry, grid, _ = frame
    out = write_layer(
        "ionosphere", manifest, geometry, tmp_path / "i.h5", settings(ionosphere={"enabled": False})
    )
    layer, attrs, times, _ = read_layer(out)
    assert attrs["enabled"] == 0 and json.loads(attrs["source"]) == []
    assert layer.shape == (2, *grid.shape) and not layer.any()


def test_missing_inputs_are_named(frame, tmp_path):
    manifest, geometry, *_ = frame
    content = json.loads(manifest.read_text())
    content["slc"][0]["sensing_time"] = (TIMES[0] + timedelta(days=3)).isoformat()
    manifest.write_text(json.dumps(content))
    with pytest.raises(ValueError, match="no weather-model times bracket"):
        write_layer("troposphere", manifest, geometry, tmp_path / "t.h5", settings())
    with pytest.raises(ValueError, match="no IONEX file covers"):
        write_layer("ionosphere", manifest, geometry, tmp_path / "i.h5", settings())
    assert not (tmp_path / "t.h5").exists()


def test_ionosphere_layer_for_headings_across_180(frame, tmp_path):
    """A descending frame whose headings straddle ±180° (the blockwise range scan must keep
    the table's heading axis 0.2° wide, not 360°)."""
    manifest, geometry, grid, (lat, lon, _, inc, _, _) = frame
    heading = np.where(np.arange(grid.cols) % 2, 179.9, -179.9) * np.ones((grid.rows, 1))
    with h5py.File(geometry, "r+") as f:
        f["heading"][...] = heading.astype(np.float32)
    out = write_layer("ionosphere", manifest, geometry, tmp_path / "i.h5", settings(block_rows=7))
    layer, attrs, _, _ = read_layer(out)
    maps = ionosphere.read_ionex(json.loads(attrs["source_per_date"])[0][0])
    i, h = (a.astype(np.float32).astype(float) for a in (inc, heading))
    for n, when in enumerate(TIMES):
        expected = ionosphere.slant_range_change(maps, lat, lon, i, h, when)
        np.testing.assert_allclose(layer[n], expected, atol=1e-6)  # as for the other layers
