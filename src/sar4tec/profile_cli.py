"""``sar4tec profile install PROFILE``: install a Snakemake profile for a site.

Snakemake looks a profile name up in the current directory, then in the user's and the
site's configuration folders (``~/.config/snakemake/<name>``, ``/etc/xdg/snakemake/<name>``).
Installing a copy of ``profiles/<site>`` there, with the site's account and partition filled
in, lets every checkout of the workflow run ``snakemake --profile <site>``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import yaml

from sar4tec.files import atomic_output

#: command-line option -> default resource of the SLURM executor plugin
SITE_RESOURCES = {
    "account": "slurm_account",
    "partition": "slurm_partition",
    "clusters": "clusters",
}


def user_profile_folder() -> Path:
    """Where Snakemake finds a user's profiles (``$XDG_CONFIG_HOME/snakemake``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "snakemake"


def set_default_resources(profile: dict, values: dict[str, str]) -> dict:
    """The profile with ``default-resources`` entries replaced or added (``name=value`` list).

    Parameters
    ----------
    profile : dict
        A Snakemake profile (the parsed ``config.yaml``).
    values : dict
        Resource name -> value; entries with the same name are replaced.

    Returns
    -------
    dict
        A new profile; ``default-resources`` is written as a ``name=value`` list whether the
        input used a list or a mapping.
    """
    current = profile.get("default-resources") or []
    if isinstance(current, dict):
        current = [f"{key}={value}" for key, value in current.items()]
    kept = [entry for entry in current if entry.split("=", 1)[0].strip() not in values]
    return {
        **profile,
        "default-resources": kept + [f"{key}={value}" for key, value in values.items()],
    }


def install_profile(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    values: dict[str, str],
    *,
    overwrite: bool = False,
) -> Path:
    """Copy the profile folder ``source`` to ``destination`` with site resource values.

    Parameters
    ----------
    source : path
        A profile folder holding ``config.yaml`` (e.g. ``profiles/terrabyte``).
    destination : path
        The new profile folder (e.g. ``~/.config/snakemake/terrabyte``).
    values : dict
        Default resources to set (e.g. ``{"slurm_account": "pn12ab-c"}``).
    overwrite : bool
        Replace an existing ``config.yaml`` at the destination.

    Returns
    -------
    Path
        The written ``config.yaml``.
    """
    config = Path(source) / "config.yaml"
    if not config.is_file():
        raise FileNotFoundError(f"{source}: not a Snakemake profile (no config.yaml)")
    target = Path(destination) / "config.yaml"
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --overwrite to replace it")
    profile = set_default_resources(yaml.safe_load(config.read_text()) or {}, values)
    placeholders = [entry for entry in profile["default-resources"] if "CHANGE-ME" in str(entry)]
    if placeholders:
        raise ValueError(
            f"{config}: fill in {', '.join(placeholders)} (e.g. --account <project>-c)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target) as tmp:
        Path(tmp).write_text(
            f"# installed by sar4tec profile install from {Path(source).resolve()}\n"
            + yaml.safe_dump(profile, sort_keys=False)
        )
    return target


def register(subparsers) -> None:
    """Add the ``profile`` subcommand."""
    parser = subparsers.add_parser("profile", help="install a Snakemake profile for a site")
    actions = parser.add_subparsers(dest="action", required=True)
    install = actions.add_parser(
        "install", help="copy PROFILE to ~/.config/snakemake/NAME with the site's values"
    )
    install.add_argument("profile", help="profile folder, e.g. profiles/terrabyte")
    install.add_argument("--name", help="profile name (default: the folder's name)")
    install.add_argument(
        "--dest",
        help="profiles folder (default: $XDG_CONFIG_HOME/snakemake or ~/.config/snakemake)",
    )
    for option, resource in SITE_RESOURCES.items():
        install.add_argument(f"--{option}", help=f"SLURM {resource}")
    install.add_argument("--overwrite", action="store_true", help="replace an installed copy")
    install.set_defaults(func=run_install)


def run_install(args: argparse.Namespace) -> int:
    """Install the profile; print where and how to use it."""
    name = args.name or Path(args.profile).resolve().name
    folder = Path(args.dest) if args.dest else user_profile_folder()
    values = {
        resource: getattr(args, option)
        for option, resource in SITE_RESOURCES.items()
        if getattr(args, option)
    }
    target = install_profile(args.profile, folder / name, values, overwrite=args.overwrite)
    print(f"wrote {target}; run: snakemake --profile {name}")
    return 0
