"""ISCE2 topsStack ingestion: a synthetic stack in the real layout, against its known field."""

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from sar4tec.constants import SENTINEL1_WAVELENGTH
from sar4tec.ingest import IngestSettings, ingest_frame
from sar4tec.ingest.isce2 import Isce2Source
from sar4tec.ingest.synthetic import write_acquire_cache, write_frame_inputs, write_topsstack
from sar4tec.sentinel1.cslc import read_cslc, read_cslc_info

REPO = Path(__file__).resolve().parents[1]
SPACING = (0.0002, 0.0002)  # ~22 m x 17 m frame pixels over 28 m x 16 m radar samples


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("isce2")
    truth = write_topsstack(root / "stack")
    source = Isce2Source(root / "stack")
    west, south, east, north = source.footprint()
    bounds = (west + 0.002, south + 0.002, east - 0.002, north - 0.002)
    manifest = write_frame_inputs(root / "data", [d.start for d in source.dates], bounds)
    settings = IngestSettings("isce2", str(root / "stack"), spacing=SPACING, block_size=24)
    out = ingest_frame(settings, manifest, root / "work")
    return truth, source, out


def test_dates_and_times_come_from_the_folders_and_burst_xmls(ingested):
    truth, source, out = ingested
    assert [d.date for d in source.dates] == truth.dates
    slc = json.loads(out.read_text())["slc"]
    assert [e["path"] for e in slc] == [f"{d}.h5" for d in truth.dates]
    # middle of the burst XML's sensingstart/sensingstop (2.758 s apart)
    assert slc[0]["sensing_time"] == "2020-01-03T15:55:22.379000Z"


def test_values_are_the_nearest_radar_sample_of_every_date(ingested):
    truth, source, out = ingested
    grid = read_cslc_info(out.parent / f"{truth.dates[0]}.h5").grid
    lat, lon = grid.meshgrid()
    line, sample = truth.nearest(lat, lon)
    inside = line >= 0
    assert inside.mean() > 0.8
    frac = np.linalg.solve(
        truth.matrix, np.stack([lat - truth.lat0, lon - truth.lon0], -1)[..., None]
    )[..., 0]
    # three radar cells outside (>= 48 m) is beyond the one-diagonal (32 m) acceptance radius
    far = (
        (frac < -3).any(-1)
        | (frac[..., 0] > truth.shape[0] + 2)
        | (frac[..., 1] > truth.shape[1] + 2)
    )
    assert far.any()
    for k, date in enumerate(truth.dates):
        values = read_cslc(out.parent / f"{date}.h5")
        # nearest sample, no interpolation: bit-exact copies of the radar samples
        np.testing.assert_array_equal(values[inside], truth.slcs[k][line[inside], sample[inside]])
        assert np.isnan(values[far]).all()


def test_interferograms_keep_the_deformation_phase_despite_the_tops_carrier(ingested):
    truth, source, out = ingested
    ref = read_cslc(out.parent / f"{truth.dates[0]}.h5")
    grid = read_cslc_info(out.parent / f"{truth.dates[0]}.h5").grid
    line, sample = truth.nearest(*grid.meshgrid())
    inside = line >= 0
    lines, samples = truth.shape
    pattern = np.exp(
        -(((line - lines / 2) / (lines / 4)) ** 2 + ((sample - samples / 2) / (samples / 4)) ** 2)
    )
    for k in range(1, len(truth.dates)):
        sec = read_cslc(out.parent / f"{truth.dates[k]}.h5")
        phase = np.angle(sec * np.conj(ref))[inside]
        expected = 4 * np.pi / SENTINEL1_WAVELENGTH * truth.displacement_rate * k * pattern
        # the common carrier (up to 15 rad between lines) cancels exactly: float32 rounding only
        err = np.angle(np.exp(1j * (phase - expected[inside])))
        assert np.abs(err).max() < 1e-4


def test_geometry_comes_from_geom_reference(ingested):
    truth, source, out = ingested
    assert json.loads(out.read_text())["source_geometry"] == "geometry_source.h5"
    with h5py.File(out.parent / "geometry_source.h5") as f:
        inc, heading = f["incidence_angle"][()], f["heading"][()]
        los = np.stack([f["los_east"][()], f["los_north"][()], f["los_up"][()]], -1)
        shadow = f["layover_shadow"][()]
    ok = np.isfinite(inc)
    np.testing.assert_allclose(inc[ok], 39.0, atol=1e-5)
    # ISCE los.rdr band 2 (102 deg anticlockwise, ground to satellite) = heading -12 deg
    np.testing.assert_allclose(heading[ok], 348.0, atol=1e-4)
    # the project's convention: ascending at 39 deg is about (-0.616, -0.131, 0.777)
    # (stated to 4 decimals: 1e-4 covers the rounding)
    expected = np.broadcast_to([-0.6156, -0.1308, 0.7771], los[ok].shape)
    np.testing.assert_allclose(los[ok], expected, atol=1e-4)
    assert shadow.max() == 1 and shadow.min() == 0


def test_missing_layers_and_times_are_named(tmp_path):
    write_topsstack(tmp_path / "s", shape=(20, 30), n_dates=2)
    (tmp_path / "s" / "merged" / "geom_reference" / "lon.rdr.full.vrt").unlink()
    (tmp_path / "s" / "merged" / "geom_reference" / "lon.rdr.full").unlink()
    with pytest.raises(ValueError, match="lon.rdr.full"):
        Isce2Source(tmp_path / "s")
    write_topsstack(tmp_path / "t", shape=(20, 30), n_dates=2)
    for xml in (tmp_path / "t").glob("secondarys/*/IW1.xml"):
        xml.unlink()
    with pytest.raises(ValueError, match="time_utc"):
        Isce2Source(tmp_path / "t")
    source = Isce2Source(tmp_path / "t", time_utc="15:55:30")
    assert source.dates[1].start.strftime("%H:%M:%S") == "15:55:30"


@pytest.mark.slow
def test_snakemake_runs_an_ingested_isce2_frame_from_acquire_to_the_stack(tmp_path):
    """Only a config and a stack: acquire reads the stack (offline, from a filled cache), ingest
    resamples it, the stack rule takes the source's geometry."""
    truth = write_topsstack(tmp_path / "stack")
    source = Isce2Source(tmp_path / "stack")
    write_acquire_cache(tmp_path / "cache", [d.start for d in source.dates], source.footprint())
    config = {
        "frames": {"isce": {"source": "local", "stack": {"format": "isce2", "path": "stack"}}},
        "acquire": {
            "offline": True,
            "era5": False,
            "ionex": False,
            "gnss": False,
            "dem_buffer_deg": 0.01,
        },
        "stack": {"cslc_spacing": list(SPACING), "block_size": 32},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    target = "work/isce/stack/slc_stack.h5"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(tmp_path / "config.yaml"),
            "--cores",
            "1",
            target,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-5000:]
    assert "rule acquire_local" in run.stderr and "rule geocode" not in run.stderr
    acquired = json.loads((tmp_path / "data" / "isce" / "manifest.json").read_text())
    # track 87 ascending from the burst XMLs (S1A orbitnumber), one cached EOF per date
    assert (acquired["track"], acquired["orbit_direction"]) == (87, "ascending")
    assert acquired["ingested"]["dates"] == truth.dates and len(acquired["orbits"]) == 5
    np.testing.assert_allclose(acquired["bounds"], source.footprint())
    with h5py.File(tmp_path / target) as f:
        slc = f["slc"][()]
        assert [d.decode() for d in f["dates"][()]] == truth.dates
    ingest = tmp_path / "work" / "isce" / "ingest"
    values = read_cslc(ingest / f"{truth.dates[2]}.h5")
    np.testing.assert_array_equal(slc[2], values)
    # the frame is the acquired footprint, the lat/lon box of the radar grid turned by the
    # -12 deg heading: every pixel over the radar grid has data, the box's corners none
    line, _ = truth.nearest(*read_cslc_info(ingest / f"{truth.dates[0]}.h5").grid.meshgrid())
    assert np.isfinite(slc[0])[line >= 0].all() and np.isnan(slc[0]).any()
    with (
        h5py.File(ingest / "geometry_source.h5") as src,
        h5py.File(tmp_path / "work" / "isce" / "stack" / "geometry.h5") as geo,
    ):
        ok = np.isfinite(src["incidence_angle"][()])
        assert ok[line >= 0].all()
        # the source's layers are copied (float32 to float32): equal, not merely close
        for name in ("incidence_angle", "heading", "los_east", "los_north", "los_up", "height"):
            np.testing.assert_array_equal(geo[name][()][ok], src[name][()][ok])
        np.testing.assert_array_equal(
            geo["layover_shadow_mask"][()][ok], src["layover_shadow"][()][ok]
        )
        # azimuth_time counts from the first date's sensing time (middle of its interval):
        # within a 2.8 s burst the pixels' zero-Doppler times are seconds from it
        assert geo["azimuth_time"].attrs["reference_time"] == "2020-01-03T15:55:22.379000Z"
        assert np.abs(geo["azimuth_time"][()]).max() < 5.0


def test_the_configured_polarisation_is_written_and_listed(tmp_path):
    write_topsstack(tmp_path / "s", shape=(20, 30), n_dates=2)
    source = Isce2Source(tmp_path / "s")
    manifest = write_frame_inputs(tmp_path / "data", [d.start for d in source.dates],
                                  source.footprint())  # fmt: skip
    settings = IngestSettings("isce2", str(tmp_path / "s"), polarization="VH", spacing=SPACING)
    out = ingest_frame(settings, manifest, tmp_path / "work")
    first = out.parent / json.loads(out.read_text())["slc"][0]["path"]
    assert read_cslc_info(first, "VH").grid.shape[0] > 0
    with pytest.raises(ValueError, match="data/VV"):
        read_cslc_info(first, "VV")
