from sar4tec.rulelog import rule_logging
from sar4tec.sentinel1.geocode_stage import write_cslc_manifest

with rule_logging(snakemake):
    write_cslc_manifest(
        snakemake.input.manifest,
        snakemake.input.cslc,
        snakemake.output.manifest,
        polarization=snakemake.params.polarization,
    )
