from sar4tec.rulelog import rule_logging
from sar4tec.sentinel1.geocode_stage import plan_geocoding

with rule_logging(snakemake):
    plan_geocoding(snakemake.input.manifest, snakemake.output.plan)
