# Products: what users open (QGIS, xarray, MintPy, STAC), per frame under results/{frame}/.

PRODUCT_FILES = [
    "velocity.tif",
    "velocity_std.tif",
    "temporal_coherence.tif",
    "ps_mask.tif",
    "mask.tif",
    "los_east.tif",
    "los_north.tif",
    "los_up.tif",
    "plate_velocity.tif",
    "timeseries.nc",
    "corrections.nc",
    "timeseries.h5",
    "velocity.h5",
    "geometryGeo.h5",
    "item.json",
    "quicklook.png",
]


def product_targets(frames):
    """Every product file of the given frames."""
    return expand(f"{RESULTS}/{{frame}}/{{name}}", frame=frames, name=PRODUCT_FILES)


rule products:
    """Write the frame's products from the calibrated time series and quality layers."""
    input:
        calibrated=f"{WORK}/{{frame}}/calibrated.h5",
        timeseries=f"{WORK}/{{frame}}/timeseries.h5",
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
        residuals=f"{RESULTS}/{{frame}}/gnss_residuals.csv",
        manifest=f"{DATA}/{{frame}}/manifest.json",
        corrections=expand(f"{WORK}/{{{{frame}}}}/corrections/{{kind}}.h5", kind=CORRECTIONS),
    output:
        [f"{RESULTS}/{{frame}}/{name}" for name in PRODUCT_FILES],
    params:
        products=config["products"],
        reference=config["reference"],
        config=config,
    log:
        f"{LOGS}/{{frame}}/products.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/products.py"
