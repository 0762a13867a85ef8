from pathlib import Path

from sar4tec.products.stage import run_products
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    run_products(
        snakemake.input.calibrated,
        snakemake.input.timeseries,
        snakemake.input.linked,
        snakemake.input.geometry,
        snakemake.input.residuals,
        snakemake.input.manifest,
        list(snakemake.input.corrections),
        Path(snakemake.output[0]).parent,
        snakemake.params.products,
        snakemake.params.config,
        snakemake.input.slc_stack,
        snakemake.params.workflow_dir,
        snakemake.params.checksum_memo,
        snakemake.output.provenance,
    )
