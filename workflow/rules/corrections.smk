# Corrections: one apparent-LOS-displacement layer per acquisition for each effect
# (docs/corrections.md). A disabled correction still writes its layer (zeros, attribute
# enabled = 0), so the inversion always finds all three files.
# The rule reruns when the manifest changes (new dates), but each date's layer is cached in
# work/{frame}/corrections/cache/{kind}/ under a key of all it depends on: only the new dates
# are computed (docs/incremental.md).


rule correction:
    """Compute one correction layer (troposphere, ionosphere or tides) on the output grid."""
    input:
        manifest=stack_manifest,
        geometry=f"{WORK}/{{frame}}/geometry.h5",
    output:
        layer=f"{WORK}/{{frame}}/corrections/{{kind}}.h5",
    log:
        f"{LOGS}/{{frame}}/correction_{{kind}}.log",
    wildcard_constraints:
        kind="|".join(CORRECTIONS),
    group:
        "corrections"  # one cluster job for the frame's three layers (profile group-components)
    conda:
        ENV
    threads: 1
    resources:
        # row blocks of block_rows x columns x ~20 float64 arrays plus the ERA5 fields
        mem_mb=3000,
        runtime=60,
    params:
        corrections=config["corrections"],
    script:
        "../../scripts/correction.py"
