from datetime import datetime

import numpy as np
import pytest

from sar4tec.reference.plates import plate_velocity_enu
from sar4tec.reference.readers import (
    read_csv_velocities,
    read_gage_vel,
    read_gnss,
    read_midas,
    read_tenv3,
    read_tenv3_velocity,
    write_csv_velocities,
)
from sar4tec.reference.stations import parse_frame
from sar4tec.reference.trend import lsq_trend, midas_pairs, midas_trend

# Two rows in the UNR MIDAS layout (27 columns); the second with a longitude below -180 as UNR
# writes them for stations east of 180 W.
MIDAS_ROWS = (
    "AAAA MIDAS5 2010.0000 2020.0000 10.0000  3650  3600  5000"
    "   0.012000   0.004000  -0.001000  0.000300 0.000400 0.000900"
    "   0.0010  0.0020  0.0030 0.010 0.020 0.030 0.001000 0.001100 0.003000"
    "   2  40.1234567890  30.5000000000  120.5000\n"
    "BBBB MIDAS5 2012.5000 2016.0000  3.5000  1200  1190  1500"
    "  -0.020000   0.030000   0.002000  0.001000 0.001200 0.002500"
    "   0.0000  0.0000  0.0000 0.000 0.000 0.000 0.002000 0.002100 0.004000"
    "   0 -12.4666386578 -229.1560119207  104.8530\n"
)


def test_midas_columns_and_longitude_wrap(tmp_path):
    path = tmp_path / "midas.IGS14.txt"
    path.write_text(MIDAS_ROWS)
    s = read_midas(path)
    assert list(s.station) == ["AAAA", "BBBB"]
    assert s.east[0] == 0.012 and s.north[0] == 0.004 and s.up[0] == -0.001
    assert s.sigma_east[0] == 0.0003 and s.sigma_north[0] == 0.0004 and s.sigma_up[0] == 0.0009
    assert s.first_epoch[1] == 2012.5 and s.last_epoch[1] == 2016.0
    assert s.duration[0] == pytest.approx(10.0)
    assert s.lat[0] == pytest.approx(40.123456789) and s.height[0] == 120.5
    # -229.156 deg is 130.844 E (northern Australia)
    assert s.lon[1] == pytest.approx(130.8439880793, abs=1e-9)
    assert s.reference_frame == "IGS14"


def test_midas_bad_rows_are_named(tmp_path):
    path = tmp_path / "midas.txt"
    path.write_text(MIDAS_ROWS + "CCCC MIDAS5 2010.0 2020.0 10.0\n")
    with pytest.raises(ValueError, match="line 3: 5 columns, expected 27"):
        read_midas(path)
    path.write_text(MIDAS_ROWS.replace("0.012000", "0.0x2000"))
    with pytest.raises(ValueError, match="non-numeric"):
        read_midas(path)


def test_gage_vel_real_file(real_data):
    s = read_gage_vel(real_data / "gnss" / "cwu.final_nam14.vel")
    # PROVENANCE: 6495 rows (one per inter-offset segment) for 2194 stations, frame NAM14
    assert len(s) == 2194
    assert s.reference_frame == "NAM14"
    k = list(s.station).index("P092")
    # values of the P092 rows (identical velocity in its four segments), m/yr
    assert (s.north[k], s.east[k], s.up[k]) == (0.00357, -0.0043, -0.00152)
    assert (s.sigma_north[k], s.sigma_east[k], s.sigma_up[k]) == (0.00011, 0.00011, 0.00059)
    assert s.corr_en[k] == 0.083
    assert s.lat[k] == pytest.approx(36.804194789)
    assert s.lon[k] == pytest.approx(242.5931967363 - 360.0)
    # segments merged: first epoch of the first, last epoch of the last segment
    assert s.first_epoch[k] == pytest.approx(2006.926, abs=1e-3)  # 2006-12-05
    assert s.last_epoch[k] == pytest.approx(2023.995, abs=1e-3)  # 2023-12-30
    assert np.all((s.lon >= -180) & (s.lon < 180))


def test_nam14_is_converted_to_itrf_with_the_noam_pole(real_data):
    s = read_gnss(real_data / "gnss" / "cwu.final_nam14.vel", "gage_vel")
    itrf = s.to_itrf()
    k = list(s.station).index("P092")
    # NAM14 + the NOAM rigid motion of ITRF2014-PMM = ITRF; North America moves SW in ITRF
    e, n, u = plate_velocity_enu("NOAM", s.lat[k], s.lon[k], "ITRF2014", s.height[k])
    assert itrf.east[k] - s.east[k] == pytest.approx(e * 1e-3, abs=1e-12)
    assert itrf.north[k] - s.north[k] == pytest.approx(n * 1e-3, abs=1e-12)
    assert e < -5 and n < -5
    assert parse_frame("NAM14").plate == "NOAM"


def test_tenv3_real_file_and_midas_vs_least_squares(real_data):
    path = real_data / "gnss" / "LHAS.tenv3"
    series = read_tenv3(path)
    # PROVENANCE: 3631 daily rows 1995.3785 -> 2007.0773, lon -268.896 = 91.104 E, h 3624.7 m
    assert series.t.size == 3631
    assert series.t[0] == 1995.3785 and series.t[-1] == 2007.0773
    assert series.lon == pytest.approx(91.104, abs=1e-3)
    assert series.height == pytest.approx(3624.7, abs=0.1)
    # the antenna height column changes from 0 to 0.058 m: equipment changes become steps
    assert len(series.antenna_steps) >= 1
    v = read_tenv3_velocity(path)
    # Lhasa moves ~ NE in ITRF at > 45 mm/yr (India-Eurasia collision zone)
    assert 40 < v.east[0] * 1e3 < 52 and 10 < v.north[0] * 1e3 < 20
    # MIDAS vs an independent least-squares fit with seasonal terms and the same steps: the
    # two estimators must agree within 2 MIDAS sigmas (the LSQ formal sigma is negligible).
    for comp in ("east", "north", "up"):
        midas = midas_trend(series.t, getattr(series, comp), series.antenna_steps)
        lsq = lsq_trend(series.t, getattr(series, comp), series.antenna_steps)
        assert abs(midas.velocity - lsq.velocity) < 2 * midas.sigma, comp


def test_midas_trend_on_p092_agrees_with_gage(real_data):
    # Peer: GAGE's P092 velocity (NAM14) vs MIDAS on the daily positions of the same station
    # (position.P092.cwu.nam14.csv), with steps at the GAGE segment boundaries. The series spans
    # the 2019 Ridgecrest earthquake, whose postseismic motion affects the two estimators
    # differently, so we accept 3 combined sigmas (measured: 1.1 sigma east, 1.7 north).
    rows = np.genfromtxt(
        real_data / "gnss" / "position.P092.cwu.nam14.csv",
        delimiter=",",
        skip_header=1,
        dtype=None,
        encoding=None,
    )
    t = np.array([_decimal_year(datetime.strptime(r[0], "%Y-%m-%d")) for r in rows])
    north, east = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    steps = [_decimal_year(datetime(*d)) for d in [(2010, 4, 5), (2019, 7, 7), (2021, 5, 4)]]
    gage = {"east": (-4.30, 0.11), "north": (3.57, 0.11)}  # mm/yr
    for comp, x in (("east", east), ("north", north)):
        m = midas_trend(t, x, steps)
        v, s = gage[comp]
        assert abs(m.velocity - v) < 3 * np.hypot(m.sigma, s), (comp, m)


def _decimal_year(when: datetime) -> float:
    start = datetime(when.year, 1, 1)
    return when.year + (when - start).days / (datetime(when.year + 1, 1, 1) - start).days


def test_midas_recovers_synthetic_trend_despite_steps_seasons_outliers():
    # Truth: 3.0 mm/yr, 4 mm annual, two steps (one unknown to the estimator), 2 % outliers,
    # 2 mm white noise, a 200-day gap. MIDAS sigma must cover the error (< 3 sigma) and the
    # error must be below 0.3 mm/yr (Blewitt et al. 2016 report 0.33 mm/yr RMS horizontal).
    rng = np.random.default_rng(1)
    t = 2010 + np.arange(0, 8 * 365) / 365.25
    t = t[(t < 2013.2) | (t > 2013.75)]
    x = 3.0 * (t - 2010) + 4.0 * np.sin(2 * np.pi * t) + rng.normal(0, 2.0, t.size)
    x += 15.0 * (t >= 2012.3) - 10.0 * (t >= 2016.1)
    bad = rng.random(t.size) < 0.02
    x[bad] += rng.normal(0, 50, bad.sum())
    trend = midas_trend(t, x, steps=[2012.3])
    assert abs(trend.velocity - 3.0) < 0.3
    assert abs(trend.velocity - 3.0) < 3 * trend.sigma
    assert 0 < trend.outlier_fraction < 0.3


def test_midas_pairs_skip_steps_and_bridge_gaps():
    t = np.array([0.0, 0.5, 1.0, 1.5, 3.2])
    i, j = midas_pairs(t)
    # exact one-year pairs (0,2) (1,3); 3.2 has no partner a year away and is bridged to the
    # last epoch at least a year earlier (1.5)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == {(0, 2), (1, 3), (3, 4)}
    i, j = midas_pairs(t, steps=[1.2])
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == {(0, 2), (3, 4)}
    with pytest.raises(ValueError, match="pairs"):
        midas_trend(t, np.zeros(5))


def test_csv_round_trip_and_errors(tmp_path):
    path = tmp_path / "midas.txt"
    path.write_text(MIDAS_ROWS)
    stations = read_midas(path)
    out = tmp_path / "v.csv"
    write_csv_velocities(out, stations)
    back = read_csv_velocities(out, "IGS14")
    np.testing.assert_allclose(back.east, stations.east, atol=5e-7)  # written to 0.001 mm/yr
    np.testing.assert_allclose(back.lon, stations.lon, atol=1e-7)
    assert list(back.station) == list(stations.station)
    (tmp_path / "bad.csv").write_text("station,lon,lat,ve\nX,1,2,3\n")
    with pytest.raises(ValueError, match="lacks the column"):
        read_csv_velocities(tmp_path / "bad.csv", "IGS14")
    with pytest.raises(ValueError, match="unknown GNSS format"):
        read_gnss(out, "rinex", "IGS14")
    with pytest.raises(ValueError, match="does not state its reference frame"):
        read_gnss(out, "csv")


def test_frame_names():
    assert parse_frame("IGS14").is_itrf and parse_frame("ITRF2020").is_itrf
    assert parse_frame("IGb14").is_itrf
    f = parse_frame("EURA/ITRF2014")
    assert (f.plate, f.model) == ("EURA", "ITRF2014")
    with pytest.raises(ValueError, match="unknown reference frame"):
        parse_frame("WGS84")
