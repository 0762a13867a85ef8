# Geocode: Sentinel-1 bursts (SAFE products or single bursts) → coregistered CSLCs on one grid.
# Real frames (source sentinel1/local) list SAFE products under `safe` in data/{frame}/manifest.json;
# the checkpoint groups them into acquisitions, one job chooses the burst of every pixel on the
# first date (burst_map.h5, so that every date takes a pixel from the same burst), one job
# geocodes each date, and the aggregate writes work/{frame}/cslc/manifest.json with `slc`
# filled, which the stack rule reads.


checkpoint geocode_plan:
    """Group the frame's SAFE products / bursts into acquisitions (one per date)."""
    input:
        manifest=f"{DATA}/{{frame}}/manifest.json",
    output:
        plan=f"{WORK}/{{frame}}/cslc/plan.json",
    log:
        f"{LOGS}/{{frame}}/geocode_plan.log",
    wildcard_constraints:
        frame=frame_pattern(frames_from("sentinel1") + frames_from("local")),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/geocode_plan.py"


rule geocode_burst_map:
    """The burst each CSLC pixel comes from, chosen once per frame on the plan's first date."""
    input:
        manifest=f"{DATA}/{{frame}}/manifest.json",
        plan=f"{WORK}/{{frame}}/cslc/plan.json",
    output:
        burst_map=f"{WORK}/{{frame}}/cslc/burst_map.h5",
    log:
        f"{LOGS}/{{frame}}/geocode_burst_map.log",
    conda:
        ENV
    threads: 1
    resources:
        # the zero-Doppler solution of every pixel (most of a geocode_date job's work), in blocks
        mem_mb=2000,
        runtime=240,
    params:
        stack=config["stack"],
    script:
        "../../scripts/geocode_burst_map.py"


rule geocode_date:
    """Back-geocode one date's bursts onto the frame's CSLC grid (orbit + DEM, deramped sinc)."""
    input:
        manifest=f"{DATA}/{{frame}}/manifest.json",
        plan=f"{WORK}/{{frame}}/cslc/plan.json",
        burst_map=f"{WORK}/{{frame}}/cslc/burst_map.h5",
    output:
        cslc=f"{WORK}/{{frame}}/cslc/{{date}}.h5",
    log:
        f"{LOGS}/{{frame}}/geocode_{{date}}.log",
    wildcard_constraints:
        date=r"\d{8}",
    group:
        "geocode"  # the per-date jobs go to a cluster in batches (profile group-components)
    conda:
        ENV
    threads: config["stack"]["geocode_threads"]
    resources:
        # blocks of block_size² pixels and the burst windows under them: ~30 MB at 256
        mem_mb=2000,
        # ~1.5 h per date and core for a 9-burst x 3-swath frame at the default spacing
        runtime=360,
    params:
        stack=config["stack"],
    script:
        "../../scripts/geocode_date.py"


rule geocode_manifest:
    """The frame manifest with `slc` listing the geocoded CSLCs (paths relative to it)."""
    input:
        manifest=f"{DATA}/{{frame}}/manifest.json",
        cslc=cslc_files,
    output:
        manifest=f"{WORK}/{{frame}}/cslc/manifest.json",
    log:
        f"{LOGS}/{{frame}}/geocode_manifest.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        polarization=config["stack"]["polarization"],
    script:
        "../../scripts/geocode_manifest.py"
