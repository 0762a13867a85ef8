"""Cache of unwrapped interferograms, keyed by everything SNAPHU sees.

When acquisitions are appended to a frame, the linked phases of the dates in reused
ministacks are copied unchanged from the phase-linking history, so most interferograms of the
network are the same as in the previous run.  An interferogram is looked up by the SHA-256 of
its wrapped phase, coherence and unwrapping mask (the exact arrays handed to SNAPHU) and of
the SNAPHU settings and version; a hit returns the stored result instead of running SNAPHU
again.  SNAPHU is deterministic, so a hit equals a recomputation bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from sar4tec.files import atomic_output


def interferogram_key(
    ifg: np.ndarray, coherence: np.ndarray, mask: np.ndarray, settings: Mapping[str, Any]
) -> str:
    """SHA-256 (hex) of the unwrapper's inputs: arrays (values, dtype, shape) and settings."""
    digest = hashlib.sha256()
    for array in (ifg, coherence, mask):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(f"snaphu {version('snaphu')}".encode())
    return digest.hexdigest()


def cached_unwrap(
    folder: str | os.PathLike | None,
    key: str,
    unwrap: Callable[[], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``unwrap()``'s ``(unwrapped, components)``, from ``folder/<key>.npz`` when present.

    Returns the two arrays and whether they came from the cache.  New results are written
    atomically; ``folder=None`` disables the cache.
    """
    if folder is None:
        unw, cc = unwrap()
        return unw, cc, False
    path = Path(folder) / f"{key}.npz"
    if path.exists():
        with np.load(path) as stored:
            return stored["unwrapped"], stored["components"], True
    unw, cc = unwrap()
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, unwrapped=unw, components=cc)
    return unw, cc, False
