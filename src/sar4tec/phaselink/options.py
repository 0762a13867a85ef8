"""Settings of phase linking, checked once (the ``phase_linking`` config section maps onto them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

ESTIMATORS = ("emi", "evd")
SHP_METHODS = ("rect", "glrt", "ks")


@dataclass(frozen=True)
class PhaseLinkOptions:
    """Phase-linking settings; see ``docs/phase_linking.md`` for the meaning of each.

    Raises
    ------
    ValueError
        On construction, naming the setting and the value at fault.
    """

    half_window: tuple[int, int] = (5, 5)
    strides: tuple[int, int] = (1, 1)
    estimator: str = "emi"
    shp_method: str = "glrt"
    shp_alpha: float = 0.01
    ps_threshold: float = 0.25
    ministack_size: int = 15
    max_compressed: int = 5
    regularization: float = 0.0
    closure_phases: bool = False
    max_iterations: int = 50
    tolerance: float = 1e-9

    def __post_init__(self) -> None:
        for name in ("half_window", "strides"):
            value = tuple(int(v) for v in getattr(self, name))
            low = 0 if name == "half_window" else 1
            if len(value) != 2 or min(value) < low:
                raise ValueError(f"phase_linking.{name} must be two integers >= {low}, got {value}")
            object.__setattr__(self, name, value)
        if self.estimator not in ESTIMATORS:
            raise ValueError(
                f"phase_linking.estimator must be one of {ESTIMATORS}, got {self.estimator!r}"
            )
        if self.shp_method not in SHP_METHODS:
            raise ValueError(
                f"phase_linking.shp_method must be one of {SHP_METHODS}, got {self.shp_method!r}"
            )
        checks = {
            "shp_alpha": 0 < self.shp_alpha < 1,
            "ps_threshold": self.ps_threshold > 0,
            "ministack_size": self.ministack_size >= 2,
            "max_compressed": self.max_compressed >= 1,
            "regularization": 0 <= self.regularization < 1,
            "max_iterations": self.max_iterations >= 1,
            "tolerance": 0 < self.tolerance < 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"phase_linking.{name} out of range: {getattr(self, name)!r}")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> PhaseLinkOptions:
        """Options from a validated ``phase_linking`` config section (other keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in section.items() if k in names})
