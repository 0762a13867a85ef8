# Ingest: SLC stacks made elsewhere (OPERA CSLC-S1 bursts, ISCE2 topsStack, complex GeoTIFFs)
# onto the frame's CSLC grid, for `local` frames with a `stack` entry; they skip the geocode
# rules. work/{frame}/ingest/manifest.json (`slc` filled) is what the stack rule reads for them
# (`stack_manifest` in common.smk); the per-date CSLCs sit next to it.


rule ingest:
    """Resample the frame's existing SLC stack onto its CSLC grid, one CSLC per date."""
    input:
        manifest=f"{DATA}/{{frame}}/manifest.json",
    output:
        manifest=f"{WORK}/{{frame}}/ingest/manifest.json",
    log:
        f"{LOGS}/{{frame}}/ingest.log",
    wildcard_constraints:
        frame=frame_pattern(frames_ingested()),
    conda:
        ENV
    threads: 1
    resources:
        # one block of every date at a time plus the source samples under it
        mem_mb=2000,
        runtime=240,
    params:
        source=lambda wildcards: config["frames"][wildcards.frame]["stack"],
        stack=config["stack"],
    script:
        "../../scripts/ingest.py"
