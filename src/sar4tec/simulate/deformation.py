"""Ground motion of the synthetic scene: fault, subsidence bowl, plate rotation (ENU, m and m/yr).

- Interseismic strike-slip fault: fault-parallel velocity ``v = (s/π) arctan(x/D)`` of a screw
  dislocation slipping at ``s`` below the locking depth ``D`` (Savage & Burford 1973), ``x`` the
  distance from the trace. The side named ``fixed_side`` is shifted to rest in the plate-fixed
  frame of the scene's plate, so the other side moves at ``s`` relative to it far away.
- Subsidence bowl: a Mogi (1958) point source at depth ``d`` in an elastic half-space, whose
  surface displacement is ``u_z = C d/(r²+d²)^{3/2}``, ``u_r = C r/(r²+d²)^{3/2}``; it is scaled
  by its vertical rate above the source and carries an annual term.
- Rigid plate motion in ITRF from the plate's rotation pole
  (:func:`sar4tec.reference.plates.plate_velocity_enu`).

Velocities in ITRF are the plate-fixed velocities plus the plate's rigid motion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sar4tec.simulate.fields import local_km


def screw_dislocation(x, slip_rate: float, locking_depth: float) -> np.ndarray:
    """Fault-parallel velocity ``(s/π) arctan(x/D)`` (Savage & Burford 1973).

    Parameters
    ----------
    x : array_like
        Distance from the fault trace, same unit as ``locking_depth``; positive on the side to
        the left of the strike direction.
    slip_rate : float
        Deep slip rate ``s`` (m/yr); positive = right-lateral, i.e. the left side moves along
        strike.
    locking_depth : float
        Locking depth ``D``.

    Returns
    -------
    ndarray
        Velocity along strike; tends to ``±s/2`` far from the fault.
    """
    return slip_rate / np.pi * np.arctan(np.asarray(x, dtype=np.float64) / locking_depth)


def fault_velocity_enu(lat, lon, fault: Mapping[str, Any]) -> np.ndarray:
    """Plate-fixed ENU velocity (m/yr) of the fault model at points; last axis (e, n, u)."""
    east, north = local_km(lat, lon, fault["lat"], fault["lon"])
    strike = np.radians(fault["strike"])
    left_km = -east * np.cos(strike) + north * np.sin(strike)
    slip = float(fault["slip_rate"])
    along = screw_dislocation(left_km * 1000.0, slip, float(fault["locking_depth"]))
    along = along - slip / 2.0 if fault["fixed_side"] == "left" else along + slip / 2.0
    return np.stack([along * np.sin(strike), along * np.cos(strike), np.zeros_like(along)], -1)


def mogi_enu(lat, lon, source_lat: float, source_lon: float, depth: float) -> np.ndarray:
    """Surface displacement of a Mogi source, normalised to 1 vertically above the source.

    Returns the ENU pattern (last axis) ``d²/(r²+d²)^{3/2} · (d, r)`` split into east/north.
    """
    east, north = local_km(lat, lon, source_lat, source_lon)
    east, north = east * 1000.0, north * 1000.0
    r2 = east**2 + north**2
    scale = depth**2 / (r2 + depth**2) ** 1.5
    return np.stack([scale * east, scale * north, scale * depth], axis=-1)


def annual_term(day_of_year, peak_doy: float) -> np.ndarray:
    """``cos(2π (doy - peak_doy) / 365.25)``: 1 on day ``peak_doy``, -1 half a year later."""
    return np.cos(2.0 * np.pi * (np.asarray(day_of_year, dtype=np.float64) - peak_doy) / 365.25)


def plate_velocity_enu(plate: str, model: str, lat, lon) -> np.ndarray:
    """Rigid ITRF velocity (m/yr, last axis e, n, u) of ``plate`` in ``model`` at points."""
    from sar4tec.reference.plates import plate_velocity_enu as velocity_mm

    east, north, up = velocity_mm(plate, np.asarray(lat), np.asarray(lon), model=model)
    return np.stack(np.broadcast_arrays(east, north, up), axis=-1) / 1000.0


@dataclass(frozen=True)
class Deformation:
    """ENU velocity fields (m/yr) and the annual pattern (m) at a set of points.

    Attributes
    ----------
    fault, bowl, plate : ndarray, shape S + (3,)
        Plate-fixed fault velocity, bowl velocity, rigid ITRF plate velocity.
    bowl_annual : ndarray, shape S + (3,)
        Displacement pattern of the annual term (m) at its peak.
    annual_peak_doy : float
        Day of year of the annual term's peak.
    """

    fault: np.ndarray
    bowl: np.ndarray
    plate: np.ndarray
    bowl_annual: np.ndarray
    annual_peak_doy: float

    @property
    def itrf(self) -> np.ndarray:
        """Linear ITRF velocity (m/yr): fault + bowl + plate."""
        return self.fault + self.bowl + self.plate

    def displacement(self, years_since_start: float, day_of_year: float) -> dict[str, np.ndarray]:
        """ENU displacement parts (m) at a time: ``fault``, ``bowl`` (with annual), ``plate``."""
        seasonal = annual_term(day_of_year, self.annual_peak_doy)
        return {
            "fault": self.fault * years_since_start,
            "bowl": self.bowl * years_since_start + self.bowl_annual * seasonal,
            "plate": self.plate * years_since_start,
        }


def scene_deformation(lat, lon, sim: Mapping[str, Any]) -> Deformation:
    """The deformation of the scene described by the ``simulation`` config at points."""
    bowl = sim["bowl"]
    pattern = mogi_enu(lat, lon, bowl["lat"], bowl["lon"], float(bowl["depth"]))
    return Deformation(
        fault=fault_velocity_enu(lat, lon, sim["fault"]),
        bowl=pattern * float(bowl["rate"]),
        plate=plate_velocity_enu(sim["plate"], sim["plate_model"], lat, lon),
        bowl_annual=pattern * float(bowl["annual_amplitude"]),
        annual_peak_doy=float(bowl["annual_peak_doy"]),
    )
