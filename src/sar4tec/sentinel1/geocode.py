"""Geocoded, coregistered SLCs by back-geocoding Sentinel-1 bursts (as OPERA/COMPASS do).

Every pixel of a common geocoded grid is located in each date's bursts with that date's orbit
and the DEM, so all dates land on the same grid without any image matching:

1. the pixel's height comes from the ellipsoidal DEM (bilinear);
2. its zero-Doppler azimuth time ``t`` and slant range ``R`` follow from the orbit
   (:func:`sar4tec.sentinel1.geometry.zero_doppler_solve`);
3. ``(t, R)`` become fractional burst coordinates ``(line, sample)``, with the bistatic azimuth
   delay of the IPF's time tagging (:meth:`sar4tec.sentinel1.burst.Burst.radar_coordinates`);
4. of the bursts whose valid samples hold the whole interpolation kernel, the pixel takes the
   one where it lies farthest (in metres) from the edges of the valid area, so burst and
   sub-swath overlaps are split down their middle.  In a stack this choice is made once, on a
   reference date (:func:`write_burst_map`), and every date takes each pixel from the burst
   with the chosen ESA burst ID: radar coordinates move with each date's orbit and timing, so
   a choice made per date would take some pixels near a split line from different bursts on
   different dates;
5. the burst is deramped (:class:`sar4tec.sentinel1.deramp.TopsRamp`), interpolated with a
   Kaiser-windowed sinc matched to its processed bandwidths
   (:mod:`sar4tec.sentinel1.interpolate`), reramped at the output position, and flattened:
   ``value · exp(+j ψ(line, sample)) · exp(+j 4π R / λ)``.

The SLC phase is ``−4πR/λ`` plus scattering (:mod:`sar4tec.constants`), so after flattening
only the scattering phase and what changed ``R`` since the DEM was made remain; a motion of
``d`` toward the satellite between two dates gives ``angle(sec · conj(ref)) = 4π d / λ``.
Pixels that no (chosen) burst covers, or whose kernel would touch invalid samples, are NaN.
The grid is processed in blocks; memory is bounded by the block and the burst windows under it.
Within a block the per-pixel work (DEM heights, zero-Doppler solution, burst margins, carrier,
interpolation) runs in numba kernels on numba's threads (a rule's ``threads``,
:func:`sar4tec.rulelog.set_threads`), split into chunks that do not depend on the thread
count, so neither does the result.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import h5py
import numba
import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid
from sar4tec.sentinel1.burst import Burst, BurstReader
from sar4tec.sentinel1.cslc import CslcMetadata, create_cslc
from sar4tec.sentinel1.deramp import TopsRamp, rotate
from sar4tec.sentinel1.geometry import zero_doppler_solve
from sar4tec.sentinel1.interpolate import DEFAULT_TAPS, SincKernel, interpolate
from sar4tec.sentinel1.orbit import Orbit
from sar4tec.stack.blocks import iter_blocks

log = logging.getLogger(__name__)

#: burst-choice value of pixels that no burst holds
NO_BURST = -1


@dataclass(frozen=True, eq=False)
class _Source:
    """A burst prepared for geocoding: its ramp, its open TIFF and its kernel support."""

    burst: Burst
    ramp: TopsRamp
    reader: BurstReader
    kernel: SincKernel
    lo: np.ndarray  # per kernel start line: first sample every kernel line holds valid
    hi: np.ndarray  # per kernel start line: last such sample
    valid_lines: tuple[int, int]

    @classmethod
    def prepare(cls, burst: Burst, reader: BurstReader, taps: tuple[int, int]) -> _Source:
        a = burst.annotation
        kernel = SincKernel.for_bands(a.bands, taps)
        valid = a.first_valid_sample >= 0
        first = np.where(valid, a.first_valid_sample, np.iinfo(np.int32).max).astype(np.int64)
        last = np.where(valid, a.last_valid_sample, -1).astype(np.int64)
        windows = np.lib.stride_tricks.sliding_window_view
        return cls(
            burst=burst,
            ramp=TopsRamp.from_burst(a, burst.orbit),
            reader=reader,
            kernel=kernel,
            lo=windows(first, kernel.taps[0]).max(axis=1),
            hi=windows(last, kernel.taps[0]).min(axis=1),
            valid_lines=a.valid_lines,
        )

    def overlaps(self, line: np.ndarray, sample: np.ndarray) -> bool:
        """Whether any of the coordinates falls inside the burst."""
        a = self.burst.annotation
        return bool(
            line.max() >= 0
            and line.min() < a.lines
            and sample.max() >= 0
            and sample.min() < a.samples
        )

    def margin(self, line: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """Distance (m) from the edges of the valid area; −inf where the kernel leaves it."""
        a = self.burst.annotation
        line, sample = np.broadcast_arrays(
            np.asarray(line, dtype=np.float64), np.asarray(sample, dtype=np.float64)
        )
        out = np.empty(line.shape)
        _margin(
            np.ascontiguousarray(line).reshape(-1),
            np.ascontiguousarray(sample).reshape(-1),
            self.lo,
            self.hi,
            self.kernel.half,
            self.kernel.taps[1],
            (float(self.valid_lines[0]), float(self.valid_lines[1])),
            (float(a.azimuth_pixel_spacing), float(a.range_pixel_spacing)),
            out.reshape(-1),
        )
        return out

    def values(self, line: np.ndarray, sample: np.ndarray, slant_range: np.ndarray) -> np.ndarray:
        """Deramped, interpolated, reramped and flattened values at burst coordinates."""
        hr, hc = self.kernel.half
        l0 = int(np.floor(line.min())) - hr + 1
        l1 = int(np.floor(line.max())) + hr + 1
        s0 = int(np.floor(sample.min())) - hc + 1
        s1 = int(np.floor(sample.max())) + hc + 1
        window = self.reader.read((l0, l1), (s0, s1))
        carrier = self.ramp.phase(np.arange(l0, l1)[:, None], np.arange(s0, s1)[None, :])
        window = rotate(window, carrier, -1.0)
        value = interpolate(window, line - l0, sample - s0, self.kernel)
        phase = (
            self.ramp.phase(line, sample)
            + (4.0 * np.pi / self.burst.annotation.wavelength) * slant_range
        )
        return rotate(value, phase, 1.0)


@numba.njit(cache=True, parallel=True)
def _margin(line, sample, lo, hi, half, range_taps, valid_lines, spacing, out):  # pragma: no cover
    """:meth:`_Source.margin` per target, into ``out``.

    The kernel's first column and last column must lie within ``lo[k] … hi[k]``, the samples
    that every line under a kernel starting at line ``k`` holds valid; else ``−inf``.
    """
    n = line.size
    chunk = 2048
    for c in numba.prange((n + chunk - 1) // chunk):
        for i in range(c * chunk, min((c + 1) * chunk, n)):
            out[i] = -np.inf
            row, col = line[i], sample[i]
            if not (np.isfinite(row) and np.isfinite(col)):
                continue
            k = math.floor(row) - (half[0] - 1)  # first line under the kernel
            if k < 0 or k >= lo.size:
                continue
            first_col = math.floor(col) - (half[1] - 1)
            if not (first_col >= lo[k] and first_col + range_taps - 1 <= hi[k]):
                continue
            azimuth = min(row - valid_lines[0], valid_lines[1] - row)
            rng = min(col - lo[k], hi[k] - col)
            out[i] = min(azimuth * spacing[0], rng * spacing[1])


def acquisition_orbit(bursts: Sequence[Burst]) -> Orbit:
    """One orbit for all bursts of a date: theirs if shared, else their state vectors merged."""
    orbits = list({id(b.orbit): b.orbit for b in bursts}.values())
    if len(orbits) == 1:
        return orbits[0]
    times, position, velocity = [], [], []
    for orbit in orbits:
        times += [orbit.datetime_at(t) for t in orbit.time]
        position.append(orbit.position)
        velocity.append(orbit.velocity)
    return Orbit.from_state_vectors(times, np.concatenate(position), np.concatenate(velocity))


def read_heights(
    dem, grid: Grid, *, latlon: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Bilinear heights of an open DEM (rasterio dataset, any CRS) at the grid's pixel centres.

    The pixel centres are transformed into the DEM's CRS when it differs from the grid's (a UTM
    grid over an EPSG:4326 DEM); ``latlon``, the grid's ``grid.latlon()`` when the caller has
    it, saves that transformation for a DEM in EPSG:4326.  The fractional DEM position of a
    pixel is computed from its absolute coordinates, so a pixel gets the same height whatever
    block it is read in.  NaN outside the DEM or at no-data.
    """
    from rasterio.windows import Window

    y, x = grid.meshgrid()
    if latlon is not None and dem.crs.to_string() == "EPSG:4326":
        y, x = latlon
    elif dem.crs.to_string() != grid.crs:
        from pyproj import Transformer

        x, y = Transformer.from_crs(grid.crs, dem.crs.to_string(), always_xy=True).transform(x, y)
    x0, dx, _, y0, _, dy = dem.transform.to_gdal()
    cols = (np.asarray(x) - x0) / dx - 0.5
    rows = (np.asarray(y) - y0) / dy - 0.5
    r0 = max(int(np.floor(rows.min())), 0)
    c0 = max(int(np.floor(cols.min())), 0)
    r1 = min(int(np.floor(rows.max())) + 2, dem.height)
    c1 = min(int(np.floor(cols.max())) + 2, dem.width)
    out = np.full(grid.shape, np.nan)
    if r1 <= r0 or c1 <= c0:
        return out
    values = dem.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(np.float64)
    if dem.nodata is not None:
        values[values == dem.nodata] = np.nan
    _bilinear(
        values,
        np.ascontiguousarray(rows - r0, dtype=np.float64),
        np.ascontiguousarray(cols - c0, dtype=np.float64),
        out,
    )
    return out


@numba.njit(cache=True, parallel=True)
def _bilinear(values, rows, cols, out):  # pragma: no cover - numba
    """Bilinear ``values`` at fractional ``(rows, cols)`` (2-D arrays) into ``out``.

    Points outside ``values`` are left as they are.  The four posts always enter, so a NaN post
    makes NaN (as ``scipy.ndimage.map_coordinates(order=1)``); a post beyond the last row or
    column is the last one (``mode="nearest"``), weighted by 0.
    """
    nr, nc = values.shape
    for i in numba.prange(rows.shape[0]):
        for j in range(rows.shape[1]):
            r, c = rows[i, j], cols[i, j]
            if not (0.0 <= r <= nr - 1 and 0.0 <= c <= nc - 1):
                continue
            i0, j0 = int(math.floor(r)), int(math.floor(c))
            i1, j1 = min(i0 + 1, nr - 1), min(j0 + 1, nc - 1)
            fr, fc = r - i0, c - j0
            top = (1.0 - fc) * values[i0, j0] + fc * values[i0, j1]
            bottom = (1.0 - fc) * values[i1, j0] + fc * values[i1, j1]
            out[i, j] = (1.0 - fr) * top + fr * bottom


def _zero_doppler(
    orbit: Orbit, grid: Grid, heights: np.ndarray, latlon=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mask of pixels with a height, and their zero-Doppler azimuth time and slant range."""
    known = np.isfinite(heights)
    if not known.any():
        return known, np.empty(0), np.empty(0)
    lat, lon = grid.latlon() if latlon is None else latlon
    azimuth_time, slant_range = zero_doppler_solve(orbit, lat, lon, heights)
    return known, azimuth_time[known], slant_range[known]


def _farthest_from_edges(
    sources: Sequence[_Source],
    epoch,
    azimuth_time: np.ndarray,
    slant_range: np.ndarray,
    bistatic: bool,
) -> np.ndarray:
    """Index of the source whose valid area the targets lie deepest in (−1: none holds them)."""
    best = np.full(slant_range.size, NO_BURST, dtype=np.int16)
    deepest = np.full(slant_range.size, -np.inf)
    for k, source in enumerate(sources):
        line, sample = source.burst.radar_coordinates(
            azimuth_time, slant_range, epoch, bistatic=bistatic
        )
        if not source.overlaps(line, sample):
            continue
        margin = source.margin(line, sample)
        deeper = margin > deepest  # strict: ties keep the first source
        best[deeper] = k
        deepest[deeper] = margin[deeper]
    return best


def choose_bursts(
    sources: Sequence[_Source],
    orbit: Orbit,
    grid: Grid,
    heights: np.ndarray,
    *,
    bistatic: bool = True,
    latlon: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The mosaicking rule on one block: per pixel, an index into ``sources``.

    The chosen burst holds the whole kernel on valid samples, and the pixel lies farthest (in
    metres) from the edges of its valid area; :data:`NO_BURST` where no burst holds the pixel
    or its height is unknown.  ``latlon``: the block's ``grid.latlon()`` if already computed.
    """
    out = np.full(grid.shape, NO_BURST, dtype=np.int16)
    known, azimuth_time, slant_range = _zero_doppler(orbit, grid, heights, latlon)
    if known.any():
        out[known] = _farthest_from_edges(
            sources, orbit.reference_epoch, azimuth_time, slant_range, bistatic
        )
    return out


def geocode_block(
    sources: Sequence[_Source],
    orbit: Orbit,
    grid: Grid,
    heights: np.ndarray,
    *,
    bistatic: bool = True,
    choice: np.ndarray | None = None,
    latlon: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Complex values of one block of the output grid.

    ``choice`` (block shape) gives per pixel the index into ``sources`` of the burst to take
    (:data:`NO_BURST`: none), e.g. from the frame's burst map; pixels whose chosen burst does
    not hold the whole kernel on valid samples stay NaN, no other burst replaces it.  Without
    ``choice`` the block's own geometry chooses (:func:`choose_bursts`).  ``latlon``: the
    block's ``grid.latlon()`` if already computed (a UTM grid's costs a transformation).
    """
    out = np.full(grid.shape, np.nan + 0j, dtype=np.complex64)
    known, azimuth_time, slant_range = _zero_doppler(orbit, grid, heights, latlon)
    if not known.any():
        return out
    epoch = orbit.reference_epoch
    if choice is None:
        pick = _farthest_from_edges(sources, epoch, azimuth_time, slant_range, bistatic)
    else:
        pick = np.asarray(choice)[known]
    values = np.full(slant_range.size, np.nan + 0j, dtype=np.complex64)
    for k in np.unique(pick[pick != NO_BURST]):
        source = sources[k]
        (index,) = np.nonzero(pick == k)
        line, sample = source.burst.radar_coordinates(
            azimuth_time[index], slant_range[index], epoch, bistatic=bistatic
        )
        valid = np.isfinite(source.margin(line, sample))
        if valid.any():
            values[index[valid]] = source.values(
                line[valid], sample[valid], slant_range[index[valid]]
            )
    out[known] = values
    return out


def _open_dem(stack: ExitStack, dem_path: str | Path):
    """The DEM, opened in ``stack``; it must carry a CRS."""
    import rasterio

    dem = stack.enter_context(rasterio.open(dem_path))
    if dem.crs is None:
        raise ValueError(f"{dem_path}: the DEM has no CRS")
    return dem


def write_burst_map(
    bursts: Sequence[Burst],
    dem_path: str | Path,
    grid: Grid,
    output: str | Path,
    *,
    block_size: int = 256,
    taps: tuple[int, int] = DEFAULT_TAPS,
    bistatic: bool = True,
    reference: str = "",
) -> Path:
    """Choose once, for the whole frame, the burst every pixel is taken from.

    The mosaicking rule (:func:`choose_bursts`: farthest from the valid edges) is applied to
    the bursts of one reference acquisition; every date then reads the choice
    (:func:`geocode_acquisition` ``burst_map=``), so a pixel comes from the burst with the same
    ESA burst ID on every date, whatever each date's orbit and timing.

    The file holds ``/burst_index`` (int16, grid shape, chunked by ``block_size``):
    per pixel the index into ``/burst_ids`` (the reference's ESA burst IDs, ``TTT_BBBBBB_IWs``),
    :data:`NO_BURST` where no burst holds the pixel; the grid in the root attributes
    (:meth:`sar4tec.grid.Grid.to_attrs`) and ``reference`` (e.g. the reference date).

    Raises
    ------
    ValueError
        If no pixel of the grid falls in any burst.
    """
    if not bursts:
        raise ValueError(f"{output}: no burst to choose from")
    orbit = acquisition_orbit(bursts)
    ids = [b.burst_id for b in bursts]
    chunks = (min(block_size, grid.rows), min(block_size, grid.cols))
    covered = 0
    with ExitStack() as stack:
        dem = _open_dem(stack, dem_path)
        sources = [_Source.prepare(b, None, taps) for b in bursts]
        with atomic_output(output) as tmp, h5py.File(tmp, "w") as h5:
            h5.attrs.update(grid.to_attrs())
            h5.attrs["reference"] = reference
            h5.attrs["rule"] = "farthest from the edges of the valid samples (m), per pixel"
            h5["burst_ids"] = np.array(ids, dtype=h5py.string_dtype())
            index = h5.create_dataset(
                "burst_index",
                grid.shape,
                dtype=np.int16,
                chunks=chunks,
                compression="gzip",
                fillvalue=NO_BURST,
            )
            for block in iter_blocks(grid.shape, (block_size, block_size)):
                sub = grid.window(*block.core)
                latlon = sub.latlon()
                choice = choose_bursts(
                    sources,
                    orbit,
                    sub,
                    read_heights(dem, sub, latlon=latlon),
                    bistatic=bistatic,
                    latlon=latlon,
                )
                index[block.core] = choice
                covered += int((choice != NO_BURST).sum())
            if covered == 0:
                raise ValueError(
                    f"{output}: no pixel of the grid {grid.bounds} lies in the bursts {ids}"
                )
    log.info(
        "%s: %.1f %% of %s pixels in %d bursts of %s",
        Path(output).name,
        100.0 * covered / (grid.rows * grid.cols),
        grid.shape,
        len(ids),
        reference,
    )
    return Path(output)


class _BurstMap:
    """A burst map read block by block, as indices into one date's bursts."""

    def __init__(self, h5: h5py.File, grid: Grid, bursts: Sequence[Burst]) -> None:
        path = h5.filename
        for key in ("burst_index", "burst_ids"):
            if key not in h5:
                raise ValueError(f"{path}: no dataset /{key} (not a burst map)")
        if not Grid.from_attrs(h5.attrs).almost_equal(grid):
            raise ValueError(
                f"{path}: burst map grid {Grid.from_attrs(h5.attrs)} is not the CSLC grid {grid}"
            )
        here: dict[str, int] = {}
        for k, burst in enumerate(bursts):
            if burst.burst_id in here:
                log.warning("%s: burst %s given twice, the first is used", path, burst.burst_id)
            here.setdefault(burst.burst_id, k)
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in h5["burst_ids"][()]]
        missing = sorted(set(ids) - set(here))
        if missing:
            log.warning("%s: bursts %s absent on this date, their pixels are NaN", path, missing)
        # last entry: NO_BURST (−1) indexes it and stays NO_BURST
        self.lookup = np.array([here.get(i, NO_BURST) for i in ids] + [NO_BURST], np.int16)
        self.index = h5["burst_index"]

    def block(self, core: tuple[slice, slice]) -> np.ndarray:
        return self.lookup[self.index[core]]


def geocode_acquisition(
    bursts: Sequence[Burst],
    dem_path: str | Path,
    grid: Grid,
    output: str | Path,
    *,
    burst_map: str | Path | None = None,
    polarization: str = "VV",
    block_size: int = 256,
    taps: tuple[int, int] = DEFAULT_TAPS,
    bistatic: bool = True,
    orbit_type: str | None = None,
) -> CslcMetadata:
    """Geocode the bursts of one acquisition onto ``grid`` and write a CSLC file.

    Parameters
    ----------
    bursts
        The acquisition's bursts (:func:`sar4tec.sentinel1.burst.read_bursts`), any sub-swaths.
    dem_path
        GeoTIFF of ellipsoidal heights covering the grid (any CRS, e.g. EPSG:4326 under a
        UTM grid).
    grid
        Output grid (EPSG:4326 or a projected CRS such as UTM).
    output
        CSLC file to write (OPERA layout, :func:`sar4tec.sentinel1.cslc.create_cslc`).
    burst_map
        The frame's burst map (:func:`write_burst_map`) on ``grid``: each pixel is taken from
        the burst with the map's burst ID, NaN where this acquisition lacks that burst or the
        kernel leaves its valid samples.  Every date of a stack must use the same map; without
        one the acquisition's own geometry chooses, which differs between dates in sub-swath
        overlaps (single acquisitions only).
    polarization
        Name of the pixel layer.
    block_size
        Rows and columns of the output blocks processed at once.
    taps
        Interpolation kernel length (azimuth, range); ``β`` follows each burst's bandwidths.
    bistatic
        Apply the bistatic azimuth delay (needs the IW2 annotation).
    orbit_type
        Recorded in the metadata (``POEORB``, ``RESORB``); default ``annotation`` when the
        bursts use their annotation's state vectors, else ``EOF``.

    Returns
    -------
    CslcMetadata
        What was written to the file's metadata.

    Raises
    ------
    ValueError
        If no pixel of the grid falls in any burst, the DEM has no CRS, or the burst map is
        not one or not on ``grid``.
    """
    if not bursts:
        raise ValueError(f"{output}: no burst to geocode")
    orbit = acquisition_orbit(bursts)
    first = min(bursts, key=lambda b: b.annotation.sensing_start)
    meta = CslcMetadata(
        sensing_start=min(b.annotation.sensing_start for b in bursts),
        sensing_stop=max(b.annotation.sensing_stop for b in bursts),
        direction=first.direction,
        track=first.track,
        mission=first.mission,
        absolute_orbit=first.absolute_orbit,
        orbit=_crop(orbit, bursts),
        orbit_type=orbit_type or ("annotation" if orbit is first.annotation.orbit else "EOF"),
        wavelength=first.annotation.wavelength,
        burst_ids=tuple(sorted({b.burst_id for b in bursts})),
        processing={
            "products": ", ".join(sorted({b.product for b in bursts})),
            "interpolation": f"Kaiser-windowed sinc, taps {tuple(taps)} (azimuth, range)",
            "deramping": "TOPS azimuth carrier (Miranda 2017) removed and restored",
            "bistatic_delay_correction": str(bistatic),
            "flattening": "exp(+j 4 pi R / wavelength), R from orbit and DEM",
            "burst_choice": (
                f"burst map {Path(burst_map).name}" if burst_map else "this acquisition's geometry"
            ),
        },
    )
    covered = 0
    with ExitStack() as stack:
        dem = _open_dem(stack, dem_path)
        sources = [_Source.prepare(b, stack.enter_context(b.open()), taps) for b in bursts]
        chosen = None
        if burst_map is not None:
            chosen = _BurstMap(stack.enter_context(h5py.File(burst_map, "r")), grid, bursts)
        with atomic_output(output) as tmp, h5py.File(tmp, "w") as h5:
            pixels = create_cslc(h5, grid, meta, polarization)
            for block in iter_blocks(grid.shape, (block_size, block_size)):
                sub = grid.window(*block.core)
                latlon = sub.latlon()
                values = geocode_block(
                    sources,
                    orbit,
                    sub,
                    read_heights(dem, sub, latlon=latlon),
                    bistatic=bistatic,
                    choice=None if chosen is None else chosen.block(block.core),
                    latlon=latlon,
                )
                pixels[block.core] = values
                covered += int(np.isfinite(values).sum())
            if covered == 0:
                raise ValueError(
                    f"{output}: no pixel of the grid {grid.bounds} lies in the bursts "
                    f"{', '.join(meta.burst_ids)}"
                )
            h5["data"].attrs["valid_fraction"] = covered / (grid.rows * grid.cols)
    log.info(
        "%s: %d bursts geocoded, %.1f %% of %s pixels covered",
        Path(output).name,
        len(bursts),
        100.0 * covered / (grid.rows * grid.cols),
        grid.shape,
    )
    return meta


def _crop(orbit: Orbit, bursts: Sequence[Burst]) -> Orbit:
    """The state vectors within two minutes of the bursts, plus one on each side."""
    margin = timedelta(seconds=120)
    start = orbit.seconds_since_epoch(min(b.annotation.sensing_start for b in bursts) - margin)
    stop = orbit.seconds_since_epoch(max(b.annotation.sensing_stop for b in bursts) + margin)
    lo = max(int(np.searchsorted(orbit.time, start)) - 1, 0)
    hi = min(int(np.searchsorted(orbit.time, stop, side="right")) + 1, orbit.time.size)
    return Orbit(
        orbit.reference_epoch, orbit.time[lo:hi], orbit.position[lo:hi], orbit.velocity[lo:hi]
    )
