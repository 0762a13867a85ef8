"""A rule's threads reach numba, BLAS and child processes; its log file says how it ended."""

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numba
import pytest

from sar4tec.rulelog import THREAD_VARIABLES, rule_logging


def test_threads_reach_numba_blas_and_child_processes():
    # in a fresh interpreter, so this process keeps its pools; numba starts with 2 threads so
    # that a cap of 1 is visible even on a 1-core machine
    code = textwrap.dedent(
        """
        import json, os, subprocess, sys
        import numba, numpy, threadpoolctl
        from sar4tec.rulelog import set_threads
        set_threads(1)
        numba.njit(lambda x: x + 1)(1)  # numba still compiles after the cap
        child = subprocess.run([sys.executable, "-c", "import os, json; "
                                "print(json.dumps(dict(os.environ)))"],
                               capture_output=True, text=True, check=True)
        print(json.dumps({
            "numba": numba.get_num_threads(),
            "blas": [p["num_threads"] for p in threadpoolctl.threadpool_info()],
            "child_env": json.loads(child.stdout),
        }))
        """
    )
    env = {"NUMBA_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    result = json.loads(out.stdout)
    assert result["numba"] == 1
    assert result["blas"] and all(n == 1 for n in result["blas"])
    for name in THREAD_VARIABLES:
        assert result["child_env"][name] == "1"


def test_rule_log_records_the_failure_and_its_reason(tmp_path):
    log = tmp_path / "rule.log"
    threads = numba.config.NUMBA_NUM_THREADS  # all of them: later tests keep their speed
    smk = SimpleNamespace(log=[str(log)], threads=threads, wildcards={"frame": "f1"}, rule="stack")
    with pytest.raises(ValueError, match="broken input"):
        with rule_logging(smk):
            raise ValueError("broken input")
    text = log.read_text()
    assert f"stack started with {threads} thread(s)" in text
    assert "stack failed" in text and "ValueError: broken input" in text
