"""Snakemake script of the `inversion` rule: time series, corrections, velocity of one frame."""

from pathlib import Path

from sar4tec.rulelog import rule_logging
from sar4tec.timeseries.stage import run_inversion

with rule_logging(snakemake) as log:
    run_inversion(
        snakemake.input.unwrapped,
        snakemake.input.linked,
        snakemake.input.geometry,
        {Path(p).stem: p for p in snakemake.input.corrections},
        snakemake.output.timeseries,
        snakemake.output.stats,
        snakemake.params.inversion,
        slc_stack_path=snakemake.input.slc_stack,
    )
