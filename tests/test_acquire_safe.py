"""SAFE manifest/annotation parsing against the real products in shared/data/real/sentinel1/safe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sar4tec.regions.bursts import pass_direction, read_burst_db
from sar4tec.sentinel1.safe import burst_id_from_anx, parse_annotation, read_safe

SAFE_2022 = "sentinel1/safe/S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"
SAFE_2020 = "sentinel1/safe/S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768.zip"


def test_manifest_and_annotation_fields(real_data):
    info = read_safe(real_data / SAFE_2022)
    # values listed in PROVENANCE.md for this product
    assert (info.mission, info.mode, info.product_type) == ("S1A", "IW", "SLC")
    assert (info.track, info.absolute_orbit, info.direction) == (64, 45461, "ascending")
    assert info.start == datetime(2022, 10, 16, 1, 50, 43, 635838, tzinfo=UTC)
    assert len(info.bursts) == 9 and info.polarizations == ["VV"]
    assert info.bursts[0].azimuth_time == datetime(2022, 10, 16, 1, 50, 44, 577282, tzinfo=UTC)
    assert info.burst_ids[0] == "064_135518_IW2" and info.burst_ids[-1] == "064_135526_IW2"


def test_burst_id_from_anx_time_matches_the_ids_esa_wrote(real_data):
    """IPF 3.52 writes burstId; the ESA formula applied to azimuthAnxTime must give it back."""
    info = read_safe(real_data / SAFE_2022)
    for burst in info.bursts:
        assert burst_id_from_anx(info.track, burst.mid_anx_time) == burst.burst_id
        assert pass_direction(info.track, burst.burst_id) == info.direction
        # the burst start alone is not enough: IDs are defined by the burst centre
        assert burst.mid_anx_time - burst.anx_time == pytest.approx(1508 / 2 * 2.0555563e-3)


def test_old_ipf_bursts_get_ids_that_exist_in_the_burst_map(real_data):
    """IPF 3.20 has no burstId: the computed IDs must be bursts of the real ESA map sample,
    whose footprints contain the product's own burst centres."""
    info = read_safe(real_data / SAFE_2020)
    assert (info.track, info.direction) == (71, "descending")
    assert len(info.bursts) == 54 and info.polarizations == ["VH", "VV"]
    known = {b.full_id: b for b in read_burst_db(real_data / "burst_db/esa_burst_db_sample.csv")}
    ids = info.burst_ids
    assert len(ids) == 27  # 9 bursts x 3 sub-swaths, both polarisations share the IDs
    found = [i for i in ids if i in known]
    assert len(found) >= 20, ids  # the sample is a subset of the full map around this scene
    assert all(known[i].direction == "descending" for i in found)


def test_bare_manifest_and_errors(real_data, tmp_path):
    info = read_safe(real_data / "sentinel1/safe/manifest_7C85.safe")
    assert (info.absolute_orbit, info.bursts) == (32861, [])
    assert info.start == datetime(2020, 6, 4, 2, 22, 51, 824758, tzinfo=UTC)
    with pytest.raises(FileNotFoundError, match="SAFE product not found"):
        read_safe(tmp_path / "nothing.zip")
    with pytest.raises(ValueError, match="not a Sentinel-1 annotation"):
        parse_annotation(b"<product/>", 1, "x.xml")
