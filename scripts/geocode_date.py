from sar4tec.rulelog import rule_logging
from sar4tec.sentinel1.geocode_stage import geocode_date

stack = snakemake.params.stack
with rule_logging(snakemake):
    geocode_date(
        snakemake.input.manifest,
        snakemake.input.plan,
        snakemake.wildcards.date,
        snakemake.output.cslc,
        spacing=stack["cslc_spacing"],
        polarization=stack["polarization"],
        block_size=stack["block_size"],
        bistatic=stack["bistatic_correction"],
    )
