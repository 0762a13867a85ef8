from sar4tec.rulelog import rule_logging
from sar4tec.sentinel1.geocode_stage import geocode_date

stack = snakemake.params.stack
with rule_logging(snakemake):
    geocode_date(
        snakemake.input.manifest,
        snakemake.input.plan,
        snakemake.wildcards.date,
        snakemake.output.cslc,
        burst_map=snakemake.input.burst_map,
        spacing=stack["cslc_spacing"],
        crs=stack["cslc_crs"],
        polarization=stack["polarization"],
        block_size=stack["block_size"],
        bistatic=stack["bistatic_correction"],
    )
