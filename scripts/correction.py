"""Snakemake script of the `correction` rule: one correction layer (wildcard `kind`) per frame."""

from sar4tec.corrections.layers import write_layer
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake):
    write_layer(
        snakemake.wildcards.kind,
        snakemake.input.manifest,
        snakemake.input.geometry,
        snakemake.output.layer,
        snakemake.params.corrections,
    )
