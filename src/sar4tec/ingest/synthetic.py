"""A synthetic ISCE2 topsStack folder in the real on-disk layout, from a known field.

Used by the tests and the benchmark of :mod:`sar4tec.ingest.isce2`: raw little-endian rasters
with a GDAL VRT (``VRTRawRasterBand``) and an ISCE image XML each, burst XMLs with the sensing
times, and a radar grid whose geolocation is an affine map of (line, sample) so the nearest
radar sample of any ground point is known in closed form (:meth:`TopsStackTruth.nearest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

_GDAL_TYPES = {
    np.complex64: ("CFloat32", "CFLOAT"),
    np.float32: ("Float32", "FLOAT"),
    np.float64: ("Float64", "DOUBLE"),
    np.uint8: ("Byte", "BYTE"),
}


def write_isce_raster(path: Path, bands: list[np.ndarray]) -> None:
    """Write ``bands`` (same shape and dtype) as a raw BIL file + ``.vrt`` + ``.xml`` (ISCE)."""
    dtype = bands[0].dtype.type
    gdal_type, isce_type = _GDAL_TYPES[dtype]
    rows, cols = bands[0].shape
    size = np.dtype(dtype).itemsize
    np.stack(bands, axis=1).astype(np.dtype(dtype).newbyteorder("<")).tofile(path)
    band_xml = "".join(
        f'  <VRTRasterBand dataType="{gdal_type}" band="{b + 1}" subClass="VRTRawRasterBand">\n'
        f'    <SourceFilename relativeToVRT="1">{path.name}</SourceFilename>\n'
        f"    <ByteOrder>LSB</ByteOrder>\n"
        f"    <ImageOffset>{b * cols * size}</ImageOffset>\n"
        f"    <PixelOffset>{size}</PixelOffset>\n"
        f"    <LineOffset>{len(bands) * cols * size}</LineOffset>\n"
        f"  </VRTRasterBand>\n"
        for b in range(len(bands))
    )
    Path(f"{path}.vrt").write_text(
        f'<VRTDataset rasterXSize="{cols}" rasterYSize="{rows}">\n{band_xml}</VRTDataset>\n'
    )
    props = {
        "width": cols,
        "length": rows,
        "number_bands": len(bands),
        "data_type": isce_type,
        "scheme": "BIL",
        "byte_order": "l",
        "file_name": path.name,
        "access_mode": "READ",
    }
    body = "".join(
        f'    <property name="{k}">\n        <value>{v}</value>\n    </property>\n'
        for k, v in props.items()
    )
    Path(f"{path}.xml").write_text(f"<imageFile>\n{body}</imageFile>\n")


def _burst_xml(path: Path, start: datetime, stop: datetime, track: int) -> None:
    """An ISCE2 swath-product XML of one S1A ascending burst (the properties ingest reads)."""
    from sar4tec.simulate.orbit import absolute_orbit

    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "%Y-%m-%d %H:%M:%S.%f"

    def prop(name, value, indent):
        pad = " " * indent
        return f'{pad}<property name="{name}">\n{pad}  <value>{value}</value>\n{pad}</property>\n'

    burst = {
        "sensingstart": start.strftime(fmt),
        "sensingstop": stop.strftime(fmt),
        "passdirection": "ASCENDING",
        "orbitnumber": absolute_orbit("S1A", track, start),
        "tracknumber": track,
    }
    path.write_text(
        '<component name="instance">\n'
        + prop("mission", "S1A", 2)
        + '  <component name="bursts">\n    <component name="burst1">\n'
        + "".join(prop(k, v, 6) for k, v in burst.items())
        + "    </component>\n  </component>\n</component>\n"
    )


@dataclass(frozen=True)
class TopsStackTruth:
    """The known field of a synthetic topsStack.

    ``lat = lat0 + A[0] @ (line, sample)``, ``lon = lon0 + A[1] @ (line, sample)``; each date's
    SLC is ``amplitude * exp(j (carrier + 4 pi / lambda * displacement_k))`` at every radar
    sample, with ``carrier`` a TOPS-like azimuth chirp common to every date.
    """

    lat0: float
    lon0: float
    matrix: np.ndarray  # (2, 2): rows (lat, lon) per (line, sample)
    shape: tuple[int, int]
    dates: list[str]
    slcs: np.ndarray  # (N, lines, samples) complex64
    displacement_rate: float  # LOS m per day at the scene centre, times the pattern
    incidence: float
    heading: float

    def nearest(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest radar (line, sample) on the ground in closed form, -1 outside the grid.

        Distances are measured in local metres (east scaled by cos(lat)), as the ingester does.
        """
        scale = np.array([1.0, np.cos(np.radians(self.lat0))])[:, None]
        metric = scale * self.matrix  # metres-proportional axes per (line, sample)
        d = np.stack([np.asarray(lat) - self.lat0, (np.asarray(lon) - self.lon0)], axis=-1)
        frac = np.linalg.solve(self.matrix, d[..., None])[..., 0]
        base = np.floor(frac).astype(np.int64)
        best = np.full(base.shape[:-1], np.inf)
        line = np.full(best.shape, -1, np.int64)
        sample = np.full(best.shape, -1, np.int64)
        for dl in (0, 1):  # the nearest lattice point is a corner of the containing cell
            for ds in (0, 1):
                cand = base + np.array([dl, ds])
                diff = (cand - frac) @ metric.T
                dist = np.hypot(diff[..., 0], diff[..., 1])
                better = dist < best
                best[better] = dist[better]
                line[better], sample[better] = cand[better, 0], cand[better, 1]
        outside = (line < 0) | (line >= self.shape[0]) | (sample < 0) | (sample >= self.shape[1])
        line[outside] = -1
        sample[outside] = -1
        return line, sample


def write_topsstack(
    folder: str | Path,
    *,
    shape: tuple[int, int] = (60, 80),
    n_dates: int = 5,
    first: datetime = datetime(2020, 1, 3, 15, 55, 21),
    spacing_m: tuple[float, float] = (28.0, 16.0),
    lat0: float = 40.70,
    lon0: float = 30.20,
    seed: int = 0,
    track: int = 87,
) -> TopsStackTruth:
    """Write ``folder/merged/...``, ``folder/reference``, ``folder/secondarys`` (12-day repeat).

    The burst XMLs name S1A, the ascending pass and an absolute orbit of relative orbit
    ``track``.

    The radar grid of an ascending pass (heading -12 deg, right looking): lines run along the
    flight direction, samples away from the track; ``spacing_m`` is the ground spacing (azimuth,
    range).  Displacement toward the satellite grows by 1 mm per date at the scene centre with a
    Gaussian pattern; amplitude is speckle-like; the carrier is a chirp along lines that spans
    several cycles per line.
    """
    from sar4tec.constants import SENTINEL1_WAVELENGTH

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    lines, samples = shape
    heading = np.radians(-12.0)
    m_per_deg = 6371000.0 * np.pi / 180.0
    along = np.array([np.cos(heading), np.sin(heading)])  # (north, east) per metre
    across = np.array([-np.sin(heading), np.cos(heading)])  # right of the track
    cos_lat = np.cos(np.radians(lat0))
    to_deg = np.array([1.0 / m_per_deg, 1.0 / (m_per_deg * cos_lat)])
    matrix = np.column_stack([along * spacing_m[0] * to_deg, across * spacing_m[1] * to_deg])
    line, sample = np.meshgrid(np.arange(lines), np.arange(samples), indexing="ij")
    lat = lat0 + matrix[0, 0] * line + matrix[0, 1] * sample
    lon = lon0 + matrix[1, 0] * line + matrix[1, 1] * sample
    amplitude = rng.rayleigh(1.0, shape) + 0.1
    carrier = 2.5 * np.pi * ((line % 20) - 10.0) ** 2 / 10.0  # steep, burst-periodic ramp
    pattern = np.exp(
        -(((line - lines / 2) / (lines / 4)) ** 2 + ((sample - samples / 2) / (samples / 4)) ** 2)
    )
    rate = 1e-3
    dates, slcs = [], []
    inc, az = 39.0, 90.0 - np.degrees(heading)  # ISCE los.rdr: azimuth of ground → satellite
    for k in range(n_dates):
        start = first + timedelta(days=12 * k)
        date = start.strftime("%Y%m%d")
        dates.append(date)
        phase = carrier + 4 * np.pi / SENTINEL1_WAVELENGTH * rate * k * pattern
        slc = (amplitude * np.exp(1j * phase)).astype(np.complex64)
        slcs.append(slc)
        out = folder / "merged" / "SLC" / date
        out.mkdir(parents=True, exist_ok=True)
        write_isce_raster(out / f"{date}.slc.full", [slc])
        xml = (
            (folder / "reference" / "IW1.xml")
            if k == 0
            else (folder / "secondarys" / date / "IW1.xml")
        )
        _burst_xml(xml, start, start + timedelta(seconds=2.758), track)
    geom = folder / "merged" / "geom_reference"
    geom.mkdir(parents=True, exist_ok=True)
    write_isce_raster(geom / "lat.rdr.full", [lat.astype(np.float64)])
    write_isce_raster(geom / "lon.rdr.full", [lon.astype(np.float64)])
    write_isce_raster(geom / "hgt.rdr.full", [(100.0 + 2.0 * sample).astype(np.float64)])
    write_isce_raster(
        geom / "los.rdr.full",
        [np.full(shape, inc, np.float32), np.full(shape, az, np.float32)],
    )
    shadow = np.zeros(shape, np.uint8)
    shadow[:, :3] = 1
    write_isce_raster(geom / "shadowMask.rdr.full", [shadow])
    return TopsStackTruth(
        lat0, lon0, matrix, shape, dates, np.array(slcs), rate, inc, float(np.degrees(heading))
    )


def _write_eofs(
    folder: Path,
    times: list[datetime],
    bounds: tuple[float, float, float, float],
    track: int,
    direction: str,
    height: float,
) -> list[Path]:
    """One S1A EOF per time (10 min of state vectors), paths returned.

    The orbit sees the bounds' centre at zero Doppler at that time with 39 deg incidence
    (:func:`sar4tec.simulate.orbit.design_orbit`).
    """
    from sar4tec.simulate import orbit as sim_orbit

    folder.mkdir(parents=True, exist_ok=True)
    west, south, east, north = bounds
    lat_c, lon_c = (south + north) / 2, (west + east) / 2
    paths = []
    for when in times:
        o = sim_orbit.design_orbit(when, lat_c, lon_c, height, 39.0, direction)
        sv_times = sim_orbit.state_vector_times(when, 600.0)
        position, velocity = o.state([(t - when).total_seconds() for t in sv_times])
        created = when + timedelta(days=20)
        name = sim_orbit.eof_name("S1A", sv_times[0], sv_times[-1], created)
        absolute = sim_orbit.absolute_orbit("S1A", track, when)
        sim_orbit.write_eof(folder / name, "S1A", sv_times, position, velocity, absolute, created)
        paths.append(folder / name)
    return paths


def _write_raster(path: Path, grid, values: np.ndarray) -> None:
    import rasterio

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(
        driver="GTiff",
        height=grid.rows,
        width=grid.cols,
        count=1,
        dtype="float32",
        crs=grid.crs,
        transform=grid.rasterio_transform(),
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32), 1)


def write_frame_inputs(
    folder: str | Path,
    times: list[datetime],
    bounds: tuple[float, float, float, float],
    *,
    frame: str = "ingested",
    track: int = 87,
    direction: str = "ascending",
    height: float = 100.0,
) -> Path:
    """An acquire-stage manifest for an ingested frame: EOF orbits, a flat DEM, the bounds.

    The EOFs are those of :func:`write_acquire_cache`; the DEM is a constant ellipsoidal
    ``height`` over the bounds plus a margin.
    """
    from sar4tec.grid import Grid
    from sar4tec.manifest import write_manifest

    folder = Path(folder)
    eofs = _write_eofs(folder / "orbits", times, bounds, track, direction, height)
    west, south, east, north = bounds
    dem = Grid.from_bounds(west - 0.02, south - 0.02, east + 0.02, north + 0.02, 0.002)
    _write_raster(folder / "dem.tif", dem, np.full(dem.shape, height))
    return write_manifest(
        folder / "manifest.json",
        {
            "frame": frame,
            "source": "local",
            "track": track,
            "orbit_direction": direction,
            "bounds": list(bounds),
            "slc": [],
            "orbits": [f"orbits/{p.name}" for p in eofs],
            "dem": "dem.tif",
            "era5": [],
            "ionex": [],
        },
    )


def write_acquire_cache(
    cache: str | Path,
    times: list[datetime],
    bounds: tuple[float, float, float, float],
    *,
    track: int = 87,
    direction: str = "ascending",
    height: float = 100.0,
    undulation: float = 30.0,
    margin: float = 0.1,
) -> None:
    """A shared cache from which the acquire stage runs offline for a frame over ``bounds``.

    ``cache/orbits``: the EOFs of ``times`` (S1A, see :func:`_write_eofs`);
    ``cache/dem/glo30``: GLO-30-named tiles on the 1-arc-second lattice, cut to the bounds plus
    ``margin`` degrees, of geoid height ``height - undulation``;
    ``cache/dem/geoid/egm08_25.tif``: a constant ``undulation``; so the acquired DEM is the
    ellipsoidal ``height`` everywhere.
    """
    from sar4tec.acquire.dem import GEOID_URL, SPACING, glo30_tile_names, snap_bounds
    from sar4tec.grid import Grid

    cache = Path(cache)
    _write_eofs(cache / "orbits", times, bounds, track, direction, height)
    west, south, east, north = bounds
    area = (west - margin, south - margin, east + margin, north + margin)
    for name in glo30_tile_names(area):
        ns, ew = name.split("_")[4:7:2]  # Copernicus_DSM_COG_10_N40_00_E030_00_DEM
        lat = int(ns[1:]) * (1 if ns[0] == "N" else -1)
        lon = int(ew[1:]) * (1 if ew[0] == "E" else -1)
        cut = snap_bounds(
            (max(area[0], lon), max(area[1], lat), min(area[2], lon + 1), min(area[3], lat + 1))
        )
        tile = Grid.from_bounds(*cut, SPACING)
        _write_raster(
            cache / "dem" / "glo30" / f"{name}.tif", tile, np.full(tile.shape, height - undulation)
        )
    geoid = Grid.from_bounds(*area, 0.05)
    _write_raster(
        cache / "dem" / "geoid" / Path(GEOID_URL).name, geoid, np.full(geoid.shape, undulation)
    )
