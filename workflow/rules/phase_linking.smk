# Phase linking: PS selection and full-covariance phase linking of distributed scatterers,
# scattered over spatial tiles with halos and gathered into linked.h5 (docs/phase_linking.md).
# The tile count follows from the stack's size, so a checkpoint plans the tiles; each tile is
# its own job (a killed run redoes only unfinished tiles) and continues, when dates were
# appended, from the history file the gather keeps (not a Snakemake output).
checkpoint phase_linking_tiles:
    """Plan the tiles of the frame from the stack's size (phase_linking.tile_size)."""
    input:
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
    output:
        plan=f"{WORK}/{{frame}}/phase_linking/tiles.json",
    log:
        f"{LOGS}/{{frame}}/phase_linking_tiles.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        phase_linking=PL,
    script:
        "../../scripts/phase_linking_tiles.py"


rule phase_linking_tile:
    """Phase-link one tile (core + halo); continues from the frame's history if it fits."""
    input:
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
        plan=f"{WORK}/{{frame}}/phase_linking/tiles.json",
    output:
        tile=temp(f"{WORK}/{{frame}}/phase_linking/tiles/{{tile}}.h5"),
    log:
        f"{LOGS}/{{frame}}/phase_linking/{{tile}}.log",
    conda:
        ENV
    threads: threads_for("phase_linking", 2)
    resources:
        mem_mb=phase_linking_mem_mb,
        runtime=lambda wildcards, attempt: 240 * attempt,
    params:
        phase_linking=PL,
        block_size=PL_BLOCK,
        history=PL_HISTORY,
    script:
        "../../scripts/phase_linking_tile.py"


rule phase_linking:
    """Gather the tiles' cores into linked.h5 and keep it as the history of the next run."""
    input:
        tiles=lambda wildcards: list(phase_linking_tile_files(wildcards).values()),
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
        plan=f"{WORK}/{{frame}}/phase_linking/tiles.json",
    output:
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
    log:
        f"{LOGS}/{{frame}}/phase_linking.log",
    conda:
        ENV
    threads: 1
    resources:
        # copies one block of all dates at a time
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        phase_linking=PL,
        block_size=PL_BLOCK,
        history=PL_HISTORY,
    script:
        "../../scripts/phase_linking.py"
