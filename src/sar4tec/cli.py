"""The ``sar4tec`` console command: what users do outside the Snakemake DAG.

Each subcommand lives with the package it belongs to, in a ``cli`` module exposing
``register(subparsers)``; the subcommand's parser stores its handler as ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: packages that contribute subcommands, in the order ``sar4tec --help`` lists them
SUBCOMMAND_MODULES = (
    "sar4tec.simulate.cli",  # sar4tec simulate CONFIG OUTDIR
    "sar4tec.regions.cli",  # sar4tec regions list CONFIG
    "sar4tec.config_cli",  # sar4tec config check CONFIG
    "sar4tec.profile_cli",  # sar4tec profile install PROFILE
    "sar4tec.products.cli",  # sar4tec inspect PRODUCT
    "sar4tec.summary_cli",  # sar4tec summary [--configfile CONFIG]
    "sar4tec.ingest.cli",  # sar4tec ingest FORMAT PATH MANIFEST OUTDIR
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    from sar4tec import __version__

    parser = argparse.ArgumentParser(prog="sar4tec", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"sar4tec {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # the subcommand's module is not part of this install
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``sar4tec`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as err:
        print(f"sar4tec {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
