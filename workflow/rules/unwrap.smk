# Unwrap: interferogram network from the linked phases, unwrapped with snaphu.


rule unwrap:
    """Form the interferogram network and unwrap each interferogram."""
    input:
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
    output:
        unwrapped=f"{WORK}/{{frame}}/unwrap/unwrapped.h5",
    params:
        unwrap=config["unwrap"],
    log:
        f"{LOGS}/{{frame}}/unwrap.log",
    threads: threads_for("unwrap", 2)
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/unwrap.py"
