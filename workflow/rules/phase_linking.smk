# Phase linking: PS selection and full-covariance phase linking of distributed scatterers.


rule phase_linking:
    """One consistent wrapped phase history per output pixel, with quality layers."""
    input:
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
    output:
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
    params:
        phase_linking=config["phase_linking"],
        block_size=config["stack"]["block_size"],
    log:
        f"{LOGS}/{{frame}}/phase_linking.log",
    threads: threads_for("phase_linking", 2)
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/phase_linking.py"
