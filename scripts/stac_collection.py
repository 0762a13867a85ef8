from sar4tec.products.stac import write_collection
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    settings = snakemake.params.products
    write_collection(
        list(snakemake.input.frame_items),
        snakemake.output.collection,
        settings["stac_collection_id"],
        "sar4tec LOS velocity and displacement products of the configured frames",
        settings["stac_license"],
    )
