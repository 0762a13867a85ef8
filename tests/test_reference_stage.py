"""The reference stage on a small synthetic frame with a known answer.

Truth: a plate-fixed deformation field (fault-parallel screw dislocation + subsidence bowl) plus
the rigid motion of Eurasia (ITRF2014-PMM) gives the ITRF velocity. The "InSAR" velocity is its
LOS projection relative to a reference pixel, plus an orbital ramp and white noise; the GNSS
stations sample the ITRF truth with noise, and one station is corrupted.
"""

import csv
import json
from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest

from sar4tec.files import decimal_years, write_times
from sar4tec.geometry import los_unit_vector, project_enu_to_los
from sar4tec.grid import Grid
from sar4tec.reference.calibration import cross_validate, fit_surface, select_surface
from sar4tec.reference.plates import plate_velocity_enu
from sar4tec.reference.projection import enu_to_los, sample_around
from sar4tec.reference.stage import read_residuals, reference_settings, run_reference

GRID = Grid((29.5, 0.01, 0.0, 40.6, 0.0, -0.01), (70, 90))  # ~78 x 78 km at 40 N
N_STATIONS = 40
INSAR_NOISE = 0.5e-3  # m/yr, white, per pixel
GNSS_SIGMA = (0.4e-3, 0.4e-3, 0.8e-3)  # m/yr east, north, up


def truth_enu_plate(lat, lon):
    """Plate-fixed ENU velocity (m/yr): 20 mm/yr screw dislocation + 8 mm/yr bowl."""
    x = (lon - 30.0) * 85.0  # km east of the fault at 30 E
    y = (lat - 40.25) * 111.0
    east = np.zeros(np.broadcast(lat, lon).shape)
    north = 0.020 / np.pi * np.arctan(x / 12.0)
    up = -0.008 * np.exp(-((x - 15.0) ** 2 + y**2) / (2 * 6.0**2))
    return east, north, up


def truth_enu_itrf(lat, lon, height=0.0):
    e, n, u = truth_enu_plate(lat, lon)
    pe, pn, pu = (c * 1e-3 for c in plate_velocity_enu("EURA", lat, lon, "ITRF2014", height))
    return e + pe, n + pn, u + pu


def write_frame(folder, seed=0, outlier=15e-3, grid=GRID, n_dates=9, n_stations=N_STATIONS):
    """Write timeseries.h5, geometry.h5, manifest.json and a MIDAS file; return the truth.

    ``grid`` must cover about the same area as :data:`GRID` (the stations are drawn there).
    """
    rng = np.random.default_rng(seed)
    lat, lon = grid.meshgrid()
    cols = np.arange(grid.cols)[None, :] * np.ones((grid.rows, 1))
    incidence = 33.0 + 11.0 * cols / (grid.cols - 1)
    los = los_unit_vector(incidence, -12.0)
    height = 500.0 + 0 * lat
    v_itrf = project_enu_to_los(*truth_enu_itrf(lat, lon, height), *np.moveaxis(los, -1, 0))
    v_plate = project_enu_to_los(*truth_enu_plate(lat, lon), *np.moveaxis(los, -1, 0))
    ref = (grid.rows // 2, grid.cols * 4 // 9)
    ramp = 1.5e-3 + 4e-5 * (lon - 30.0) * 85 - 2e-5 * (lat - 40.25) * 111  # m/yr, orbit-like
    velocity = v_itrf - v_itrf[ref] + ramp - ramp[ref] + rng.normal(0, INSAR_NOISE, grid.shape)
    velocity[ref] = 0.0
    mask = np.ones(grid.shape, np.uint8)
    mask[: grid.rows // 9, : grid.cols // 9] = 0  # a decorrelated corner
    times = [
        datetime(2017, 1, 3, 15, 55, tzinfo=UTC) + timedelta(days=36 * k) for k in range(n_dates)
    ]
    t = decimal_years(times, times[2])
    with h5py.File(folder / "timeseries.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
        write_times(f, times)
        f["velocity"] = velocity.astype(np.float32)
        f["velocity_std"] = np.full(grid.shape, INSAR_NOISE, np.float32)
        f["mask"] = mask
        f["displacement"] = (velocity[None] * t[:, None, None]).astype(np.float32)
        f.attrs.update(
            {
                "reference_row": ref[0],
                "reference_col": ref[1],
                "reference_lat": float(lat[ref]),
                "reference_lon": float(lon[ref]),
                "reference_date": times[2].strftime("%Y%m%d"),
            }
        )
    with h5py.File(folder / "geometry.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
        for k, name in enumerate(("los_east", "los_north", "los_up")):
            f[name] = los[..., k].astype(np.float32)
        f["incidence_angle"] = incidence.astype(np.float32)
        f["heading"] = np.full(grid.shape, -12.0, np.float32)
        f["height"] = height.astype(np.float32)
        f["water_mask"] = np.zeros(grid.shape, np.uint8)
    # stations: inside the frame (away from the edges), two outside, one corrupted
    s_lat = rng.uniform(39.95, 40.55, n_stations)
    s_lon = rng.uniform(29.6, 30.35, n_stations)
    s_lat = np.r_[s_lat, 41.5, 39.0]
    s_lon = np.r_[s_lon, 30.0, 29.0]
    e, n, u = truth_enu_itrf(s_lat, s_lon, 500.0)
    e = e + rng.normal(0, GNSS_SIGMA[0], s_lat.size)
    n = n + rng.normal(0, GNSS_SIGMA[1], s_lat.size)
    u = u + rng.normal(0, GNSS_SIGMA[2], s_lat.size)
    e[3] += outlier
    lines = []
    for k in range(s_lat.size):
        lines.append(
            f"S{k:03d} MIDAS5 2015.0 2022.0 7.0 2500 2480 2300"
            f" {e[k]:.6f} {n[k]:.6f} {u[k]:.6f}"
            f" {GNSS_SIGMA[0]:.6f} {GNSS_SIGMA[1]:.6f} {GNSS_SIGMA[2]:.6f}"
            " 0.0 0.0 0.0 0.01 0.01 0.01 0.001 0.001 0.003 0"
            f" {s_lat[k]:.8f} {s_lon[k] - 360.0:.8f} 500.0"  # UNR-style longitude below -180
        )
    (folder / "gnss").mkdir()
    (folder / "gnss" / "midas.IGS14.txt").write_text("\n".join(lines) + "\n")
    (folder / "dem.tif").write_bytes(b"")
    manifest = {
        "frame": "synthetic",
        "source": "test",
        "slc": [],
        "dem": "dem.tif",
        "gnss": {"path": "gnss/midas.IGS14.txt", "format": "midas", "reference_frame": "IGS14"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return {"itrf": v_itrf, "plate": v_plate, "mask": mask == 1, "t": t}


def run(folder, **settings):
    settings.setdefault("insar_radius_m", 1500.0)  # ~9 pixels of ~1 km
    return run_reference(
        folder / "timeseries.h5",
        folder / "geometry.h5",
        folder / "manifest.json",
        folder / "calibrated.h5",
        folder / "gnss_residuals.csv",
        settings,
    )


@pytest.mark.parametrize(
    ("frame", "truth_key", "surface"), [("plate", "plate", "plane"), ("itrf", "itrf", "auto")]
)
def test_calibrated_velocity_matches_truth(tmp_path, frame, truth_key, surface):
    truth = write_frame(tmp_path)
    summary = run(tmp_path, output_frame=frame, surface=surface)
    # the truth's error field is a plane (orbital ramp): auto must find it
    assert summary["surface"] == "plane"
    with h5py.File(tmp_path / "calibrated.h5") as f:
        v = f["velocity"][()].astype(float)
        std = f["velocity_std"][()]
        disp = f["displacement"][()]
        attrs = dict(f.attrs)
        plate_los = f["plate_velocity"][()]
    err = (v - truth[truth_key])[truth["mask"]]
    # The plane is fitted to 39 stations whose GNSS LOS sigma is ~0.67 mm/yr (vertical 0.8 mm/yr
    # x 0.78 dominates) plus the InSAR noise averaged over ~9 pixels (0.17 mm/yr): its offset
    # is known to ~0.11 mm/yr, so the bias bound of 0.3 mm/yr is a 2.7-sigma bound
    # (over seeds 0-9 the largest |bias| was 0.25 mm/yr). With fewer or noisier stations the
    # achievable bias is sigma_LOS / sqrt(N): see docs/reference.md.
    assert abs(np.mean(err)) < 0.3e-3
    # the error is then the InSAR pixel noise (0.5 mm/yr) plus the plane error
    assert np.sqrt(np.mean(err**2)) < 0.65e-3
    assert np.all(np.isnan(v[~truth["mask"]]))
    assert np.all(std[truth["mask"]] >= INSAR_NOISE * 0.999)
    # the time series gets the same correction scaled by time since the reference date
    t = truth["t"]
    np.testing.assert_allclose(
        disp[:, truth["mask"]], (v[None] * t[:, None, None])[:, truth["mask"]], atol=2e-6
    )  # float32 rounding of ~1e-2 m values
    assert np.all(disp[2][truth["mask"]] == 0)
    # plate velocity is the ITRF-minus-plate-fixed difference of the truth
    np.testing.assert_allclose(plate_los, truth["itrf"] - truth["plate"], atol=1e-7)
    assert attrs["reference_frame"] == ("EURA/ITRF2014" if frame == "plate" else "IGS14")
    assert attrs["gnss_reference_frame"] == "IGS14"
    assert attrs["reference_date"] == "20170316"
    assert summary["n_stations_used"] == N_STATIONS - 1
    assert summary["n_stations_outlier"] == 1
    # held-out RMSE: GNSS LOS noise (~0.67) and averaged InSAR noise (~0.17) in quadrature,
    # plus the plane's error at a left-out station: ~0.7 mm/yr (0.57-0.86 over seeds 0-9)
    assert 0.4 < summary["cv_rmse_mm_yr"] < 1.0
    assert json.loads(attrs["calibration_summary"]) == summary


def test_residual_csv_statuses_and_consistency(tmp_path):
    write_frame(tmp_path)
    run(tmp_path, output_frame="plate")
    table = read_residuals(tmp_path / "gnss_residuals.csv")
    status = dict(zip(table["station"], table["status"], strict=True))
    assert status["S003"] == "outlier"
    assert status["S040"] == "outside frame" and status["S041"] == "outside frame"
    used = table["status"] == "used"
    assert used.sum() == N_STATIONS - 1
    np.testing.assert_allclose(
        table["residual"][used], table["insar_calibrated"][used] - table["gnss_los"][used],
        atol=2e-4,
    )  # fmt: skip
    assert np.all(np.isfinite(table["heldout_residual"][used]))
    assert np.all(np.abs(table["residual"][used]) < 3.0)  # mm/yr: < 4.5 GNSS LOS sigmas
    # the 15 mm/yr east error is ~9 mm/yr along the LOS
    assert abs(table["residual"][table["station"] == "S003"][0]) > 6.0
    with open(tmp_path / "gnss_residuals.csv") as fh:
        header = next(csv.reader(fh))
    assert header[:4] == ["station", "lon", "lat", "status"]


def test_too_few_stations_fall_back_and_missing_gnss(tmp_path):
    write_frame(tmp_path)
    exclude = [f"S{k:03d}" for k in range(2, N_STATIONS)]
    summary = run(tmp_path, surface="quadratic", exclude_stations=exclude)
    assert summary["surface"] == "offset"  # 2 stations: quadratic -> plane -> offset
    table = read_residuals(tmp_path / "gnss_residuals.csv")
    assert np.sum(table["status"] == "excluded by configuration") == N_STATIONS - 2
    everyone = [f"S{k:03d}" for k in range(N_STATIONS + 2)]
    with pytest.raises(ValueError, match="no usable GNSS station"):
        run(tmp_path, exclude_stations=everyone)
    summary = run(tmp_path, exclude_stations=everyone, on_missing_gnss="reference_pixel")
    with h5py.File(tmp_path / "calibrated.h5") as f:
        assert f.attrs["reference_frame"].startswith("relative to the reference pixel")
        with h5py.File(tmp_path / "timeseries.h5") as ts:
            ok = ts["mask"][()] == 1
            np.testing.assert_allclose(f["velocity"][()][ok], ts["velocity"][()][ok])


def test_settings_schema_defaults_and_errors():
    s = reference_settings({})
    assert (s["plate"], s["plate_model"], s["output_frame"]) == ("EURA", "ITRF2014", "plate")
    from sar4tec.config import ConfigError

    with pytest.raises(ConfigError, match="surfac"):
        reference_settings({"surfac": "plane"})
    with pytest.raises(ConfigError, match="output_frame"):
        reference_settings({"output_frame": "wgs84"})


def test_fit_surface_exact_plane_outlier_and_smooth():
    rng = np.random.default_rng(3)
    lat = rng.uniform(40, 41, 25)
    lon = rng.uniform(30, 31, 25)
    fit0 = fit_surface(lat, lon, np.zeros(25), np.ones(25), "plane")
    x_km = (lon - fit0.origin[1]) * 85.2
    plane = 1.0 + 0.02 * x_km - 0.01 * (lat - fit0.origin[0]) * 111.2
    d = plane + rng.normal(0, 0.1, 25)
    d[7] += 5.0
    fit = fit_surface(lat, lon, d, np.full(25, 0.1), "plane")
    assert not fit.used[7] and fit.used.sum() == 24
    # truth recovered at the noise level of the mean of 24 stations
    assert np.max(np.abs(fit.evaluate(lat, lon) - plane)) < 0.15
    held = cross_validate(lat, lon, d, np.full(25, 0.1), "plane")
    assert abs(held[7]) > 4.0  # the corrupted station is not predicted by the others
    assert np.sqrt(np.mean(np.delete(held, 7) ** 2)) < 0.2  # ~ noise 0.1 * sqrt(1 + 3/24)
    # a regional (30 km) bump is followed by the smooth surface, not by the plane: compare both
    # with the truth on a grid of points; the kernel part must remove most of the misfit
    lat = rng.uniform(40, 41, 60)
    lon = rng.uniform(30, 31, 60)

    def bump(la, lo):
        return 2.0 * np.exp(-((la - 40.5) ** 2 + (lo - 30.5) ** 2) / (2 * 0.3**2))

    data = bump(lat, lon) + rng.normal(0, 0.1, lat.size)
    smooth = fit_surface(lat, lon, data, np.full(lat.size, 0.1), "smooth", None, 20.0)
    flat = fit_surface(lat, lon, data, np.full(lat.size, 0.1), "plane", None)
    g_lat, g_lon = np.meshgrid(np.linspace(40.2, 40.8, 13), np.linspace(30.2, 30.8, 13))
    err_smooth = np.sqrt(np.mean((smooth.evaluate(g_lat, g_lon) - bump(g_lat, g_lon)) ** 2))
    err_flat = np.sqrt(np.mean((flat.evaluate(g_lat, g_lon) - bump(g_lat, g_lon)) ** 2))
    assert err_smooth < 0.5 * err_flat
    with pytest.raises(ValueError, match="at least 6 stations"):
        fit_surface(lat[:5], lon[:5], d[:5], np.ones(5), "quadratic")


def test_select_surface_by_cross_validation():
    rng = np.random.default_rng(11)
    lat = rng.uniform(40, 41, 30)
    lon = rng.uniform(30, 31, 30)
    sigma = np.full(30, 0.3)
    noise = rng.normal(0, 0.3, 30)
    # a constant offset: the plane's two extra coefficients only fit noise
    surface, scores = select_surface(lat, lon, 2.0 + noise, sigma)
    assert surface == "offset" and set(scores) == {"offset", "plane", "quadratic"}
    # a 2 mm/yr ramp across the area: the plane predicts left-out stations far better
    surface, scores = select_surface(lat, lon, 2.0 + 2.0 * (lon - 30.5) + noise, sigma)
    assert surface == "plane" and scores["plane"] < 0.5 * scores["offset"]
    # 4 stations: only the offset can be cross-validated with a training set > coefficients
    surface, scores = select_surface(lat[:4], lon[:4], noise[:4], sigma[:4])
    assert surface == "offset" and set(scores) == {"offset"}


def test_enu_to_los_sigma_and_sampling():
    los = los_unit_vector(39.0, -12.0)
    v, s = enu_to_los(1.0, 2.0, 3.0, 0.3, 0.4, 1.0, 0.5, *los)
    assert v == pytest.approx(los @ [1.0, 2.0, 3.0])
    cov = np.array([[0.09, 0.5 * 0.12, 0], [0.5 * 0.12, 0.16, 0], [0, 0, 1.0]])
    assert s == pytest.approx(np.sqrt(los @ cov @ los))
    image = np.arange(GRID.rows * GRID.cols, dtype=float).reshape(GRID.shape)
    valid = np.ones(GRID.shape, bool)
    valid[30, 30] = False
    lat, lon = GRID.y[30], GRID.x[30]
    # radius 0: only the pixel holding the station, even though it is invalid -> no pixel
    out = sample_around(GRID, [image], valid, lat, lon, 0.0)
    assert out.count[0] == 0 and np.isnan(out.mean[0, 0])
    # pixels are 1113 m N-S and 852 m E-W at 40 N: 1500 m holds the 8 neighbours (diagonal
    # 1402 m) but not the pixels two columns away (1704 m); the centre is invalid
    out = sample_around(GRID, [image], valid, lat, lon, 1500.0)
    assert out.count[0] == 8
    assert out.mean[0, 0] == pytest.approx(image[30, 30], rel=1e-3)  # symmetric neighbourhood
    out = sample_around(GRID, [image], valid, 50.0, 30.0, 1000.0)
    assert not out.inside[0] and out.count[0] == 0


def test_sampling_on_a_utm_grid_uses_metres_and_geodetic_station_coordinates():
    utm = Grid((400_000.0, 500.0, 0.0, 4_500_000.0, 0.0, -500.0), (40, 40), "EPSG:32636")
    image = np.arange(utm.rows * utm.cols, dtype=float).reshape(utm.shape)
    valid = np.ones(utm.shape, bool)
    lat, lon = (a[20, 10] for a in utm.latlon())  # a station at the centre of pixel (20, 10)
    # 500 m pixels: a 600 m radius holds the 4 edge neighbours (500 m) and the centre, not the
    # diagonal ones (707 m)
    out = sample_around(utm, [image], valid, lat, lon, 600.0)
    assert out.inside[0] and out.count[0] == 5
    assert out.mean[0, 0] == pytest.approx(image[20, 10])
