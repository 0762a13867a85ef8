# Products: what users open (QGIS, xarray, MintPy, STAC), per frame under results/{frame}/
# (docs/products.md); a STAC collection of all frames in results/collection.json.

#: figures that `snakemake --report` shows, with their captions in workflow/report/
REPORTED = {"quicklook.png": "quicklook.rst", "timeseries.png": "timeseries.rst"}


report: "../report/workflow.rst"


rule products:
    """Write the frame's products from the calibrated time series and quality layers."""
    input:
        calibrated=f"{WORK}/{{frame}}/calibrated.h5",
        timeseries=f"{WORK}/{{frame}}/timeseries.h5",
        linked=f"{WORK}/{{frame}}/phase_linking/linked.h5",
        geometry=f"{WORK}/{{frame}}/geometry.h5",
        slc_stack=f"{WORK}/{{frame}}/stack/slc_stack.h5",
        residuals=f"{RESULTS}/{{frame}}/gnss_residuals.csv",
        manifest=stack_manifest,
        corrections=expand(
            f"{WORK}/{{{{frame}}}}/corrections/{{kind}}.h5", kind=CORRECTIONS
        ),
    output:
        [
            (
                report(
                    f"{RESULTS}/{{frame}}/{name}",
                    caption=f"../report/{REPORTED[name]}",
                    category="Products",
                    subcategory="{frame}",
                )
                if name in REPORTED
                else f"{RESULTS}/{{frame}}/{name}"
            )
            for name in PRODUCT_FILES
        ],
        provenance=report(
            f"{WORK}/{{frame}}/provenance.html",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{frame}",
        ),
    log:
        f"{LOGS}/{{frame}}/products.log",
    conda:
        ENV
    threads: 1
    resources:
        # 2-D images of the frame (~15 float64 layers) + blocks of block_rows rows of the series
        mem_mb=3000,
        runtime=60,
    params:
        products=config["products"],
        config=lambda wildcards: frame_config(wildcards.frame),
        workflow_dir=workflow.basedir,
        checksum_memo=lambda wildcards: f"{WORK}/{wildcards.frame}/checksums.json",
    script:
        "../../scripts/products.py"


rule stac_collection:
    """Gather the frames' STAC items into one collection for the region."""
    input:
        frame_items=expand(f"{RESULTS}/{{frame}}/item.json", frame=FRAMES),
    output:
        collection=f"{RESULTS}/collection.json",
    log:
        f"{LOGS}/stac_collection.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        products=config["products"],
    script:
        "../../scripts/stac_collection.py"
