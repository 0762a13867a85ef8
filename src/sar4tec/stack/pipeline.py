"""The ``stack`` rule: from a frame manifest to the SLC stack and the geometry files."""

from __future__ import annotations

import logging
from pathlib import Path

from sar4tec.manifest import read_manifest
from sar4tec.raster import read_onto_grid
from sar4tec.sentinel1.cslc import read_cslc_info
from sar4tec.sentinel1.orbit import read_eof
from sar4tec.stack.frame_geometry import (
    acquisition_orbit,
    perpendicular_baselines,
    write_output_geometry,
    write_slc_geometry,
)
from sar4tec.stack.slc_stack import write_slc_stack

log = logging.getLogger(__name__)


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
    if not manifest.orbits:
        raise ValueError(f"{manifest_path}: no orbit files listed; the geometry needs them")
    if not manifest.slc:
        raise ValueError(
            f"{manifest_path}: no coregistered SLCs ('slc' is empty); SAFE/burst inputs must be "
            "geocoded into CSLCs first"
        )
    # manifest.slc is in time order; its sensing times (frame centre) label the dates, the
    # same times the correction stages use
    infos = [read_cslc_info(a.path, polarization) for a in manifest.slc]
    orbits = [read_eof(path) for path in manifest.orbits]
    date_orbits = [acquisition_orbit(orbits, i.sensing_start, i.sensing_stop) for i in infos]
    grid = infos[0].grid
    centre = grid.window(
        slice(grid.rows // 2, grid.rows // 2 + 1), slice(grid.cols // 2, grid.cols // 2 + 1)
    )
    lat, lon = centre.y[0], centre.x[0]
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
    write_slc_geometry(
        slc_geometry_path,
        grid,
        date_orbits[0],
        manifest.dem,
        manifest.water_mask,
        block_size=block_size,
        attrs=attrs,
    )
    write_output_geometry(slc_geometry_path, geometry_path, tuple(strides))
    log.info(
        "geometry written on the SLC grid %s and the output grid (strides %s)", grid.shape, strides
    )
