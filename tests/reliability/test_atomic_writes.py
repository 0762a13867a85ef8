"""Every file the workflow writes goes through ``atomic_output`` (issue 10).

Two checks:

- an audit of the source: every call that creates or overwrites a file in ``src/sar4tec`` and
  ``scripts/`` (``open(.., "w")``, ``h5py.File(.., "w")``, ``rasterio.open(.., "w")``,
  ``write_text``, ``savefig``, ``to_netcdf``, ...) must write to a path derived from the name an
  enclosing ``with atomic_output(...) as tmp`` binds; the few exceptions are listed below with
  the reason each is safe.  A new writer that writes in place fails this test.
- ``atomic_output`` itself: a writer interrupted midway (an exception, or SIGKILL of the
  process) leaves no file under the final name, and an older complete file stays intact.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from sar4tec.files import atomic_output

REPO = Path(__file__).resolve().parents[2]

#: writers that write in place on purpose, ``"file:function"`` -> why that is safe
ALLOWED = {
    "src/sar4tec/acquire/download.py:cache_lock": "opens the advisory lock file, no data",
    "src/sar4tec/acquire/download.py:_transfer": (
        "appends to <dest>.part, renamed to dest by fetch only after the size/SHA-256 checks"
    ),
    "src/sar4tec/unwrap/stage.py:*": "opens os.devnull",
    "src/sar4tec/timeseries/corrections.py:write_csv": (
        "writes the path it is given; its one caller (timeseries/stage.py) gives atomic_output's"
    ),
    "src/sar4tec/ingest/synthetic.py:*": "writes test inputs for the tests and a benchmark",
    "src/sar4tec/stack/pipeline.py:apply_source_geometry": (
        "updates the path it is given; its one caller (build_stack) gives atomic_output's"
    ),
    "src/sar4tec/simulate/radar.py:write_burst": (
        "fills a measurement TIFF inside write_date_product's staging folder (renamed when whole)"
    ),
    "src/sar4tec/simulate/radar_safe.py:write_safe": (
        "creates the measurement TIFFs inside write_date_product's staging folder"
    ),
}

#: known in-place writers in rule code, reported to their owners (issue 10): remove an entry
#: when it is fixed; the test fails on any writer missing from both lists
KNOWN: dict[str, str] = {}

#: (callable name, index of the path argument or "receiver", modes that write)
WRITERS = {
    "open": (0, "wax+"),
    "File": (0, "wax+"),  # h5py.File
    "Dataset": (0, "wax+"),  # netCDF4.Dataset
    "write_text": ("receiver", None),
    "write_bytes": ("receiver", None),
    "savefig": (0, None),
    "to_netcdf": (0, None),
    "tofile": (0, None),
    "save": (0, None),  # numpy.save
    "copyfile": (1, None),
    "copy": (1, None),  # rio_copy, shutil.copy
}


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _mode(call: ast.Call) -> str | None:
    for kw in call.keywords:
        if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    if len(call.args) > 1 and isinstance(call.args[1], ast.Constant):
        return str(call.args[1].value)
    return None


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _atomic(expr: ast.AST, tainted: set[str]) -> bool:
    """Whether ``expr`` uses a name bound by atomic_output or calls atomic_output itself."""
    calls = (n for n in ast.walk(expr) if isinstance(n, ast.Call))
    return bool(_names(expr) & tainted) or any(_callee(c) == "atomic_output" for c in calls)


def _own_nodes(scope: ast.AST):
    """The nodes of a function (or module) body, not descending into nested functions."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


def in_place_writes(path: Path) -> list[str]:
    """``"function:line"`` of each write in ``path`` not aimed at an atomic_output path."""
    tree = ast.parse(path.read_text())
    found = []
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)] + [tree]:
        tainted: set[str] = set()
        for node in _own_nodes(function):  # names bound by atomic_output and derived from them
            if isinstance(node, ast.With):
                for item in node.items:
                    expr = item.context_expr
                    if (
                        isinstance(expr, ast.Call)
                        and _callee(expr) == "atomic_output"
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        tainted.add(item.optional_vars.id)
        for _ in range(3):  # propagate through assignments (staging = tmp.with_name(...))
            for node in _own_nodes(function):
                if isinstance(node, ast.Assign) and _atomic(node.value, tainted):
                    for target in node.targets:
                        tainted |= _names(target)
        for node in _own_nodes(function):
            if not isinstance(node, ast.Call) or (name := _callee(node)) not in WRITERS:
                continue
            where, modes = WRITERS[name]
            if modes is not None:
                mode = _mode(node)
                if mode is None or not set(mode) & set(modes):
                    continue  # reads (the default mode of open, h5py.File, netCDF4.Dataset)
            if where == "receiver":
                target = node.func.value
            elif len(node.args) > where:
                target = node.args[where]
            else:
                continue
            if not _atomic(target, tainted):
                label = function.name if isinstance(function, ast.FunctionDef) else "<module>"
                found.append(f"{label}:{node.lineno}")
    return sorted(set(found))


def test_every_writer_in_the_package_and_scripts_is_atomic():
    offenders = []
    for path in sorted([*(REPO / "src/sar4tec").rglob("*.py"), *(REPO / "scripts").glob("*.py")]):
        rel = path.relative_to(REPO).as_posix()
        for where in in_place_writes(path):
            function = where.split(":")[0]
            if not {f"{rel}:{function}", f"{rel}:*"} & (ALLOWED.keys() | KNOWN.keys()):
                offenders.append(f"{rel}:{where}")
    assert not offenders, (
        "these calls write a file in place instead of through sar4tec.files.atomic_output "
        "(a killed job would leave a half-written file under its final name):\n"
        + "\n".join(offenders)
    )


def test_the_audit_finds_an_in_place_writer(tmp_path):
    """The audit itself can fail: it flags a writer that bypasses atomic_output."""
    source = tmp_path / "writer.py"
    source.write_text(
        "import h5py\n"
        "from sar4tec.files import atomic_output\n"
        "def good(path):\n"
        "    with atomic_output(path) as tmp:\n"
        "        staging = tmp.with_name('x.h5')\n"
        "        with h5py.File(staging, 'w'):\n"
        "            pass\n"
        "def bad(path):\n"
        "    with h5py.File(path, 'w'):\n"
        "        pass\n"
        "    path.write_text('x')\n"
    )
    assert in_place_writes(source) == ["bad:11", "bad:9"]


def test_an_interrupted_writer_leaves_no_final_file_and_keeps_the_old_one(tmp_path):
    final = tmp_path / "product.h5"
    with pytest.raises(RuntimeError), atomic_output(final) as tmp:
        with h5py.File(tmp, "w") as f:
            f["data"] = np.arange(10)
        raise RuntimeError("killed midway")
    assert not final.exists() and list(tmp_path.iterdir()) == []
    with atomic_output(final) as tmp, h5py.File(tmp, "w") as f:
        f["data"] = np.arange(10)
    with pytest.raises(RuntimeError), atomic_output(final) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed midway")
    with h5py.File(final, "r") as f:  # the older complete product is untouched
        assert f["data"][()].tolist() == list(range(10))


WRITER = """
import sys, time, h5py, numpy as np
from sar4tec.files import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    with h5py.File(tmp, "w") as f:
        d = f.create_dataset("data", (4000, 1000), "f8")
        for i in range(4000):
            d[i] = i
            if i == 10:
                print("writing", flush=True)
            time.sleep(0.01)
"""


def test_a_sigkilled_writer_leaves_no_final_file(tmp_path):
    final = tmp_path / "product.h5"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(final)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout.readline().strip() == "writing"
        time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert not final.exists()
    leftovers = [p.name for p in tmp_path.iterdir()]
    # SIGKILL runs no cleanup: the temporary file stays, hidden and never read as a product
    assert len(leftovers) == 1 and leftovers[0].startswith(".product.tmp-")
