"""``sar4tec regions list CONFIG``: the frames a configuration's region expands into."""

from __future__ import annotations

import argparse
import json

from sar4tec.config import load_config
from sar4tec.regions.select import region_frames


def register(subparsers) -> None:
    """Add the ``regions`` subcommand."""
    parser = subparsers.add_parser("regions", help="frames of a strain-rate region")
    actions = parser.add_subparsers(dest="action", required=True)
    lister = actions.add_parser("list", help="print the frames CONFIG's region expands into")
    lister.add_argument("config", help="YAML workflow configuration with a `region` section")
    lister.add_argument("--json", action="store_true", help="print JSON instead of a table")
    lister.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Print one line per frame: ID, track, direction, bursts per swath, bounds."""
    config = load_config(args.config)
    frames = region_frames(config)
    if args.json:
        print(json.dumps(frames, indent=1))
        return 0
    if not frames:
        print(f"{args.config}: no region frames (region needs burst_db and strain_file or bbox)")
        return 0
    print(f"{'frame':<14} {'track':>5} {'direction':<10} {'IW1':>3} {'IW2':>3} {'IW3':>3}  bounds")
    for fid, frame in frames.items():
        count = {s: sum(b.endswith(s) for b in frame["bursts"]) for s in ("IW1", "IW2", "IW3")}
        west, south, east, north = frame["bounds"]
        print(
            f"{fid:<14} {frame['track']:>5} {frame['orbit_direction']:<10} "
            f"{count['IW1']:>3} {count['IW2']:>3} {count['IW3']:>3}  "
            f"{west:.2f} {south:.2f} {east:.2f} {north:.2f}"
        )
    print(f"{len(frames)} frames")
    return 0
