# Inversion: network → time series, corrections subtracted, velocity with uncertainty.


rule inversion:
    """Invert the unwrapped network, subtract corrections, fit velocity and its uncertainty."""
    input:
        unwrapped=f"{WORK}/{{frame}}/unwrap/unwrapped.h5",
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
        corrections=expand(f"{WORK}/{{{{frame}}}}/corrections/{{kind}}.h5", kind=CORRECTIONS),
    output:
        timeseries=f"{WORK}/{{frame}}/timeseries.h5",
        stats=f"{WORK}/{{frame}}/correction_stats.csv",
    params:
        inversion=config["inversion"],
        unwrap=config["unwrap"],
    log:
        f"{LOGS}/{{frame}}/inversion.log",
    threads: threads_for("inversion", 2)
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        ENV
    script:
        "../../scripts/inversion.py"
