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
        mem_mb=unwrap_mem_mb,
        runtime=lambda wildcards, attempt: 240 * attempt,
    params:
        unwrap=config["unwrap"],
        # unwrapped interferograms keyed by SNAPHU's inputs: reruns after appended dates
        # unwrap only the new ones (not a Snakemake output, so it survives reruns)
        cache=f"{WORK}/{{frame}}/unwrap/cache",
    script:
        "../../scripts/unwrap.py"
