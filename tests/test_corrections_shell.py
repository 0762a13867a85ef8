"""Tabulated thin-shell geometry against the direct per-pixel evaluation, on real maps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from sar4tec.corrections import ionosphere
from sar4tec.corrections.ionosphere import IonexFiles, read_ionex, slant_range_change
from sar4tec.corrections.shell import ShellGeometry, angle_range

IGS = "ionex/IGS0OPSFIN_20243490000_01D_02H_GIM.INX"


def s1_frame(north: float, west: float, heading0: float = -12.0, step: float = 0.004):
    """A Sentinel-1-like frame: 2.3° x 1.6° (~250 x 180 km), incidence 30° -> 46° across,
    heading turning by 0.6° along, and the incidence change a 3 km mountain range makes
    (a target h metres higher is seen ~h sin(inc) / 850 km steeper: up to 0.12°)."""
    rows, cols = int(1.6 / step), int(2.3 / step)
    lat, lon = np.meshgrid(
        north - np.arange(rows) * step, west + np.arange(cols) * step, indexing="ij"
    )
    height = 3000.0 * np.abs(np.sin(lat * 7.0) * np.cos(lon * 5.0))
    incidence = 30.0 + 16.0 * np.arange(cols) / cols + np.degrees(height * 0.6 / 850e3)
    heading = heading0 - 0.6 * np.arange(rows)[:, None] / rows + 0.0 * lon
    return lat, lon, incidence, heading


def table_for(ionex, lat, incidence, heading) -> ShellGeometry:
    return ShellGeometry(
        ionex.shell_height,
        ionex.base_radius,
        (lat.min(), lat.max()),
        angle_range(heading),
        (np.nanmin(incidence), np.nanmax(incidence)),
    )


@pytest.mark.parametrize("interpolation", ["rotated", "linear3d", "linear2d"])
def test_table_matches_direct_evaluation_in_the_steepest_real_gradient(real_data, interpolation):
    """The IGS map of 2024-12-14 (VTEC to 121 TECU) has its steepest gradient, 0.065 TECU/km,
    at 20°N -145°E at 00 UTC: the frame's pierce points (3-4° west of it) sample it at 01 UTC.

    Tolerance: the table's worst pierce-point error (0.4 m, module doc) in that gradient is
    3e-5 TECU, 0.5 µm of range; the obliquity adds < 0.3 µm.  2 µm is 50 x below the 0.1 mm
    that would matter for deformation.
    """
    ionex = read_ionex(real_data / IGS)
    when = datetime(2024, 12, 14, 1, 0, tzinfo=UTC)
    lat, lon, incidence, heading = s1_frame(22.5, -143.0)
    table = table_for(ionex, lat, incidence, heading)
    fast = table.range_change(
        ionex, lat, lon, incidence, heading, when, interpolation=interpolation
    )
    exact = slant_range_change(
        ionex, lat, lon, incidence, heading, when, interpolation=interpolation
    )
    assert exact.min() > 0.5  # a strong ionosphere: more than half a metre of range everywhere
    assert np.abs(fast - exact).max() < 2e-6


def test_nearest_mode_differs_only_on_rounding_edges(real_data):
    """``nearest`` is discontinuous: a pierce point within the table's ~0.4 m of a half-node line
    may take the neighbouring node.  That concerns ~1e-6 of the pixels; all others agree."""
    ionex = read_ionex(real_data / IGS)
    when = datetime(2024, 12, 14, 1, 0, tzinfo=UTC)
    lat, lon, incidence, heading = s1_frame(22.5, -143.0)
    table = table_for(ionex, lat, incidence, heading)
    fast = table.range_change(ionex, lat, lon, incidence, heading, when, interpolation="nearest")
    exact = slant_range_change(ionex, lat, lon, incidence, heading, when, interpolation="nearest")
    assert np.mean(np.abs(fast - exact) > 2e-6) < 1e-3


def test_descending_heading_across_180_and_nan(real_data):
    """Headings around ±180° (descending) use the 0..360 representation; NaN stays NaN."""
    ionex = read_ionex(real_data / "ionex/jplg3190.15i")
    when = datetime(2015, 11, 15, 9, 30, tzinfo=UTC)
    lat, lon, incidence, heading = s1_frame(-20.0, -70.0, heading0=180.3)
    heading = (heading + 180.0) % 360.0 - 180.0  # values on both sides of ±180
    assert heading.min() < -179.0 and heading.max() > 179.0
    assert angle_range(heading)[1] - angle_range(heading)[0] < 1.0
    incidence[5, 7] = np.nan
    table = table_for(ionex, lat, incidence, heading)
    assert table.table.shape[1] < 15  # a narrow heading axis, not 360°
    fast = table.range_change(ionex, lat, lon, incidence, heading, when)
    exact = slant_range_change(ionex, lat, lon, incidence, heading, when)
    assert np.isnan(fast[5, 7]) and np.isnan(fast).sum() == 1
    # 2 µm: see the steepest-gradient test (this map's gradients are gentler)
    np.testing.assert_allclose(fast, exact, atol=2e-6, equal_nan=True)


def test_errors_name_the_cause(real_data):
    ionex = read_ionex(real_data / "ionex/jplg3190.15i")
    when = datetime(2015, 11, 15, 9, 30, tzinfo=UTC)
    table = ShellGeometry(ionex.shell_height, ionex.base_radius, (10, 11), (-13, -12), (30, 46))
    with pytest.raises(ValueError, match="outside the shell table"):
        table.range_change(ionex, 12.0, 0.0, 35.0, -12.0, when)
    other = replace(ionex, shell_height=350e3)
    with pytest.raises(ValueError, match="the table was made for 450000 m"):
        table.range_change(other, 10.5, 0.0, 35.0, -12.0, when)
    # looking north from 86°N puts the pierce point beyond the maps' 87.5°, as the direct formula
    polar = ShellGeometry(ionex.shell_height, ionex.base_radius, (86, 86), (90, 90), (40, 40))
    with pytest.raises(ValueError, match="latitude outside the maps"):
        polar.range_change(ionex, 86.0, 0.0, 40.0, 90.0, when)
    with pytest.raises(ValueError, match="latitude outside the maps"):
        slant_range_change(ionex, 86.0, 0.0, 40.0, 90.0, when)
    with pytest.raises(ValueError, match="incidence"):
        ShellGeometry(ionex.shell_height, ionex.base_radius, (10, 11), (-13, -12), (30, 89.99))


def test_ionex_files_are_read_about_once(real_data, monkeypatch):
    """Picking a file for every date of a stack reads each file once, not once per date."""
    reads = []
    real_read = ionosphere.read_ionex

    def counting_read(path):
        reads.append(path.name)
        return real_read(path)

    monkeypatch.setattr(ionosphere, "read_ionex", counting_read)
    paths = [real_data / "ionex/jplg3190.15i", real_data / "ionex/codg0080.20i"]
    files = IonexFiles(paths)
    days = [datetime(2020, 1, 8, h, tzinfo=UTC) for h in (1, 5, 9)]
    days += [datetime(2015, 11, 15, h, tzinfo=UTC) for h in (2, 6)]
    picked = [files.pick(when).path.name for when in days]
    assert picked == ["codg0080.20i"] * 3 + ["jplg3190.15i"] * 2
    assert reads == ["jplg3190.15i", "codg0080.20i", "jplg3190.15i"]
    with pytest.raises(ValueError, match=r"no IONEX file covers .* jplg3190.15i \(2015-11-15"):
        files.pick(datetime(2021, 1, 1, tzinfo=UTC))
