# sar4tec: one DAG of per-frame rules, from acquisition to products.
# The rules live in workflow/rules/, the science in src/sar4tec/, and config/config.yaml is the
# embedded synthetic demo (snakemake --cores 2 runs it end to end).
from snakemake.utils import min_version

from sar4tec.config import validate_config

min_version("9.0")


configfile: "config/config.yaml"


validate_config(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/acquire.smk"
include: "workflow/rules/geocode.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/stack.smk"
include: "workflow/rules/phase_linking.smk"
include: "workflow/rules/unwrap.smk"
include: "workflow/rules/corrections.smk"
include: "workflow/rules/inversion.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/products.smk"


rule all:
    default_target: True
    input:
        product_targets(FRAMES),


# The region summary (frames done/failed with the reason, time and core-hours per rule):
# results/summary.json and results/summary.md after every run (also: sar4tec summary).
onsuccess:
    from sar4tec.summary import write_summary

    write_summary(FRAMES, RESULTS, LOGS, "success", log)


onerror:
    from sar4tec.summary import write_summary

    write_summary(FRAMES, RESULTS, LOGS, "error", log)
