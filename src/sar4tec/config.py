"""Loading and validating a workflow configuration (Snakefile and ``sar4tec config check``).

The schemas live in ``workflow/schemas/`` (reached from the package through its ``schemas``
link): ``config.schema.yaml`` for the top level and one ``<section>.schema.yaml`` per section.
Each is applied with Snakemake's ``validate``, which also fills in the defaults; the Snakefile
calls :func:`validate_config`, so the workflow and the command line accept and reject exactly
the same files.  (Sections are validated one by one because defaults are not filled in through
``$ref`` links.)
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from sar4tec.errors import Sar4tecError


class ConfigError(Sar4tecError, ValueError):
    """A configuration that does not follow the schema; the message names the key."""


#: sections of the configuration, each with a schema file ``<section>.schema.yaml``
SECTIONS = (
    "simulation",
    "region",
    "acquire",
    "stack",
    "phase_linking",
    "unwrap",
    "corrections",
    "inversion",
    "reference",
    "products",
)


def schema_path(name: str = "config") -> Path:
    """Path of the schema file ``<name>.schema.yaml`` (``config`` = the top level)."""
    path = Path(str(files("sar4tec") / "schemas" / f"{name}.schema.yaml"))
    if not path.exists():
        raise FileNotFoundError(f"configuration schema not found at {path}")
    return path


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place against the schema and fill in defaults.

    Raises
    ------
    ConfigError
        Naming the section and the offending key inside it, and why.
    """
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(config, str(schema_path()), set_default=True)
    except WorkflowError as err:
        raise ConfigError(f"in the top level of the configuration: {err}") from None
    for section in SECTIONS:
        try:
            validate(config[section], str(schema_path(section)), set_default=True)
        except WorkflowError as err:
            # Snakemake's message names the key inside the section ("On instance['strides']")
            raise ConfigError(f"in config section '{section}': {err}") from None
    return config


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a YAML configuration, apply ``overrides`` (top-level keys), validate it."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys")
    config.update(overrides or {})
    return validate_config(config)
