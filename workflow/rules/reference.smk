# Reference: tie the LOS velocities to GNSS in a stated frame; the reference plate's LOS velocity.


rule reference:
    """Calibrate to GNSS and compute the plate-motion LOS velocity."""
    input:
        timeseries=f"{WORK}/{{frame}}/timeseries.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
        manifest=stack_manifest,
    output:
        calibrated=f"{WORK}/{{frame}}/calibrated.h5",
        residuals=f"{RESULTS}/{{frame}}/gnss_residuals.csv",
    log:
        f"{LOGS}/{{frame}}/reference.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        reference=config["reference"],
    script:
        "../../scripts/reference.py"
