"""``sar4tec simulate CONFIG OUTDIR [--frame NAME] [--seed N]``: write a synthetic frame."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``simulate`` subcommand to the ``sar4tec`` parser."""
    parser = subparsers.add_parser(
        "simulate",
        help="write a synthetic Sentinel-1 frame (inputs in real formats + truth.h5)",
        description=__doc__,
    )
    parser.add_argument("config", type=Path, help="workflow configuration (YAML)")
    parser.add_argument("outdir", type=Path, help="output folder, e.g. data/demo")
    parser.add_argument(
        "--frame",
        help="frame name (default: the first frame with source 'simulate' in CONFIG, else demo)",
    )
    parser.add_argument("--seed", type=int, help="override the configuration's top-level seed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load and validate the configuration, simulate, print progress to stderr."""
    from sar4tec.config import load_config
    from sar4tec.simulate import simulate_frame

    overrides = {} if args.seed is None else {"seed": args.seed}
    config = load_config(args.config, overrides)
    frame = args.frame or next(
        (name for name, spec in config["frames"].items() if spec["source"] == "simulate"), "demo"
    )
    start = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {message}", file=sys.stderr, flush=True)

    manifest = simulate_frame(config, args.outdir, frame, progress=progress)
    print(manifest)
    return 0
