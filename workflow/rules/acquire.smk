# Acquire: every input a frame needs, listed in data/{frame}/manifest.json.
# The demo frame is simulated; real frames are downloaded or linked from local archives.


rule simulate_frame:
    """Write the synthetic frame's inputs in real formats, plus its truth (never read by stages)."""
    output:
        manifest=f"{DATA}/{{frame}}/manifest.json",
        truth=f"{DATA}/{{frame}}/truth.h5",
    params:
        config=lambda wildcards: config,
    wildcard_constraints:
        frame=frame_pattern(frames_from("simulate")),
    log:
        f"{LOGS}/{{frame}}/simulate_frame.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../../scripts/simulate_frame.py"
