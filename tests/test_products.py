"""Products written from a synthetic frame, each re-opened with rasterio/xarray/h5py/pystac."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from test_reference_stage import GRID, run, write_frame

from sar4tec.cli import main
from sar4tec.files import parse_time, read_times, write_times
from sar4tec.products.inspect import describe
from sar4tec.products.mintpy import mintpy_azimuth_angle
from sar4tec.products.stac import config_hash, write_collection
from sar4tec.products.stage import PRODUCT_FILES, run_products

KINDS = ("troposphere", "ionosphere", "tides")


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    """Run the reference and products stages on the synthetic frame once for all tests."""
    folder = tmp_path_factory.mktemp("frame")
    truth = write_frame(folder)
    run(folder, output_frame="plate")
    with h5py.File(folder / "timeseries.h5", "r") as f:
        times = read_times(f)
    rng = np.random.default_rng(5)
    with h5py.File(folder / "linked.h5", "w") as f:
        f.attrs.update(GRID.to_attrs())
        write_times(f, times)
        f["temporal_coherence"] = rng.uniform(0.3, 1.0, GRID.shape).astype(np.float32)
        f["ps_mask"] = (rng.random(GRID.shape) < 0.05).astype(np.uint8)
    layers = {}
    for k, kind in enumerate(KINDS):
        layer = rng.normal(0, 0.01, (len(times), *GRID.shape)).astype(np.float32)
        layers[kind] = layer
        with h5py.File(folder / f"{kind}.h5", "w") as f:
            f.attrs.update({**GRID.to_attrs(), "kind": kind, "source": f"test {k}"})
            write_times(f, times)
            f["correction"] = layer
    with h5py.File(folder / "timeseries.h5", "a") as f:
        f.attrs["corrections_applied"] = "troposphere,tides"
    with h5py.File(folder / "slc_stack.h5", "w") as f:
        f.attrs.update({"wavelength": 0.05546576, "orbit_direction": "ascending", "track": 87})
        f["bperp"] = np.linspace(-50, 80, len(times)).astype(np.float32)
    outdir = folder / "results"
    (outdir).mkdir()
    (folder / "gnss_residuals.csv").rename(outdir / "gnss_residuals.csv")
    config = {"frames": {"synthetic": {"source": "simulate"}}, "seed": 0}
    paths = run_products(
        folder / "calibrated.h5", folder / "timeseries.h5", folder / "linked.h5",
        folder / "geometry.h5", outdir / "gnss_residuals.csv", folder / "manifest.json",
        [folder / f"{k}.h5" for k in KINDS], outdir, {"block_rows": 16}, config,
        folder / "slc_stack.h5",
    )  # fmt: skip
    return {"dir": outdir, "folder": folder, "paths": paths, "truth": truth, "times": times,
            "layers": layers, "config": config}  # fmt: skip


def calibrated(products, name):
    with h5py.File(products["folder"] / "calibrated.h5", "r") as f:
        return f[name][()], dict(f.attrs)


def test_every_product_exists(products):
    for name in PRODUCT_FILES:
        assert (products["dir"] / name).stat().st_size > 0, name


def test_velocity_cog_round_trip(products):
    import rasterio

    v_m, attrs = calibrated(products, "velocity")
    with rasterio.open(products["dir"] / "velocity.tif") as src:
        assert src.crs.to_epsg() == 4326
        assert tuple(src.transform)[:6] == pytest.approx(
            (GRID.transform[1], 0, GRID.transform[0], 0, GRID.transform[5], GRID.transform[3])
        )
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.compression.value == "DEFLATE"
        # smaller than one 256 tile: GDAL makes no overview (test_cog_tiles_and_overviews)
        assert src.units[0] == "mm/yr"
        assert src.descriptions[0].startswith("LOS velocity")
        tags = src.tags()
        assert tags["reference_frame"] == "EURA/ITRF2014"
        assert tags["sign_convention"].startswith("positive = motion toward the satellite")
        assert np.isnan(src.nodata)
        v_mm = src.read(1)
    # values are the calibrated m/yr in mm/yr (float32), same NaNs
    np.testing.assert_allclose(v_mm, v_m * 1e3, rtol=1e-6, equal_nan=True)
    # and they match the plate-fixed truth in sign and size (bias < 0.3 mm/yr, test_reference)
    truth_mm = products["truth"]["plate"] * 1e3
    ok = np.isfinite(v_mm)
    assert abs(np.mean(v_mm[ok] - truth_mm[ok])) < 0.3


def test_cog_tiles_and_overviews(tmp_path):
    import rasterio

    from sar4tec.grid import Grid
    from sar4tec.products.cog import write_cog

    grid = Grid((10.0, 0.001, 0.0, 50.0, 0.0, -0.001), (700, 1100))
    image = np.add.outer(np.arange(700.0), np.arange(1100.0)).astype(np.float32)
    image[:50, :50] = np.nan
    write_cog(tmp_path / "a.tif", image, grid, description="ramp", units="mm", blocksize=256)
    with rasterio.open(tmp_path / "a.tif") as src:
        assert src.block_shapes[0] == (256, 256)
        assert src.overviews(1) == [2, 4, 8]  # until it fits one tile: 1100 / 8 < 256
        np.testing.assert_array_equal(src.read(1), image)
        # overviews average (NaN ignored): the 2x2 mean of a linear ramp is its centre value
        ov = src.read(1, out_shape=(350, 550))
        assert ov[100, 100] == pytest.approx(image[200:202, 200:202].mean())
    with pytest.raises(ValueError, match="differs from the grid"):
        write_cog(tmp_path / "b.tif", image[:10], grid, description="x", units="1")


def test_quality_and_geometry_cogs(products):
    import rasterio

    with rasterio.open(products["dir"] / "mask.tif") as src:
        assert src.dtypes[0] == "uint8"
        with h5py.File(products["folder"] / "timeseries.h5") as f:
            np.testing.assert_array_equal(src.read(1), f["mask"][()])
    with (
        rasterio.open(products["dir"] / "los_up.tif") as src,
        h5py.File(products["folder"] / "geometry.h5") as g,
    ):
        np.testing.assert_array_equal(src.read(1), g["los_up"][()])
        assert src.units[0] == "1"
    plate, _ = calibrated(products, "plate_velocity")
    with rasterio.open(products["dir"] / "plate_velocity.tif") as src:
        np.testing.assert_allclose(src.read(1), plate * 1e3, rtol=1e-6)
        assert "EURA" in src.descriptions[0]


def test_timeseries_netcdf_opens_in_xarray(products):
    import xarray as xr

    disp, attrs = calibrated(products, "displacement")
    with xr.open_dataset(products["dir"] / "timeseries.nc") as ds:
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert ds["displacement"].dims == ("time", "lat", "lon")
        assert ds["displacement"].attrs["units"] == "mm"
        assert ds["displacement"].attrs["grid_mapping"] == "crs"
        assert ds["crs"].attrs["grid_mapping_name"] == "latitude_longitude"
        times = [np.datetime64(t.replace(tzinfo=None), "ns") for t in products["times"]]
        np.testing.assert_array_equal(ds["time"].values, np.array(times))
        np.testing.assert_allclose(ds["lat"].values, GRID.y)
        np.testing.assert_allclose(ds["lon"].values, GRID.x)
        np.testing.assert_allclose(ds["displacement"].values, disp * 1e3, rtol=1e-6,
                                   equal_nan=True)  # fmt: skip
        assert ds.attrs["reference_frame"] == "EURA/ITRF2014"
        assert ds.attrs["reference_date"] == attrs["reference_date"]
        # a point selection by coordinates works (what users do first)
        r, c = 20, 30
        series = ds["displacement"].sel(lat=GRID.y[r], lon=GRID.x[c]).values
        np.testing.assert_allclose(series, disp[:, r, c] * 1e3, rtol=1e-6)


def test_corrections_netcdf_reverts_the_layers(products):
    import xarray as xr

    _, attrs = calibrated(products, "velocity")
    r0, c0 = attrs["reference_row"], attrs["reference_col"]
    ref = [t.strftime("%Y%m%d") for t in products["times"]].index(attrs["reference_date"])
    with xr.open_dataset(products["dir"] / "corrections.nc") as ds:
        for kind in KINDS:
            layer = products["layers"][kind].astype(np.float64)
            expected = layer - layer[ref] - (layer[:, r0, c0] - layer[ref, r0, c0])[:, None, None]
            np.testing.assert_allclose(ds[kind].values, expected * 1e3, atol=1e-3)
            assert ds[kind].attrs["units"] == "mm"
            assert ds[kind].attrs["applied"] == int(kind != "ionosphere")
        surface, _ = calibrated(products, "calibration_surface")
        np.testing.assert_allclose(ds["calibration_surface"].values, surface * 1e3, rtol=1e-6)
        assert ds["plate_velocity"].attrs["units"] == "mm/yr"
        assert "how_to_undo" in ds.attrs


def test_mintpy_files(products):
    disp, attrs = calibrated(products, "displacement")
    v, _ = calibrated(products, "velocity")
    with h5py.File(products["dir"] / "timeseries.h5") as f:
        a = f.attrs
        assert a["FILE_TYPE"] == "timeseries" and a["UNIT"] == "m"
        assert (int(a["LENGTH"]), int(a["WIDTH"])) == GRID.shape
        # X_FIRST/Y_FIRST are the outer corner of the first pixel, as in MintPy/ROI_PAC
        assert float(a["X_FIRST"]) == GRID.transform[0] and float(a["Y_STEP"]) == -0.01
        assert a["REF_DATE"] == attrs["reference_date"]
        assert (int(a["REF_Y"]), int(a["REF_X"])) == (attrs["reference_row"],
                                                      attrs["reference_col"])  # fmt: skip
        assert float(a["WAVELENGTH"]) == pytest.approx(0.05546576)
        assert a["ORBIT_DIRECTION"] == "ASCENDING"
        assert a["REFERENCE_FRAME"] == "EURA/ITRF2014"
        dates = [d.decode() for d in f["date"][()]]
        assert dates == [t.strftime("%Y%m%d") for t in products["times"]]
        assert f["bperp"][-1] == pytest.approx(80.0)
        np.testing.assert_allclose(f["timeseries"][()], disp, equal_nan=True)
    with h5py.File(products["dir"] / "velocity.h5") as f:
        assert f.attrs["FILE_TYPE"] == "velocity" and f.attrs["UNIT"] == "m/year"
        np.testing.assert_allclose(f["velocity"][()], v, equal_nan=True)
        assert "velocityStd" in f
    with (
        h5py.File(products["dir"] / "geometryGeo.h5") as f,
        h5py.File(products["folder"] / "geometry.h5") as g,
    ):
        assert f.attrs["FILE_TYPE"] == "geometry"
        for name in ("height", "latitude", "longitude", "incidenceAngle", "azimuthAngle",
                     "waterMask"):  # fmt: skip
            assert f[name].shape == GRID.shape
        np.testing.assert_allclose(f["latitude"][:, 0], GRID.y)
        # MintPy rebuilds the LOS east/north from incidence and azimuth like this:
        inc = np.radians(f["incidenceAngle"][()])
        az = np.radians(f["azimuthAngle"][()])
        np.testing.assert_allclose(-np.sin(inc) * np.sin(az), g["los_east"][()], atol=1e-6)
        np.testing.assert_allclose(np.sin(inc) * np.cos(az), g["los_north"][()], atol=1e-6)
        assert f["waterMask"][()].all()  # no water in the synthetic frame: all land (True)


def test_mintpy_azimuth_for_ascending_sentinel1():
    # ascending, heading -12 deg: LOS (ground to satellite) points to azimuth -102 deg clockwise,
    # i.e. +102 deg anti-clockwise (MintPy); cf. the ISCE los.rdr of PROVENANCE (~ -259.8 deg)
    from sar4tec.geometry import los_unit_vector

    le, ln, _ = los_unit_vector(39.0, -12.0)
    assert mintpy_azimuth_angle(le, ln) == pytest.approx(102.0)


def test_mintpy_reader_if_installed(products):
    readfile = pytest.importorskip("mintpy.utils.readfile", reason="MintPy is not installed")
    data, atr = readfile.read(str(products["dir"] / "velocity.h5"), datasetName="velocity")
    assert data.shape == GRID.shape and atr["FILE_TYPE"] == "velocity"
    ts, atr = readfile.read(str(products["dir"] / "timeseries.h5"))
    assert ts.shape == (len(products["times"]), *GRID.shape)
    geo, _ = readfile.read(str(products["dir"] / "geometryGeo.h5"), datasetName="azimuthAngle")
    assert np.nanmedian(geo) == pytest.approx(102.0, abs=0.5)
    # MintPy's geo-to-pixel conversion puts the reference point on REF_Y/REF_X
    from mintpy.objects.coord import coordinate

    row, col = coordinate(atr).geo2radar(float(atr["REF_LAT"]), float(atr["REF_LON"]))[:2]
    assert (row, col) == (int(atr["REF_Y"]), int(atr["REF_X"]))


def test_stac_item(products):
    import pystac

    item = pystac.Item.from_file(str(products["dir"] / "item.json"))
    p = item.properties
    assert item.datetime is None
    assert item.common_metadata.start_datetime == products["times"][0]
    assert item.common_metadata.end_datetime == products["times"][-1]
    west, south, east, north = item.bbox
    assert GRID.bounds[0] <= west < east <= GRID.bounds[2]
    assert GRID.bounds[1] <= south < north <= GRID.bounds[3]
    assert p["sar4tec:reference_frame"] == "EURA/ITRF2014"
    assert p["sar4tec:config_hash"] == config_hash(products["config"])
    assert p["processing:software"]["sar4tec"]
    assert p["sat:orbit_state"] == "ascending" and p["sat:relative_orbit"] == 87
    assert p["sar:frequency_band"] == "C"
    assert p["sar4tec:gnss_calibration"]["n_stations_used"] > 10
    for asset in item.assets.values():
        href = (products["dir"] / asset.href).resolve()
        assert href.is_file(), asset.href
    v = item.assets["velocity"].to_dict()
    assert v["raster:bands"][0]["unit"] == "mm/yr" and v["raster:bands"][0]["nodata"] == "nan"
    assert "cloud-optimized" in v["type"]
    json.loads((products["dir"] / "item.json").read_text())  # strict JSON (no NaN)


def test_region_collection(products, tmp_path):
    path = write_collection([products["dir"] / "item.json"], tmp_path / "collection.json",
                            "demo-region", "test region", "CC-BY-4.0")  # fmt: skip
    data = json.loads(path.read_text())
    assert data["type"] == "Collection" and data["id"] == "demo-region"
    items = [link for link in data["links"] if link["rel"] == "item"]
    assert len(items) == 1
    assert (tmp_path / items[0]["href"]).resolve() == (products["dir"] / "item.json").resolve()
    item = json.loads((products["dir"] / "item.json").read_text())
    assert data["extent"]["spatial"]["bbox"][0] == pytest.approx(item["bbox"])


def test_figures_are_png(products):
    for name in ("quicklook.png", "timeseries.png"):
        head = (products["dir"] / name).read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n"


def test_inspect_every_product(products, capsys):
    for name in PRODUCT_FILES + ("gnss_residuals.csv",):
        text = describe(products["dir"] / name)
        assert str(products["dir"] / name) in text
    text = describe(products["dir"] / "velocity.tif")
    assert "EPSG:4326" in text and "mm/yr" in text and "EURA/ITRF2014" in text
    assert "COG" in text
    text = describe(products["dir"] / "gnss_residuals.csv")
    assert "outlier" in text and "cross-validation" in text
    assert main(["inspect", str(products["dir"] / "timeseries.nc")]) == 0
    out = capsys.readouterr().out
    assert "time: 9 dates" in out and "reference_frame: EURA/ITRF2014" in out
    assert main(["inspect", str(Path(products["dir"]) / "missing.tif")]) == 1


def test_quicklook_preview_block_mean():
    from sar4tec.products.plots import preview

    image = np.arange(35.0).reshape(5, 7)
    image[0, 0] = np.nan
    small, step = preview(image, max_pixels=3)
    assert step == 3 and small.shape == (2, 3)
    assert small[0, 0] == pytest.approx(np.nanmean(image[:3, :3]))  # NaN ignored
    assert small[1, 2] == pytest.approx(image[3:, 6:].mean())  # partial edge block
    assert preview(image, max_pixels=10)[1] == 1


def test_projected_grid_products(tmp_path):
    """NetCDF, MintPy attributes and STAC footprint of a UTM grid (no lat/lon assumed)."""
    import xarray as xr
    from pyproj import CRS

    from sar4tec.grid import Grid
    from sar4tec.products.mintpy import mintpy_attributes
    from sar4tec.products.netcdf import write_cube_netcdf
    from sar4tec.products.stac import valid_footprint

    grid = Grid((400_000.0, 500.0, 0.0, 4_500_000.0, 0.0, -500.0), (30, 40), "EPSG:32636")
    image = np.arange(grid.rows * grid.cols, dtype=np.float32).reshape(grid.shape)
    path = write_cube_netcdf(
        tmp_path / "v.nc", grid, None, [("v", {"units": "mm/yr"}, lambda r: image[r])], {}, 7
    )
    with xr.open_dataset(path) as ds:
        assert ds["v"].dims == ("y", "x") and set(ds["v"].coords) >= {"lat", "lon", "x", "y"}
        assert CRS.from_cf(ds["crs"].attrs).to_epsg() == 32636
        np.testing.assert_array_equal(ds["v"].values, image)
        np.testing.assert_allclose(ds["lat"].values, grid.latlon()[0])
    ref = {"reference_row": 3, "reference_col": 4, "reference_lat": 40.6,
           "reference_lon": 31.8, "reference_date": "20200101"}  # fmt: skip
    attrs = mintpy_attributes(grid, [parse_time("2020-01-01T00:00:00Z")] * 2, ref, 0.0555,
                              "ascending", -10.0)  # fmt: skip
    assert attrs["UTM_ZONE"] == "36N" and attrs["EPSG"] == "32636"
    assert attrs["X_UNIT"] == "meters" and attrs["X_FIRST"] == "400000.0"
    # footprint of the valid pixels, in lon/lat: a 20 x 20 km box near 40.6 N, 31.8 E
    west, south, east, north = valid_footprint(grid, np.ones(grid.shape, bool))
    lat, lon = grid.latlon()
    assert west < lon.min() < lon.max() < east and south < lat.min() < lat.max() < north
    assert east - west < 0.3 and north - south < 0.2
