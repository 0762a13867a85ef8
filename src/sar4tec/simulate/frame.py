"""Build a whole synthetic frame: inputs in real formats, ``truth.h5`` and ``manifest.json``.

Steps (each a function below):

1. :func:`build_scene`: grids, relief and land cover (``dem.tif``, ``water_mask.tif``), one EOF
   orbit file per date, the viewing geometry (the stack stage's zero-Doppler solution on the
   first date's orbit) and the deformation velocity fields;
2. :func:`write_signals`, per date: weather (ERA5 file), ionosphere (IONEX file of the day),
   tides, orbit ramp, turbulence and deformation on the SLC grid; their sum, the apparent LOS
   displacement, goes to a scratch array on disk, the components at the output pixels to
   ``truth.h5``;
3. :func:`write_slcs`, per block of rows: speckle of every land-cover patch (Cholesky factor of
   its coherence matrix times circular Gaussian samples), persistent scatterers and backscatter,
   times ``exp(i 4π d/λ)``, written into every date's CSLC file;
4. :func:`write_gnss` and the static part of the truth; the manifest last.

Memory stays bounded by a few images per date plus one block of the stack. Every random draw
has its own named stream of the top-level ``seed`` (realisation) or of ``scene_seed``
(landscape), so the same configuration gives bit-identical files. Per-date draws have a stream
per date index (weather, turbulence, ramp, speckle of each block) and the orbit tube is drawn
date after date, so extending ``acquisitions.end`` appends dates and leaves every file of the
earlier dates bit-identical (``docs/incremental.md``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sar4tec.constants import SENTINEL1_WAVELENGTH, los_to_phase
from sar4tec.files import atomic_output, format_time
from sar4tec.grid import Grid
from sar4tec.manifest import write_manifest
from sar4tec.sentinel1.cslc import CslcMetadata, create_cslc
from sar4tec.simulate import era5, gnss, ionex, orbit, scattering, troposphere, truth
from sar4tec.simulate.deformation import Deformation, plate_velocity_enu, scene_deformation
from sar4tec.simulate.fields import power_law_field, rng
from sar4tec.simulate.grids import frame_grid, nearest_pixel_latlon, pixel_size
from sar4tec.simulate.ionosphere import TecModel, range_change
from sar4tec.simulate.terrain import CLASSES, Terrain, build_terrain, crop_to
from sar4tec.simulate.tides import solid_earth_tide_enu
from sar4tec.simulate.timeline import acquisition_times, day_of_year

log = logging.getLogger("sar4tec.simulate")

BLOCK_ROWS = 64
GNSS_FILE = "gnss/midas.IGS14.txt"
Report = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """What the simulation reads outside its own config section."""

    seed: int
    scene_seed: int
    strides: tuple[int, int]
    output_frame: str
    plate: str
    plate_model: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Read seeds, ``phase_linking.strides`` and ``reference.*`` (with their defaults)."""
        reference = config.get("reference", {})
        strides = config.get("phase_linking", {}).get("strides", (1, 1))
        return cls(
            seed=int(config.get("seed", 0)),
            scene_seed=int(config["simulation"]["scene_seed"]),
            strides=(int(strides[0]), int(strides[1])),
            output_frame=reference.get("output_frame", "plate"),
            plate=reference.get("plate", "EURA"),
            plate_model=reference.get("plate_model", "ITRF2014"),
        )

    @property
    def plate_frame(self) -> str:
        """Name of the plate-fixed frame, e.g. ``EURA-fixed (ITRF2014-PMM)``."""
        return f"{self.plate}-fixed ({self.plate_model}-PMM)"

    @property
    def reference_frame(self) -> str:
        """Reference frame of the product (and of ``truth.h5``'s ``velocity``)."""
        return self.plate_frame if self.output_frame == "plate" else "ITRF2014"


@dataclass(frozen=True)
class Acquisition:
    """One simulated acquisition: its time, EOF file and CSLC metadata."""

    time: datetime
    eof: Path
    meta: CslcMetadata


@dataclass(frozen=True)
class Scene:
    """Everything that does not change from date to date (arrays on the SLC grid)."""

    grid: Grid
    out_grid: Grid
    pick: tuple[np.ndarray, np.ndarray]  # np.ix_ of the output pixels' SLC rows/cols
    terrain: Terrain
    margin: int
    lat: np.ndarray
    lon: np.ndarray
    height: np.ndarray  # ellipsoidal
    orthometric: np.ndarray
    los: np.ndarray  # (rows, cols, 3)
    incidence: np.ndarray
    heading: np.ndarray
    times: list[datetime]
    acquisitions: list[Acquisition]
    deformation: Deformation
    plate_los: np.ndarray  # LOS velocity (m/yr) of the reference plate's rigid motion

    @property
    def centre(self) -> tuple[float, float]:
        """Latitude and longitude of the centre pixel."""
        r, c = self.grid.rows // 2, self.grid.cols // 2
        return float(self.lat[r, c]), float(self.lon[r, c])

    def crop(self, array: np.ndarray) -> np.ndarray:
        """The SLC-grid part of an array on the DEM grid."""
        return crop_to(array, self.margin)

    @property
    def years(self) -> np.ndarray:
        """Time of each acquisition since the first, in years of 365.25 days."""
        return np.array(
            [(t - self.times[0]).total_seconds() / (365.25 * 86400) for t in self.times]
        )


def _write_geotiff(path: Path, array: np.ndarray, grid: Grid, description: str, units: str):
    import rasterio

    profile = {
        "driver": "GTiff",
        "height": grid.rows,
        "width": grid.cols,
        "count": 1,
        "dtype": array.dtype.name,
        "crs": grid.crs,
        "transform": grid.rasterio_transform(),
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with atomic_output(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)
        dst.set_band_description(1, description)
        dst.update_tags(1, units=units)
        dst.update_tags(AREA_OR_POINT="Area")


def write_orbits(
    sim: Mapping[str, Any],
    times: list[datetime],
    centre: tuple[float, float, float],
    corners: tuple[np.ndarray, np.ndarray, np.ndarray],
    seed: int,
    outdir: Path,
) -> list[Acquisition]:
    """Write one EOF orbit file per date; return each date's orbit and CSLC metadata.

    The sensing interval of a date spans the zero-Doppler times of the frame's ``corners``,
    symmetric about the centre's time (the acquisition time).
    """
    from sar4tec.sentinel1.geometry import zero_doppler_geometry
    from sar4tec.sentinel1.orbit import Orbit

    cfg = sim["orbit"]
    lat_c, lon_c, h_c = centre
    nominal = orbit.design_orbit(
        times[0],
        lat_c,
        lon_c,
        h_c,
        cfg["centre_incidence"],
        cfg["direction"],
        cfg["altitude"],
        cfg["inclination"],
    )
    generator = rng(seed, "orbit")
    node_std = cfg["baseline_std"] / (nominal.semi_major_axis * np.cos(np.radians(lat_c)))
    out = []
    for when in times:
        tube = generator.standard_normal(2)
        moved = orbit.retarget(
            nominal, when, lat_c, lon_c, h_c, node_std * tube[0], cfg["baseline_std"] / 3 * tube[1]
        )
        sv_times = orbit.state_vector_times(when, cfg["span"])
        position, velocity = moved.state([(t - when).total_seconds() for t in sv_times])
        absolute = orbit.absolute_orbit(cfg["mission"], cfg["track"], when)
        created = (when + timedelta(days=20)).replace(hour=12, minute=7, second=49, microsecond=0)
        name = orbit.eof_name(cfg["mission"], sv_times[0], sv_times[-1], created)
        path = orbit.write_eof(
            outdir / "orbits" / name,
            cfg["mission"],
            sv_times,
            position,
            velocity,
            absolute,
            created,
        )
        state_vectors = Orbit.from_state_vectors(sv_times, position, velocity)
        zd = zero_doppler_geometry(state_vectors, *corners)
        half = float(np.max(np.abs(zd.azimuth_time + (sv_times[0] - when).total_seconds())))
        meta = CslcMetadata(
            sensing_start=when - timedelta(seconds=half),
            sensing_stop=when + timedelta(seconds=half),
            direction=cfg["direction"],
            track=int(cfg["track"]),
            mission=cfg["mission"],
            absolute_orbit=absolute,
            orbit=state_vectors,
            processing_center="sar4tec.simulate (synthetic)",
        )
        out.append(Acquisition(when, path, meta))
    return out


def build_scene(sim: Mapping[str, Any], settings: Settings, outdir: Path, report: Report) -> Scene:
    """Landscape, DEM and water mask, orbits, geometry and deformation fields."""
    from sar4tec.sentinel1.geometry import zero_doppler_geometry
    from sar4tec.sentinel1.orbit import read_eof

    grid = frame_grid(sim)
    out_rows, out_cols = truth.output_indices(grid, settings.strides)
    times = acquisition_times(sim["acquisitions"])
    report(
        f"SLC grid {grid.shape}, output grid {grid.decimate(settings.strides).shape}, "
        f"{len(times)} dates {times[0]:%Y-%m-%d} .. {times[-1]:%Y-%m-%d}"
    )
    terrain = build_terrain(grid, sim, settings.scene_seed)
    margin = int(sim["dem_margin"])
    _write_geotiff(
        outdir / "dem.tif",
        terrain.height.astype(np.float32),
        terrain.grid,
        "height above the WGS84 ellipsoid",
        "m",
    )
    _write_geotiff(
        outdir / "water_mask.tif",
        terrain.water.astype(np.uint8),
        terrain.grid,
        "water mask (1 = water)",
        "1",
    )
    report(f"DEM {terrain.grid.shape}: {terrain.height.min():.0f} .. {terrain.height.max():.0f} m")

    lat, lon = grid.latlon()
    height = crop_to(terrain.height, margin)
    centre_rc = (grid.rows // 2, grid.cols // 2)
    centre = (float(lat[centre_rc]), float(lon[centre_rc]), float(height[centre_rc]))
    corners = tuple(a[[0, 0, -1, -1], [0, -1, 0, -1]] for a in (lat, lon, height))
    acquisitions = write_orbits(sim, times, centre, corners, settings.seed, outdir)
    geometry = zero_doppler_geometry(read_eof(acquisitions[0].eof), lat, lon, height)
    report(
        f"orbits: {len(times)} EOF files; incidence {geometry.incidence.min():.1f} .. "
        f"{geometry.incidence.max():.1f} deg, heading {geometry.heading.mean():.1f} deg"
    )
    plate = plate_velocity_enu(settings.plate, settings.plate_model, lat, lon)
    return Scene(
        grid=grid,
        out_grid=grid.decimate(settings.strides),
        pick=np.ix_(out_rows, out_cols),
        terrain=terrain,
        margin=margin,
        lat=lat,
        lon=lon,
        height=height,
        orthometric=crop_to(terrain.orthometric, margin),
        los=geometry.los_enu,
        incidence=geometry.incidence,
        heading=geometry.heading,
        times=times,
        acquisitions=acquisitions,
        deformation=scene_deformation(lat, lon, sim),
        plate_los=np.sum(plate * geometry.los_enu, axis=-1),
    )


def date_signals(
    scene: Scene,
    sim: Mapping[str, Any],
    settings: Settings,
    k: int,
    weather: troposphere.Weather,
    tec: TecModel,
) -> dict[str, np.ndarray]:
    """Every apparent-LOS-displacement component (m) of date ``k`` on the SLC grid."""
    when = scene.times[k]
    doy = day_of_year(when)
    los = scene.los
    zenith = troposphere.true_zenith_delay(weather, when, scene.lat, scene.lon, scene.orthometric)
    parts = {"troposphere": -zenith / np.cos(np.radians(scene.incidence))}
    # turbulence: power-law residual no weather model sees, larger in summer
    tropo = sim["troposphere"]
    g = rng(settings.seed, "turbulence", k)
    season = np.cos(2.0 * np.pi * (doy - 205.0) / 365.25)
    rms = tropo["turbulence_rms"] * (1.0 + 0.5 * season) * np.exp(0.3 * g.standard_normal())
    spacing_km = pixel_size(scene.grid, scene.centre[0], 111.195, 1e-3)
    field = power_law_field(
        scene.grid.shape,
        spacing_km,
        tropo["turbulence_beta"],
        g,
        tropo["turbulence_outer_scale"],
        break_scale_km=tropo["turbulence_break_scale"],
    )
    parts["turbulence"] = -rms * field
    shell = float(sim["ionosphere"]["shell_height"])
    parts["ionosphere"] = range_change(tec, scene.lat, scene.lon, los, when, shell)
    tide = solid_earth_tide_enu(when, scene.grid, sim["tides_step"])
    parts["tides"] = np.sum(tide * los, axis=-1)
    rows, cols = scene.grid.shape
    eta = -(np.arange(rows) - (rows - 1) / 2) / rows  # northward, -1/2 .. 1/2
    xi = (np.arange(cols) - (cols - 1) / 2) / cols  # eastward
    ramp = rng(settings.seed, "ramp", k).normal(0.0, sim["ramp_std"], 2)
    parts["ramp"] = ramp[0] * xi[None, :] + ramp[1] * eta[:, None]
    motion = scene.deformation.displacement(scene.years[k], doy)
    for key, enu in motion.items():
        parts[f"deformation_{key}"] = np.sum(enu * los, axis=-1)
    parts["deformation"] = sum(parts[f"deformation_{key}"] for key in motion)
    return parts


def write_signals(
    scene: Scene,
    sim: Mapping[str, Any],
    settings: Settings,
    outdir: Path,
    signal: np.ndarray,
    h5_truth: h5py.File,
    report: Report,
) -> tuple[list[str], list[str]]:
    """Per date: ERA5 and IONEX files, the total signal into ``signal``, truth components.

    Returns the ERA5 and IONEX file names relative to ``outdir``.
    """
    lat, lon = era5.era5_grid(sim["bounds"])
    nodes = np.meshgrid(lat, lon, indexing="ij")
    levels_pa = era5.PRESSURE_LEVELS_HPA * 100.0
    iono = sim["ionosphere"]
    tec = TecModel(settings.seed, iono["tec_scale"], iono["day_to_day"])
    era5_files: list[str] = []
    ionex_files: list[str] = []
    n = len(scene.times)
    for k, when in enumerate(scene.times):
        weather = troposphere.draw_weather(sim["troposphere"], when, scene.centre, settings.seed, k)
        hours = troposphere.bracketing_hours(when)
        sampled = [weather.column(*nodes, h).on_pressure_levels(levels_pa) for h in hours]
        fields = {
            name: np.stack([np.moveaxis(s[i], -1, 0) for s in sampled])
            for i, name in enumerate(("z", "t", "q"))
        }
        name = era5.era5_name(hours)
        era5.write_era5(outdir / "era5" / name, hours, lat, lon, fields)
        era5_files.append(f"era5/{name}")
        for day in sorted({(when + timedelta(hours=h)).date() for h in (-1, 0, 1)}):
            rel = f"ionex/{ionex.ionex_name(day)}"
            if rel not in ionex_files:
                ionex.write_ionex(outdir / rel, day, tec, float(iono["shell_height"]))
                ionex_files.append(rel)

        parts = date_signals(scene, sim, settings, k, weather, tec)
        in_frame = parts["deformation"] - (
            scene.plate_los * scene.years[k] if settings.output_frame == "plate" else 0.0
        )
        if k == 0:
            first = in_frame
        parts["displacement"] = in_frame - first
        signal[k] = truth.total_signal(parts)
        truth.write_date(h5_truth, k, {key: value[scene.pick] for key, value in parts.items()})
        if (k + 1) % 10 == 0 or k + 1 == n:
            report(f"signals: {k + 1}/{n} dates (ERA5, IONEX, tides, turbulence, ramp)")
    return era5_files, ionex_files


@dataclass(frozen=True)
class Scatterers:
    """The scattering model of the scene on the SLC grid."""

    models: list[scattering.CoherenceModel]  # per patch
    patch: np.ndarray
    land_cover: np.ndarray
    ps_mask: np.ndarray
    scr_db: np.ndarray
    amplitude: np.ndarray


def _backscatter(scene: Scene, sigma0_db: np.ndarray, seed: int) -> np.ndarray:
    """Mean amplitude per SLC pixel: class backscatter, terrain slope gain and a texture."""
    grid, height, los = scene.grid, scene.height, scene.los
    dy, dx = pixel_size(grid, scene.lat[:, :1], 111_195.0)
    grad_north, grad_east = np.gradient(height)
    normal = np.stack([-grad_east / dx, grad_north / dy, np.ones_like(height)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    cos_local = np.clip(np.sum(normal * los, axis=-1), 0.02, None)
    sin_local = np.sqrt(1.0 - cos_local**2)
    cos_inc = los[..., 2]
    # brighter on slopes facing the radar: local incidence and the ground area per pixel
    gain = cos_local / cos_inc * np.sqrt(1 - cos_inc**2) / np.maximum(sin_local, 0.1)
    texture = power_law_field(
        grid.shape, (dy / 1000, np.mean(dx) / 1000), 3.0, rng(seed, "texture")
    )
    sigma0 = 10.0 ** (sigma0_db[scene.crop(scene.terrain.patch)] / 10.0)
    return np.sqrt(sigma0 * np.clip(gain, 0.02, 8.0) * np.exp(0.35 * texture))


def scatterers(scene: Scene, sim: Mapping[str, Any], scene_seed: int) -> Scatterers:
    """Coherence model per patch, PS sites and their SCR, mean amplitude."""
    scat = sim["scattering"]
    terrain = scene.terrain
    models = scattering.patch_models(
        terrain.patch_class, scat["classes"], scat["parameter_spread"], rng(scene_seed, "patches")
    )
    land = scene.crop(terrain.land_cover)
    classes = [scat["classes"][c] for c in CLASSES]
    ps_fraction = np.array([c.get("ps_fraction", 0.0) for c in classes])[land]
    g = rng(scene_seed, "ps")
    ps_mask = g.uniform(size=scene.grid.shape) < ps_fraction
    scr_db = np.where(ps_mask, g.uniform(*scat["ps_scr_db"], size=scene.grid.shape), np.nan)
    sigma0_db = np.array([classes[c]["sigma0_db"] for c in terrain.patch_class])
    amplitude = _backscatter(scene, sigma0_db, scene_seed)
    return Scatterers(models, scene.crop(terrain.patch), land, ps_mask, scr_db, amplitude)


def write_slcs(
    scene: Scene,
    scat: Scatterers,
    seed: int,
    frame: str,
    outdir: Path,
    signal: np.ndarray,
) -> list[dict[str, str]]:
    """Draw the SLCs block by block and write one CSLC file per date; returns manifest entries."""
    n = len(scene.times)
    days = np.array([(t - scene.times[0]).total_seconds() / 86400.0 for t in scene.times])
    doys = np.array([day_of_year(t) for t in scene.times])
    factors = [scattering.cholesky_factor(m.matrix(days, doys)) for m in scat.models]
    entries = []
    with contextlib.ExitStack() as files:
        datasets = []
        for acq in scene.acquisitions:
            rel = f"slc/{frame}_{acq.time:%Y%m%d}.h5"
            h5 = files.enter_context(
                h5py.File(files.enter_context(atomic_output(outdir / rel)), "w")
            )
            datasets.append(create_cslc(h5, scene.grid, acq.meta))
            entries.append({"path": rel, "sensing_time": format_time(acq.time)})
        for b, r0 in enumerate(range(0, scene.grid.rows, BLOCK_ROWS)):
            r1 = min(r0 + BLOCK_ROWS, scene.grid.rows)
            patches = scat.patch[r0:r1].ravel()
            # one stream per block and date: appended dates leave the old ones' speckle as it was
            w = np.stack(
                [
                    scattering.circular_gaussian(rng(seed, "speckle", b, k), patches.size)
                    for k in range(n)
                ]
            )
            z = np.empty((n, patches.size), dtype=np.complex128)
            for p in np.unique(patches):
                sel = np.flatnonzero(patches == p)
                z[:, sel] = scattering.correlate(factors[p], w[:, sel])
            ps = np.flatnonzero(scat.ps_mask[r0:r1].ravel())
            z[:, ps] = scattering.persistent_scatterers(
                z[:, ps], scat.scr_db[r0:r1].ravel()[ps], rng(seed, "ps_phase", b)
            )
            phase = los_to_phase(signal[:, r0:r1].reshape(n, -1))
            block = (scat.amplitude[r0:r1].ravel() * z * np.exp(1j * phase)).astype(np.complex64)
            for k in range(n):
                datasets[k][r0:r1] = block[k].reshape(r1 - r0, scene.grid.cols)
    return entries


def write_gnss(
    scene: Scene, sim: Mapping[str, Any], settings: Settings, outdir: Path
) -> gnss.Stations:
    """Place the stations, add noise to their true ITRF velocity, write the MIDAS file."""
    terrain = scene.terrain
    city = (float(sim["city"]["lat"]), float(sim["city"]["lon"]))
    lat, lon = gnss.place_stations(
        scene.grid,
        terrain.grid,
        terrain.water,
        sim["gnss"],
        city,
        rng(settings.scene_seed, "gnss_sites"),
    )
    height = np.array(
        [
            terrain.height[nearest_pixel_latlon(terrain.grid, a, b)]
            for a, b in zip(lat, lon, strict=True)
        ]
    )
    names = [f"SM{i + 1:02d}" for i in range(lat.size)]
    true_enu = scene_deformation(lat, lon, sim).itrf.reshape(-1, 3)
    stations = gnss.observe(
        names, lat, lon, height, true_enu, sim["gnss"], rng(settings.seed, "gnss_noise")
    )
    gnss.write_midas(outdir / GNSS_FILE, stations, rng(settings.seed, "gnss_midas"))
    return stations


def static_truth(scene: Scene, scat: Scatterers, settings: Settings) -> dict[str, tuple]:
    """Velocities, geometry, masks and scattering parameters at the output pixels."""
    pick = scene.pick
    itrf = np.sum(scene.deformation.itrf * scene.los, axis=-1)
    fixed = itrf - scene.plate_los
    chosen = fixed if settings.output_frame == "plate" else itrf
    note = "linear rate only; the annual term of the bowl is excluded"
    mmyr = {"units": "mm/yr", "positive": "toward the satellite"}
    coherence = (
        "gamma(dt) = s_i s_j ((gamma0 - gamma_inf) exp(-dt/tau) + gamma_inf), "
        "s = 1 - a (1 + cos(2 pi (doy - low_doy)/365.25))/2"
    )
    out = {
        "velocity": (
            1000 * chosen[pick],
            {
                **mmyr,
                "reference_frame": settings.reference_frame,
                "description": f"true LOS velocity; {note}",
            },
        ),
        "velocity_itrf": (
            1000 * itrf[pick],
            {**mmyr, "reference_frame": "ITRF2014", "description": note},
        ),
        "velocity_plate_fixed": (
            1000 * fixed[pick],
            {**mmyr, "description": note, "reference_frame": settings.plate_frame},
        ),
        "plate_velocity": (
            1000 * scene.plate_los[pick],
            {
                **mmyr,
                "description": "LOS velocity "
                f"of the rigid motion of {settings.plate} ({settings.plate_model}-PMM) "
                "in ITRF",
            },
        ),
        "velocity_enu_itrf": (
            1000 * np.moveaxis(scene.deformation.itrf[pick], -1, 0),
            {"units": "mm/yr", "description": f"east, north, up; {note}"},
        ),
        "incidence_angle": (scene.incidence[pick], {"units": "degrees"}),
        "heading": (scene.heading[pick], {"units": "degrees", "description": "from north, cw"}),
        "height": (scene.height[pick], {"units": "m", "description": "above the WGS84 ellipsoid"}),
        "water_mask": (
            scene.crop(scene.terrain.water)[pick].astype(np.uint8),
            {"units": "1", "description": "1 = water"},
        ),
        "ps_mask": (
            scat.ps_mask[pick].astype(np.uint8),
            {
                "units": "1",
                "description": "1 = persistent scatterer at the output pixel's SLC pixel",
            },
        ),
        "ps_scr": (scat.scr_db[pick], {"units": "dB", "description": "PS signal-to-clutter ratio"}),
        "land_cover": (scat.land_cover[pick], {"units": "1", "classes": json.dumps(list(CLASSES))}),
        "patch": (scat.patch[pick], {"units": "1", "description": "coherence patch index"}),
        "amplitude": (scat.amplitude[pick], {"units": "1", "description": "mean DS amplitude"}),
    }
    for k, axis in enumerate(("east", "north", "up")):
        out[f"los_{axis}"] = (
            scene.los[..., k][pick],
            {"units": "1", "description": "unit vector ground to satellite"},
        )
    for name in ("gamma0", "gamma_inf", "tau_days", "seasonal_amplitude", "low_doy"):
        values = np.array([getattr(m, name) for m in scat.models])[scat.patch]
        out[f"coherence_{name}"] = (values[pick], {"description": coherence})
    return out


def simulate_frame(
    config: Mapping[str, Any],
    outdir: str | Path,
    frame: str = "demo",
    progress: Report | None = None,
) -> Path:
    """Simulate the frame described by ``config`` into ``outdir``; returns the manifest path.

    Parameters
    ----------
    config : mapping
        A validated workflow configuration (:func:`sar4tec.config.load_config`): the
        ``simulation`` section, the top-level ``seed``, ``phase_linking.strides`` (output grid of
        the truth) and ``reference`` (``output_frame``, ``plate``, ``plate_model``; defaults
        ``plate``, ``EURA``, ``ITRF2014`` when absent).
    outdir : path
        ``data/{frame}``; gets ``slc/``, ``orbits/``, ``era5/``, ``ionex/``, ``gnss/``,
        ``dem.tif``, ``water_mask.tif``, ``truth.h5`` and ``manifest.json``.
    frame : str
        Frame name used in file names and metadata.
    progress : callable, optional
        Receives one line per step (the CLI prints them); the ``sar4tec.simulate`` logger
        gets them too.
    """

    def report(message: str) -> None:
        log.info(message)
        if progress is not None:
            progress(message)

    sim = config["simulation"]
    settings = Settings.from_config(config)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    report(f"frame {frame} into {outdir}: seed {settings.seed}, scene seed {settings.scene_seed}")
    scene = build_scene(sim, settings, outdir, report)
    n = len(scene.times)
    attrs = {
        "frame": frame,
        "seed": settings.seed,
        "scene_seed": settings.scene_seed,
        "reference_frame": settings.reference_frame,
        "output_frame": settings.output_frame,
        "reference_plate": settings.plate,
        "reference_plate_model": settings.plate_model,
        "scene_plate": sim["plate"],
        "scene_plate_model": sim["plate_model"],
        "strides": list(settings.strides),
        "slc_grid": scene.grid.to_attrs(),
        "wavelength": SENTINEL1_WAVELENGTH,
        "sign_convention": "LOS displacement/velocity positive toward the satellite; SLC phase "
        "angle(sec*conj(ref)) = 4 pi / wavelength * (d_sec - d_ref)",
        "geometry_orbit": scene.acquisitions[0].eof.name,
    }
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=outdir, prefix=".sim-")))
        signal = np.lib.format.open_memmap(
            scratch / "signal.npy", mode="w+", dtype=np.float64, shape=(n,) + scene.grid.shape
        )
        h5_truth = stack.enter_context(
            h5py.File(stack.enter_context(atomic_output(outdir / "truth.h5")), "w")
        )
        truth.create_truth(h5_truth, scene.out_grid, scene.times, attrs)
        era5_files, ionex_files = write_signals(
            scene, sim, settings, outdir, signal, h5_truth, report
        )
        scat = scatterers(scene, sim, settings.scene_seed)
        radar_entries = {}
        if sim["radar"]["enabled"]:  # SAFE products in radar geometry (sar4tec.simulate.radar)
            from sar4tec.simulate.radar import simulate_radar

            radar_entries = simulate_radar(scene, sim, settings.seed, outdir, signal, report)
            slc_files = []
        else:
            slc_files = write_slcs(scene, scat, settings.seed, frame, outdir, signal)
        del signal
        report(
            f"SLCs: {n} CSLC files, {int(scat.ps_mask.sum())} persistent scatterers, "
            f"{len(scat.models)} coherence patches"
        )
        stations = write_gnss(scene, sim, settings, outdir)
        report(f"GNSS: {len(stations.names)} stations in {GNSS_FILE}")
        truth.write_static(h5_truth, static_truth(scene, scat, settings))
        group = h5_truth.create_group("gnss")
        group.create_dataset("name", data=np.array(stations.names, dtype="S4"))
        for key in ("lat", "lon", "height"):
            group.create_dataset(key, data=getattr(stations, key))
        group.create_dataset("velocity_itrf", data=1000 * stations.true_enu)
        group["velocity_itrf"].attrs["units"] = "mm/yr"
    report("truth.h5 written")

    manifest = {
        "frame": frame,
        "source": "simulate",
        "track": int(sim["orbit"]["track"]),
        "orbit_direction": sim["orbit"]["direction"],
        "slc": slc_files,
        "orbits": [f"orbits/{a.eof.name}" for a in scene.acquisitions],
        "dem": "dem.tif",
        "water_mask": "water_mask.tif",
        "era5": era5_files,
        "ionex": ionex_files,
        "gnss": {"path": GNSS_FILE, "format": "midas", "reference_frame": "IGS14"},
        "truth": "truth.h5",
        "seed": settings.seed,
        **radar_entries,
    }
    _remove_stale(outdir, manifest)
    path = write_manifest(outdir / "manifest.json", manifest)
    report(f"manifest: {path}")
    return path


def _remove_stale(outdir: Path, manifest: Mapping[str, Any]) -> None:
    """Delete simulator outputs of earlier runs that the new manifest no longer lists."""
    keep = {e["path"] for e in manifest["slc"]} | set(manifest["orbits"])
    keep |= set(manifest["era5"]) | set(manifest["ionex"])
    for folder, pattern in (
        ("slc", "*.h5"),
        ("orbits", "*.EOF"),
        ("era5", "*.nc"),
        ("ionex", "*.INX.gz"),
    ):
        for path in (outdir / folder).glob(pattern):
            if f"{folder}/{path.name}" not in keep:
                log.info("removing %s (not part of this simulation)", path)
                path.unlink()
