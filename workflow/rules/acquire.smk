# Acquire: every input a frame needs, listed in data/{frame}/manifest.json.
# The demo frame is simulated; real frames are downloaded or linked from local archives.


rule simulate_frame:
    """Write the synthetic frame's inputs in real formats, plus its truth (never read by stages)."""
    output:
        manifest=f"{DATA}/{{frame}}/manifest.json",
        truth=f"{DATA}/{{frame}}/truth.h5",
    log:
        f"{LOGS}/{{frame}}/simulate_frame.log",
    wildcard_constraints:
        frame=frame_pattern(frames_from("simulate")),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=lambda wildcards: config,
    script:
        "../../scripts/simulate_frame.py"


rule acquire_sentinel1:
    """Search and download the frame's Sentinel-1 bursts, orbits, DEM, ERA5 and IONEX."""
    output:
        manifest=f"{DATA}/{{frame}}/manifest.json",
    log:
        f"{LOGS}/{{frame}}/acquire.log",
    wildcard_constraints:
        frame=frame_pattern(frames_from("sentinel1")),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=720,
        downloads=1,
    params:
        spec=lambda wildcards: config["frames"][wildcards.frame],
        acquire=config["acquire"],
        cache=config["paths"]["cache"],
    script:
        "../../scripts/acquire_frame.py"


rule acquire_local:
    """Link and validate the frame's SAFE products from local archives, or read the dates and
    footprint of its ingested stack (a `stack` entry, docs/ingest.md); fetch orbits and DEM.
    """
    output:
        manifest=f"{DATA}/{{frame}}/manifest.json",
    log:
        f"{LOGS}/{{frame}}/acquire.log",
    wildcard_constraints:
        frame=frame_pattern(frames_from("local")),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
        downloads=1,
    params:
        spec=lambda wildcards: config["frames"][wildcards.frame],
        acquire=config["acquire"],
        cache=config["paths"]["cache"],
        stack=config["stack"],
    script:
        "../../scripts/acquire_frame.py"
