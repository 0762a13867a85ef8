"""Rigid plate motion from Euler poles: velocity ``v = omega x r`` in ENU and along the LOS.

The rotation vectors of the plate motion models ship as package data
(``sar4tec/reference/data/``): the ITRF2014 and ITRF2020 plate motion models (Cartesian rates,
Altamimi et al. 2017, 2023) and the no-net-rotation Euler poles of NNR-MORVEL56 (Argus et al.
2011) and GSRM v2.1 (Kreemer et al. 2014).  The position ``r`` of a point is its ECEF position on
the WGS84 ellipsoid, so the velocity has a tiny (< 0.1 mm/yr) vertical part where the ellipsoid
normal is not parallel to ``r``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from sar4tec.geometry import ecef_to_enu_vectors, geodetic_to_ecef, project_enu_to_los

#: 1 milliarcsecond in radians
MAS_TO_RAD = np.pi / (180.0 * 3600.0 * 1000.0)
#: 1 deg/Ma in mas/yr
DEG_PER_MA_TO_MAS_PER_YR = 3.6

#: origin rate bias (Tx, Ty, Tz) in mm/yr of a model; Altamimi et al. (2023, Table 2) advise
#: adding it to the horizontal velocities of ITRF2020-PMM (ITRF2014-PMM has none)
ORIGIN_RATE_BIAS = {"ITRF2020": (0.37, 0.35, 0.74)}

#: accepted spellings of each model name
_MODEL_ALIASES = {
    "ITRF2014": "ITRF2014",
    "ITRF2014-PMM": "ITRF2014",
    "ITRF2020": "ITRF2020",
    "ITRF2020-PMM": "ITRF2020",
    "NNR-MORVEL56": "NNR-MORVEL56",
    "MORVEL56": "NNR-MORVEL56",
    "GSRM2.1": "GSRM2.1",
    "GSRMV2.1": "GSRM2.1",
    "GSRM": "GSRM2.1",
}

#: four-letter ITRF-PMM codes, so that e.g. ``EURA`` also names Eurasia in the other models
_ITRF_CODES = {
    "AMUR": "Amur",
    "ANTA": "Antarctica",
    "ARAB": "Arabia",
    "AUST": "Australia",
    "CARB": "Caribbean",
    "EURA": "Eurasia",
    "INDI": "India",
    "NAZC": "Nazca",
    "NOAM": "NorthAmerica",
    "NUBI": "Nubia",
    "PCFC": "Pacific",
    "SOAM": "SouthAmerica",
    "SOMA": "Somalia",
}


@dataclass(frozen=True)
class Plate:
    """One rigid plate of a plate motion model.

    Attributes
    ----------
    model : str
        Model name (``ITRF2014``, ``ITRF2020``, ``NNR-MORVEL56``, ``GSRM2.1``).
    abbrev : str
        The model's abbreviation of the plate (e.g. ``EURA``, ``eu``, ``EU``).
    name : str
        Plate name (e.g. ``Eurasia``).
    omega_mas_per_yr : tuple of float
        Cartesian rotation rate (omega_x, omega_y, omega_z) in milliarcseconds per year.
    """

    model: str
    abbrev: str
    name: str
    omega_mas_per_yr: tuple[float, float, float]

    @property
    def omega(self) -> np.ndarray:
        """Rotation vector in rad/yr (ECEF components)."""
        return np.asarray(self.omega_mas_per_yr) * MAS_TO_RAD

    @property
    def pole(self) -> tuple[float, float, float]:
        """Euler pole latitude, longitude (degrees) and rate (deg/Ma)."""
        wx, wy, wz = self.omega_mas_per_yr
        rate = float(np.sqrt(wx * wx + wy * wy + wz * wz))
        lat = float(np.degrees(np.arcsin(wz / rate)))
        lon = float(np.degrees(np.arctan2(wy, wx)))
        return lat, lon, rate / DEG_PER_MA_TO_MAS_PER_YR


def _read_table(name: str) -> list[dict[str, str]]:
    text = (files("sar4tec.reference") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@cache
def plate_table() -> dict[str, tuple[Plate, ...]]:
    """Every plate of every model in the package data, by model name."""
    table: dict[str, list[Plate]] = {}
    for row in _read_table("itrf_pmm.csv"):
        omega = (float(row["omega_x"]), float(row["omega_y"]), float(row["omega_z"]))
        table.setdefault(row["model"], []).append(
            Plate(row["model"], row["abbrev"], row["plate"], omega)
        )
    for row in _read_table("euler_poles.csv"):
        lat, lon = np.radians(float(row["pole_lat"])), np.radians(float(row["pole_lon"]))
        rate = float(row["rate"]) * DEG_PER_MA_TO_MAS_PER_YR
        omega = (
            float(rate * np.cos(lat) * np.cos(lon)),
            float(rate * np.cos(lat) * np.sin(lon)),
            float(rate * np.sin(lat)),
        )
        table.setdefault(row["model"], []).append(
            Plate(row["model"], row["abbrev"], row["plate"], omega)
        )
    return {model: tuple(plates) for model, plates in table.items()}


def model_name(model: str) -> str:
    """Canonical name of a plate motion model (``ITRF2014-PMM`` → ``ITRF2014``)."""
    try:
        return _MODEL_ALIASES[model.strip().upper()]
    except KeyError:
        raise ValueError(
            f"unknown plate motion model {model!r}; known: {sorted(set(_MODEL_ALIASES.values()))}"
        ) from None


def get_plate(plate: str, model: str = "ITRF2014") -> Plate:
    """Look up a plate by abbreviation or name in a model.

    The abbreviation matches exactly first (NNR-MORVEL56 distinguishes ``nb`` Nubia from ``NB``
    North Bismarck), then without case if that is unambiguous, then the plate name, then the
    four-letter ITRF code (``EURA`` finds Eurasia in every model).

    Raises
    ------
    ValueError
        If the model or the plate is unknown, listing the plates the model has.
    """
    canonical = model_name(model)
    plates = plate_table()[canonical]
    key = plate.strip()
    candidates = (
        [p for p in plates if p.abbrev == key],
        [p for p in plates if p.abbrev.lower() == key.lower()],
        [p for p in plates if p.name.lower() == key.lower()],
        [p for p in plates if p.name == _ITRF_CODES.get(key.upper())],
    )
    for found in candidates:
        if len(found) == 1:
            return found[0]
    listing = ", ".join(f"{p.abbrev} ({p.name})" for p in plates)
    raise ValueError(f"plate {plate!r} is not in plate motion model {canonical}; it has {listing}")


def plate_velocity_enu(
    plate: str,
    lat,
    lon,
    model: str = "ITRF2014",
    height=0.0,
    origin_rate_bias: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Velocity of a point fixed to a rigid plate, in the frame of the plate motion model.

    Parameters
    ----------
    plate : str
        Plate abbreviation or name, e.g. ``EURA``, ``ARAB``, ``INDI``, ``NUBI``.
    lat, lon : array_like
        Geodetic latitude and longitude in degrees (broadcast together with ``height``).
    model : str
        ``ITRF2014`` (default), ``ITRF2020``, ``NNR-MORVEL56`` or ``GSRM2.1``.
    height : array_like
        Ellipsoidal height in metres (changes the result by ~1e-6 per metre).
    origin_rate_bias : bool
        Add the model's origin rate bias (ITRF2020 only) to the horizontal components, as
        Altamimi et al. (2023) advise for full consistency with ITRF2020; the vertical part of
        the bias is discarded as they advise.

    Returns
    -------
    east, north, up : numpy.ndarray
        Velocity components in mm/yr, shape of the broadcast inputs.

    Examples
    --------
    >>> e, n, u = plate_velocity_enu("EURA", 40.0, 30.0, model="ITRF2020")
    >>> round(float(e), 2), round(float(n), 2)
    (24.45, 12.57)
    """
    omega = get_plate(plate, model).omega
    lat, lon, height = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64),
        np.asarray(lon, dtype=np.float64),
        np.asarray(height, dtype=np.float64),
    )
    velocity = np.cross(omega, geodetic_to_ecef(lat, lon, height)) * 1e3  # mm/yr, ECEF
    enu = ecef_to_enu_vectors(velocity, lat, lon)
    if origin_rate_bias and model_name(model) in ORIGIN_RATE_BIAS:
        bias = ecef_to_enu_vectors(np.asarray(ORIGIN_RATE_BIAS[model_name(model)]), lat, lon)
        enu[..., :2] += bias[..., :2]
    return enu[..., 0], enu[..., 1], enu[..., 2]


def plate_velocity_los(
    plate: str,
    lat,
    lon,
    los_east,
    los_north,
    los_up,
    model: str = "ITRF2014",
    height=0.0,
    origin_rate_bias: bool = False,
) -> np.ndarray:
    """LOS velocity (mm/yr, + toward the satellite) of a point fixed to a rigid plate.

    Parameters
    ----------
    plate, lat, lon, model, height, origin_rate_bias
        As in :func:`plate_velocity_enu`.
    los_east, los_north, los_up : array_like
        Ground-to-satellite unit vector components, broadcast with ``lat``/``lon``.

    Returns
    -------
    numpy.ndarray
        The plate's rigid motion projected on the line of sight, mm/yr.
    """
    east, north, up = plate_velocity_enu(plate, lat, lon, model, height, origin_rate_bias)
    return project_enu_to_los(east, north, up, los_east, los_north, los_up)
