# Unwrap: interferogram network from the linked phases, unwrapped with snaphu (docs/unwrap.md).
# The correction layers of unwrap.precorrect are removed before unwrapping and restored after.
import math
from datetime import datetime, timedelta

import h5py

from sar4tec.files import read_times
from sar4tec.grid import Grid
from sar4tec.unwrap.memory import unwrap_peak_mb
from sar4tec.unwrap.network import make_network


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


rule unwrap:
    """Form the interferogram network, unwrap each interferogram, fix closure errors."""
    input:
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
        corrections=expand(
            f"{WORK}/{{{{frame}}}}/corrections/{{kind}}.h5", kind=CORRECTIONS
        ),
    output:
        unwrapped=f"{WORK}/{{frame}}/unwrap/unwrapped.h5",
    log:
        f"{LOGS}/{{frame}}/unwrap.log",
    conda:
        ENV
    threads: threads_for("unwrap", 2)
    resources:
        mem_mb=unwrap_mem_mb,
        runtime=lambda wildcards, attempt: 240 * attempt,
    params:
        unwrap=config["unwrap"],
        # unwrapped interferograms keyed by SNAPHU's inputs: reruns after appended dates
        # unwrap only the new ones (not a Snakemake output, so it survives reruns)
        cache=f"{WORK}/{{frame}}/unwrap/cache",
    script:
        "../../scripts/unwrap.py"
