"""Regions: high-strain areas of a strain-rate model and the Sentinel-1 frames covering them."""

from sar4tec.regions.bursts import Burst, read_burst_db
from sar4tec.regions.frames import Frame, group_frames, select_frames
from sar4tec.regions.select import frames_for_region, region_frames
from sar4tec.regions.strain import StrainGrid, read_strain, region_mask, second_invariant

__all__ = [
    "Burst",
    "Frame",
    "StrainGrid",
    "frames_for_region",
    "group_frames",
    "read_burst_db",
    "read_strain",
    "region_frames",
    "region_mask",
    "second_invariant",
    "select_frames",
]
