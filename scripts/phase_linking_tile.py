"""Snakemake script of the `phase_linking_tile` rule: phase-link one tile of a frame."""

from sar4tec.phaselink.options import PhaseLinkOptions
from sar4tec.phaselink.tiles import link_tile
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    section = snakemake.params.phase_linking
    link_tile(
        snakemake.input.slc_stack,
        snakemake.input.plan,
        snakemake.wildcards.tile,
        snakemake.output.tile,
        PhaseLinkOptions.from_config(section),
        block_size=snakemake.params.block_size,
        history=snakemake.params.history,
        memory_mb=section["memory_mb"],
        threads=snakemake.threads,
    )
