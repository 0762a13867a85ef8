"""Snakemake script of the `correction` rule: one correction layer (wildcard `kind`) per frame."""

from sar4tec.corrections.layers import write_layer
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake) as log:  # noqa: F821 - provided by Snakemake
    write_layer(
        snakemake.wildcards.kind,  # noqa: F821
        snakemake.input.manifest,  # noqa: F821
        snakemake.input.geometry,  # noqa: F821
        snakemake.output.layer,  # noqa: F821
        snakemake.params.corrections,  # noqa: F821
    )
