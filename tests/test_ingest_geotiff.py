"""Generic complex GeoTIFF stacks: files written by rasterio in UTM onto the EPSG:4326 grid."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from sar4tec.ingest import IngestSettings, ingest_frame
from sar4tec.ingest.geotiff import GeotiffSource
from sar4tec.ingest.synthetic import write_frame_inputs
from sar4tec.sentinel1.cslc import read_cslc, read_cslc_info

DATES = ["20200103", "20200115", "20200127"]


def _write(folder, name, values, crs="EPSG:32636"):
    profile = dict(
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="complex64",
        crs=crs,
        transform=from_origin(400000.0, 4507000.0, 20.0, 20.0),
    )
    with rasterio.open(folder / name, "w", **profile) as dst:
        dst.write(values, 1)


@pytest.fixture
def stack(tmp_path):
    folder = tmp_path / "tifs"
    folder.mkdir()
    rng = np.random.default_rng(1)
    base = (rng.standard_normal((50, 70)) + 1j * rng.standard_normal((50, 70))).astype(np.complex64)
    arrays = [(base * np.exp(1j * 0.5 * k)).astype(np.complex64) for k in range(len(DATES))]
    for date, values in zip(DATES, arrays, strict=True):
        _write(folder, f"S1_{date}T155521_VV.tif", values.astype(np.complex64))
    (folder / "notes_20200101.txt").write_text("not a raster")
    return folder, arrays


def test_files_are_resampled_to_their_nearest_sample(stack, tmp_path):
    folder, arrays = stack
    source = GeotiffSource(folder, r"_(?P<date>\d{8})T(?P<time>\d{6})_")
    assert [d.date for d in source.dates] == DATES
    assert source.dates[0].start == datetime(2020, 1, 3, 15, 55, 21, tzinfo=UTC)
    west, south, east, north = source.footprint()
    bounds = (west + 0.001, south + 0.001, east - 0.001, north - 0.001)
    manifest = write_frame_inputs(tmp_path / "data", [d.start for d in source.dates], bounds)
    settings = IngestSettings(
        "geotiff",
        str(folder),
        r"_(?P<date>\d{8})T(?P<time>\d{6})_",
        spacing=(1e-4, 1e-4),
        block_size=40,
    )
    out = ingest_frame(settings, manifest, tmp_path / "work")
    assert [e["path"] for e in json.loads(out.read_text())["slc"]] == [f"{d}.h5" for d in DATES]
    grid = read_cslc_info(tmp_path / "work" / f"{DATES[0]}.h5").grid
    lat, lon = grid.meshgrid()
    with rasterio.open(next(folder.glob("*.tif"))) as src:
        from rasterio.transform import rowcol
        from rasterio.warp import transform

        x, y = transform("EPSG:4326", src.crs, lon.ravel(), lat.ravel())
        rows, cols = rowcol(src.transform, x, y)  # rasterio's own pixel lookup as the oracle
    rows, cols = np.reshape(rows, lat.shape), np.reshape(cols, lat.shape)
    for k, date in enumerate(DATES):
        values = read_cslc(tmp_path / "work" / f"{date}.h5")
        np.testing.assert_array_equal(values, arrays[k][rows, cols])


def test_names_without_a_time_need_time_utc(stack):
    folder, _ = stack
    with pytest.raises(ValueError, match="time_utc"):
        GeotiffSource(folder, r"_(?P<date>\d{8})T")
    source = GeotiffSource(folder, r"_(?P<date>\d{8})T", time_utc="15:55:00")
    assert source.dates[-1].start == datetime(2020, 1, 27, 15, 55, 0, tzinfo=UTC)


def test_bad_inputs_are_named(stack, tmp_path):
    folder, _ = stack
    with pytest.raises(ValueError, match="no \\(\\?P<date>"):
        GeotiffSource(folder, r"\d{8}")
    _write(folder, "S1_20200103T160000_VV.tif", np.ones((5, 5), np.complex64))
    with pytest.raises(ValueError, match="both dated 20200103"):
        GeotiffSource(folder, r"_(?P<date>\d{8})T(?P<time>\d{6})_")
    real = tmp_path / "real"
    real.mkdir()
    with rasterio.open(
        real / "x_20200101.tif",
        "w",
        driver="GTiff",
        height=4,
        width=4,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(30, 40, 0.1, 0.1),
    ) as dst:
        dst.write(np.ones((4, 4), np.float32), 1)
    with pytest.raises(ValueError, match="not complex"):
        GeotiffSource(real, r"_(?P<date>\d{8})", time_utc="12:00:00")
