from sar4tec.rulelog import rule_logging
from sar4tec.stack.pipeline import build_stack

with rule_logging(snakemake):
    build_stack(
        snakemake.input.manifest,
        snakemake.output.slc_stack,
        snakemake.output.slc_geometry,
        snakemake.output.geometry,
        polarization=snakemake.params.stack["polarization"],
        block_size=snakemake.params.stack["block_size"],
        strides=tuple(snakemake.params.strides),
    )
