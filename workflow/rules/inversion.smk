# Inversion: network → time series, corrections subtracted, velocity with uncertainty
# (docs/timeseries.md). The SLC stack is read only for its perpendicular baselines (/bperp).
from pathlib import Path

from sar4tec.timeseries.memory import inversion_block_size, inversion_peak_mb


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
    return math.ceil(inversion_peak_mb(block, n_dates, n_ifg, len(CORRECTIONS))) * attempt


rule inversion:
    """Invert the unwrapped network, subtract corrections, fit velocity and its uncertainty."""
    input:
        unwrapped=f"{WORK}/{{frame}}/unwrap/unwrapped.h5",
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
        corrections=expand(
            f"{WORK}/{{{{frame}}}}/corrections/{{kind}}.h5", kind=CORRECTIONS
        ),
    output:
        timeseries=f"{WORK}/{{frame}}/timeseries.h5",
        stats=report(
            f"{WORK}/{{frame}}/correction_stats.csv",
            caption="../report/correction_stats.rst",
            category="Corrections",
            subcategory="{frame}",
        ),
    log:
        f"{LOGS}/{{frame}}/inversion.log",
    conda:
        ENV
    threads: threads_for("inversion", 2)
    resources:
        # blocks of block_size^2 pixels x (interferograms + dates) float64 arrays
        mem_mb=inversion_mem_mb,
        runtime=120,
    params:
        inversion=config["inversion"],
    script:
        "../../scripts/inversion.py"
