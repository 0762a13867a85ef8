"""Radar mode of the simulator, geocoded by the project's geocoder: coregistration end to end.

Two dates of a small frame (0.04° x 0.08° at 41.5° incidence: across the overlap of the IW2 and
IW3 sub-swaths and of two IW2 bursts) are simulated as SAFE products with orbits a few
hundred metres apart, then geocoded onto the frame's grid.  The
simulator made the pair perfect (speckle common to both dates, no noise, no decorrelation), so
the interferogram must be the simulated apparent LOS displacement and the coherence ~1.
"""

from __future__ import annotations

import json
from contextlib import ExitStack

import h5py
import numpy as np
import pytest

from sar4tec.acquire.local import scan_archives, select_products
from sar4tec.config import load_config
from sar4tec.constants import los_to_phase
from sar4tec.manifest import read_manifest
from sar4tec.sentinel1.geocode_stage import geocode_date, plan_geocoding, write_frame_burst_map
from sar4tec.sentinel1.orbit import read_eof
from sar4tec.simulate import simulate_frame
from sar4tec.simulate.radar import WAVELENGTH

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

BOUNDS = [30.30, 40.70, 30.34, 40.78]
SPACING = 0.0005
CONFIG = f"""
seed: 1
frames:
  tiny: {{source: simulate}}
simulation:
  bounds: {BOUNDS}
  spacing: {SPACING}
  dem_margin: 20
  radar: {{enabled: true}}
  acquisitions: {{start: "2020-01-05", end: "2020-01-20", subsample: 1}}
  orbit: {{baseline_std: 150.0, centre_incidence: 41.5}}
  gnss: {{stations: 2, outside: 0}}
phase_linking: {{strides: [1, 1]}}
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("radar")
    (root / "config.yaml").write_text(CONFIG)
    config = load_config(root / "config.yaml")
    manifest = simulate_frame(config, root / "tiny", "tiny")
    cslc = root / "cslc"
    dates = plan_geocoding(manifest, cslc / "plan.json")
    write_frame_burst_map(
        manifest, cslc / "plan.json", cslc / "burst_map.h5", spacing=(SPACING, SPACING)
    )
    images = []
    for date in dates:
        out = cslc / f"{date}.h5"
        geocode_date(
            manifest,
            cslc / "plan.json",
            date,
            out,
            burst_map=cslc / "burst_map.h5",
            spacing=(SPACING, SPACING),
        )
        with h5py.File(out) as f:
            images.append(f["data/VV"][()])
    with h5py.File(root / "tiny" / "truth.h5") as f:
        parts = ("troposphere", "turbulence", "ionosphere", "tides", "ramp", "deformation")
        signal = sum(f[k][()].astype(np.float64) for k in parts) / 1000.0  # mm -> m
    return root, manifest, dates, images, signal


def test_products_are_a_local_archive_of_the_frame(pair):
    root, manifest, dates, _, _ = pair
    products = select_products(scan_archives([root / "tiny" / "safe"]), 87, "ascending")
    assert [p.start.strftime("%Y%m%d") for p in products] == dates == ["20200105", "20200117"]
    # the frame straddles two IW2 bursts and the IW2/IW3 overlap; same burst IDs on both dates
    entries = json.loads(manifest.read_text())["safe"]
    assert entries[0]["bursts"] == entries[1]["bursts"]
    swaths = [b[-3:] for b in entries[0]["bursts"]]
    assert swaths.count("IW2") == 2 and swaths.count("IW3") >= 1, swaths
    assert set(entries[0]["bursts"]) <= set(products[0].burst_ids)


def test_baseline_is_hundreds_of_metres(pair):
    _, manifest, _, _, _ = pair
    orbits = [read_eof(p) for p in read_manifest(manifest).orbits]
    gap = orbits[1].position.mean(axis=0) - orbits[0].position.mean(axis=0)
    along = orbits[0].velocity.mean(axis=0)
    across = gap - gap @ along / (along @ along) * along
    # the orbital tube draws ~150 m per date: the pair's baseline is what the flattening removes
    assert 50.0 < np.linalg.norm(across) < 1000.0


def per_burst(manifest, cslc, date):
    """A date's burst choice by its own geometry (what a per-date choice would do; burst IDs,
    "" where none), per burst ID the grid taken from that burst alone, and the image the
    per-date choice gives, by the geocoder's own functions."""
    import rasterio

    from sar4tec.sentinel1.geocode import (
        NO_BURST,
        _Source,
        acquisition_orbit,
        choose_bursts,
        geocode_block,
        read_heights,
    )
    from sar4tec.sentinel1.geocode_stage import _acquisition_bursts, cslc_grid
    from sar4tec.sentinel1.interpolate import DEFAULT_TAPS

    plan = json.loads((cslc / "plan.json").read_text())
    acquisition = next(a for a in plan["acquisitions"] if a["date"] == date)
    bursts, _ = _acquisition_bursts(read_manifest(manifest), cslc / "plan.json", acquisition, "VV")
    orbit = acquisition_orbit(bursts)
    grid = cslc_grid(json.loads(manifest.read_text())["bounds"], (SPACING, SPACING))
    with rasterio.open(read_manifest(manifest).dem) as dem:
        heights = read_heights(dem, grid)
    with ExitStack() as stack:
        sources = [_Source.prepare(b, stack.enter_context(b.open()), DEFAULT_TAPS) for b in bursts]
        own = choose_bursts(sources, orbit, grid, heights)
        alone = {
            b.burst_id: geocode_block(sources, orbit, grid, heights, choice=np.full(grid.shape, k))
            for k, b in enumerate(bursts)
        }
        own_image = geocode_block(sources, orbit, grid, heights, choice=own)
    ids = np.array([b.burst_id for b in bursts] + [""])
    return ids[np.where(own == NO_BURST, -1, own)], alone, own_image


@pytest.fixture(scope="module")
def bursts(pair):
    root, manifest, dates, _, _ = pair
    return [per_burst(manifest, root / "cslc", d) for d in dates]


def _residual(pair, images=None):
    """The interferogram of the two dates (or of ``images``) minus the simulated truth."""
    _, _, _, cslcs, signal = pair
    a, b = cslcs if images is None else images
    truth = los_to_phase(signal[1] - signal[0], WAVELENGTH)
    return b * np.conj(a) * np.exp(-1j * truth), a, b


def _weighted_rms(residual):
    weights = np.abs(residual)
    return np.sqrt(np.sum(weights * np.angle(residual) ** 2) / weights.sum())


def test_per_date_choices_differ_along_the_iw2_iw3_split(bursts):
    """The hazard the burst map removes exists in this scene: each date's own geometry (orbits
    hundreds of metres apart) moves the split line by a band of pixels."""
    (own_a, _, _), (own_b, _, _) = bursts
    flipped = (own_a != own_b) & (own_a != "") & (own_b != "")
    assert flipped.any()
    swaths = zip(own_a[flipped], own_b[flipped], strict=True)
    assert {tuple(sorted((x[-3:], y[-3:]))) for x, y in swaths} == {("IW2", "IW3")}


def test_every_date_takes_each_pixel_from_the_burst_of_the_map(pair, bursts):
    root, _, dates, images, _ = pair
    with h5py.File(root / "cslc" / "burst_map.h5") as f:
        ids = np.array([i.decode() for i in f["burst_ids"][()]] + [""])
        chosen = ids[f["burst_index"][()]]
        assert f.attrs["reference"] == dates[0]
    assert (chosen != "").all()  # the frame lies inside the bursts
    flips = []
    for image, (own, alone, own_image) in zip(images, bursts, strict=True):
        for burst_id, values in alone.items():
            take = chosen == burst_id
            # the CSLC pixel is the value of the map's burst, computed the same way: equal
            np.testing.assert_array_equal(image[take], values[take])
        other = (own != chosen) & (own != "")
        flips.append(own_image[other] * np.conj(image[other]))
    # where a date's own geometry would choose another burst (only on the secondary: the map
    # is the reference's choice), that burst's value differs by the carrier phases the
    # simulator leaves in each burst (its reference carrier ψ_ref,b, simulate/radar.py):
    # ψ_ref,IW2 − ψ_ref,IW3 varies over radians across the overlap (median |difference|
    # measured 1.55 rad on 1363 pixels); the CSLC holds the map's burst there, not that one
    assert flips[0].size == 0 and flips[1].size > 1000
    assert np.median(np.abs(np.angle(flips[1]))) > 1.0


def test_interferogram_is_the_simulated_displacement(pair, bursts):
    residual, a, b = _residual(pair)
    assert np.isfinite(residual).all()
    # the geocoder's kernel (IW2 bands: 0.3 % rms error, i.e. ~3 mrad on speckle) and CInt16
    # rounding of speckle of rms 1500 are all that separates the two dates; the baseline
    # phase (tens of radians across the frame) is flattened, so 0.05 rad is a tight bound
    assert _weighted_rms(residual) < 0.05
    coherence = np.abs(residual.sum()) / np.sqrt(np.sum(np.abs(a) ** 2) * np.sum(np.abs(b) ** 2))
    assert coherence > 0.99
    # the band where each date's own geometry would have chosen different sub-swaths: the
    # same bound, where the per-date choices mix IW2 and IW3 (radians of error)
    (own_a, _, image_a), (own_b, _, image_b) = bursts
    band = own_a != own_b
    assert _weighted_rms(residual[band]) < 0.05
    mixed, _, _ = _residual(pair, (image_a, image_b))
    assert _weighted_rms(mixed[band]) > 0.5


def test_no_seam_at_burst_and_subswath_overlaps(pair):
    """Row by row (along track, across the burst boundaries) and column by column (across
    the IW2/IW3 boundary), the residual phase stays flat: a seam from mismatched carriers or
    timing would be a jump of 2π f_DC δt (tenths of a radian for microseconds), a range
    misregistration a jump of 4π δR / λ, a pixel from different bursts on the two dates
    radians."""
    residual, _, _ = _residual(pair)
    for axis in (1, 0):
        means = np.angle(residual.sum(axis=axis))
        assert np.abs(means).max() < 0.05
        assert np.abs(np.diff(means)).max() < 0.05
