# Paths, frame lists and resource helpers shared by every rule file.
from sar4tec.products.stage import PRODUCT_FILES
from sar4tec.sentinel1.geocode_stage import plan_dates

ENV = "../../envs/sar4tec.yaml"
DATA = config["paths"]["data"]
WORK = config["paths"]["work"]
RESULTS = config["paths"]["results"]
LOGS = config["paths"]["logs"]

# Frames of the region (cached expansion, sar4tec.regions.select) join the configured ones;
# each region frame carries its bursts, track, direction and bounds for the acquire rules.
from sar4tec.regions.select import region_frames

for _fid, _frame in region_frames(config).items():
    config["frames"].setdefault(_fid, {"source": config["region"]["source"], **_frame})
FRAMES = list(config["frames"])
if not FRAMES:
    raise ValueError(
        "the configuration names no frame: give `frames`, a `region`, or both"
    )


def frames_from(source):
    """Frame IDs whose inputs come from ``source`` (simulate, sentinel1 or local)."""
    return [f for f, spec in config["frames"].items() if spec["source"] == source]


def frame_pattern(frames):
    """Wildcard constraint matching exactly the given frame IDs (never matches if empty)."""
    return "|".join(map(str, frames)) if frames else "(?!)"


def threads_for(stage, default=1):
    """Threads of a stage's rule: its config key ``workers`` (capped by --cores), else default."""
    return int(config.get(stage, {}).get("workers", default))


wildcard_constraints:
    frame=frame_pattern(FRAMES),


CORRECTIONS = ["troposphere", "ionosphere", "tides"]


def frames_ingested():
    """Frame IDs whose SLC stack is ingested from elsewhere (a `stack` entry; ingest.smk)."""
    return [f for f, spec in config["frames"].items() if spec.get("stack")]


def stack_manifest(wildcards):
    """The frame's manifest with `slc` filled: geocoded or ingested CSLCs, or the simulator's."""
    if config["frames"][wildcards.frame]["source"] == "simulate":
        return f"{DATA}/{wildcards.frame}/manifest.json"
    if config["frames"][wildcards.frame].get("stack"):
        return f"{WORK}/{wildcards.frame}/ingest/manifest.json"
    return f"{WORK}/{wildcards.frame}/cslc/manifest.json"


def product_targets(frames):
    """Every product file of the given frames, and the region's STAC collection."""
    targets = expand(f"{RESULTS}/{{frame}}/{{name}}", frame=frames, name=PRODUCT_FILES)
    return targets + ([f"{RESULTS}/collection.json"] if frames else [])


def cslc_files(wildcards):
    """One CSLC per acquisition date of the frame's plan (known once the checkpoint ran)."""
    plan = checkpoints.geocode_plan.get(frame=wildcards.frame).output.plan
    return [f"{WORK}/{wildcards.frame}/cslc/{date}.h5" for date in plan_dates(plan)]


def frame_config(frame):
    """The configuration as it concerns one frame (the region's other frames left out), so
    adding or removing frames does not rerun the products of the others."""
    return {**config, "frames": {frame: config["frames"][frame]}}
