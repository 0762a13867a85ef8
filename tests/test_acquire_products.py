"""Orbits, DEM, local archives and a whole frame, against servers on 127.0.0.1 serving real
files: the RESORB/POEORB EOFs, the dem-stitcher GLO-30 cut-out and EGM2008 grid, real SAFEs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
import rasterio

from sar4tec.acquire.dem import frame_dem, geoid_to_ellipsoid, glo30_tile_names
from sar4tec.acquire.download import OfflineError
from sar4tec.acquire.frame import acquire_frame
from sar4tec.acquire.local import scan_archives, select_products
from sar4tec.acquire.orbits import choose_orbit, orbit_files, parse_orbit_names
from sar4tec.acquire.testserver import LocalServer, Resource
from sar4tec.manifest import read_manifest

pytestmark = pytest.mark.network

RESORB = "S1A_OPER_AUX_RESORB_OPOD_20230823T162050_V20230823T123139_20230823T154909.EOF"
POEORB = "S1A_OPER_AUX_POEORB_OPOD_20181203T120749_V20181112T225942_20181114T005942.EOF"
DEM = "dem/dem_stitcher_glo30_los_angeles"
TILE = "Copernicus_DSM_COG_10_N33_00_W118_00_DEM"
FAST = {"backoff": 0.01, "timeout": 10}


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def _listing(*names):
    links = "".join(f'<a href="{n}">{n}</a> 2023-08-23 590K<br>\n' for n in names)
    return f"<html><body><pre>{links}</pre></body></html>".encode()


@pytest.fixture()
def orbit_server(real_data):
    resorb = (real_data / "sentinel1/orbits" / RESORB).read_bytes()
    # the RAiDER example is a trimmed POEORB that kept the header of this product name
    poeorb = (real_data / "sentinel1/orbits/S1_orbit_example.EOF").read_bytes()
    older = RESORB.replace("20230823T162050", "20230823T150000")
    resources = {
        "/poeorb/": Resource(_listing(POEORB), "text/html"),
        "/resorb/": Resource(_listing(RESORB, older), "text/html"),
        f"/poeorb/{POEORB}": Resource(poeorb, faults=["drop"]),
        f"/resorb/{RESORB}": Resource(resorb),
    }
    with LocalServer(resources) as server:
        yield server, {"POEORB": server.url("/poeorb/"), "RESORB": server.url("/resorb/")}


def test_orbit_names_and_choice():
    names = parse_orbit_names(_listing(RESORB, POEORB).decode() * 2)
    assert [n.kind for n in names] == ["RESORB", "POEORB"]  # duplicates collapse
    assert choose_orbit(names, "S1A", _utc(2023, 8, 23, 13), _utc(2023, 8, 23, 13, 1)).kind == (
        "RESORB"
    )
    # within 60 s of the validity edge is not covered (interpolation needs a margin)
    assert choose_orbit(names, "S1A", _utc(2023, 8, 23, 12, 32), _utc(2023, 8, 23, 12, 33)) is None
    assert choose_orbit(names, "S1B", _utc(2023, 8, 23, 13), _utc(2023, 8, 23, 13, 1)) is None


def test_orbit_files_prefer_precise_then_latest_restituted(tmp_path, orbit_server, real_data):
    server, indexes = orbit_server
    acquisitions = [
        ("S1A", _utc(2018, 11, 13, 12), _utc(2018, 11, 13, 12, 1)),  # POEORB covers
        ("S1A", _utc(2023, 8, 23, 14), _utc(2023, 8, 23, 14, 1)),  # two RESORBs: latest wins
    ]
    paths = orbit_files(acquisitions, tmp_path, indexes=indexes, **FAST)
    assert [p.name for p in paths] == [POEORB, RESORB]
    assert paths[1].read_bytes() == (real_data / "sentinel1/orbits" / RESORB).read_bytes()
    # offline: found in the cache; an uncovered acquisition names itself
    assert orbit_files(acquisitions, tmp_path, indexes=indexes, offline=True) == paths
    with pytest.raises(OfflineError, match="no orbit file in .* covers S1A 2024"):
        orbit_files([("S1A", _utc(2024, 1, 1), _utc(2024, 1, 1, 0, 1))], tmp_path, offline=True)
    with pytest.raises(FileNotFoundError, match="no orbit file covers S1A 2024"):
        orbit_files(
            [("S1A", _utc(2024, 1, 1), _utc(2024, 1, 1, 0, 1))], tmp_path, indexes=indexes, **FAST
        )


def test_geoid_to_ellipsoid_matches_dem_stitcher(real_data):
    """dem-stitcher's golden pair: geoid heights + EGM2008 grid -> ellipsoidal heights."""
    with rasterio.open(real_data / DEM / "los_angeles_dem_geoid.tif") as src:
        geoid_heights, transform = src.read(1), src.transform
    with rasterio.open(real_data / DEM / "los_angeles_dem_ellipsoid.tif") as src:
        golden = src.read(1)
    ours = geoid_to_ellipsoid(geoid_heights, transform, real_data / DEM / "egm_08_los_angeles.tif")
    # same cubic resampling of the same 1-arc-minute grid: agreement to float32 rounding
    # (1e-3 m is ~200x the float32 spacing at 400 m; the undulation here is -35 m)
    np.testing.assert_allclose(ours, golden, atol=1e-3)
    assert np.nanmean(golden - geoid_heights) == pytest.approx(-34.9, abs=0.5)


def test_glo30_tile_names():
    assert glo30_tile_names((-118.5, 33.5, -117.5, 34.5)) == [
        "Copernicus_DSM_COG_10_N33_00_W119_00_DEM",
        "Copernicus_DSM_COG_10_N33_00_W118_00_DEM",
        "Copernicus_DSM_COG_10_N34_00_W119_00_DEM",
        "Copernicus_DSM_COG_10_N34_00_W118_00_DEM",
    ]
    assert glo30_tile_names((10.2, -0.5, 10.4, -0.2)) == [
        "Copernicus_DSM_COG_10_S01_00_E010_00_DEM"
    ]


@pytest.fixture()
def dem_server(real_data):
    tile = (real_data / DEM / "los_angeles_tile_0.tif").read_bytes()
    geoid = (real_data / DEM / "egm_08_los_angeles.tif").read_bytes()
    with LocalServer(
        {
            f"/glo30/{TILE}/{TILE}.tif": Resource(tile, faults=["corrupt"]),
            "/geoid/egm08.tif": Resource(geoid),
        }
    ) as server:
        yield server


def test_frame_dem_mosaics_converts_and_flags_missing_tiles(tmp_path, dem_server, real_data):
    bounds = (-117.99, 33.955, -117.955, 33.99)  # inside the real tile cut-out
    dem, water = frame_dem(
        bounds,
        tmp_path / "dem.tif",
        tmp_path / "water.tif",
        tmp_path / "cache",
        base_url=dem_server.url("/glo30"),
        geoid_url=dem_server.url("/geoid/egm08.tif"),
        buffer_deg=0.0,
        **FAST,
    )
    with rasterio.open(dem) as src:
        h, transform = src.read(1), src.transform
    with rasterio.open(real_data / DEM / "los_angeles_tile_0.tif") as src:
        row, col = src.index(transform.c + transform.a / 2, transform.f + transform.e / 2)
        tile = src.read(1)[row : row + h.shape[0], col : col + h.shape[1]]
    assert transform.a == pytest.approx(1 / 3600) and h.shape == (
        127,
        127,
    )  # 126 s of arc, snapped outwards
    # tile pixels carried over one to one (same 1" grid, no resampling), plus the undulation:
    # inside the range of the EGM2008 grid (-35.6 .. -34.2 m, PROVENANCE.md) and smooth
    offset = h - tile
    assert np.all((offset > -35.6) & (offset < -34.2))
    assert np.abs(np.diff(offset, axis=1)).max() < 0.01  # 2.5 cm per arc-minute at most
    with rasterio.open(water) as src:
        assert src.read(1).sum() == 0  # land only
    # GLO-30 has no published checksums: the corrupt first answer (bytes flipped in the
    # header) did not open as a GeoTIFF, was deleted and fetched again
    assert len([h for h in dem_server.hits if TILE in h.path]) == 2


def test_local_archive_selection(real_data):
    products = scan_archives([real_data / "sentinel1/safe"])
    assert len(products) == 2  # the two zips (the bare manifest is not a product)
    picked = select_products(products, 71, "descending", ["071_151200_IW1"])
    assert [p.track for p in picked] == [71]
    assert select_products(products, 71, "ascending") == []
    assert select_products(products, 71, "descending", ["071_999999_IW1"]) == []
    late = select_products(products, 64, "ascending", start=datetime(2023, 1, 1, tzinfo=UTC))
    assert late == []


def test_local_frame_end_to_end(tmp_path, real_data, orbit_server, dem_server):
    """A local frame: link + validate the real SAFE, orbit (the real RESORB bytes served under
    a name valid at the SAFE's time), DEM from the real tile; then the manifest."""
    server, indexes = orbit_server
    name = "S1A_OPER_AUX_RESORB_OPOD_20200511T170000_V20200511T123000_20200511T160000.EOF"
    server.resources["/resorb/"] = Resource(_listing(name), "text/html")
    server.resources[f"/resorb/{name}"] = server.resources[f"/resorb/{RESORB}"]
    settings = {
        "start": "2020-01-01T00:00:00Z",
        "end": "2020-12-31T00:00:00Z",
        "product": "burst",
        "polarization": "VV",
        "max_gap_days": 24,
        "cmr_host": None,
        "workers": 2,
        "retries": 3,
        "backoff": 0.01,
        "timeout": 10,
        "offline": False,
        "orbit_indexes": indexes,
        "dem_url": dem_server.url("/glo30"),
        "geoid_url": dem_server.url("/geoid/egm08.tif"),
        "dem_buffer_deg": 0.0,
        "era5": False,
        "ionex": False,
        "gnss": True,
        "gnss_url": orbit_server[0].base_url,
        "local": {"archives": [str(real_data / "sentinel1/safe")]},
    }
    # a MIDAS table in the IGS14 layout (the SAFE is from 2020, before IGS20)
    midas = "P092 MIDAS5 2006.9 2024.4 17.5 6298 6200 5000 -0.0101 0.0052 -0.0011 " + (
        "0.0002 0.0002 0.0007 0 0 0 0.1 0.1 0.1 0.001 0.001 0.003 0 34.6 -118.0 700.0\n"
    )
    server.resources["/velocities/midas.IGS14.txt"] = Resource(midas.encode())
    spec = {
        "source": "local",
        "bursts": ["071_151200_IW1", "071_151200_IW2"],
        "bounds": [-117.99, 33.955, -117.955, 33.99],
    }
    out = tmp_path / "data/T071D_151193"
    path = acquire_frame("T071D_151193", spec, settings, out, tmp_path / "cache")
    raw = json.loads(path.read_text())
    assert (raw["frame"], raw["source"], raw["track"], raw["orbit_direction"]) == (
        "T071D_151193",
        "local",
        71,
        "descending",
    )
    assert raw["slc"] == [] and raw["orbits"] == [f"../../cache/orbits/{name}"]
    assert raw["safe"][0]["bursts"] == ["071_151200_IW1", "071_151200_IW2"]
    assert raw["safe"][0]["sensing_time"] == "2020-05-11T13:51:17.603718Z"
    manifest = read_manifest(path)
    assert (out / "safe").is_dir() and (out / "safe").iterdir()
    assert manifest.slc == [] and len(manifest.safe) == 1
    assert (manifest.gnss.format, manifest.gnss.reference_frame) == ("midas", "IGS14")
    assert manifest.gnss.path.read_text() == midas
    for path in (manifest.dem, manifest.water_mask):
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 4326
    # offline rerun from the cache gives the same manifest
    settings["offline"] = True
    again = acquire_frame("T071D_151193", spec, settings, out, tmp_path / "cache")
    assert json.loads(again.read_text()) == raw
