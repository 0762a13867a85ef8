# Inversion: network → time series, corrections subtracted, velocity with uncertainty
# (docs/timeseries.md). The SLC stack is read only for its perpendicular baselines (/bperp).
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
