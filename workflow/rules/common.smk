# Paths, frame lists and resource helpers shared by every rule file.
import os


ENV = "../../envs/sar4tec.yaml"
DATA = config["paths"]["data"]
WORK = config["paths"]["work"]
RESULTS = config["paths"]["results"]
LOGS = config["paths"]["logs"]

FRAMES = list(config["frames"])


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
