# Unwrap: interferogram network from the linked phases, unwrapped with snaphu (docs/unwrap.md).
# The correction layers of unwrap.precorrect are removed before unwrapping and restored after.


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
        # per thread: one SNAPHU run (~0.4 kB per pixel in one tile) plus the closure blocks
        mem_mb=4000,
        runtime=240,
    params:
        unwrap=config["unwrap"],
    script:
        "../../scripts/unwrap.py"
