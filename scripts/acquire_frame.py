from pathlib import Path

from sar4tec.acquire.frame import acquire_frame
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake) as log:
    manifest = acquire_frame(
        snakemake.wildcards.frame,
        dict(snakemake.params.spec),
        dict(snakemake.params.acquire),
        Path(snakemake.output.manifest).parent,
        snakemake.params.cache,
        stack_section=dict(getattr(snakemake.params, "stack", {})),
    )
    log.info("wrote %s", manifest)
