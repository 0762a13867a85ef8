from sar4tec.reference.stage import run_reference
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    run_reference(
        snakemake.input.timeseries,
        snakemake.input.geometry,
        snakemake.input.manifest,
        snakemake.output.calibrated,
        snakemake.output.residuals,
        snakemake.params.reference,
    )
