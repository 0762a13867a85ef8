"""Snakemake script of the `unwrap` rule: network of unwrapped interferograms of one frame."""

from pathlib import Path

from sar4tec.rulelog import rule_logging
from sar4tec.unwrap.stage import run_unwrap

with rule_logging(snakemake) as log:
    run_unwrap(
        snakemake.input.linked,
        snakemake.input.geometry,
        snakemake.output.unwrapped,
        snakemake.params.unwrap,
        workers=snakemake.threads,
        correction_paths={Path(p).stem: p for p in snakemake.input.corrections},
        cache_dir=snakemake.params.cache,
    )
