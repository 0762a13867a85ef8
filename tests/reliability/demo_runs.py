"""Running the demo for the reliability tests, and comparing the products of two runs."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

#: metadata that records *when* a file was made, not what it holds (compared nowhere); mtime_ns:
#: the file times in the checksum caches of the inputs (``work/{frame}/checksums.json``)
VOLATILE_KEYS = frozenset(
    {"created", "updated", "date_created", "date_modified", "history", "mtime_ns"}
)
#: netCDF-4 dimension-scale bookkeeping: HDF5 object addresses, not content
REFERENCE_ATTRIBUTES = frozenset({"DIMENSION_LIST", "REFERENCE_LIST"})


# --- comparing the products of two runs ----------------------------------------------------


#: the run's own report (job timings, core-hours, when it was made): not a product
RUN_REPORTS = frozenset({"results/summary.json", "results/summary.md"})


def product_files(workdir: Path) -> list[str]:
    """Files under ``data/``, ``work/``, ``results/`` (relative), except hidden ones and reports."""
    files = []
    for top in ("data", "work", "results"):
        for path in sorted((workdir / top).rglob("*")):
            name = path.relative_to(workdir).as_posix()
            hidden = any(p.startswith(".") for p in path.parts)
            if path.is_file() and not hidden and name not in RUN_REPORTS:
                files.append(name)
    return files


def _scrub(value):
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _gap(a, b) -> str:
    """How far two numeric arrays of one shape are apart (for the failure message)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype.kind not in "fciu":
        return ""
    a, b = a.astype(np.complex128), b.astype(np.complex128)
    differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    gap = np.abs(a - b)[differ]
    gap = gap[np.isfinite(gap)]
    return f" ({differ.sum()} of {a.size} differ, max {gap.max() if gap.size else np.nan:.3g})"


def _hdf5_differences(a: Path, b: Path) -> list[str]:
    """Datasets and attributes (other than the volatile and reference ones) that differ."""
    found = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names_a, names_b = [], []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        if names_a != names_b:
            return [f"members differ: {sorted(set(names_a) ^ set(names_b))}"]
        for name in ["/", *names_a]:
            oa, ob = fa[name], fb[name]
            keys = (set(oa.attrs) | set(ob.attrs)) - VOLATILE_KEYS - REFERENCE_ATTRIBUTES
            for key in sorted(keys):
                if key not in oa.attrs or key not in ob.attrs:
                    found.append(f"{name} attribute {key} only in one file")
                elif not _equal(oa.attrs[key], ob.attrs[key]):
                    found.append(f"{name} attribute {key}")
            if isinstance(oa, h5py.Dataset) and not _equal(va := oa[()], vb := ob[()]):
                found.append(f"{name} values{_gap(va, vb)}")
    return found


def _tiff_differences(a: Path, b: Path) -> list[str]:
    import rasterio

    with rasterio.open(a) as ra, rasterio.open(b) as rb:
        pa, pb, fa, fb = ra.read(), rb.read(), ra.profile, rb.profile
        ta, tb = _scrub(ra.tags()), _scrub(rb.tags())
    found = [] if _equal(pa, pb) else [f"pixels{_gap(pa, pb)}"]
    found += [f"profile {k}" for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
    return found + [f"tag {k}" for k in sorted(set(ta) | set(tb)) if ta.get(k) != tb.get(k)]


def _json_differences(a, b, where: str = "") -> list[str]:
    """Paths (``/key/0/...``) where two JSON documents differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _json_differences(a.get(k), b.get(k), f"{where}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for k, (x, y) in pairs for d in _json_differences(x, y, f"{where}/{k}")]
    return [] if a == b else [where or "/"]


def _json(path: Path, run: Path):
    """A JSON file with the run's folder in paths (e.g. checksum tables) replaced by ``<run>``."""
    return _scrub(json.loads(path.read_text().replace(str(run), "<run>")))


def content_differences(a: Path, b: Path, runs: tuple[Path, Path]) -> list[str]:
    """What differs in the content of two files of the same kind (empty: equal)."""
    if a.suffix in (".h5", ".nc"):
        return _hdf5_differences(a, b)
    if a.suffix == ".tif":
        return _tiff_differences(a, b)
    if a.suffix == ".png":
        import matplotlib.image

        pa, pb = matplotlib.image.imread(a), matplotlib.image.imread(b)
        return [] if _equal(pa, pb) else [f"pixels{_gap(pa, pb)}"]
    if a.suffix == ".json":
        return _json_differences(_json(a, runs[0]), _json(b, runs[1]))
    return ["bytes"]


def compare_runs(first: Path, second: Path) -> dict[str, str]:
    """Compare every file two runs wrote; ``{file: "bitwise" | "content"}``.

    ``bitwise``: the files are byte-for-byte equal; ``content``: the bytes differ (container
    layout, timestamps, the run's folder in a path) but every array, attribute and tag is
    exactly equal.  Raises
    AssertionError listing what differs in each file whose content differs.
    """
    files = product_files(first)
    assert files == product_files(second), "the two runs wrote different files"
    verdict, problems = {}, []
    for name in files:
        a, b = first / name, second / name
        if a.read_bytes() == b.read_bytes():
            verdict[name] = "bitwise"
            continue
        differences = content_differences(a, b, (first, second))
        if differences:
            problems.append(f"{name}: {', '.join(differences[:8])}")
        verdict[name] = "content"
    assert not problems, "products differ between the runs:\n" + "\n".join(problems)
    return verdict
