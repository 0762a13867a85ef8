# Corrections: one apparent-LOS-displacement layer per acquisition for each effect.

CORRECTIONS = ["troposphere", "ionosphere", "tides"]


rule correction:
    """Compute one correction layer (troposphere, ionosphere or tides) on the output grid."""
    input:
        manifest=f"{DATA}/{{frame}}/manifest.json",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
    output:
        layer=f"{WORK}/{{frame}}/corrections/{{kind}}.h5",
    params:
        corrections=config["corrections"],
    wildcard_constraints:
        kind="|".join(CORRECTIONS),
    log:
        f"{LOGS}/{{frame}}/correction_{{kind}}.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    conda:
        ENV
    script:
        "../../scripts/correction.py"
