"""Snakemake script of the `unwrap` rule: network of unwrapped interferograms of one frame."""

from pathlib import Path

from sar4tec.rulelog import rule_logging
from sar4tec.unwrap.stage import run_unwrap

with rule_logging(snakemake) as log:  # noqa: F821 - provided by Snakemake
    run_unwrap(
        snakemake.input.linked,  # noqa: F821
        snakemake.input.geometry,  # noqa: F821
        snakemake.output.unwrapped,  # noqa: F821
        snakemake.params.unwrap,  # noqa: F821
        workers=snakemake.threads,  # noqa: F821
        correction_paths={Path(p).stem: p for p in snakemake.input.corrections},  # noqa: F821
    )
