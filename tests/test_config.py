import subprocess
import sys

import pytest
import yaml

from sar4tec.cli import main
from sar4tec.config import ConfigError, load_config, validate_config


def minimal():
    return {"frames": {"demo": {"source": "simulate"}}}


def test_defaults_are_filled_in_every_section():
    config = validate_config(minimal())
    assert config["seed"] == 0
    assert config["paths"]["results"] == "results"
    assert config["phase_linking"]["half_window"] == [5, 5]
    assert config["stack"]["block_size"] == 256


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"phase_linking": {"half_windo": [3, 3]}}, "half_windo"),
        ({"phase_lnking": {}}, "phase_lnking"),
        ({"stack": {"block_size": "big"}}, "block_size"),
        ({"frames": {"x y": {"source": "simulate"}}}, "x y"),
        ({"frames": {"f": {"source": "sim"}}}, "source"),
    ],
)
def test_errors_name_the_offending_key(change, named):
    config = minimal() | change
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert named in str(err.value)


def test_default_config_file_is_valid():
    config = load_config("config/config.yaml")
    assert "demo" in config["frames"]


def test_cli_config_check(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(minimal()))
    assert main(["config", "check", str(good)]) == 0
    assert "valid; frames: demo (simulate)" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(minimal() | {"stack": {"blocksize": 3}}))
    assert main(["config", "check", str(bad)]) == 1
    assert "blocksize" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "sar4tec.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "config" in out.stdout
