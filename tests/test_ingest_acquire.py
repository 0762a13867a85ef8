"""The acquire stage for ingested frames: identity from the product or the config, orbits only
where the product has none, everything offline from a filled cache."""

import json

import pytest

from sar4tec.acquire.download import OfflineError
from sar4tec.acquire.frame import acquire_frame, ingested_source
from sar4tec.config import load_config
from sar4tec.ingest.synthetic import write_acquire_cache, write_topsstack

OPERA = "sentinel1/opera_cslc_metadata_only"


@pytest.fixture()
def settings(tmp_path):
    """The validated acquire section, offline, without ERA5/IONEX/GNSS."""
    (tmp_path / "c.yaml").write_text(
        "frames: {f: {source: local}}\n"
        "acquire: {offline: true, era5: false, ionex: false, gnss: false, dem_buffer_deg: 0.0}\n"
    )
    return load_config(tmp_path / "c.yaml")["acquire"]


def _without_burst_xmls(folder):
    write_topsstack(folder, shape=(20, 30), n_dates=2)
    for xml in folder.glob("**/IW1.xml"):
        xml.unlink()


def test_track_and_direction_from_the_burst_xmls_must_match_the_config(tmp_path):
    write_topsstack(tmp_path / "s", shape=(20, 30), n_dates=2)
    spec = {"source": "local", "stack": {"format": "isce2", "path": str(tmp_path / "s")}}
    source = ingested_source("f", spec, {})
    assert (source.track, source.direction) == (87, "ascending")
    assert {d.mission for d in source.dates} == {"S1A"}
    with pytest.raises(ValueError, match="product's track 87 is not the frame's 88"):
        ingested_source("f", {**spec, "track": 88, "orbit_direction": "ascending"}, {})


def test_what_the_product_does_not_say_comes_from_the_config_or_is_asked_for(tmp_path):
    _without_burst_xmls(tmp_path / "s")
    stack = {"format": "isce2", "path": str(tmp_path / "s"), "time_utc": "15:55:21"}
    spec = {"source": "local", "stack": stack}
    with pytest.raises(ValueError, match="frame f .* does not give its track"):
        ingested_source("f", spec, {})
    spec.update(track=87, orbit_direction="ascending")
    with pytest.raises(ValueError, match="stack.mission"):
        ingested_source("f", spec, {})
    source = ingested_source("f", {**spec, "stack": {**stack, "mission": "S1B"}}, {})
    assert (source.track, source.direction) == (87, "ascending")
    assert {d.mission for d in source.dates} == {"S1B"}


def test_isce2_frame_offline_needs_its_orbits_in_the_cache(tmp_path, settings):
    write_topsstack(tmp_path / "s", shape=(20, 30), n_dates=2)
    spec = {"source": "local", "stack": {"format": "isce2", "path": str(tmp_path / "s")}}
    source = ingested_source("f", spec, {})
    # DEM and geoid only: the S1A orbits of the two dates are missing
    write_acquire_cache(tmp_path / "cache", [], source.footprint())
    with pytest.raises(OfflineError, match="no orbit file in .* covers S1A 2020-01-03"):
        acquire_frame("f", spec, settings, tmp_path / "data", tmp_path / "cache")
    write_acquire_cache(tmp_path / "cache", [d.start for d in source.dates], source.footprint())
    raw = json.loads(
        acquire_frame("f", spec, settings, tmp_path / "data", tmp_path / "cache").read_text()
    )
    assert raw["safe"] == [] and len(raw["orbits"]) == 2
    assert raw["ingested"] == {
        "format": "isce2",
        "path": str((tmp_path / "s").resolve()),
        "dates": ["20200103", "20200115"],
    }


def test_opera_frame_uses_the_products_orbits(tmp_path, real_data, settings):
    """The real OPERA product names its track, direction and state vectors: no EOF needed."""
    (tmp_path / "opera").mkdir()
    for product in (real_data / OPERA).glob("*.h5"):
        (tmp_path / "opera" / product.name).symlink_to(product)
    bounds = [-121.50, 39.60, -121.48, 39.62]  # a small DEM: the footprint is 110 km long
    write_acquire_cache(tmp_path / "cache", [], bounds)
    spec = {
        "source": "local",
        "bounds": bounds,
        "stack": {"format": "opera", "path": str(tmp_path / "opera")},
    }
    path = acquire_frame(
        "f", spec, settings, tmp_path / "data", tmp_path / "cache", {"polarization": "VV"}
    )
    raw = json.loads(path.read_text())
    assert (raw["track"], raw["orbit_direction"], raw["orbits"]) == (42, "descending", [])
    assert raw["ingested"]["dates"] == ["20231021"] and raw["bounds"] == bounds
