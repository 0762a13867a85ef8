"""Snakemake script of the `phase_linking_tiles` checkpoint: plan the frame's tiles."""

from sar4tec.phaselink.options import PhaseLinkOptions
from sar4tec.phaselink.tiles import write_tile_plan
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    section = snakemake.params.phase_linking
    write_tile_plan(
        snakemake.input.slc_stack,
        snakemake.output.plan,
        PhaseLinkOptions.from_config(section),
        section["tile_size"],
    )
