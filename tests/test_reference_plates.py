import csv
import re
from pathlib import Path

import numpy as np
import pyproj
import pytest

from sar4tec.geometry import ecef_to_enu_vectors, geodetic_to_ecef, los_unit_vector
from sar4tec.reference.plates import (
    get_plate,
    model_name,
    plate_table,
    plate_velocity_enu,
    plate_velocity_los,
)


def proj_velocity_enu(init: str, lat: float, lon: float) -> np.ndarray:
    """ENU velocity (mm/yr) of a fixed point through PROJ's time-dependent Helmert of ``init``.

    PROJ applies ``X(t) = X + (T_dot + R_dot X) t`` (position-vector convention), so the
    difference between t = 1 and t = 0 of the same input point is the plate velocity.
    """
    pipe = pyproj.Transformer.from_pipeline(
        f"+proj=pipeline +step +proj=cart +ellps=WGS84 +step +init={init}"
    )
    x0 = np.array(pipe.transform(lon, lat, 0.0, 0.0)[:3])
    x1 = np.array(pipe.transform(lon, lat, 0.0, 1.0)[:3])
    return ecef_to_enu_vectors((x1 - x0) * 1e3, lat, lon)


def proj_pmm_table(model: str) -> dict[str, tuple[float, float, float]]:
    """Rotation rates (mas/yr) of PROJ's ITRF<model> init file (arcsec/yr there)."""
    text = (Path(pyproj.datadir.get_data_dir()) / model).read_text()
    table = {}
    for name, params in re.findall(r"<([A-Z]{4})> (\+proj=helmert \+drx.*)", text):
        rates = dict(re.findall(r"\+(dr[xyz])=(\S+)", params))
        table[name] = tuple(float(rates[k]) * 1e3 for k in ("drx", "dry", "drz"))
    return table


def test_itrf2020_eurasia_published_check():
    # Issue 6: ITRF2020 Eurasia (-0.085, -0.519, 0.753) mas/yr at 40N 30E -> E 24.45, N 12.57.
    # The quoted numbers are rounded to 0.01 mm/yr, hence the 0.005 tolerance.
    east, north, up = plate_velocity_enu("EURA", 40.0, 30.0, model="ITRF2020")
    assert east == pytest.approx(24.45, abs=0.005)
    assert north == pytest.approx(12.57, abs=0.005)
    # on the ellipsoid r is not along the normal: a small vertical part, < 0.1 mm/yr
    assert abs(up) < 0.1


@pytest.mark.parametrize("model", ["ITRF2014", "ITRF2020"])
def test_package_table_equals_proj_data(model):
    # Peer: PROJ ships the same published tables (ITRF2014, ITRF2020 init files).
    ours = {p.abbrev: p.omega_mas_per_yr for p in plate_table()[model]}
    proj = proj_pmm_table(model)
    assert sorted(ours) == sorted(proj)
    for abbrev, omega in proj.items():
        assert ours[abbrev] == pytest.approx(omega, abs=1e-12)


@pytest.mark.parametrize("model", ["ITRF2014", "ITRF2020"])
def test_velocity_agrees_with_proj_helmert(model):
    # Independent implementation (PROJ's Helmert); same formula, so agreement to round-off:
    # 1e-6 mm/yr is far below anything measurable.
    points = [(40.0, 30.0), (-33.9, 18.4), (64.1, -21.9), (19.4, -99.1), (-75.0, 120.0)]
    for plate in plate_table()[model]:
        for lat, lon in points:
            ours = np.array(plate_velocity_enu(plate.abbrev, lat, lon, model=model))
            np.testing.assert_allclose(
                ours, proj_velocity_enu(f"{model}:{plate.abbrev}", lat, lon), atol=1e-6
            )


def test_itrf2020_origin_rate_bias_horizontal_only():
    # PROJ's EURA_T adds the ITRF2020 origin rate bias (0.37, 0.35, 0.74) mm/yr; Altamimi et al.
    # (2023) advise keeping its horizontal part only.
    ours = np.array(plate_velocity_enu("EURA", 40.0, 30.0, "ITRF2020", origin_rate_bias=True))
    proj = proj_velocity_enu("ITRF2020:EURA_T", 40.0, 30.0)
    np.testing.assert_allclose(ours[:2], proj[:2], atol=1e-6)
    pure = np.array(plate_velocity_enu("EURA", 40.0, 30.0, "ITRF2020"))
    assert ours[2] == pytest.approx(pure[2], abs=1e-12)
    assert abs(proj[2] - pure[2]) > 0.3  # the vertical bias PROJ adds is really discarded
    # ITRF2014-PMM has no origin rate bias: the flag changes nothing
    a = plate_velocity_enu("EURA", 40.0, 30.0, "ITRF2014", origin_rate_bias=True)
    assert a == plate_velocity_enu("EURA", 40.0, 30.0, "ITRF2014")


def test_package_tables_match_shared_transcriptions(real_data):
    # Peer: MintPy's transcriptions of the same papers (PROVENANCE.md section 6), to the digit.
    folder = real_data / "plate_motion"
    with open(folder / "ITRF2014-PMM_Altamimi2017_transcribed_from_mintpy.csv") as fh:
        for row in csv.DictReader(fh):
            plate = get_plate(row["abbrev"], "ITRF2014")
            expected = [float(row[f"omega_{c}_mas_per_yr"]) for c in "xyz"]
            assert plate.omega_mas_per_yr == pytest.approx(expected, abs=1e-12)
            # the published total rate (deg/Ma, 3 decimals) follows from the components
            assert plate.pole[2] == pytest.approx(float(row["omega_deg_per_Ma"]), abs=6e-4)
    for model, name in [
        ("NNR-MORVEL56", "NNR-MORVEL56_poles_mintpy.csv"),
        ("GSRM2.1", "GSRMv2.1_NNR_poles_mintpy.csv"),
    ]:
        with open(folder / name, encoding="utf-8") as fh:
            rows = list(csv.reader(fh))[1:]
        assert len(plate_table()[model]) == len(rows)
        for _, abbrev, lat, lon, rate in rows:
            pole = get_plate(abbrev, model).pole
            assert pole == pytest.approx((float(lat), float(lon), float(rate)), abs=1e-9)


def test_rigid_rotation_geometry():
    # Truth: a rigid rotation moves a point at speed |omega| |r| sin(angle between omega and r),
    # perpendicular to the pole direction. The ENU speed misses only the tiny vertical part
    # (< 0.1 mm/yr of > 5 mm/yr here), so 1e-4 relative is the tolerance.
    plate = get_plate("ARAB", "ITRF2014")
    pole_lat, pole_lon, rate = plate.pole
    lat = np.linspace(-60, 60, 7)[:, None]
    lon = np.linspace(-170, 170, 9)[None, :]
    east, north, up = plate_velocity_enu("ARAB", lat, lon)
    assert east.shape == north.shape == up.shape == (7, 9)
    r = geodetic_to_ecef(lat, lon)
    radius = np.linalg.norm(r, axis=-1)
    geocentric = np.arcsin(r[..., 2] / radius)
    p = np.radians([pole_lat, pole_lon])
    lo = np.radians(lon)
    cos_dist = np.sin(geocentric) * np.sin(p[0]) + np.cos(geocentric) * np.cos(p[0]) * np.cos(
        lo - p[1]
    )
    expected = np.radians(rate) / 1e6 * radius * 1e3 * np.sqrt(1 - cos_dist**2)
    np.testing.assert_allclose(np.hypot(east, north), expected, rtol=1e-4)
    # no component toward the pole (great-circle azimuth to the pole, geocentric sphere)
    la = geocentric
    toward_e = np.cos(p[0]) * np.sin(p[1] - lo)
    toward_n = np.cos(la) * np.sin(p[0]) - np.sin(la) * np.cos(p[0]) * np.cos(p[1] - lo)
    radial = (east * toward_e + north * toward_n) / np.hypot(toward_e, toward_n)
    # geodetic and geocentric north differ only by a tilt in the meridian plane (< 0.2 deg),
    # which leaves < 1e-3 mm/yr toward the pole
    assert np.max(np.abs(radial)) < 1e-3


def test_plate_velocity_los_projection_and_sign():
    # Eurasia moves ~NE in ITRF; an ascending Sentinel-1 LOS vector points west: negative LOS.
    los = los_unit_vector(39.0, -12.0)
    v = plate_velocity_los("EURA", 40.0, 30.0, *los)
    e, n, u = plate_velocity_enu("EURA", 40.0, 30.0)
    assert v == pytest.approx(e * los[0] + n * los[1] + u * los[2], abs=1e-12)
    assert v < -10.0


def test_lookup_by_name_code_and_case():
    assert get_plate("eurasia", "ITRF2014").abbrev == "EURA"
    assert get_plate("EURA", "NNR-MORVEL56").abbrev == "eu"
    assert get_plate("EURA", "GSRM").abbrev == "EU"
    # NNR-MORVEL56 abbreviations are case sensitive: nb = Nubia, NB = North Bismarck
    assert get_plate("nb", "NNR-MORVEL56").name == "Nubia"
    assert get_plate("NB", "NNR-MORVEL56").name == "NorthBismarck"
    assert get_plate("NUBI", "NNR-MORVEL56").name == "Nubia"
    assert model_name("itrf2014-pmm") == "ITRF2014"


def test_unknown_plate_and_model_are_named():
    with pytest.raises(ValueError, match="'XXXX'.*ITRF2014.*EURA"):
        get_plate("XXXX", "ITRF2014")
    with pytest.raises(ValueError, match="'NUVEL1A'"):
        plate_velocity_enu("EURA", 0.0, 0.0, model="NUVEL1A")
