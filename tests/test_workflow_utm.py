"""The demo end to end through Snakemake on a UTM grid (``simulation.grid_crs: utm``).

The same scene as ``test_workflow_demo.py``, simulated on a 200 m UTM grid (zone 36N) with
28 dates (2016-05 to 2019-12): every stage after the stack must take per-pixel lat/lon from the
grid, and every product must carry the projected CRS.
"""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from workflow_runs import run_demo

from sar4tec.grid import Grid
from sar4tec.validation import evaluate_frame

pytestmark = pytest.mark.slow

UTM = """
simulation:
  grid_crs: utm
  spacing: 200.0
  acquisitions: {end: "2019-12-31"}
"""
EPSG = "EPSG:32636"  # the demo's centre, 30.25 E, lies in UTM zone 36 (30-36 E)


def run(workdir: Path, *args: str):
    return run_demo(workdir, *args, configs=[workdir / "utm.yaml"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo_utm")
    (workdir / "utm.yaml").write_text(UTM)
    result = run(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


@pytest.fixture(scope="module")
def grid(demo) -> Grid:
    with h5py.File(demo / "work/demo/timeseries.h5", "r") as f:
        return Grid.from_attrs(f.attrs)


def test_every_product_exists_on_the_utm_grid_and_a_rerun_has_nothing_to_do(demo, grid):
    from sar4tec.products.stage import PRODUCT_FILES

    for name in PRODUCT_FILES:
        assert (demo / "results/demo" / name).stat().st_size > 0, name
    assert grid.crs == EPSG and grid.spacing == (-200.0, 200.0)
    with h5py.File(demo / "data/demo/truth.h5", "r") as f:
        assert Grid.from_attrs(f.attrs).almost_equal(grid)
    rerun = run(demo, "-n")
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.stdout + rerun.stderr


def test_velocity_matches_the_truth_within_the_simulated_noise(demo):
    report = evaluate_frame(demo / "results/demo", demo / "data/demo/truth.h5", demo / "work/demo")
    (demo / "accuracy.json").write_text(json.dumps(report, indent=1))
    floor_rms = report["noise_floor"]
    velocity = report["velocity"]
    # The tolerances of test_workflow_demo.py (reasoning there): the floor is the velocity of
    # the turbulence and ramps no correction removes (~1.1 mm/yr for 28 dates over 3.6 years).
    assert 0.2 < floor_rms < 1.5
    assert velocity["rmse"] < 2.0 * floor_rms + 0.3
    # the GNSS tie within twice its stated 1-sigma, as in the demo; the shorter series' noisier
    # InSAR velocities at the stations, and a plane where cross-validation chooses one, make
    # that sigma larger (measured 1.26 mm/yr with a plane)
    assert abs(velocity["bias"]) < 2.0 * report["gnss_tie_sigma"] < 3.0
    assert report["truth_reference_frame"].startswith("EURA-fixed")
    assert report["relative_corrected"]["rmse"] < report["relative_raw"]["rmse"]
    # ~68 % of the errors within 1 sigma; the sigma of a short series is less well estimated
    # (fewer residual degrees of freedom), so 50-90 % instead of the demo's 50-85 %
    assert 0.5 < report["relative_corrected"]["within_1sigma"] < 0.9


def test_corrections_and_plate_motion_use_the_pixels_geodetic_coordinates(demo):
    """Stages that evaluate models at per-pixel lat/lon reproduce the truth's components."""
    import rasterio

    with h5py.File(demo / "data/demo/truth.h5", "r") as truth:
        for kind, limit_mm in (("troposphere", 0.5), ("ionosphere", 0.2), ("tides", 0.01)):
            expected = truth[kind][()].astype(np.float64)  # mm
            with h5py.File(demo / f"work/demo/corrections/{kind}.h5", "r") as f:
                layer = 1000.0 * f["correction"][()].astype(np.float64)
            error = layer - expected
            error -= np.nanmean(error, axis=(1, 2), keepdims=True)  # a constant is not seen
            # the truth's signals are evaluated by the simulator's own physics at the same
            # pixel lat/lon from the same ERA5/IONEX/pysolid inputs; what differs is the
            # interpolation of the 0.25 deg ERA5 / 2.5 x 5 deg IONEX nodes and pysolid's node
            # grid (measured 0.11, 0.03 and 3e-5 mm rms against 210, 1.6 and 0.9 mm of signal).
            # Pixels placed at the wrong lat/lon would leave tens of mm of troposphere.
            assert np.sqrt(np.nanmean(error**2)) < limit_mm, kind
        plate = truth["plate_velocity"][()]
    with rasterio.open(demo / "results/demo/plate_velocity.tif") as src:
        # the same ITRF2014 Euler pole at the same pixels: float32 storage and the height term
        # leave < 0.01 mm/yr (measured 0.006) of a 16 mm/yr signal
        assert np.nanmax(np.abs(src.read(1) - plate)) < 0.05


def test_geotiffs_and_stac_carry_the_utm_crs(demo, grid):
    import rasterio

    with rasterio.open(demo / "results/demo/velocity.tif") as src:
        assert src.crs.to_epsg() == 32636
        assert tuple(src.transform.to_gdal()) == grid.transform
    item = json.loads((demo / "results/demo/item.json").read_text())
    assert item["properties"]["proj:code"] == EPSG
    # the bbox is in lon/lat degrees, near the simulated bounds [29.95, 40.45, 30.55, 40.95]:
    # the UTM rectangle that covers them is turned by the meridian convergence (1.8 deg) and
    # the parallels curve in it, so its corners reach ~2 km (< 0.03 deg) beyond them
    bbox = np.array(item["bbox"])
    assert np.all(np.abs(bbox - [29.95, 40.45, 30.55, 40.95]) < 0.03), bbox


def test_netcdf_has_a_transverse_mercator_grid_mapping_and_2d_lat_lon(demo, grid):
    import xarray as xr
    from pyproj import CRS

    with xr.open_dataset(demo / "results/demo/timeseries.nc") as ds:
        assert ds["displacement"].dims[1:] == ("y", "x")
        assert ds["displacement"].attrs["grid_mapping"] == "crs"
        assert ds["crs"].attrs["grid_mapping_name"] == "transverse_mercator"
        assert CRS.from_cf(ds["crs"].attrs).to_epsg() == 32636
        assert ds["x"].attrs["units"] == "m"
        np.testing.assert_allclose(ds["x"].values, grid.x)
        lat, lon = ds["lat"].values, ds["lon"].values
        assert lat.shape == grid.shape and set(ds["displacement"].coords) >= {"lat", "lon"}
    # lat/lon against an independent inverse projection of the x/y coordinates
    from pyproj import Transformer

    xx, yy = np.meshgrid(grid.x, grid.y)
    lon_ref, lat_ref = Transformer.from_crs(EPSG, "EPSG:4326", always_xy=True).transform(xx, yy)
    np.testing.assert_allclose(lat, lat_ref, atol=1e-9)
    np.testing.assert_allclose(lon, lon_ref, atol=1e-9)


def test_mintpy_files_and_reference_point_are_geolocated(demo, grid):
    with h5py.File(demo / "results/demo/velocity.h5", "r") as f:
        attrs = {k: str(v) for k, v in f.attrs.items()}
    assert attrs["EPSG"] == "32636" and attrs["UTM_ZONE"] == "36N"
    assert attrs["X_UNIT"] == "meters" and float(attrs["X_FIRST"]) == grid.transform[0]
    # the reference lat/lon lie in the reference pixel (to 1e-6 of a pixel)
    row, col = grid.index_latlon(float(attrs["REF_LAT"]), float(attrs["REF_LON"]))
    assert abs(row - int(attrs["REF_Y"])) < 1e-6 and abs(col - int(attrs["REF_X"])) < 1e-6
    with h5py.File(demo / "results/demo/geometryGeo.h5", "r") as f:
        lat = f["latitude"][()]
    np.testing.assert_allclose(lat, grid.latlon()[0], atol=1e-5)  # float32: ~4e-6 deg at 40 deg
    readfile = pytest.importorskip("mintpy.utils.readfile")
    meta = readfile.read_attribute(str(demo / "results/demo/velocity.h5"))
    assert meta["EPSG"] == "32636" and int(meta["LENGTH"]) == grid.rows


def test_inspect_describes_the_utm_products(demo, capsys):
    from sar4tec.cli import main

    for name in ("velocity.tif", "timeseries.nc", "velocity.h5"):
        assert main(["inspect", str(demo / "results/demo" / name)]) == 0
    out = capsys.readouterr().out
    assert "32636" in out and "transverse_mercator" in out
