# Phase linking: PS selection and full-covariance phase linking of distributed scatterers.


rule phase_linking:
    """One consistent wrapped phase history per output pixel, with quality layers."""
    input:
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
    output:
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
    log:
        f"{LOGS}/{{frame}}/phase_linking.log",
    conda:
        ENV
    threads: threads_for("phase_linking", 2)
    resources:
        # blocks of block_size^2 x N dates (complex64) plus per-thread scratch; 2 GB covers
        # block_size 512 with 200 dates
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 240 * attempt,
    params:
        phase_linking=config["phase_linking"],
        block_size=config["stack"]["block_size"],
    script:
        "../../scripts/phase_linking.py"
