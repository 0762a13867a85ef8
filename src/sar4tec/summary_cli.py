"""``sar4tec summary``: the region summary of the latest run (``results/summary.{json,md}``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``summary`` subcommand."""
    parser = subparsers.add_parser(
        "summary",
        help="frames done/failed and time per rule of the latest run (results/summary.md)",
        description="Write results/summary.json and results/summary.md from the rule logs and "
        "products of a run (what the workflow's onsuccess/onerror hooks do), and print it.",
    )
    parser.add_argument(
        "--configfile", help="workflow configuration: its frames (and region) and paths"
    )
    parser.add_argument("--results", help="results folder (default: the config's, or results)")
    parser.add_argument("--logs", help="rule log folder (default: the config's, or logs)")
    parser.add_argument(
        "--frames", nargs="+", help="frames (default: the config's, or the folders of the logs)"
    )
    parser.add_argument("--snakemake-log", help="Snakemake's log of the run (.snakemake/log/)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sar4tec.summary import to_markdown, write_summary

    paths = {"results": "results", "logs": "logs"}
    frames = args.frames
    if args.configfile:
        from sar4tec.config import load_config
        from sar4tec.regions.select import region_frames

        config = load_config(args.configfile)
        paths.update({k: config["paths"][k] for k in paths})
        frames = frames or [*config["frames"], *region_frames(config)]
    results = Path(args.results or paths["results"])
    logs = Path(args.logs or paths["logs"])
    if not frames:
        frames = sorted(
            {p.name for folder in (logs, results) if folder.is_dir() for p in folder.iterdir()
             if p.is_dir()}
        )  # fmt: skip
    summary = write_summary(
        list(dict.fromkeys(frames)), results, logs, "unknown", args.snakemake_log
    )
    print(to_markdown(summary))
    return 0
