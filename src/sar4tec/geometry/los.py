"""Line-of-sight unit vectors (ground → satellite) and projections onto them.

Incidence is the angle between the local vertical and the direction to the satellite at the
target; heading is the flight direction clockwise from north.  Sentinel-1 looks to the right,
so the horizontal direction from the ground to the satellite points to ``heading - 90°``.
"""

from __future__ import annotations

import numpy as np


def los_unit_vector(incidence_deg, heading_deg, look: str = "right") -> np.ndarray:
    """Ground-to-satellite unit vector in (east, north, up) on the last axis.

    Parameters
    ----------
    incidence_deg, heading_deg : array_like
        Incidence angle at the target and platform heading, degrees; broadcast together.
    look : {"right", "left"}
        Look side of the radar (Sentinel-1 is right-looking).

    Examples
    --------
    >>> np.round(los_unit_vector(39.0, -12.0), 3)
    array([-0.616, -0.131,  0.777])
    """
    if look not in ("right", "left"):
        raise ValueError(f"look must be 'right' or 'left', got {look!r}")
    inc = np.radians(np.asarray(incidence_deg, dtype=np.float64))
    azimuth = np.radians(
        np.asarray(heading_deg, dtype=np.float64) + (-90.0 if look == "right" else 90.0)
    )
    east = np.sin(inc) * np.sin(azimuth)
    north = np.sin(inc) * np.cos(azimuth)
    up = np.cos(inc) * np.ones_like(azimuth)
    return np.stack(np.broadcast_arrays(east, north, up), axis=-1)


def incidence_heading_from_los(los_enu, look: str = "right") -> tuple[np.ndarray, np.ndarray]:
    """Incidence and heading (degrees) of ground-to-satellite unit vectors (last axis e, n, u)."""
    v = np.asarray(los_enu, dtype=np.float64)
    incidence = np.degrees(np.arccos(np.clip(v[..., 2], -1.0, 1.0)))
    azimuth = np.degrees(np.arctan2(v[..., 0], v[..., 1]))
    heading = azimuth + (90.0 if look == "right" else -90.0)
    return incidence, (heading + 180.0) % 360.0 - 180.0


def project_enu_to_los(east, north, up, los_east, los_north, los_up):
    """LOS component (+ toward the satellite) of an ENU displacement or velocity."""
    return np.asarray(east) * los_east + np.asarray(north) * los_north + np.asarray(up) * los_up
