"""The stack stage: CSLC files + orbit + DEM → SLC stack and geometry on both grids."""

from datetime import timedelta

import h5py
import numpy as np
import pyproj
import pytest
import rasterio

from sar4tec.constants import SENTINEL1_WAVELENGTH
from sar4tec.files import format_time, read_times
from sar4tec.grid import Grid
from sar4tec.manifest import write_manifest
from sar4tec.sentinel1.cslc import read_cslc_info
from sar4tec.sentinel1.geometry import zero_doppler_geometry
from sar4tec.sentinel1.orbit import read_eof
from sar4tec.stack import iter_blocks
from sar4tec.stack.pipeline import build_stack

RESORB = "S1A_OPER_AUX_RESORB_OPOD_20230823T162050_V20230823T123139_20230823T154909.EOF"


def write_cslc(path, grid, data, start, direction="Ascending"):
    """A CSLC file in the OPERA CSLC-S1 layout (only what the stack stage reads)."""
    with h5py.File(path, "w") as f:
        f["data/VV"] = data.astype(np.complex64)
        f["data/x_coordinates"] = grid.x
        f["data/y_coordinates"] = grid.y
        f["data/projection"] = np.int32(4326)
        f["identification/zero_doppler_start_time"] = format_time(start)
        f["identification/zero_doppler_end_time"] = format_time(start + timedelta(seconds=3))
        f["identification/orbit_pass_direction"] = direction
        f["identification/track_number"] = np.int32(64)
        f["metadata/processing_information/input_burst_metadata/wavelength"] = SENTINEL1_WAVELENGTH


@pytest.fixture(scope="module")
def scene(real_data, tmp_path_factory):
    """A small frame seen by the real RESORB orbit ~350 km right of its ground track."""
    orbit_path = real_data / "sentinel1/orbits" / RESORB
    orbit = read_eof(orbit_path)
    k = orbit.time.size // 2
    pos, vel = orbit.position[k], orbit.velocity[k]
    up = pos / np.linalg.norm(pos)
    right = np.cross(vel, up)
    right /= np.linalg.norm(right)
    target = up * 6.371e6 + right * 350e3
    lon, lat, _ = pyproj.Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True).transform(
        *target
    )
    grid = Grid.from_bounds(lon - 0.15, lat - 0.1, lon + 0.15, lat + 0.1, 0.01)
    folder = tmp_path_factory.mktemp("frame")
    with rasterio.open(
        folder / "dem.tif",
        "w",
        driver="GTiff",
        width=40,
        height=30,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Grid.from_bounds(
            lon - 0.2, lat - 0.15, lon + 0.2, lat + 0.15, 0.01
        ).rasterio_transform(),
    ) as dst:
        dst.write(np.fromfunction(lambda r, c: 100.0 + 10 * r + c, (30, 40), dtype=np.float32), 1)
    rng = np.random.default_rng(1)
    times = [orbit.datetime_at(orbit.time[k] - 40 + 12 * i) for i in (2, 0, 1)]  # unsorted
    slc = []
    for i, t in enumerate(times):
        data = rng.normal(size=grid.shape) + 1j * rng.normal(size=grid.shape)
        data[0, :3] = 0  # no data
        write_cslc(folder / f"slc_{i}.h5", grid, data, t)
        slc.append({"path": f"slc_{i}.h5", "sensing_time": format_time(t)})
    write_manifest(
        folder / "manifest.json",
        {
            "frame": "t",
            "source": "local",
            "slc": slc,
            "orbits": [str(orbit_path)],
            "dem": "dem.tif",
        },
    )
    return folder, grid, orbit, sorted(times)


def test_build_stack(scene):
    folder, grid, orbit, times = scene
    out = folder / "work"
    build_stack(
        folder / "manifest.json",
        out / "slc_stack.h5",
        out / "slc_geometry.h5",
        out / "geometry.h5",
        block_size=16,
        strides=(3, 4),
    )
    with h5py.File(out / "slc_stack.h5") as f:
        assert f["slc"].shape == (3,) + grid.shape
        assert read_times(f) == times  # sorted by time
        assert Grid.from_attrs(f.attrs).almost_equal(grid)
        assert np.isnan(f["slc"][0, 0, :3]).all() and np.isfinite(f["slc"][0, 1]).all()
        np.testing.assert_allclose(f["bperp"][()], 0.0, atol=1e-6)  # one orbit for all dates
        info = read_cslc_info(folder / "slc_0.h5")
        first = [
            i for i in range(3) if read_cslc_info(folder / f"slc_{i}.h5").sensing_start == times[0]
        ][0]
        with h5py.File(folder / f"slc_{first}.h5") as src:
            np.testing.assert_array_equal(f["slc"][0, 5:], src["data/VV"][5:])
        assert info.wavelength == pytest.approx(SENTINEL1_WAVELENGTH)
    with h5py.File(out / "slc_geometry.h5") as g:
        lat, lon = grid.meshgrid()
        expected = zero_doppler_geometry(orbit, lat[7, 9], lon[7, 9], g["height"][7, 9])
        assert g["incidence_angle"][7, 9] == pytest.approx(expected.incidence, abs=1e-4)
        assert 25 < g["incidence_angle"][()].min() and g["incidence_angle"][()].max() < 40
        # incidence grows away from the ground track (right-looking)
        assert np.all(np.diff(g["incidence_angle"][()].mean(axis=0)) != 0)
        los = np.stack([g["los_east"][()], g["los_north"][()], g["los_up"][()]], -1)
        np.testing.assert_allclose(np.linalg.norm(los, axis=-1), 1.0, atol=1e-6)
        assert g["water_mask"][()].sum() == 0
        with h5py.File(out / "geometry.h5") as o:
            out_grid = Grid.from_attrs(o.attrs)
            assert out_grid.almost_equal(grid.decimate((3, 4)))
            assert o["height"][2, 3] == g["height"][2 * 3 + 1, 3 * 4 + 2]
            assert o["incidence_angle"].shape == out_grid.shape


def test_inconsistent_stack_is_rejected(scene, tmp_path):
    folder, grid, _, times = scene
    other = Grid.from_bounds(*grid.bounds[:2], grid.bounds[2] + 0.01, grid.bounds[3], 0.01)
    write_cslc(tmp_path / "odd.h5", other, np.ones(other.shape), times[0] + timedelta(days=12))
    from sar4tec.stack.slc_stack import write_slc_stack

    infos = [read_cslc_info(folder / "slc_0.h5"), read_cslc_info(tmp_path / "odd.h5")]
    with pytest.raises(ValueError, match="grid"):
        write_slc_stack(infos, tmp_path / "s.h5")
    assert not (tmp_path / "s.h5").exists()


def test_blocks_cover_the_image_once_with_strides():
    covered = np.zeros((23, 37), int)
    out = np.zeros((-(-23 // 3), -(-37 // 4)), int)
    for block in iter_blocks((23, 37), (8, 10), halo=(2, 3), strides=(3, 4)):
        covered[block.core] += 1
        out[block.write] += 1
        assert (
            block.read[0].start <= block.core[0].start and block.core[0].stop <= block.read[0].stop
        )
        rows_read = block.read[0].stop - block.read[0].start
        assert block.inner[0].stop <= rows_read
    assert (covered == 1).all() and (out == 1).all()


def test_perpendicular_baseline_of_a_shifted_orbit(scene):
    from sar4tec.sentinel1.orbit import Orbit
    from sar4tec.stack.frame_geometry import perpendicular_baselines

    _, grid, orbit, _ = scene
    lat, lon = grid.y[10], grid.x[15]
    geo = zero_doppler_geometry(orbit, lat, lon, 0.0)
    pos, vel = orbit.interpolate(geo.azimuth_time)
    from sar4tec.geometry import enu_to_ecef_vectors, geodetic_to_ecef

    los = (pos - geodetic_to_ecef(lat, lon, 0.0)) / geo.slant_range
    up = enu_to_ecef_vectors(np.array([0.0, 0.0, 1.0]), lat, lon)
    outward = np.cross(los, vel / np.linalg.norm(vel))  # perpendicular to LOS and track
    outward *= np.sign(outward @ up) * -1  # the side farther from nadir points down-ish
    shifted = [
        Orbit(orbit.reference_epoch, orbit.time, orbit.position + d * outward, orbit.velocity)
        for d in (0.0, 120.0, -80.0)
    ]
    bperp = perpendicular_baselines(shifted, lat, lon, 0.0)
    # a rigid shift perpendicular to the LOS and the track is all perpendicular baseline
    np.testing.assert_allclose(bperp, [0.0, 120.0, -80.0], atol=0.5)
