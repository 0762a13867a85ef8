"""Bad inputs give an error that names the problem, and no product (issue 10).

The rows of the bad-input table that no other test covers; ``docs/reliability.md`` lists the
whole table with the test of each row.  Workflow-level rows run Snakemake on the demo
configuration with one thing broken and check that it stops, says why, and writes no product.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from workflow_runs import REPO, run_demo

from sar4tec.acquire import era5
from sar4tec.acquire.download import DownloadError, fetch
from sar4tec.acquire.testserver import LocalServer, Resource
from sar4tec.errors import InputFormatError
from sar4tec.grid import Grid
from sar4tec.raster import read_onto_grid
from sar4tec.sentinel1.cslc import read_cslc_info


def broken_config(folder: Path, section: str, changes: dict) -> Path:
    """The demo configuration with ``changes`` (dotted keys inside ``section``) applied."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for key, value in changes.items():
        node = config.setdefault(section, {})
        *parents, last = key.split(".")
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = value
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def no_products(workdir: Path) -> bool:
    """No file of the frame under work/ or results/, no frame manifest.

    (The region summary ``results/summary.json`` is written on failure too: it lists why.)
    """
    return (
        not any(
            p.is_file()
            for top in ("work/demo", "results/demo")
            if (workdir / top).exists()
            for p in (workdir / top).rglob("*")
        )
        and not (workdir / "data/demo/manifest.json").exists()
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("section", "key", "value", "named"),
    [
        ("phase_linking", "half_windw", [5, 5], "half_windw"),  # misspelled key
        ("stack", "block_size", "256 px", "block_size"),  # a unit where a number goes
        ("phase_linking", "strides", [2.5, 2.5], "strides"),  # wrong type
    ],
)
def test_bad_configuration_stops_before_any_job(tmp_path, section, key, value, named):
    config = broken_config(tmp_path, section, {key: value})
    run = run_demo(tmp_path, "--configfile", str(config), "--cores", "1")
    assert run.returncode != 0
    assert named in run.stderr and f"config section '{section}'" in run.stderr
    assert no_products(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("start", "end", "named"),
    [
        ("2022-12-31", "2016-05-03", "only 0 acquisition(s) between 2022-12-31 and 2016-05-03"),
        ("2016-05-03", "2016-05-20", "need at least 2"),  # one acquisition
    ],
)
def test_dates_in_the_wrong_order_or_too_few_acquisitions(tmp_path, start, end, named):
    changes = {"acquisitions.start": start, "acquisitions.end": end}
    config = broken_config(tmp_path, "simulation", changes)
    run = run_demo(tmp_path, "--configfile", str(config), "--cores", "1")
    assert run.returncode != 0
    assert named in (tmp_path / "logs/demo/simulate_frame.log").read_text()
    assert no_products(tmp_path)


def test_truncated_hdf5_slc_names_the_file(real_data, tmp_path):
    source = next((real_data / "sentinel1/opera_cslc_metadata_only").glob("*.h5")).read_bytes()
    for cut in (0, 1000, len(source) // 2):
        path = tmp_path / f"cut{cut}.h5"
        path.write_bytes(source[:cut])
        with pytest.raises(InputFormatError, match=str(path)):
            read_cslc_info(path)


@pytest.fixture
def dem(real_data) -> Path:
    return real_data / "dem/dem_stitcher_glo30_los_angeles/los_angeles_dem_ellipsoid.tif"


def test_truncated_geotiff_names_the_file(dem, tmp_path):
    import rasterio

    with rasterio.open(dem) as src:
        west, _, _, north = src.bounds
    grid = Grid((west, 0.001, 0.0, north, 0.0, -0.001), (10, 10))
    data = dem.read_bytes()
    for cut in (100, len(data) // 3):
        path = tmp_path / f"cut{cut}.tif"
        path.write_bytes(data[:cut])
        with pytest.raises(InputFormatError, match=str(path)):
            read_onto_grid(path, grid)


def test_dem_not_covering_the_frame_names_both(dem):
    frame = Grid((30.0, 0.002, 0.0, 41.0, 0.0, -0.002), (50, 50))  # Turkey; the DEM is Los Angeles
    with pytest.raises(ValueError, match="does not cover the grid") as err:
        read_onto_grid(dem, frame)
    assert str(dem) in str(err.value)


def test_missing_cds_credentials_name_the_file_to_create(tmp_path, monkeypatch):
    monkeypatch.delenv("CDSAPI_URL", raising=False)
    monkeypatch.delenv("CDSAPI_KEY", raising=False)
    rc = tmp_path / "cdsapirc"
    monkeypatch.setenv("CDSAPI_RC", str(rc))
    with pytest.raises(era5.CredentialsError) as err:
        era5.cds_credentials()
    assert str(rc) in str(err.value) and "key:" in str(err.value)


@pytest.mark.network
def test_missing_download_credentials_name_the_netrc(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with LocalServer({"/f.zip": Resource(b"x" * 100, auth=("user", "secret"))}) as server:
        with pytest.raises(DownloadError) as err:
            fetch(server.url("/f.zip"), tmp_path / "f.zip", retries=0)
    assert ".netrc" in str(err.value) and "machine 127.0.0.1" in str(err.value)
    assert not (tmp_path / "f.zip").exists()


def test_nan_and_zero_slc_blocks_are_masked_not_fatal():
    from sar4tec.phaselink.api import run_phase_linking

    rng = np.random.default_rng(0)
    n, rows, cols = 8, 24, 24
    phase = np.linspace(0, 2, n)[:, None, None]
    speckle = rng.normal(size=(rows, cols)) + 1j * rng.normal(size=(rows, cols))
    noise = 0.3 * (rng.normal(size=(n, rows, cols)) + 1j * rng.normal(size=(n, rows, cols)))
    slc = (speckle * np.exp(1j * phase) + noise).astype(np.complex64)
    slc[:, :8, :8] = np.nan  # a NaN block on every date
    slc[:, 16:, 16:] = 0  # a zero (no-data) block on every date
    # one speckle pattern on every date has a stable amplitude: no PS selection, so every
    # valid pixel is a 25-look estimate
    res = run_phase_linking(slc, half_window=(2, 2), shp_method="rect", ps_threshold=1e-9)
    for block in (np.s_[:, :8, :8], np.s_[:, 16:, 16:]):
        assert np.all(np.isnan(res.phase[block]))
    # the valid pixels between the blocks are estimated as usual: the phase history is
    # recovered. Coherence ~0.92 (speckle power 2 vs noise 0.18) over 25 looks gives a phase
    # std of ~0.06 rad; 0.3 rad is 5 sigma for the max over 16 pixels x 8 dates
    error = np.angle(np.exp(1j * (res.phase[:, 10:14, 10:14] - phase)))
    assert np.abs(error).max() < 0.3
