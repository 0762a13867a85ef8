from pathlib import Path

from sar4tec.ingest import IngestSettings, ingest_frame
from sar4tec.rulelog import rule_logging

with rule_logging(snakemake) as log:
    settings = IngestSettings.from_config(
        dict(snakemake.params.source), dict(snakemake.params.stack)
    )
    manifest = ingest_frame(
        settings, snakemake.input.manifest, Path(snakemake.output.manifest).parent
    )
    log.info("wrote %s", manifest)
