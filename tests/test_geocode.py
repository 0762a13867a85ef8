"""Geocoding synthetic TOPS bursts, written into SAFE products made from a real annotation.

Forward model.  The SAFE products are the real S1A IW2 annotation and manifest of
2022-10-16 (track 64) with a measurement TIFF we write: point targets at known lat/lon/height
with known phase, and a patch of band-limited speckle, synthesised in the *deramped* domain as
Hamming-weighted band-limited responses with the annotation's processing bandwidths, then
multiplied by the TOPS carrier ``exp(jψ)``, zeroed outside the valid samples and rounded to
CInt16 like a real product.  A second date is the same product 12 days later (one repeat cycle:
same Earth-fixed orbit) with its orbit moved by ~140 m (a perpendicular baseline) and its
targets moved 4 mm toward or 10 mm away from the satellite.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from sar4tec.constants import SPEED_OF_LIGHT, los_to_phase, phase_to_los
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest, write_manifest
from sar4tec.sentinel1.burst import choose_orbit, read_bursts
from sar4tec.sentinel1.cslc import read_cslc_info, read_cslc_orbit
from sar4tec.sentinel1.deramp import TopsRamp
from sar4tec.sentinel1.geocode import geocode_acquisition, read_heights, write_burst_map
from sar4tec.sentinel1.geocode_stage import (
    cslc_grid,
    geocode_date,
    plan_geocoding,
    write_cslc_manifest,
    write_frame_burst_map,
)
from sar4tec.sentinel1.geometry import zero_doppler_geometry
from sar4tec.sentinel1.interpolate import SincKernel, interpolate
from sar4tec.sentinel1.orbit import Orbit, read_eof
from sar4tec.simulate.orbit import write_eof as eof_writer
from sar4tec.simulate.radar import band_limited_spectrum

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

REAL_SAFE = "sentinel1/safe/S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"
#: of the annotation's radar frequency, 5.405000454 GHz
WAVELENGTH = SPEED_OF_LIGHT / 5.405000454334350e09
SUPPORT = 64  # samples of a synthetic response kept on each side of its peak
AMPLITUDE = 2000.0  # of the point targets, in CInt16 units


# --------------------------------------------------------------------------- forward model
def _shift_text(text: str, days: int) -> str:
    """Move every ISO time (and YYYYMMDDTHHMMSS stamp) of an XML text or name by ``days``."""

    def iso(m):
        t = datetime.strptime(m[0], "%Y-%m-%dT%H:%M:%S.%f") + timedelta(days=days)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f")

    def stamp(m):
        return (datetime.strptime(m[0], "%Y%m%dT%H%M%S") + timedelta(days=days)).strftime(
            "%Y%m%dT%H%M%S"
        )

    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+", iso, text)
    return re.sub(r"(?<=_)\d{8}T\d{6}", stamp, text)


def _move_orbit(xml: str, offset: np.ndarray) -> str:
    root = ET.fromstring(xml)
    for osv in root.iterfind("generalAnnotation/orbitList/orbit"):
        for k, axis in enumerate("xyz"):
            el = osv.find(f"position/{axis}")
            el.text = repr(float(el.text) + float(offset[k]))
    return ET.tostring(root, encoding="unicode")


def build_safe(real_data: Path, folder: Path, *, days: int = 0, offset=None) -> Path:
    """A SAFE folder from the real zip (times moved by ``days``, orbit by ``offset``), with an
    empty (sparse, tiled) CInt16 measurement TIFF of the swath's size."""
    with zipfile.ZipFile(real_data / REAL_SAFE) as z:
        for name in z.namelist():
            if name.endswith("/"):
                continue
            text = _shift_text(z.read(name).decode(), days)
            if "/annotation/" in name and offset is not None:
                text = _move_orbit(text, offset)
            target = folder / _shift_text(name, days)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    safe = next(folder.glob("*.SAFE"))
    annotation = next((safe / "annotation").glob("*.xml"))
    root = ET.parse(annotation).getroot()
    lines = int(root.findtext("swathTiming/linesPerBurst"))
    bursts = len(root.findall("swathTiming/burstList/burst"))
    (safe / "measurement").mkdir()
    with rasterio.open(
        safe / "measurement" / f"{annotation.stem}.tiff",
        "w",
        driver="GTiff",
        width=int(root.findtext("swathTiming/samplesPerBurst")),
        height=lines * bursts,
        count=1,
        dtype="complex_int16",
        tiled=True,
        blockxsize=256,
        blockysize=256,
        sparse_ok=True,
    ):
        pass
    return safe


def processing_bands(safe: Path) -> dict[str, tuple[float, float]]:
    """(bandwidth / sampling rate, Hamming coefficient) of azimuth and range, from the XML."""
    root = ET.parse(next((safe / "annotation").glob("*.xml"))).getroot()
    proc = root.find("imageAnnotation/processingInformation/swathProcParamsList/swathProcParams")
    rates = {
        "azimuth": float(root.findtext("imageAnnotation/imageInformation/azimuthFrequency")),
        "range": float(root.findtext("generalAnnotation/productInformation/rangeSamplingRate")),
    }
    return {
        axis: (
            float(proc.findtext(f"{axis}Processing/processingBandwidth")) / rates[axis],
            float(proc.findtext(f"{axis}Processing/windowCoefficient")),
        )
        for axis in ("azimuth", "range")
    }


def response(x: np.ndarray, band: float, alpha: float) -> np.ndarray:
    """Impulse response of a Hamming-weighted band ``|f| <= band/2`` (cycles/sample), peak 1."""
    h = alpha * np.sinc(band * x) + 0.5 * (1 - alpha) * (
        np.sinc(band * x - 1) + np.sinc(band * x + 1)
    )
    return h / alpha


def band_limited_field(rng, shape, bands) -> np.ndarray:
    """Spectrum (periodic over ``shape``) of complex speckle in the given (band, α) pairs."""
    return band_limited_spectrum(shape, *zip(*bands, strict=True), rng)


def evaluate_field(spectrum: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Exact value of the periodic band-limited field at fractional positions."""
    n, m = spectrum.shape
    er = np.exp(2j * np.pi * np.outer(rows, np.fft.fftfreq(n) * n) / n)
    ec = np.exp(2j * np.pi * np.outer(cols, np.fft.fftfreq(m) * m) / m)
    return np.einsum("pk,km,pm->p", er, spectrum, ec) / (n * m)


def synthesize(safe: Path, targets: SimpleNamespace, speckle=None) -> None:
    """Write the targets (and the speckle patch) into every burst of the SAFE's TIFF."""
    bands = processing_bands(safe)
    bursts = read_bursts(safe)
    with rasterio.open(bursts[0].measurement, "r+") as dst:
        for index, burst in enumerate(bursts):
            a = burst.annotation
            orbit = burst.orbit
            geo = zero_doppler_geometry(orbit, targets.lat, targets.lon, targets.height)
            line, sample = burst.radar_coordinates(
                geo.azimuth_time, geo.slant_range, orbit.reference_epoch
            )
            near = (
                (line > -SUPPORT)
                & (line < a.lines + SUPPORT)
                & (sample > -SUPPORT)
                & (sample < a.samples + SUPPORT)
            )
            patch = speckle if speckle is not None and speckle.burst == index else None
            if not near.any() and patch is None:
                continue
            ramp = TopsRamp.from_burst(a, orbit)
            lines_used = np.concatenate([line[near]] + ([patch.rows] if patch else []))
            samples_used = np.concatenate([sample[near]] + ([patch.cols] if patch else []))
            l0 = max(int(lines_used.min()) - SUPPORT, 0)
            l1 = min(int(lines_used.max()) + SUPPORT + 1, a.lines)
            s0 = max(int(samples_used.min()) - SUPPORT, 0)
            s1 = min(int(samples_used.max()) + SUPPORT + 1, a.samples)
            deramped = np.zeros((l1 - l0, s1 - s0), dtype=np.complex128)
            phase = -4 * np.pi * (geo.slant_range - targets.toward) / a.wavelength + targets.phase
            for k in np.flatnonzero(near):
                rows = np.arange(
                    max(int(line[k]) - SUPPORT, l0), min(int(line[k]) + SUPPORT, l1 - 1) + 1
                )
                cols = np.arange(
                    max(int(sample[k]) - SUPPORT, s0), min(int(sample[k]) + SUPPORT, s1 - 1) + 1
                )
                if rows.size == 0 or cols.size == 0:
                    continue
                value = targets.amplitude * np.exp(1j * (phase[k] - ramp.phase(line[k], sample[k])))
                deramped[rows[0] - l0 : rows[-1] - l0 + 1, cols[0] - s0 : cols[-1] - s0 + 1] += (
                    value
                    * response(rows - line[k], *bands["azimuth"])[:, None]
                    * response(cols - sample[k], *bands["range"])[None, :]
                )
            if patch:
                pr, pc = patch.origin
                n, m = patch.spectrum.shape
                deramped[pr - l0 : pr - l0 + n, pc - s0 : pc - s0 + m] += np.fft.ifft2(
                    patch.spectrum
                )
            carrier = ramp.phase(np.arange(l0, l1)[:, None], np.arange(s0, s1)[None, :])
            slc = deramped * np.exp(1j * carrier)
            cols = np.arange(s0, s1)[None, :]
            first = a.first_valid_sample[l0:l1, None]
            last = a.last_valid_sample[l0:l1, None]
            slc[(first < 0) | (cols < first) | (cols > last)] = 0
            assert np.abs(slc).max() < 32000
            quantised = np.round(slc.real) + 1j * np.round(slc.imag)
            window = Window(s0, burst.line_offset + l0, s1 - s0, l1 - l0)
            dst.write(quantised.astype(np.complex64), 1, window=window)


def write_eof(path: Path, orbit: Orbit, offset=(0.0, 0.0, 0.0)) -> Path:
    """An EOF file (the simulator's writer) holding ``orbit``'s state vectors, moved by
    ``offset``."""
    times = [orbit.datetime_at(t) for t in orbit.time]
    return eof_writer(path, "S1A", times, orbit.position + offset, orbit.velocity, 1, times[-1])


def leakage(safe: Path, targets: SimpleNamespace) -> np.ndarray:
    """Per target, the summed |response| of all other targets at its position (a bound on how
    much they change its value, relative to its amplitude)."""
    bands = processing_bands(safe)
    burst = read_bursts(safe)[3]
    geo = zero_doppler_geometry(burst.orbit, targets.lat, targets.lon, targets.height)
    line, sample = burst.radar_coordinates(
        geo.azimuth_time, geo.slant_range, burst.orbit.reference_epoch
    )
    dl = line[:, None] - line[None, :]
    ds = sample[:, None] - sample[None, :]
    near = (np.abs(dl) < SUPPORT) & (np.abs(ds) < SUPPORT)
    leak = np.abs(response(dl, *bands["azimuth"]) * response(ds, *bands["range"])) * near
    np.fill_diagonal(leak, 0.0)
    return leak.sum(axis=1)


def write_dem(path: Path, bounds, plane) -> Path:
    """A float64 DEM of the tilted plane ``plane(lat, lon)`` (bilinear interpolation is exact)."""
    west, south, east, north = bounds
    step = 0.002
    grid = Grid.from_bounds(west, south, east, north, step)
    lat, lon = grid.meshgrid()
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=grid.cols,
        height=grid.rows,
        count=1,
        dtype="float64",
        crs="EPSG:4326",
        transform=grid.rasterio_transform(),
    ) as dst:
        dst.write(plane(lat, lon), 1)
    return path


def box(lat: float, lon: float, half: tuple[float, float], spacing: tuple[float, float]) -> Grid:
    """The CSLC grid of ``2 half`` degrees around (lat, lon) with ``spacing = (dy, dx)``."""
    return cslc_grid((lon - half[1], lat - half[0], lon + half[1], lat + half[0]), spacing)


def plane(lat, lon):
    """Ellipsoidal heights: 1.8 % slope north, 1.4 % east."""
    return 250.0 + 2000.0 * (lat - 34.5) + 1500.0 * (lon + 117.7)


def make_scene(real_data: Path, root: Path) -> SimpleNamespace:
    """Two dates of synthetic bursts (targets, speckle) in SAFE folders under ``root``."""
    folders = [root / "a", root / "b"]
    for f in folders:
        f.mkdir()
    safe_a = build_safe(real_data, folders[0])
    annotation = read_bursts(safe_a)[3].annotation
    position, velocity = annotation.orbit.interpolate(
        annotation.orbit.seconds_since_epoch(annotation.sensing_mid)
    )
    radial = position / np.linalg.norm(position)
    cross = np.cross(velocity, radial)
    offset = 100.0 * radial + 100.0 * cross / np.linalg.norm(cross)
    safe_b = build_safe(real_data, folders[1], days=12, offset=offset)

    # targets: the overlap of bursts 3 and 4 (their edges, where the TOPS carrier is steepest)
    grid = box(34.62416, -117.54834, (0.012, 0.0045), (0.00008, 0.00003))
    rows, cols = np.meshgrid(
        np.arange(15, grid.rows, 30), np.arange(20, grid.cols, 40), indexing="ij"
    )
    rows, cols = rows.ravel(), cols.ravel()
    rng = np.random.default_rng(42)
    lat, lon = grid.y[rows], grid.x[cols]
    targets = SimpleNamespace(
        rows=rows,
        cols=cols,
        lat=lat,
        lon=lon,
        height=plane(lat, lon),
        amplitude=AMPLITUDE,
        phase=rng.uniform(-np.pi, np.pi, rows.size),
        toward=np.zeros(rows.size),
    )
    moved = SimpleNamespace(**vars(targets))
    moved.toward = np.where(rng.uniform(size=rows.size) < 0.5, 0.004, -0.010)

    # speckle: a 128 x 256 patch inside burst 5 of the first date
    bursts = read_bursts(safe_a)
    speckle_grid = box(34.84893, -117.76424, (0.0036, 0.0024), (0.0001, 0.00005))
    bands = processing_bands(safe_a)
    burst5 = bursts[5]
    centre = zero_doppler_geometry(burst5.orbit, 34.84893, -117.76424, plane(34.84893, -117.76424))
    cl, cs = burst5.radar_coordinates(
        centre.azimuth_time, centre.slant_range, burst5.orbit.reference_epoch
    )
    shape = (128, 256)
    origin = (int(cl) - shape[0] // 2, int(cs) - shape[1] // 2)
    spectrum = band_limited_field(rng, shape, (bands["azimuth"], bands["range"]))
    spectrum *= 1500.0 / np.sqrt(np.mean(np.abs(np.fft.ifft2(spectrum)) ** 2))  # rms 1500
    speckle = SimpleNamespace(
        burst=5,
        origin=origin,
        spectrum=spectrum,
        rows=np.array([origin[0], origin[0] + shape[0]]),
        cols=np.array([origin[1], origin[1] + shape[1]]),
    )
    synthesize(safe_a, targets, speckle)
    synthesize(safe_b, moved)
    dem = write_dem(root / "dem.tif", (-117.95, 33.85, -117.45, 34.9), plane)
    return SimpleNamespace(
        root=root,
        safes=(safe_a, safe_b),
        leak=(leakage(safe_a, targets), leakage(safe_b, moved)),
        grid=grid,
        targets=targets,
        moved=moved,
        speckle=speckle,
        speckle_grid=speckle_grid,
        dem=dem,
    )


@pytest.fixture(scope="module")
def scene(real_data, tmp_path_factory):
    return make_scene(real_data, tmp_path_factory.mktemp("geocode"))


def geocode(scene, safe, grid, name, **options) -> np.ndarray:
    out = scene.root / f"{name}.h5"
    geocode_acquisition(read_bursts(safe), scene.dem, grid, out, **options)
    with h5py.File(out) as f:
        return f["data/VV"][()]


@pytest.fixture(scope="module")
def geocoded(scene):
    return [geocode(scene, safe, scene.grid, f"targets_{k}") for k, safe in enumerate(scene.safes)]


# --------------------------------------------------------------------------- tests
def _target_values(image, targets):
    return image[targets.rows, targets.cols]


def test_targets_land_on_their_pixel_with_their_phase(scene, geocoded):
    t = scene.targets
    image = geocoded[0]
    values = _target_values(image, t)
    assert np.isfinite(values).all()
    for r, c in zip(t.rows, t.cols, strict=True):
        patch = np.abs(image[r - 2 : r + 3, c - 2 : c + 3]) ** 2
        # the peak is the target's pixel, and the energy centroid sits on its centre (< 0.01
        # pixel measured): a misplacement by a fraction of a pixel would move it, the
        # response being symmetric
        assert np.unravel_index(np.argmax(patch), patch.shape) == (2, 2)
        offsets = np.arange(-2, 3)
        assert abs((patch.sum(axis=1) * offsets).sum() / patch.sum()) < 0.1
        assert abs((patch.sum(axis=0) * offsets).sum() / patch.sum()) < 0.1
    check_target_values(values, t.phase, scene.leak[0])


#: largest gain error of the kernel on a point target at a fractional position, IW2 bands
#: (+0.32 % measured by test_interpolation_kernel_on_point_targets; +1.4 % with IW1's bands)
KERNEL_GAIN_ERROR = 0.004


def check_target_values(values, phase, leak):
    """Amplitude and phase of the targets, each within what the kernel and its neighbours'
    sidelobes allow: a neighbour contributing a fraction ``e`` of the amplitude changes the
    amplitude by at most ``e`` and the phase by at most ``asin(e)``; CInt16 rounding adds
    ~1e-4 rad."""
    assert (np.abs(np.abs(values) / AMPLITUDE - 1) <= KERNEL_GAIN_ERROR + leak).all()
    error = np.abs(np.angle(values * np.exp(-1j * phase)))
    assert (error <= np.arcsin(np.minimum(leak, 1)) + 1e-3).all()
    assert leak.max() < 0.02  # the check is tight: neighbours leak at most 2 %


def test_skipping_the_deramp_breaks_the_targets(scene, geocoded, monkeypatch):
    """Interpolating the burst with its TOPS carrier in place aliases it: the same targets
    come out with phases wrong by radians (4.9 mrad at most with the deramp), so the test
    above really checks the deramp."""
    monkeypatch.setattr(
        TopsRamp, "phase", lambda self, line, sample: np.zeros(np.broadcast(line, sample).shape)
    )
    image = geocode(scene, scene.safes[0], scene.grid, "no_deramp")
    values = _target_values(image, scene.targets)
    error = np.angle(values * np.exp(-1j * scene.targets.phase))
    # the flattening alone leaves the targets' phase right only at the carrier's zero
    assert np.median(np.abs(error)) > 0.5


def test_two_dates_with_a_baseline_are_coregistered(scene, geocoded):
    """Date 2 has another orbit (~140 m baseline) and targets moved along the line of sight."""
    a, b = (_target_values(g, scene.targets) for g in geocoded)
    moved = scene.moved
    # same pixels, same amplitudes, phases advanced by the motion
    check_target_values(b, moved.phase + los_to_phase(moved.toward, WAVELENGTH), scene.leak[1])
    phase = np.angle(b * np.conj(a))  # the project's interferogram convention
    displacement = phase_to_los(phase, WAVELENGTH)
    # motion toward the satellite comes out positive, within the two dates' phase bounds
    bound = np.arcsin(scene.leak[0]) + np.arcsin(scene.leak[1]) + 2e-3
    assert (np.abs(displacement - scene.moved.toward) <= phase_to_los(bound, WAVELENGTH)).all()
    assert (displacement[scene.moved.toward > 0] > 0).all()


def test_blocks_of_any_size_give_the_same_image(scene, geocoded):
    small = geocode(scene, scene.safes[0], scene.grid, "blocks", block_size=37)
    assert np.array_equal(np.isnan(small), np.isnan(geocoded[0]))
    # Newton's zero-Doppler iterations stop per pixel once the update is < 1e-7 s (they used
    # to stop per block); a block only changes where a pixel's iterations start, which leaves
    # < 2e-8 s (1e-5 line) at a convergence rate ~0.1.  Sampling a TOPS burst 2e-8 s off turns
    # its phase by 2 pi f t with a local Doppler f up to 2.7 kHz at the burst edges: 3e-4 rad,
    # so values agree to 1e-3 of the target amplitude
    assert np.nanmax(np.abs(small - geocoded[0])) < 1e-3 * AMPLITUDE


def test_the_numba_thread_count_does_not_change_the_image(scene):
    """The kernels split the pixels into chunks that do not depend on the thread count (each
    geo2rdr chunk starts its Newton iterations from its own previous pixel), so one thread and
    all of them give the same bits; a split per thread would change the last bits."""
    import numba

    threads = numba.get_num_threads()
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here (NUMBA_NUM_THREADS=1)")
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = geocode(scene, scene.safes[0], scene.grid, "threads_all")
        numba.set_num_threads(1)
        one = geocode(scene, scene.safes[0], scene.grid, "threads_1")
    finally:
        numba.set_num_threads(threads)
    assert np.isfinite(one).any()
    np.testing.assert_array_equal(one, many)


def utm_box(lat: float, lon: float, spacing: tuple[float, float], size: int = 5) -> Grid:
    """A ``size²`` grid in the point's UTM zone whose central pixel is centred on it."""
    from pyproj import Transformer

    crs = Grid.utm_crs(lat, lon)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    dy, dx = spacing
    half = size / 2
    return Grid((x - half * dx, dx, 0.0, y + half * dy, 0.0, -dy), (size, size), crs)


def test_a_utm_grid_gives_the_same_values_at_the_same_ground_points(scene, geocoded):
    """Targets geocoded onto small UTM grids centred on them: on their pixel, and the same
    complex values as on the EPSG:4326 grid, where they sit on pixel centres too."""
    t = scene.targets
    picks = np.arange(0, t.rows.size, 7)
    values = []
    for k in picks:
        grid = utm_box(t.lat[k], t.lon[k], (8.0, 3.0))
        assert grid.crs.startswith("EPSG:326")
        image = geocode(scene, scene.safes[0], grid, "utm")
        patch = np.abs(image) ** 2
        assert np.unravel_index(np.argmax(patch), patch.shape) == (2, 2)
        # the same interpolation at the same radar position: Newton's zero-Doppler stop
        # (< 2e-8 s, 3e-4 rad at burst edges, see test_blocks_of_any_size_give_the_same_image)
        # and the UTM round trip (nanometres) separate them
        assert abs(image[2, 2] - geocoded[0][t.rows[k], t.cols[k]]) < 1e-3 * AMPLITUDE
        values.append(image[2, 2])
    check_target_values(np.array(values), t.phase[picks], scene.leak[0][picks])


def test_pixels_come_from_the_burst_of_the_map_or_are_nan(scene, geocoded, tmp_path):
    """The grid straddles the overlap of bursts 3 and 4: with a burst map every pixel takes
    the map's burst, and where a date lacks it the pixel is NaN, never the other burst."""
    bursts = read_bursts(scene.safes[0])
    path = write_burst_map(bursts, scene.dem, scene.grid, tmp_path / "map.h5", reference="a")
    with h5py.File(path) as f:
        ids = np.array([i.decode() for i in f["burst_ids"][()]] + [""])
        chosen = ids[f["burst_index"][()]]
        assert Grid.from_attrs(f.attrs).almost_equal(scene.grid) and f.attrs["reference"] == "a"
    third, fourth = bursts[3].burst_id, bursts[4].burst_id
    assert {third, fourth} <= set(np.unique(chosen))

    def run(subset, grid=scene.grid, burst_map=path):
        out = tmp_path / "cslc.h5"
        geocode_acquisition(subset, scene.dem, grid, out, burst_map=burst_map)
        with h5py.File(out) as f:
            return f["data/VV"][()]

    # on the reference, the map is the date's own choice
    np.testing.assert_array_equal(run(bursts), geocoded[0])
    # a date without burst 3: its pixels NaN, although burst 4 holds many of them
    without = [b for b in bursts if b.burst_id != third]
    image = run(without)
    lost = chosen == third
    assert np.isnan(image[lost]).all()
    assert np.isfinite(run(without, burst_map=None)[lost]).mean() > 0.3
    np.testing.assert_array_equal(image[~lost], geocoded[0][~lost])
    with pytest.raises(ValueError, match="is not the CSLC grid"):
        run(bursts, scene.grid.window(slice(1, None), slice(None)))


def test_utm_cslc_grid_and_dem_heights(scene):
    from sar4tec.raster import read_onto_grid

    bounds = (-117.7, 34.3, -117.6, 34.4)
    grid = cslc_grid(bounds, (10.0, 5.0), "utm")
    assert grid.crs == "EPSG:32611" and grid.spacing == (-10.0, 5.0)
    lat, lon = grid.latlon()
    # the grid covers the bounds, within a pixel
    assert lat.min() < bounds[1] + 1e-4 and lat.max() > bounds[3] - 1e-4
    assert lon.min() < bounds[0] + 1e-4 and lon.max() > bounds[2] - 1e-4
    # the EPSG:4326 DEM onto the UTM grid: bilinear interpolation of a plane in (lat, lon)
    # is exact, so the heights are the plane at each pixel's geodetic position; GDAL's warper
    # (read_onto_grid) interpolates the CRS transform along rows (0.02 m measured here, i.e.
    # a 1 m shift on this 2 % slope), the geocoder's read_heights transforms every pixel
    height = read_onto_grid(scene.dem, grid)
    np.testing.assert_allclose(height, plane(lat, lon), atol=0.05)
    with rasterio.open(scene.dem) as dem:
        np.testing.assert_allclose(read_heights(dem, grid), plane(lat, lon), atol=1e-6)
    with pytest.raises(ValueError, match="does not cover"):
        read_onto_grid(scene.dem, cslc_grid((-117.5, 34.8, -117.3, 35.0), (30.0, 30.0), "utm"))
    # a spacing in the wrong units for the CRS
    with pytest.raises(ValueError, match="not in metres"):
        cslc_grid(bounds, (0.0001, 0.00005), "utm")
    with pytest.raises(ValueError, match="not in degrees"):
        cslc_grid(bounds, (10.0, 5.0))


def test_speckle_is_interpolated_within_the_kernel_error(scene):
    """Geocoded speckle against the exact band-limited field at the same radar positions."""
    image = geocode(scene, scene.safes[0], scene.speckle_grid, "speckle")
    burst = read_bursts(scene.safes[0])[5]
    lat, lon = scene.speckle_grid.meshgrid()
    geo = zero_doppler_geometry(burst.orbit, lat, lon, plane(lat, lon))
    line, sample = burst.radar_coordinates(
        geo.azimuth_time, geo.slant_range, burst.orbit.reference_epoch
    )
    hr, hc = SincKernel.for_bands(burst.annotation.bands).half
    pr, pc = scene.speckle.origin
    n, m = scene.speckle.spectrum.shape
    inside = (
        (line - pr >= hr)
        & (line - pr < n - hr - 1)
        & (sample - pc >= hc)
        & (sample - pc < m - hc - 1)
    )
    assert inside.sum() > 1000
    ramp = TopsRamp.from_burst(burst.annotation, burst.orbit)
    exact = evaluate_field(scene.speckle.spectrum, line[inside] - pr, sample[inside] - pc)
    exact *= np.exp(
        1j
        * (
            ramp.phase(line[inside], sample[inside])
            + 4 * np.pi * geo.slant_range[inside] / burst.annotation.wavelength
        )
    )
    got = image[inside]
    relative = np.sqrt(np.mean(np.abs(got - exact) ** 2) / np.mean(np.abs(exact) ** 2))
    coherence = np.abs(np.vdot(exact, got)) / np.sqrt(
        np.vdot(got, got).real * np.vdot(exact, exact).real
    )
    # IW2 bands (75 % of range, 64 % of azimuth sampling): the kernel's error is 0.3 %
    # (benchmarks/geocode.py); CInt16 rounding of speckle of rms 1500 adds 0.03 %
    assert relative < 0.006
    assert coherence > 0.99998


def test_interpolation_kernel_on_sentinel1_bands():
    """The kernel alone, on speckle with IW1's bands (the widest: 88 % of the range band)."""
    rng = np.random.default_rng(0)
    shape = (64, 256)
    spectrum = band_limited_field(rng, shape, ((327 / 486.486, 0.7), (56.5e6 / 64.345e6, 0.75)))
    data = np.fft.ifft2(spectrum)
    rows = rng.uniform(10, shape[0] - 10, 3000)
    cols = rng.uniform(10, shape[1] - 10, 3000)
    exact = evaluate_field(spectrum, rows, cols)
    got = interpolate(data, rows, cols)
    relative = np.sqrt(np.mean(np.abs(got - exact) ** 2) / np.mean(np.abs(exact) ** 2))
    # 1-D errors of this kernel on these bands: 0.9 % in range, 0.5 % in azimuth
    # (benchmarks/geocode.py); in 2-D they add in quadrature to ~1.1 %
    assert relative < 0.015
    # at integer positions every normalised kernel returns the samples themselves
    ints = interpolate(data, np.array([20.0]), np.array([30.0]))
    assert ints[0] == pytest.approx(data[20, 30], rel=1e-6)
    # outside the data the kernel gives NaN
    assert np.isnan(interpolate(data, np.array([1.0]), np.array([30.0]))[0])


def test_interpolation_kernel_on_point_targets():
    """A deramped point target is a real response times a phase: the real kernel returns it
    with no phase error, and an amplitude within KERNEL_GAIN_ERROR, at any fractional offset."""
    bands = {"azimuth": (313 / 486.486, 0.75), "range": (48.3 / 64.345, 0.75)}  # IW2
    kernel = SincKernel.for_bands((bands["azimuth"][0], bands["range"][0]))
    x = np.arange(-SUPPORT, SUPPORT + 1)
    gains = []
    for dr in np.linspace(0, 1, 11):
        for dc in np.linspace(0, 1, 11):
            data = np.outer(
                response(x - dr, *bands["azimuth"]), response(x - dc, *bands["range"])
            ) * np.exp(0.7j)
            gains.append(interpolate(data, SUPPORT + dr, SUPPORT + dc, kernel))
    gains = np.array(gains) * np.exp(-0.7j)
    assert np.abs(gains.imag).max() < 1e-6  # complex64 arithmetic
    assert np.abs(gains.real - 1).max() <= KERNEL_GAIN_ERROR


def test_pixels_outside_valid_samples_are_nan(scene):
    """Burst 1 starts at 33.876 N; its first 25 lines and first 58 samples are invalid."""
    grid = box(33.878, -117.897, (0.008, 0.008), (0.0002, 0.0001))
    image = geocode(scene, scene.safes[0], grid, "edge")
    burst = read_bursts(scene.safes[0])[0]
    a = burst.annotation
    lat, lon = grid.meshgrid()
    geo = zero_doppler_geometry(burst.orbit, lat, lon, plane(lat, lon))
    line, sample = burst.radar_coordinates(
        geo.azimuth_time, geo.slant_range, burst.orbit.reference_epoch
    )
    hr, hc = SincKernel.for_bands(a.bands).half
    usable = (np.floor(line) - hr + 1 >= a.valid_lines[0]) & (
        np.floor(sample) - hc + 1 >= a.first_valid_sample[a.valid_lines[0]]
    )
    assert 0.2 < usable.mean() < 0.8
    assert np.isnan(image[~usable]).all()
    assert np.isfinite(image[usable]).all()


def test_eof_orbit_replaces_the_annotation_orbit(real_data, tmp_path, caplog):
    safe = "sentinel1/safe/S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768.zip"
    annotation = read_bursts(real_data / safe)[0].annotation
    covering = read_eof(write_eof(tmp_path / "covering.EOF", annotation.orbit, (1.0, 0.0, 0.0)))
    elsewhere = read_eof(real_data / "sentinel1/orbits/S1_orbit_example.EOF")
    bursts = read_bursts(real_data / safe, orbits=[elsewhere, covering])
    assert all(b.orbit is covering for b in bursts)
    with caplog.at_level(logging.WARNING, logger="sar4tec"):
        assert choose_orbit([elsewhere], annotation) is annotation.orbit
    assert "no EOF orbit covers burst 071_151200_IW1" in caplog.text


def stage_manifest(scene, tmp_path: Path) -> Path:
    """A frame manifest listing the scene's two SAFE folders, their EOFs and DEM."""
    data = tmp_path / "data" / "T064A_test"
    data.mkdir(parents=True)
    safe, orbits = [], []
    for folder in scene.safes:
        link = data / "safe" / folder.name
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(folder)
        burst = read_bursts(folder)[3]
        start, stop = (burst.orbit.datetime_at(t) for t in burst.orbit.time[[0, -1]])
        name = f"S1A_OPER_AUX_POEORB_OPOD_X_V{start:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}.EOF"
        orbits.append(f"orbits/{name}")
        (data / "orbits").mkdir(exist_ok=True)
        write_eof(data / orbits[-1], burst.orbit)
        safe.append(
            {
                "path": f"safe/{folder.name}",
                "sensing_time": f"{burst.annotation.sensing_start:%Y-%m-%dT%H:%M:%S.%fZ}",
                "bursts": ["064_135521_IW2", "064_135522_IW2"],
            }
        )
    (data / "dem.tif").symlink_to(scene.dem)
    west, south, east, north = scene.grid.bounds
    write_manifest(
        data / "manifest.json",
        {
            "frame": "T064A_test",
            "source": "local",
            "track": 64,
            "orbit_direction": "ascending",
            "bounds": [west, south, east, north],
            "slc": [],
            "safe": safe[::-1],
            "orbits": orbits,
            "dem": "dem.tif",
            "era5": [],
            "ionex": [],
        },
    )
    return data / "manifest.json"


def run_stage(manifest: Path, cslc: Path, spacing, crs: str = "EPSG:4326") -> list[Path]:
    """plan → burst map → one CSLC per date, as the geocode rules run them."""
    dates = plan_geocoding(manifest, cslc / "plan.json")
    write_frame_burst_map(
        manifest, cslc / "plan.json", cslc / "burst_map.h5", spacing=spacing, crs=crs
    )
    for date in dates:
        geocode_date(
            manifest,
            cslc / "plan.json",
            date,
            cslc / f"{date}.h5",
            burst_map=cslc / "burst_map.h5",
            spacing=spacing,
            crs=crs,
        )
    return [cslc / f"{d}.h5" for d in dates]


def test_stage_from_safe_manifest_to_slc_stack(scene, tmp_path):
    """plan → one CSLC per date → manifest → the stack stage's own ingestion of it."""
    from sar4tec.stack.pipeline import build_stack

    data = stage_manifest(scene, tmp_path).parent
    cslc = tmp_path / "work" / "T064A_test" / "cslc"
    dates = plan_geocoding(data / "manifest.json", cslc / "plan.json")
    assert dates == ["20221016", "20221028"]
    files = run_stage(data / "manifest.json", cslc, (-scene.grid.spacing[0], scene.grid.spacing[1]))
    write_cslc_manifest(data / "manifest.json", files, cslc / "manifest.json")
    manifest = read_manifest(cslc / "manifest.json")
    assert [a.path.name for a in manifest.slc] == ["20221016.h5", "20221028.h5"]
    assert manifest.dem.resolve() == scene.dem.resolve() and len(manifest.orbits) == 2
    info = read_cslc_info(files[1])
    assert info.grid.almost_equal(scene.grid)
    assert (info.orbit_direction, info.track) == ("ascending", 64)
    assert info.sensing_start == read_bursts(scene.safes[1])[3].annotation.sensing_start
    orbit = read_cslc_orbit(files[1])  # the EOF's state vectors around the acquisition
    assert orbit.covers(info.sensing_start, info.sensing_stop) and orbit.time.size < 40

    stack = tmp_path / "work" / "T064A_test" / "stack"
    build_stack(
        cslc / "manifest.json",
        stack / "slc_stack.h5",
        stack / "geometry.h5",
        tmp_path / "geometry.h5",
    )
    with h5py.File(stack / "slc_stack.h5") as f:
        slc = f["slc"][()][:, scene.targets.rows, scene.targets.cols]
    displacement = phase_to_los(np.angle(slc[1] * np.conj(slc[0])), WAVELENGTH)
    bound = np.arcsin(scene.leak[0]) + np.arcsin(scene.leak[1]) + 2e-3
    assert (np.abs(displacement - scene.moved.toward) <= phase_to_los(bound, WAVELENGTH)).all()


def test_stage_on_a_utm_grid(scene, tmp_path):
    """cslc_crs utm: burst map and CSLCs in the frame's UTM zone, posted in metres."""
    manifest = stage_manifest(scene, tmp_path)
    cslc = tmp_path / "work" / "T064A_test" / "cslc"
    files = run_stage(manifest, cslc, (8.0, 3.0), "utm")
    with h5py.File(cslc / "burst_map.h5") as f:
        grid = Grid.from_attrs(f.attrs)
    assert grid.crs == "EPSG:32611" and grid.spacing == (-8.0, 3.0)
    for path in files:
        info = read_cslc_info(path)
        assert info.grid.almost_equal(grid)
        with h5py.File(path) as f:
            # the frame lies inside bursts 3-4 on both dates
            assert np.isfinite(f["data/VV"][()]).all()


def test_cslc_orbit_reader_on_a_real_opera_product(real_data):
    """The orbit group we write follows OPERA's: read the real product's (PROVENANCE.md)."""
    folder = real_data / "sentinel1/opera_cslc_metadata_only"
    orbit = read_cslc_orbit(next(folder.glob("OPERA_L2_CSLC-S1_T042-088905-IW1_*.h5")))
    assert (
        orbit.time.size == 12 and f"{orbit.reference_epoch}" == "2023-10-19 14:07:57.529716+00:00"
    )
    # Sentinel-1 flies ~700 km above the Earth at ~7.6 km/s (Earth-fixed)
    assert np.allclose(np.linalg.norm(orbit.position, axis=1), 7.07e6, rtol=0.01)
    assert np.allclose(np.linalg.norm(orbit.velocity, axis=1), 7.6e3, rtol=0.02)
