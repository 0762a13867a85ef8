"""End-to-end checks of a small synthetic frame: files, contracts, truth and determinism."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from sar4tec.cli import main
from sar4tec.config import load_config
from sar4tec.constants import SENTINEL1_WAVELENGTH, los_to_phase
from sar4tec.files import parse_time, read_times
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest
from sar4tec.simulate import simulate_frame

CONFIG = """
seed: 0
frames:
  tiny:
    source: simulate
simulation:
  bounds: [30.22, 40.70, 30.54, 40.94]
  spacing: 0.004
  dem_margin: 6
  acquisitions: {start: "2018-01-03", end: "2018-07-31", subsample: 2}
  city: {lon: 30.39, lat: 40.80, radius: 6000.0}
  scattering:
    cells: 6
    classes: {urban: {ps_fraction: 0.5}}
  gnss: {stations: 5, outside: 2}
phase_linking: {strides: [2, 2]}
"""
STRIDES = (2, 2)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    """The small frame simulated twice with seed 0 (once through the CLI) and once with seed 7."""
    root = tmp_path_factory.mktemp("sim")
    config_path = root / "config.yaml"
    config_path.write_text(CONFIG)
    config = load_config(config_path)
    lines = []
    manifest = simulate_frame(config, root / "a", "tiny", progress=lines.append)
    assert main(["simulate", str(config_path), str(root / "b")]) == 0
    assert main(["simulate", str(config_path), str(root / "c"), "--seed", "7"]) == 0
    return {
        "root": root,
        "dir": manifest.parent,
        "config": config,
        "progress": lines,
        "manifest": json.loads(manifest.read_text()),
    }


@pytest.fixture(scope="module")
def truth(frame):
    with h5py.File(frame["dir"] / "truth.h5", "r") as h5:
        yield h5


def test_same_seed_gives_identical_files_and_another_seed_another_realisation(frame):
    a, b, c = (_digest(frame["root"] / name) for name in "abc")
    assert a == b
    assert set(a) == set(c)
    # the scene (relief, lake) is the same, the realisation (speckle, weather, ...) is not
    assert a["dem.tif"] == c["dem.tif"] and a["water_mask.tif"] == c["water_mask.tif"]
    differ = [name for name in a if a[name] != c[name]]
    assert "truth.h5" in differ and "gnss/midas.IGS14.txt" in differ
    assert all(name in differ for name in a if name.startswith(("slc/", "era5/")))
    assert frame["progress"][-1].startswith("manifest:")


def test_manifest_follows_the_contract(frame):
    m, folder = frame["manifest"], frame["dir"]
    assert m["frame"] == "tiny" and m["source"] == "simulate" and m["truth"] == "truth.h5"
    assert m["orbit_direction"] == "ascending" and m["track"] == 87
    assert m["gnss"] == {
        "path": "gnss/midas.IGS14.txt",
        "format": "midas",
        "reference_frame": "IGS14",
    }
    for key in ("dem", "water_mask", "truth"):
        assert (folder / m[key]).is_file()
    n = len(m["slc"])
    assert n == 9 and len(m["orbits"]) == n and len(m["era5"]) == n
    for entry in m["slc"] + [{"path": p} for p in m["orbits"] + m["era5"] + m["ionex"]]:
        assert (folder / entry["path"]).is_file(), entry
    times = [parse_time(e["sensing_time"]) for e in m["slc"]]
    assert all((b - a).days == 24 for a, b in zip(times[:-1], times[1:], strict=True))
    # the project's manifest reader resolves every listed file
    parsed = read_manifest(folder / "manifest.json")
    assert parsed.sensing_times == times and parsed.gnss.format == "midas"
    assert parsed.extra["truth"] == "truth.h5"
    assert m["ionex"][0] == "ionex/COD0OPSFIN_20180030000_01D_01H_GIM.INX.gz"


def test_cslc_files_follow_the_opera_layout(frame):
    from sar4tec.sentinel1.cslc import read_cslc_info

    sim = frame["config"]["simulation"]
    grid = Grid.from_bounds(*sim["bounds"], sim["spacing"])
    entry = frame["manifest"]["slc"][3]
    path = frame["dir"] / entry["path"]
    with h5py.File(path, "r") as h5:
        assert h5["data/VV"].dtype == np.complex64 and h5["data/VV"].shape == grid.shape
        np.testing.assert_allclose(h5["data/x_coordinates"][()], grid.x)
        np.testing.assert_allclose(h5["data/y_coordinates"][()], grid.y)
        assert int(h5["data/projection"][()]) == 4326
        assert h5["identification/orbit_pass_direction"][()] == b"Ascending"
        assert int(h5["identification/track_number"][()]) == 87
        assert h5["metadata/orbit/orbit_type"][()] == b"POEORB"
        assert h5["metadata/orbit/position_x"].shape == h5["metadata/orbit/time"].shape
    info = read_cslc_info(path)
    assert info.wavelength == pytest.approx(SENTINEL1_WAVELENGTH)
    assert info.sensing_mid == parse_time(entry["sensing_time"])  # symmetric zero-Doppler span
    assert 1.0 < (info.sensing_stop - info.sensing_start).total_seconds() < 10.0  # ~30 km


def test_era5_files_bracket_each_acquisition(frame):
    netCDF4 = pytest.importorskip("netCDF4")
    for entry, name in zip(frame["manifest"]["slc"], frame["manifest"]["era5"], strict=True):
        with netCDF4.Dataset(frame["dir"] / name) as nc:
            seconds = nc["valid_time"][:]
            assert nc["z"].shape[1] == 37 and nc["latitude"][0] > nc["latitude"][-1]
        when = parse_time(entry["sensing_time"]).timestamp()
        assert seconds[0] <= when <= seconds[1] and seconds[1] - seconds[0] == 3600


def test_geotiffs_cover_the_frame_on_its_pixel_lattice(frame):
    rasterio = pytest.importorskip("rasterio")
    sim = frame["config"]["simulation"]
    grid = Grid.from_bounds(*sim["bounds"], sim["spacing"])
    m = sim["dem_margin"]
    with (
        rasterio.open(frame["dir"] / "dem.tif") as dem,
        rasterio.open(frame["dir"] / "water_mask.tif") as water,
    ):
        assert dem.crs.to_epsg() == 4326 and dem.dtypes[0] == "float32"
        x0, dx, _, y0, _, dy = grid.transform
        assert dem.transform.to_gdal() == pytest.approx((x0 - m * dx, dx, 0, y0 - m * dy, 0, dy))
        assert dem.shape == (grid.rows + 2 * m, grid.cols + 2 * m) == water.shape
        height, lake = dem.read(1), water.read(1)
    assert set(np.unique(lake)) <= {0, 1}
    assert np.all(height[lake == 1] == sim["lake"]["level"] + sim["geoid_undulation"])


def test_truth_grid_frames_and_velocity(frame, truth):
    sim = frame["config"]["simulation"]
    slc_grid = Grid.from_bounds(*sim["bounds"], sim["spacing"])
    assert Grid.from_attrs(truth.attrs) == slc_grid.decimate(STRIDES)
    assert [t.isoformat() for t in read_times(truth)] == [
        parse_time(e["sensing_time"]).isoformat() for e in frame["manifest"]["slc"]
    ]
    velocity = truth["velocity"][()]
    assert truth.attrs["reference_frame"] == "EURA-fixed (ITRF2014-PMM)"
    np.testing.assert_array_equal(velocity, truth["velocity_plate_fixed"][()])
    np.testing.assert_allclose(
        truth["velocity_itrf"][()] - truth["plate_velocity"][()], velocity, atol=1e-4
    )
    los = np.stack([truth[f"los_{c}"][()] for c in ("east", "north", "up")])
    np.testing.assert_allclose(np.linalg.norm(los, axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(
        np.sum(truth["velocity_enu_itrf"][()] * los, axis=0), truth["velocity_itrf"][()], atol=1e-4
    )
    # the displacement is the velocity's line plus the annual term of the bowl, from date 0
    displacement = truth["displacement"][()]
    assert np.all(displacement[0] == 0)
    years = np.array([(t - read_times(truth)[0]).days for t in read_times(truth)]) / 365.25
    doy = np.array([t.timetuple().tm_yday for t in read_times(truth)])
    phase = 2 * np.pi * (doy - sim["bowl"]["annual_peak_doy"]) / 365.25
    design = np.column_stack([np.ones_like(years), years, np.cos(phase), np.sin(phase)])
    coef, *_ = np.linalg.lstsq(design, displacement.reshape(len(years), -1), rcond=None)
    # exact model, float32 storage of mm values: far below 0.01 mm/yr
    np.testing.assert_allclose(coef[1], velocity.ravel(), atol=0.01)


def test_truth_components_sum_to_the_slc_phase_at_persistent_scatterers(frame, truth):
    """angle(slc_k conj(slc_0)) = 4π/λ (d_k - d_0) at PS pixels, up to their phase noise.

    PS have SCR >= 14 dB: phase noise <= 1/sqrt(2 SCR) = 0.14 rad per date, so the difference of
    two dates has std <= 0.2 rad; 1.0 rad is 5 sigma.
    """
    ps = truth["ps_mask"][()].astype(bool)
    assert ps.sum() >= 20
    parts = ("troposphere", "turbulence", "ionosphere", "tides", "ramp", "deformation")
    total = sum(truth[p][()].astype(np.float64) for p in parts) / 1000.0  # m
    rows, cols = np.nonzero(ps)
    slc_rows, slc_cols = rows * STRIDES[0] + STRIDES[0] // 2, cols * STRIDES[1] + STRIDES[1] // 2
    slc = []
    for entry in frame["manifest"]["slc"]:
        with h5py.File(frame["dir"] / entry["path"], "r") as h5:
            slc.append(h5["data/VV"][()][slc_rows, slc_cols])
    slc = np.array(slc)
    measured = np.angle(slc[1:] * np.conj(slc[:1]))
    expected = los_to_phase(total[1:, rows, cols] - total[:1, rows, cols])
    residual = np.angle(np.exp(1j * (measured - expected)))
    assert np.sqrt(np.mean(residual**2)) < 0.2
    assert np.abs(residual).max() < 1.0
    # the troposphere, ionosphere and tides each move the phase by many radians between dates
    assert np.std(los_to_phase(total[1:, rows, cols] - total[:1, rows, cols])) > 3.0


def test_written_speckle_has_the_model_coherence(frame, truth):
    """Sample coherence of the largest DS patch (signal removed, amplitude normalised) vs the
    model; with L samples its std is (1 - γ²)/sqrt(2L): every pair within 5 sigma."""
    from sar4tec.simulate.scattering import CoherenceModel

    patch = truth["patch"][()]
    usable = (truth["ps_mask"][()] == 0) & (truth["water_mask"][()] == 0)
    ids, counts = np.unique(patch[usable], return_counts=True)
    chosen = ids[np.argmax(counts)]
    rows, cols = np.nonzero(usable & (patch == chosen))
    parts = ("troposphere", "turbulence", "ionosphere", "tides", "ramp", "deformation")
    total = sum(truth[p][()].astype(np.float64) for p in parts)[:, rows, cols] / 1000.0
    z = []
    for entry in frame["manifest"]["slc"]:
        with h5py.File(frame["dir"] / entry["path"], "r") as h5:
            z.append(h5["data/VV"][()][rows * 2 + 1, cols * 2 + 1])
    z = np.array(z) * np.exp(-1j * los_to_phase(total)) / truth["amplitude"][()][rows, cols]
    power = np.mean(np.abs(z) ** 2, axis=1)
    empirical = np.abs(z @ z.conj().T / z.shape[1]) / np.sqrt(np.outer(power, power))
    r, c = rows[0], cols[0]
    model = CoherenceModel(
        *(
            float(truth[f"coherence_{k}"][r, c])
            for k in ("gamma0", "gamma_inf", "tau_days", "seasonal_amplitude", "low_doy")
        )
    )
    times = read_times(truth)
    days = np.array([(t - times[0]).total_seconds() / 86400 for t in times])
    doy = np.array([t.timetuple().tm_yday for t in times], dtype=float)
    gamma = model.matrix(days, doy)
    sigma = (1 - gamma**2) / np.sqrt(2 * z.shape[1])
    assert z.shape[1] >= 100
    off = ~np.eye(len(days), dtype=bool)
    assert np.all(np.abs(empirical - gamma)[off] <= 5 * sigma[off] + 0.02)


def test_gnss_velocities_in_midas_layout(frame, truth):
    sim = frame["config"]["simulation"]
    lines = (frame["dir"] / "gnss/midas.IGS14.txt").read_text().splitlines()
    assert len(lines) == sim["gnss"]["stations"]
    rows = [line.split() for line in lines]
    assert all(len(r) == 27 for r in rows)
    lat = np.array([float(r[24]) for r in rows])
    lon = np.array([float(r[25]) for r in rows])
    west, south, east, north = sim["bounds"]
    inside = (lon > west) & (lon < east) & (lat > south) & (lat < north)
    assert (~inside).sum() == sim["gnss"]["outside"]
    observed = np.array([[float(v) for v in r[8:11]] for r in rows])
    sigma = np.array([[float(v) for v in r[11:14]] for r in rows])
    true = truth["gnss/velocity_itrf"][()] / 1000.0
    assert np.all(np.abs(observed - true) < 5 * sigma)  # white noise of the stated sigma
    # Eurasia moves ~25 mm/yr east in ITRF2014 at this place; the fault adds at most 22 mm/yr
    assert np.all((observed[:, 0] > 0.0) & (observed[:, 0] < 0.05))
