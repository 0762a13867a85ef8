"""OPERA CSLC-S1 ingestion: the real product's metadata, and a mosaic of synthetic bursts."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest

from sar4tec.files import atomic_output
from sar4tec.grid import Grid
from sar4tec.ingest.common import transform_points
from sar4tec.ingest.opera import OperaSource, read_opera_burst
from sar4tec.sentinel1.cslc import CslcMetadata, create_cslc
from sar4tec.sentinel1.orbit import Orbit

REAL = "sentinel1/opera_cslc_metadata_only"
NAME = "OPERA_L2_CSLC-S1_T042-088905-IW1_20231021T140757Z_20231023T003801Z_S1A_VV_v1.0.h5"


def test_real_product_metadata(real_data):
    burst = read_opera_burst(real_data / REAL / NAME)
    assert burst.burst_id == "t042_088905_iw1" and burst.track == 42
    assert burst.start == datetime(2023, 10, 21, 14, 7, 57, tzinfo=UTC)
    assert (burst.mission, burst.polarization, burst.direction) == ("S1A", "VV", "descending")
    # PROVENANCE: EPSG 32610, 19842 x 4503 coordinates, 5 m x 10 m posting, wavelength
    assert burst.grid.crs == "EPSG:32610" and burst.grid.shape == (4503, 19842)
    assert (burst.grid.transform[1], burst.grid.transform[5]) == (5.0, -10.0)
    assert burst.wavelength == pytest.approx(0.05546576)
    assert burst.orbit.covers(burst.start, burst.stop)


def test_real_metadata_only_product_is_refused_when_pixels_are_needed(real_data, tmp_path):
    (tmp_path / NAME).symlink_to(real_data / REAL / NAME)
    source = OperaSource(tmp_path)
    assert [d.date for d in source.dates] == ["20231021"]
    grid = Grid((-120.0, 0.001, 0, 39.7, 0, -0.001), (4, 4))
    with pytest.raises(ValueError, match="no /data/VV"):
        source.locate(grid)


EPOCH = datetime(2023, 10, 9, 14, 7, 50, tzinfo=UTC)
X0, Y0 = 734580.0, 4397550.0  # on the 5 m x 10 m lattice of the real product


def _orbit(start: datetime) -> Orbit:
    times = [start + timedelta(seconds=10 * k) for k in range(-6, 7)]
    position = np.array([[7e6 + 10 * k, 0.0, 0.0] for k in range(13)])
    velocity = np.tile([0.0, 7.5e3, 0.0], (13, 1))
    return Orbit.from_state_vectors(times, position, velocity)


def _field(x, y, burst: int, k: int):
    """Amplitude, a burst-specific phase (different Doppler per burst) and a deformation."""
    amp = 1.0 + 0.5 * np.cos(x / 37.0) * np.sin(y / 53.0)
    burst_phase = (2.0 + burst) * (y / 10.0)
    deform = 0.3 * k * np.sin(x / 200.0)
    return amp * np.exp(1j * (burst_phase + deform)), deform


def _write_burst(folder: Path, burst: int, k: int, hole: bool = False) -> None:
    rows, cols = 60, 50
    y_top = Y0 - burst * 40 * 10.0  # bursts 0 and 1 overlap by 20 rows
    grid = Grid((X0 - 2.5, 5.0, 0, y_top + 5.0, 0, -10.0), (rows, cols), "EPSG:32610")
    start = EPOCH + timedelta(days=12 * k, seconds=2.758 * burst)
    meta = CslcMetadata(
        start,
        start + timedelta(seconds=3),
        "descending",
        42,
        "S1A",
        50000 + k,
        _orbit(start),
        burst_ids=(f"t042_{88905 + burst:06d}_iw1",),
    )
    name = (
        f"OPERA_L2_CSLC-S1_T042-{88905 + burst:06d}-IW1_{start:%Y%m%dT%H%M%S}Z_"
        f"20231101T000000Z_S1A_VV_v1.0.h5"
    )
    yy, xx = grid.meshgrid()
    values, _ = _field(xx, yy, burst, k)
    if hole:
        values[40:, :] = 0  # no data in the overlap on this date
    with atomic_output(folder / name) as tmp, h5py.File(tmp, "w") as f:
        create_cslc(f, grid, meta)[...] = values


def test_bursts_are_mosaicked_with_one_owner_per_pixel_for_every_date(tmp_path):
    for k in range(3):
        for burst in (0, 1):
            _write_burst(tmp_path, burst, k, hole=(k == 1 and burst == 0))
    source = OperaSource(tmp_path)
    assert [d.date for d in source.dates] == ["20231009", "20231021", "20231102"]
    west, south, east, north = source.footprint()
    grid = Grid(
        (west + 0.0003, 0.0001, 0, north - 0.0003, 0, -0.0001),
        (int((north - south) / 1e-4) - 6, int((east - west) / 1e-4) - 6),
    )
    where = source.locate(grid)
    lat, lon = grid.meshgrid()
    x, y = transform_points(lon, lat, "EPSG:4326", "EPSG:32610")
    owner = where["owner"]
    in_overlap = (y < Y0 - 400 + 5) & (y > Y0 - 600 + 5)
    assert (in_overlap & (owner != "")).any()
    # burst 0 has no data in the overlap on date 1: burst 1 owns it on every date
    assert (owner[in_overlap & (owner != "")] == "t042_088906_iw1").all()
    values = [source.read(k, where) for k in range(3)]
    covered = owner != ""
    for k in (1, 2):
        _, deform = _field(x, y, 0, k)
        phase = np.angle(values[k] * np.conj(values[0]))[covered]
        # same owner burst on every date: the burst phase cancels; the deformation is sampled
        # at the nearest UTM sample (<= 2.5 m away: 0.3 k / 200 rad/m x 2.5 m < 0.008 rad)
        err = np.angle(np.exp(1j * (phase - deform[covered])))
        assert np.abs(err).max() < 0.008
    assert covered.mean() > 0.9


def test_overlap_without_holes_is_split_down_the_middle(tmp_path):
    for burst in (0, 1):
        _write_burst(tmp_path, burst, 0)
    source = OperaSource(tmp_path)
    west, south, east, north = source.footprint()
    grid = Grid(
        (west + 0.0003, 0.0001, 0, north - 0.0003, 0, -0.0001),
        (int((north - south) / 1e-4) - 6, int((east - west) / 1e-4) - 6),
    )
    where = source.locate(grid)
    lat, lon = grid.meshgrid()
    _, y = transform_points(lon, lat, "EPSG:4326", "EPSG:32610")
    middle = Y0 - 500.0  # centres at Y0 - 295 and Y0 - 695 (60 rows of 10 m, 400 m apart)
    owner = where["owner"]
    # one frame pixel (~11 m) of slack at the split line
    assert (owner[(y > middle + 11) & (owner != "")] == "t042_088905_iw1").all()
    assert (owner[(y < middle - 11) & (owner != "")] == "t042_088906_iw1").all()


def test_mixed_lattices_are_refused(tmp_path):
    _write_burst(tmp_path, 0, 0)
    _write_burst(tmp_path, 1, 0)
    path = sorted(tmp_path.glob("*88906*"))[0]
    with h5py.File(path, "r+") as f:
        f["data/x_coordinates"][...] += 2.0
    with pytest.raises(ValueError, match="lattice"):
        OperaSource(tmp_path)
