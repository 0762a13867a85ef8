from sar4tec.rulelog import rule_logging
from sar4tec.sentinel1.geocode_stage import write_frame_burst_map

stack = snakemake.params.stack
with rule_logging(snakemake):
    write_frame_burst_map(
        snakemake.input.manifest,
        snakemake.input.plan,
        snakemake.output.burst_map,
        spacing=stack["cslc_spacing"],
        crs=stack["cslc_crs"],
        polarization=stack["polarization"],
        block_size=stack["block_size"],
        bistatic=stack["bistatic_correction"],
    )
