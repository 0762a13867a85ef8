"""The ``stack`` rule: from a frame manifest to the SLC stack and the geometry files.

The geometry is computed from the reference (first) date's orbit and the DEM
(:func:`sar4tec.stack.frame_geometry.write_slc_geometry`).  An ingested stack that brought its
own geometry (the manifest's ``source_geometry``, e.g. ISCE2's ``geom_reference`` resampled by
:mod:`sar4tec.ingest`) replaces the layers it has (:data:`SOURCE_LAYERS`) where it has values:
the SLC phases were formed in that geometry, so its LOS is the one that projects them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np

from sar4tec.files import atomic_output
from sar4tec.grid import Grid
from sar4tec.manifest import read_manifest
from sar4tec.raster import read_onto_grid
from sar4tec.sentinel1.cslc import read_cslc_info, read_cslc_orbit
from sar4tec.sentinel1.orbit import Orbit, read_eof
from sar4tec.stack.frame_geometry import (
    acquisition_orbit,
    perpendicular_baselines,
    write_output_geometry,
    write_slc_geometry,
)
from sar4tec.stack.slc_stack import write_slc_stack

log = logging.getLogger(__name__)

#: layers of a ``source_geometry`` file that replace the computed ones (source name → ours)
SOURCE_LAYERS = {
    "height": "height",
    "incidence_angle": "incidence_angle",
    "heading": "heading",
    "los_east": "los_east",
    "los_north": "los_north",
    "los_up": "los_up",
    "layover_shadow": "layover_shadow_mask",
}
#: computed and source incidence or heading further apart than this (deg) are reported: the
#: orbit files or the pass direction do not belong to the stack
SOURCE_MISMATCH_DEG = 0.5


def build_stack(
    manifest_path: str | Path,
    slc_stack_path: str | Path,
    slc_geometry_path: str | Path,
    geometry_path: str | Path,
    *,
    polarization: str = "VV",
    block_size: int = 256,
    strides: tuple[int, int] = (1, 1),
) -> None:
    """Stack the frame's CSLCs, compute baselines and geometry on the SLC and output grids."""
    manifest = read_manifest(manifest_path)
    if not manifest.slc:
        raise ValueError(
            f"{manifest_path}: no coregistered SLCs ('slc' is empty); SAFE/burst inputs must be "
            "geocoded into CSLCs first"
        )
    # manifest.slc is in time order; its sensing times (frame centre) label the dates, the
    # same times the correction stages use
    infos = [read_cslc_info(a.path, polarization) for a in manifest.slc]
    orbits = [read_eof(path) for path in manifest.orbits]
    date_orbits = [_date_orbit(orbits, info, manifest_path) for info in infos]
    grid = infos[0].grid
    centre = grid.window(
        slice(grid.rows // 2, grid.rows // 2 + 1), slice(grid.cols // 2, grid.cols // 2 + 1)
    )
    lat, lon = (float(v[0, 0]) for v in centre.latlon())
    height = float(read_onto_grid(manifest.dem, centre)[0, 0])
    bperp = perpendicular_baselines(date_orbits, lat, lon, height)
    log.info(
        "%d acquisitions, perpendicular baselines %.1f … %.1f m",
        len(infos),
        bperp.min(),
        bperp.max(),
    )
    attrs = {"frame": manifest.frame}
    write_slc_stack(
        infos,
        slc_stack_path,
        sensing_times=manifest.sensing_times,
        polarization=polarization,
        block_size=block_size,
        bperp=bperp,
        attrs=attrs,
    )
    source_geometry = manifest.extra.get("source_geometry")
    with atomic_output(slc_geometry_path) as tmp:
        write_slc_geometry(
            tmp,
            grid,
            date_orbits[0],
            manifest.dem,
            manifest.water_mask,
            block_size=block_size,
            attrs=attrs,
            reference_time=manifest.sensing_times[0],
        )
        if source_geometry:
            apply_source_geometry(tmp, Path(manifest_path).parent / source_geometry, block_size)
    write_output_geometry(slc_geometry_path, geometry_path, tuple(strides))
    log.info(
        "geometry written on the SLC grid %s and the output grid (strides %s)", grid.shape, strides
    )


def _date_orbit(eofs: list[Orbit], info, manifest_path) -> Orbit:
    """The EOF orbit of an acquisition, else the state vectors its CSLC carries (OPERA)."""
    try:
        return acquisition_orbit(eofs, info.sensing_start, info.sensing_stop)
    except ValueError as err:
        try:
            own = read_cslc_orbit(info.path)
        except ValueError:
            own = None
        if own is not None and own.covers(info.sensing_start, info.sensing_stop):
            return own
        raise ValueError(f"{manifest_path}: {info.path.name}: {err}; its CSLC has none") from None


def apply_source_geometry(
    slc_geometry_path: str | Path, source_path: str | Path, block_size: int = 256
) -> None:
    """Replace layers of an SLC-grid geometry file by those of a source geometry, in place.

    Parameters
    ----------
    slc_geometry_path
        File written by :func:`~sar4tec.stack.frame_geometry.write_slc_geometry`.
    source_path
        ``geometry_source.h5`` of :func:`sar4tec.ingest.ingest_frame`, on the same grid.
        Its :data:`SOURCE_LAYERS` replace ours where the source value is finite (the mask
        where the source covers, judged by its incidence).
    block_size
        Rows read and written at a time.

    Raises
    ------
    ValueError
        The two files are not on the same grid (names both).
    """
    with h5py.File(slc_geometry_path, "r+") as dst, h5py.File(source_path, "r") as src:
        grid = Grid.from_attrs(dst.attrs)
        if not Grid.from_attrs(src.attrs).almost_equal(grid):
            raise ValueError(f"{source_path} is not on the grid of {slc_geometry_path}")
        names = {k: v for k, v in SOURCE_LAYERS.items() if k in src}
        worst = {"incidence_angle": 0.0, "heading": 0.0}
        for r0 in range(0, grid.rows, block_size):
            rows = slice(r0, min(r0 + block_size, grid.rows))
            covered = np.isfinite(src["incidence_angle"][rows])
            for theirs, ours in names.items():
                values, computed = src[theirs][rows], dst[ours][rows]
                keep = covered if values.dtype.kind in "iu" else np.isfinite(values)
                if ours in worst and keep.any():
                    gap = np.abs((values[keep] - computed[keep] + 180.0) % 360.0 - 180.0)
                    worst[ours] = max(worst[ours], float(gap.max()))
                dst[ours][rows] = np.where(keep, values, computed)
        dst.attrs["geometry_source"] = str(Path(source_path).resolve())
    log.info(
        "geometry from %s (%s); largest difference to the orbit + DEM geometry: incidence "
        "%.3f deg, heading %.3f deg",
        source_path,
        ", ".join(names),
        worst["incidence_angle"],
        worst["heading"],
    )
    if max(worst.values()) > SOURCE_MISMATCH_DEG:
        log.warning(
            "%s differs from the orbit + DEM geometry by more than %.1f deg: check that the "
            "orbit files and pass direction belong to the stack",
            source_path,
            SOURCE_MISMATCH_DEG,
        )
