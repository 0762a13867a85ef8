"""Snakemake script of the `inversion` rule: time series, corrections, velocity of one frame."""

from pathlib import Path

from sar4tec.rulelog import rule_logging
from sar4tec.timeseries.stage import run_inversion

with rule_logging(snakemake) as log:  # noqa: F821 - provided by Snakemake
    run_inversion(
        snakemake.input.unwrapped,  # noqa: F821
        snakemake.input.linked,  # noqa: F821
        snakemake.input.geometry,  # noqa: F821
        {Path(p).stem: p for p in snakemake.input.corrections},  # noqa: F821
        snakemake.output.timeseries,  # noqa: F821
        snakemake.output.stats,  # noqa: F821
        snakemake.params.inversion,  # noqa: F821
        slc_stack_path=snakemake.input.slc_stack,  # noqa: F821
    )
