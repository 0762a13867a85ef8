"""Interferogram networks and their inversion, SNAPHU/spurt unwrapping, closure, reference."""

from sar4tec.unwrap.closure import closure_cycles, correct_closure, unclosed
from sar4tec.unwrap.network import make_network, nearest_pairs, single_reference_pairs, triplets
from sar4tec.unwrap.network_inversion import invert_network
from sar4tec.unwrap.reference_point import ReferencePoint, select_reference
from sar4tec.unwrap.snaphu_adapter import boxcar_coherence, snaphu_unwrap

__all__ = [
    "ReferencePoint",
    "boxcar_coherence",
    "closure_cycles",
    "correct_closure",
    "invert_network",
    "make_network",
    "nearest_pairs",
    "select_reference",
    "single_reference_pairs",
    "snaphu_unwrap",
    "triplets",
    "unclosed",
]
