"""``sar4tec config check CONFIG``: validate a workflow configuration and show its frames."""

from __future__ import annotations

import argparse

import yaml

from sar4tec.config import load_config


def register(subparsers) -> None:
    """Add the ``config`` subcommand."""
    parser = subparsers.add_parser("config", help="check a workflow configuration")
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate CONFIG against the schema")
    check.add_argument("config", help="YAML configuration file")
    check.add_argument(
        "--show", action="store_true", help="print the configuration with defaults filled in"
    )
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Validate the configuration; print the frames (and the full config with ``--show``)."""
    config = load_config(args.config)
    frames = ", ".join(f"{name} ({spec['source']})" for name, spec in config["frames"].items())
    print(f"{args.config}: valid; frames: {frames}")
    if args.show:
        print(yaml.safe_dump(config, sort_keys=False))
    return 0
