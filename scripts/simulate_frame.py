from pathlib import Path

from sar4tec.rulelog import rule_logging
from sar4tec.simulate import simulate_frame

with rule_logging(snakemake):
    outdir = Path(snakemake.output.manifest).parent
    if Path(snakemake.output.truth) != outdir / "truth.h5":
        raise ValueError(f"rule simulate_frame: truth must be {outdir / 'truth.h5'}")
    simulate_frame(snakemake.params.config, outdir, snakemake.wildcards.frame)
