# Stack: the coregistered SLC stack (HDF5) and the frame geometry from orbits and DEM.


rule stack:
    """Ingest the frame's CSLC files into one chunked stack; compute LOS geometry."""
    input:
        manifest=stack_manifest,
    output:
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
        slc_geometry=f"{WORK}/{{frame}}/stack/geometry.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
    log:
        f"{LOGS}/{{frame}}/stack.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        stack=config["stack"],
        strides=config["phase_linking"]["strides"],
    script:
        "../../scripts/stack.py"
