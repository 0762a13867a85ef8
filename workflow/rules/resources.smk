# Resource callables of the rules: the memory of the big jobs from the frame size, through
# the memory models of sar4tec (docs/cluster.md), and the phase-linking tiles of a frame.
import math
from datetime import datetime, timedelta
from pathlib import Path

import h5py

from sar4tec.files import read_times
from sar4tec.grid import Grid
from sar4tec.phaselink.memory import block_size_for_memory, phase_linking_peak_mb
from sar4tec.phaselink.options import PhaseLinkOptions
from sar4tec.phaselink.tiles import TilePlan
from sar4tec.timeseries.memory import inversion_block_size, inversion_peak_mb
from sar4tec.unwrap.memory import unwrap_peak_mb
from sar4tec.unwrap.network import make_network

PL = config["phase_linking"]
PL_BLOCK = PL["block_size"] or config["stack"]["block_size"]
PL_HISTORY = f"{WORK}/{{frame}}/phase_linking/history/linked.h5"


def phase_linking_tile_files(wildcards):
    """The tile files of the frame's plan (known once the checkpoint ran)."""
    plan = checkpoints.phase_linking_tiles.get(frame=wildcards.frame).output.plan
    return {
        name: f"{WORK}/{wildcards.frame}/phase_linking/tiles/{name}.h5"
        for name in TilePlan.read(plan).tiles
    }


def phase_linking_mem_mb(wildcards, input, threads, attempt):
    """Peak memory of a tile job from the memory model (dates of the plan), x attempt."""
    n_dates = TilePlan.read(input.plan).n_dates
    options = PhaseLinkOptions.from_config(PL)
    block = block_size_for_memory(
        PL["memory_mb"], n_dates, options, threads=threads, max_block=PL_BLOCK
    )
    return math.ceil(phase_linking_peak_mb(block, n_dates, options, threads)) * attempt


def unwrap_mem_mb(wildcards, input, threads, attempt):
    """Peak memory of the unwrap job from the frame's grid and network (memory model), x attempt.

    The linked phases exist when the job is scheduled; a dry run assumes a 2000 x 2000 grid
    of 200 dates.
    """
    try:
        with h5py.File(input.linked, "r") as f:
            shape, times = Grid.from_attrs(f.attrs).shape, read_times(f)
    except (FileNotFoundError, OSError):
        shape, times = (2000, 2000), [
            datetime(2020, 1, 1) + timedelta(12 * k) for k in range(200)
        ]
    cfg = config["unwrap"]
    n_ifg = len(make_network(times, cfg["network"]))
    return math.ceil(unwrap_peak_mb(shape, threads, n_ifg, cfg["block_size"])) * attempt


def inversion_mem_mb(wildcards, attempt):
    """Peak memory of the inversion from the memory model, x attempt.

    Dates come from the frame's tile plan (written before any inversion can run; 200 in a
    dry run of a new frame), interferograms from the unwrap network's configuration.
    """
    plan = Path(f"{WORK}/{wildcards.frame}/phase_linking/tiles.json")
    n_dates = TilePlan.read(plan).n_dates if plan.exists() else 200
    net = config["unwrap"]["network"]
    per_date = {"nearest": net["neighbours"], "single_reference": 1}.get(
        net["type"], -(-net["max_temporal_baseline_days"] // 6)
    )
    n_ifg = n_dates * per_date
    inv = config["inversion"]
    block = inversion_block_size(
        inv["memory_mb"], n_dates, n_ifg, len(CORRECTIONS), max_block=inv["block_size"]
    )
    return (
        math.ceil(inversion_peak_mb(block, n_dates, n_ifg, len(CORRECTIONS))) * attempt
    )
