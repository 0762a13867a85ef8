"""The Snakemake command line the workflow tests run (the README's, in a temporary folder)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def demo_command(workdir: Path, *args: str, configs: Sequence[Path] = ()) -> list[str]:
    """``snakemake`` on the demo config (plus ``configs`` on top) in ``workdir``, 2 cores."""
    return [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(REPO / "config/config.yaml"), *map(str, configs),
        "--cores", "2", *args,
    ]  # fmt: skip


def run_demo(
    workdir: Path, *args: str, configs: Sequence[Path] = ()
) -> subprocess.CompletedProcess:
    """Run :func:`demo_command`; its output is captured."""
    command = demo_command(workdir, *args, configs=configs)
    return subprocess.run(command, capture_output=True, text=True, check=False)
