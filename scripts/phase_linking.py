"""Snakemake script of the `phase_linking` rule: gather the tiles into linked.h5."""

from pathlib import Path

from sar4tec.phaselink.options import PhaseLinkOptions
from sar4tec.phaselink.tiles import gather_tiles
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    gather_tiles(
        snakemake.input.slc_stack,
        snakemake.input.plan,
        {Path(p).stem: p for p in snakemake.input.tiles},
        snakemake.output.linked,
        PhaseLinkOptions.from_config(snakemake.params.phase_linking),
        block_size=snakemake.params.block_size,
        history=snakemake.params.history,
    )
