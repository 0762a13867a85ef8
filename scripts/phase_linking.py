from sar4tec.phaselink.io import link_stack_file
from sar4tec.phaselink.options import PhaseLinkOptions
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    section = snakemake.params.phase_linking
    link_stack_file(
        snakemake.input.slc_stack,
        snakemake.output.linked,
        PhaseLinkOptions.from_config(section),
        block_size=section["block_size"] or snakemake.params.block_size,
    )
