"""Strain-rate regions against synthetic grids with known answers; bursts and frames against the
real ESA burst-ID sample and the real track/burst-ID table."""

from __future__ import annotations

import json
import os
import sqlite3
import struct

import numpy as np
import pytest
import shapely
import yaml

from sar4tec.cli import main as cli_main
from sar4tec.grid import Grid
from sar4tec.regions.bursts import (
    burst_from_record,
    pass_direction,
    read_burst_db,
    track_burst_range,
)
from sar4tec.regions.frames import group_frames, select_frames, tiles_of
from sar4tec.regions.select import cache_key, region_frames
from sar4tec.regions.strain import (
    KM_PER_DEG,
    dilate_km,
    mask_polygons,
    read_strain,
    region_mask,
    second_invariant,
)

BURST_CSV = "burst_db/esa_burst_db_sample.csv"


# --- strain ---------------------------------------------------------------------------------


def _synthetic_strain():
    """0.5-degree grid over Anatolia with a tensor field whose invariant is known exactly."""
    lon = np.arange(26.0, 45.01, 0.5)
    lat = np.arange(35.0, 42.01, 0.5)
    lon2, lat2 = np.meshgrid(lon, lat)
    exx = 10.0 * np.exp(-(((lat2 - 39.0) / 1.0) ** 2))  # a high-strain band along 39 N
    eyy = -0.5 * exx
    exy = 0.25 * exx
    return lon, lat, exx, eyy, exy


def test_second_invariant_definition():
    # pure shear exy = 1: I2 = sqrt(2); uniaxial exx = 3: I2 = 3; all three: sqrt(9+16+2*4)
    assert second_invariant(0, 0, 1) == pytest.approx(np.sqrt(2))
    assert second_invariant(3, 0, 0) == pytest.approx(3)
    assert second_invariant(3, -4, 2) == pytest.approx(np.sqrt(33))


def test_text_and_netcdf_layouts_give_the_same_invariant(tmp_path):
    import netCDF4

    lon, lat, exx, eyy, exy = _synthetic_strain()
    truth = np.sqrt(exx**2 + eyy**2 + 2 * exy**2)[::-1]  # north-up rows
    # GSRM text layout: lat lon exx eyy exy + extra columns, rows in arbitrary order, 0..360 lon
    lon2, lat2 = np.meshgrid(lon, lat)
    table = np.column_stack(
        [lat2.ravel(), lon2.ravel() % 360, exx.ravel(), eyy.ravel(), exy.ravel(), exx.ravel()]
    )
    rng = np.random.default_rng(1)
    text = tmp_path / "GSRM_strain.txt"
    np.savetxt(text, table[rng.permutation(len(table))], header="lat lon exx eyy exy e1")

    # one NetCDF with three variables; GMT grids one per component (z); an invariant grid
    def write_nc(path, fields):
        with netCDF4.Dataset(path, "w") as ds:
            ds.createDimension("lat", lat.size)
            ds.createDimension("lon", lon.size)
            ds.createVariable("lat", "f8", ("lat",))[:] = lat
            ds.createVariable("lon", "f8", ("lon",))[:] = lon
            for name, values in fields.items():
                ds.createVariable(name, "f4", ("lat", "lon"))[:] = values

    write_nc(tmp_path / "strain.nc", {"exx": exx, "eyy": eyy, "exy": exy})
    for name, values in (("exx", exx), ("eyy", eyy), ("exy", exy)):
        write_nc(tmp_path / f"gsrm_{name}.grd", {"z": values})
    write_nc(tmp_path / "i2.nc", {"z": np.sqrt(exx**2 + eyy**2 + 2 * exy**2)})

    grids = [
        read_strain(text),
        read_strain(tmp_path / "strain.nc"),
        read_strain(str(tmp_path / "gsrm_{component}.grd")),
        read_strain(tmp_path / "i2.nc", variables={"second_invariant": None}),
    ]
    expected = Grid((25.75, 0.5, 0, 42.25, 0, -0.5), (lat.size, lon.size))
    for strain in grids:
        assert strain.grid.almost_equal(expected)
        # float32 storage in the NetCDF files: relative error below 1e-6
        np.testing.assert_allclose(strain.invariant, truth, rtol=1e-6)


def test_irregular_text_grid_is_refused(tmp_path):
    path = tmp_path / "bad.txt"
    np.savetxt(path, [[0, 0, 1, 1, 1], [0, 1, 1, 1, 1], [0, 3, 1, 1, 1]])
    with pytest.raises(ValueError, match="bad.txt: the longitude nodes are not regularly"):
        read_strain(path)


def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * KM_PER_DEG * 180 / np.pi * np.arcsin(np.sqrt(a))


@pytest.mark.parametrize("lat0", [0.0, 60.0])
def test_dilation_reaches_the_margin_on_the_ground(lat0):
    grid = Grid.from_bounds(20.0, lat0 - 2.0, 24.0, lat0 + 2.0, 0.05)
    mask = np.zeros(grid.shape, bool)
    r, c = grid.nearest_pixel(lat0, 22.0)
    mask[r, c] = True
    out = dilate_km(mask, grid, 60.0)
    yy, xx = grid.meshgrid()
    dist = _haversine_km(grid.y[r], grid.x[c], yy, xx)
    # tangent-plane distances differ from great-circle ones by < 0.1 % at 60 km; one pixel
    # (5.6 km N-S) of slack covers the pixel-centre discretisation
    assert out[dist <= 60.0 - 5.6].all()
    assert not out[dist > 60.0 + 0.1].any()
    # at 60 N a degree of longitude is half as long: the dilated blob is twice as wide in lon
    cols = np.flatnonzero(out[r])
    width_km = (cols.max() - cols.min()) * 0.05 * KM_PER_DEG * np.cos(np.radians(lat0))
    assert width_km == pytest.approx(120.0, abs=2 * 5.6)


def test_region_polygons_follow_the_high_strain_band(tmp_path):
    lon, lat, exx, eyy, exy = _synthetic_strain()
    text = tmp_path / "s.txt"
    lon2, lat2 = np.meshgrid(lon, lat)
    np.savetxt(
        text, np.column_stack([lat2.ravel(), lon2.ravel(), exx.ravel(), eyy.ravel(), exy.ravel()])
    )
    strain = read_strain(text)
    # I2 = 10 exp(-((lat-39)/1)^2) * sqrt(1 + 0.25 + 0.125) >= 3 <=> |lat - 39| <= 1.15 deg:
    # nodes 38.0 .. 40.0 (0.5-degree grid) -> pixel edges 37.75 .. 40.25
    mask = region_mask(strain, threshold=3.0)
    polygon = mask_polygons(mask, strain.grid)
    assert polygon.bounds == pytest.approx((25.75, 37.75, 45.25, 40.25))
    # a 30 km margin adds one 0.5-degree row (55.7 km) only where the edge is within 30 km: none
    grown = mask_polygons(region_mask(strain, 3.0, margin_km=60.0), strain.grid)
    assert grown.bounds == pytest.approx((25.75, 37.25, 45.25, 40.75))


# --- bursts ---------------------------------------------------------------------------------


def test_track_burst_ranges_match_the_esa_table(real_data):
    rows = np.loadtxt(real_data / "burst_db/sentinel1_track_burst_id.txt", dtype=int)
    assert len(rows) == 175
    for track, first, last in rows:
        assert track_burst_range(int(track)) == (first, last)


def test_burst_sample_directions_agree_with_the_swath_geometry(real_data):
    """Right-looking radar: IW3 lies east of IW1 when ascending (heading ~ -10 deg), west when
    descending.  The direction computed from the burst ID must agree on every track."""
    bursts = read_burst_db(real_data / BURST_CSV)
    assert len(bursts) == 195
    assert {b.track for b in bursts} == {2, 15, 16, 51, 71, 154, 175}
    by_key = {(b.track, b.burst_id, b.subswath): b for b in bursts}
    checked = 0
    for (track, number, swath), b in by_key.items():
        if swath != "IW1" or (track, number, "IW3") not in by_key:
            continue
        east = by_key[(track, number, "IW3")].geometry.centroid.x - b.geometry.centroid.x
        assert (east > 0) == (b.direction == "ascending"), b.full_id
        checked += 1
    assert checked > 50
    # the real SAFE of relative orbit 71 (PROVENANCE.md) is descending
    assert {b.direction for b in bursts if b.track == 71} == {"descending"}


def _spatialite_blob(geom) -> bytes:
    """Encode a (Multi)Polygon as a SpatiaLite BLOB-Geometry (little endian, SRID 4326)."""

    def ring(coords):
        return struct.pack("<I", len(coords)) + b"".join(struct.pack("<dd", *xy) for xy in coords)

    def polygon(p):
        rings = [p.exterior, *p.interiors]
        return struct.pack("<I", len(rings)) + b"".join(ring(list(r.coords)) for r in rings)

    parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    body = struct.pack("<II", 6, len(parts)) + b"".join(
        b"\x69" + struct.pack("<I", 3) + polygon(p) for p in parts
    )
    return b"\x00\x01" + struct.pack("<i4d", 4326, *geom.bounds) + b"\x7c" + body + b"\xfe"


def test_sqlite_and_geojson_maps_read_like_the_csv(real_data, tmp_path):
    bursts = read_burst_db(real_data / BURST_CSV)
    # ESA-style SQLite: separate columns, SpatiaLite geometry; OPERA-style: JPL ID + GPKG/WKB
    esa = tmp_path / "esa.sqlite3"
    con = sqlite3.connect(esa)
    con.execute(
        "CREATE TABLE burst_id_map (OGC_FID INTEGER, GEOMETRY BLOB, burst_id INTEGER,"
        " subswath_name TEXT, relative_orbit_number INTEGER, orbit_pass TEXT)"
    )
    con.executemany(
        "INSERT INTO burst_id_map VALUES (?, ?, ?, ?, ?, ?)",
        [
            (i, _spatialite_blob(b.geometry), b.burst_id, b.subswath, b.track, b.direction.upper())
            for i, b in enumerate(bursts)
        ],
    )
    con.commit()
    con.close()
    opera = tmp_path / "opera.gpkg"
    con = sqlite3.connect(opera)
    con.execute("CREATE TABLE meta (x TEXT)")
    con.execute("CREATE TABLE burst_id_map (burst_id_jpl TEXT, geom BLOB)")
    gpkg_header = b"GP\x00\x01" + struct.pack("<i", 4326)  # flags 1: little endian, no envelope
    con.executemany(
        "INSERT INTO burst_id_map VALUES (?, ?)",
        [
            (
                f"t{b.track:03d}_{b.burst_id:06d}_{b.subswath.lower()}",
                gpkg_header + shapely.to_wkb(b.geometry) if i % 2 else shapely.to_wkb(b.geometry),
            )
            for i, b in enumerate(bursts)
        ],
    )
    con.commit()
    con.close()
    geojson = tmp_path / "bursts.geojson"
    geojson.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"full_burst_id": b.full_id},
                        "geometry": json.loads(shapely.to_geojson(b.geometry)),
                    }
                    for b in bursts
                ],
            }
        )
    )
    for path in (esa, opera, geojson):
        other = read_burst_db(path)
        assert [b.full_id for b in other] == [b.full_id for b in bursts]
        assert [b.direction for b in other] == [b.direction for b in bursts]
        for a, b in zip(other, bursts, strict=True):
            assert a.geometry.equals_exact(b.geometry, 1e-9)


def test_bad_burst_records_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="x.csv: a burst needs burst_id_jpl"):
        burst_from_record({"foo": 1}, None, "x.csv")
    with pytest.raises(FileNotFoundError, match="burst database not found"):
        read_burst_db(tmp_path / "none.sqlite")


# --- frames ---------------------------------------------------------------------------------


def test_frames_have_stable_ids_and_tiles(real_data):
    bursts = read_burst_db(real_data / BURST_CSV)
    frames = group_frames(bursts, frame_bursts=9, overlap=1)
    for fid, frame in frames.items():
        first, _ = track_burst_range(frame.track)
        start = int(fid.split("_")[1])
        assert (start - first) % 9 == 0
        assert fid.startswith(f"T{frame.track:03d}{frame.direction[0].upper()}_")
        numbers = {int(b.split("_")[1]) for b in frame.burst_ids}
        assert min(numbers) >= start and max(numbers) <= start + 9  # 9 + 1 overlap burst
        assert {pass_direction(frame.track, n) for n in numbers} == {frame.direction}
    # a burst on a tile boundary belongs to both frames (the overlap)
    b = next(
        b
        for b in bursts
        if (b.burst_id - track_burst_range(b.track)[0]) % 9 == 0
        and b.burst_id - track_burst_range(b.track)[0] > 0
    )
    assert len(tiles_of(b, 9, 1)) == 2 and len(tiles_of(b, 9, 0)) == 1


def test_selected_frame_ids_do_not_depend_on_the_region(real_data):
    bursts = read_burst_db(real_data / BURST_CSV)
    spain = [b for b in bursts if b.track == 154 and b.geometry.centroid.y > 37]
    point = spain[0].geometry.centroid
    small = select_frames(point.buffer(0.01), bursts)
    large = select_frames(shapely.box(-11, 20, 0, 45), bursts)
    assert len(small) >= 1
    assert {f.frame_id for f in small} <= {f.frame_id for f in large}
    by_id = {f.frame_id: f for f in large}
    for frame in small:  # same content, too: a frame keeps all its bursts
        assert frame.burst_ids == by_id[frame.frame_id].burst_ids
    assert select_frames(point.buffer(0.01), bursts, directions=("ascending",)) == []


# --- config expansion and CLI ---------------------------------------------------------------


def _region_config(tmp_path, real_data, strain_file):
    return {
        "paths": {"cache": str(tmp_path / "cache")},
        "region": {
            "strain_file": str(strain_file),
            "burst_db": str(real_data / BURST_CSV),
            "threshold": 3.0,
            "margin_km": 20.0,
        },
    }


def test_region_expansion_is_cached_and_keyed_on_inputs(tmp_path, real_data, capsys):
    # strain band over southern Spain where the sample has track 154 bursts (37-39.4 N)
    lon = np.arange(-10.0, -2.0, 0.25)
    lat = np.arange(35.0, 41.0, 0.25)
    lon2, lat2 = np.meshgrid(lon, lat)
    exx = np.where(np.abs(lat2 - 38.5) < 0.3, 20.0, 0.5)
    strain_file = tmp_path / "strain.txt"
    np.savetxt(
        strain_file,
        np.column_stack(
            [lat2.ravel(), lon2.ravel(), exx.ravel(), 0 * exx.ravel(), 0 * exx.ravel()]
        ),
    )
    config = _region_config(tmp_path, real_data, strain_file)
    frames = region_frames(config)
    assert set(frames) == {"T154D_329471", "T154D_329480"}
    assert all(f["track"] == 154 and f["orbit_direction"] == "descending" for f in frames.values())
    cached = list((tmp_path / "cache/regions").glob("*.json"))
    assert len(cached) == 1
    # a second call reads the cache: make the cached answer recognisable
    cached[0].write_text(json.dumps({"X": frames["T154D_329471"]}))
    assert set(region_frames(config)) == {"X"}
    # a different threshold is another key; so is a touched input file
    key = cache_key(config["region"])
    config["region"]["threshold"] = 50.0
    assert cache_key(config["region"]) != key
    assert region_frames(config) == {}
    config["region"]["threshold"] = 3.0
    os.utime(strain_file, ns=(1, 1))
    assert cache_key(config["region"]) != key

    # the command line validates the config (filling defaults: another key) and lists them
    config_file = tmp_path / "c.yaml"
    config_file.write_text(yaml.safe_dump(config))
    assert cli_main(["regions", "list", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "T154D_329471     154 descending   5   6   6" in out and "2 frames" in out
