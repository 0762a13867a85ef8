"""GNSS station velocities in one container, and the reference frames they are given in.

Velocities are kept in m/yr (east, north, up) with 1-sigma uncertainties and the east-north
correlation, whatever the file format; :attr:`StationVelocities.reference_frame` names the frame
and :func:`parse_frame` says whether that frame is an ITRF realisation or a plate-fixed frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace

import numpy as np

from sar4tec.reference.plates import get_plate, model_name, plate_velocity_enu

#: plate-fixed frames known by name: frame -> (plate, plate motion model that realises it)
NAMED_PLATE_FRAMES = {"NAM14": ("NOAM", "ITRF2014")}
_ITRF_LIKE = re.compile(r"^(ITRF|IGS|IGB)(\d{2}|\d{4})$")


@dataclass(frozen=True)
class FrameInfo:
    """What a reference frame name means.

    Attributes
    ----------
    name : str
        The name as given (e.g. ``IGS14``, ``NAM14``, ``EURA/ITRF2014``).
    plate : str or None
        ``None`` for an ITRF realisation, else the plate the frame is fixed to.
    model : str or None
        Plate motion model realising the plate-fixed frame.
    """

    name: str
    plate: str | None = None
    model: str | None = None

    @property
    def is_itrf(self) -> bool:
        """True for ITRF realisations (ITRF2014, IGS14, IGb14, IGS20, ...)."""
        return self.plate is None


def parse_frame(name: str) -> FrameInfo:
    """Interpret a reference frame name.

    ITRF realisations (``ITRFyyyy``, ``IGSyy``, ``IGbyy``) are treated as one frame: their
    velocity differences are < 0.3 mm/yr and nearly uniform over a frame, so the calibration
    offset absorbs them.  Plate-fixed frames are written ``PLATE/MODEL`` (e.g.
    ``EURA/ITRF2014``) or by a known name (``NAM14`` = ``NOAM/ITRF2014``).

    Raises
    ------
    ValueError
        For a name that is neither.
    """
    key = name.strip()
    if _ITRF_LIKE.match(key.upper()):
        return FrameInfo(key)
    if key.upper() in NAMED_PLATE_FRAMES:
        plate, model = NAMED_PLATE_FRAMES[key.upper()]
        return FrameInfo(key, plate, model)
    if "/" in key:
        plate, model = key.split("/", 1)
        canonical = model_name(model)
        return FrameInfo(key, get_plate(plate, canonical).abbrev, canonical)
    raise ValueError(
        f"unknown reference frame {name!r}: use an ITRF realisation (ITRF2014, IGS14, IGS20, "
        f"...), PLATE/MODEL such as 'EURA/ITRF2014', or one of {sorted(NAMED_PLATE_FRAMES)}"
    )


@dataclass(frozen=True)
class StationVelocities:
    """Velocities of a set of GNSS stations (arrays of equal length).

    Attributes
    ----------
    station : numpy.ndarray of str
        Station identifiers.
    lat, lon, height : numpy.ndarray
        WGS84 latitude, longitude (wrapped to [-180, 180)) in degrees, ellipsoidal height in m.
    east, north, up : numpy.ndarray
        Velocity components in m/yr.
    sigma_east, sigma_north, sigma_up : numpy.ndarray
        Their 1-sigma uncertainties in m/yr.
    corr_en : numpy.ndarray
        Correlation of the east and north velocities (0 when the format has none).
    first_epoch, last_epoch : numpy.ndarray
        Time span of the data behind each velocity, decimal years (NaN when unknown).
    reference_frame : str
        Frame of the velocities (see :func:`parse_frame`).
    source : str
        Where they come from (format and file), for the metadata.
    """

    station: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    height: np.ndarray
    east: np.ndarray
    north: np.ndarray
    up: np.ndarray
    sigma_east: np.ndarray
    sigma_north: np.ndarray
    sigma_up: np.ndarray
    corr_en: np.ndarray
    first_epoch: np.ndarray
    last_epoch: np.ndarray
    reference_frame: str
    source: str = field(default="")

    def __post_init__(self) -> None:
        n = len(self.station)
        for f in fields(self):
            if f.name in ("reference_frame", "source"):
                continue
            value = np.asarray(getattr(self, f.name))
            if f.name != "station":
                value = value.astype(np.float64)
            if value.shape != (n,):
                raise ValueError(f"station field {f.name} has shape {value.shape}, expected ({n},)")
            object.__setattr__(self, f.name, value)
        object.__setattr__(self, "lon", wrap_longitude(self.lon))

    @classmethod
    def empty(cls, reference_frame: str = "ITRF2014") -> StationVelocities:
        """No stations (a frame without GNSS)."""
        none = np.empty(0)
        return cls(np.empty(0, str), *([none] * 12), reference_frame, "no GNSS file")

    def __len__(self) -> int:
        return len(self.station)

    @property
    def duration(self) -> np.ndarray:
        """Years of data behind each velocity (NaN when unknown)."""
        return self.last_epoch - self.first_epoch

    def to_itrf(self) -> StationVelocities:
        """The same velocities in ITRF: a plate-fixed frame gets the plate's motion added back."""
        frame = parse_frame(self.reference_frame)
        if frame.is_itrf:
            return self
        e, n, u = plate_velocity_enu(frame.plate, self.lat, self.lon, frame.model, self.height)
        return replace(
            self,
            east=self.east + e * 1e-3,
            north=self.north + n * 1e-3,
            up=self.up + u * 1e-3,
            reference_frame=f"ITRF via {frame.plate} ({frame.model}-PMM) from {frame.name}",
        )


def wrap_longitude(lon) -> np.ndarray:
    """Longitudes wrapped to [-180, 180) degrees (UNR files give e.g. -268.896 for 91.104 E)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
