"""A Sentinel-1-like orbit in the Earth-fixed frame, and its EOF orbit files.

The satellite flies a circular Keplerian orbit (semi-major axis = equatorial radius + altitude,
inclination 98.18°) in an inertial frame that coincides with ECEF (WGS84) at the acquisition's
epoch; positions and velocities are rotated into ECEF with the Earth's rotation rate, so the
state vectors are Earth-fixed like those of POEORB files (velocity = inertial velocity rotated,
minus ω × r). The ascending node and the argument of latitude at the epoch are solved so that
the frame centre is seen at zero Doppler at the epoch, on the right-hand side, at the requested
incidence. Each acquisition gets a small random offset of the node and of the radius (the
orbital tube, a few tens of metres of baseline) and is re-solved to keep zero Doppler at its epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, fsolve

from sar4tec.constants import WGS84_A
from sar4tec.files import atomic_output, to_utc
from sar4tec.geometry import ecef_to_enu_vectors, geodetic_to_ecef

GM = 3.986004418e14  # m^3/s^2, WGS84
OMEGA_EARTH = 7.2921151467e-5  # rad/s, WGS84
SECONDS_PER_CYCLE = 12 * 86400.0  # Sentinel-1 repeat cycle
ORBITS_PER_CYCLE = 175
#: reference absolute orbit per mission (from a real S1A POEORB header; S1B shifted by its
#: later launch), used to number orbits consistently with the relative orbit (track)
_REFERENCE_ORBIT = {
    "S1A": (datetime(2018, 11, 12, 23, 0, 2, tzinfo=UTC), 24561, 73),
    "S1B": (datetime(2018, 11, 12, 23, 0, 2, tzinfo=UTC), 13591, 27),
}
#: TAI - UTC (s) with the leap second of 2017-01-01
_LEAP_2017 = datetime(2017, 1, 1, tzinfo=UTC)
#: approximate UT1 - UTC (s), IERS Bulletin A magnitudes, linear in between (jump at the leap)
_DUT1 = [
    (datetime(2016, 1, 1, tzinfo=UTC), 0.06),
    (datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC), -0.41),
    (_LEAP_2017, 0.59),
    (datetime(2018, 1, 1, tzinfo=UTC), 0.22),
    (datetime(2019, 1, 1, tzinfo=UTC), -0.04),
    (datetime(2020, 1, 1, tzinfo=UTC), -0.18),
    (datetime(2021, 1, 1, tzinfo=UTC), -0.17),
    (datetime(2022, 1, 1, tzinfo=UTC), -0.11),
    (datetime(2023, 1, 1, tzinfo=UTC), -0.02),
]


@dataclass(frozen=True)
class CircularOrbit:
    """Circular orbit, in the inertial frame aligned with ECEF at ``epoch``.

    Attributes
    ----------
    epoch : datetime
        UTC time at which the inertial frame and ECEF coincide.
    semi_major_axis : float
        Orbit radius (m).
    inclination : float
        Inclination (rad).
    node : float
        Right ascension of the ascending node (rad) in the frame aligned at ``epoch``.
    latitude_argument : float
        Argument of latitude at ``epoch`` (rad).
    """

    epoch: datetime
    semi_major_axis: float
    inclination: float
    node: float
    latitude_argument: float

    @property
    def mean_motion(self) -> float:
        """Angular rate along the orbit (rad/s)."""
        return float(np.sqrt(GM / self.semi_major_axis**3))

    def state(self, seconds) -> tuple[np.ndarray, np.ndarray]:
        """ECEF position (m) and velocity (m/s) at ``seconds`` after :attr:`epoch`.

        Returns arrays of shape ``np.shape(seconds) + (3,)``.
        """
        tau = np.asarray(seconds, dtype=np.float64)
        a, n = self.semi_major_axis, self.mean_motion
        u = self.latitude_argument + n * tau
        cn, sn = np.cos(self.node), np.sin(self.node)
        ci, si = np.cos(self.inclination), np.sin(self.inclination)
        cu, su = np.cos(u), np.sin(u)
        r = a * np.stack([cn * cu - sn * su * ci, sn * cu + cn * su * ci, su * si], axis=-1)
        v = a * n * np.stack([-cn * su - sn * cu * ci, -sn * su + cn * cu * ci, cu * si], axis=-1)
        theta = OMEGA_EARTH * tau
        c, s = np.cos(theta), np.sin(theta)

        def to_earth_fixed(vec):
            return np.stack(
                [
                    c * vec[..., 0] + s * vec[..., 1],
                    -s * vec[..., 0] + c * vec[..., 1],
                    vec[..., 2],
                ],
                axis=-1,
            )

        r_f = to_earth_fixed(r)
        spin = np.stack([r_f[..., 1], -r_f[..., 0], np.zeros_like(tau)], axis=-1)  # -ω × r
        v_f = to_earth_fixed(v) + OMEGA_EARTH * spin
        return r_f, v_f


def _doppler(orbit: CircularOrbit, target: np.ndarray, seconds: float = 0.0) -> float:
    """Normalised Doppler ``(X - P)·V / (|X - P| |V|)`` of a target at a time."""
    position, velocity = orbit.state(seconds)
    rel = target - position
    return float(rel @ velocity / (np.linalg.norm(rel) * np.linalg.norm(velocity)))


def look_geometry(orbit: CircularOrbit, lat: float, lon: float, height: float, seconds=0.0):
    """Incidence (deg) at a target and whether it lies to the right of the flight direction."""
    target = geodetic_to_ecef(lat, lon, height)
    position, velocity = orbit.state(seconds)
    los = ecef_to_enu_vectors((position - target) / np.linalg.norm(position - target), lat, lon)
    right = float(np.dot(target - position, np.cross(velocity, position))) > 0
    return float(np.degrees(np.arccos(los[2]))), right


def design_orbit(
    when: datetime,
    lat: float,
    lon: float,
    height: float,
    incidence_deg: float,
    direction: str,
    altitude: float = 693_000.0,
    inclination_deg: float = 98.18,
) -> CircularOrbit:
    """The orbit that sees ``(lat, lon, height)`` at zero Doppler at ``when``, looking right.

    Raises
    ------
    ValueError
        If ``direction`` is not ascending/descending or no right-looking solution is found.
    """
    if direction not in ("ascending", "descending"):
        raise ValueError(f"orbit direction must be ascending or descending, got {direction!r}")
    a = WGS84_A + altitude
    inc = np.radians(inclination_deg)
    target = geodetic_to_ecef(lat, lon, height)
    # first guess: sub-satellite point at the target's latitude, displaced across track by the
    # ground range of the requested incidence (spherical Earth), west when ascending (looking
    # east, right of a northward track) and east when descending
    earth_r = np.linalg.norm(target)
    look = np.arcsin(earth_r / a * np.sin(np.radians(incidence_deg)))
    central = np.radians(incidence_deg) - look
    sign = -1.0 if direction == "ascending" else 1.0
    lat_s = np.radians(lat)
    u0 = np.arcsin(np.clip(np.sin(lat_s) / np.sin(inc), -1, 1))
    if direction == "descending":
        u0 = np.pi - u0
    lon_s = np.radians(lon) + sign * central / np.cos(lat_s)
    node0 = lon_s - np.arctan2(np.cos(inc) * np.sin(u0), np.cos(u0))

    def equations(params):
        orbit = CircularOrbit(to_utc(when), a, inc, params[0], params[1])
        incidence, _ = look_geometry(orbit, lat, lon, height)
        return [_doppler(orbit, target), np.radians(incidence - incidence_deg)]

    solution, _, status, message = fsolve(equations, [node0, u0], full_output=True, xtol=1e-13)
    orbit = CircularOrbit(to_utc(when), a, inc, float(solution[0]), float(solution[1]))
    incidence, right = look_geometry(orbit, lat, lon, height)
    if status != 1 or abs(incidence - incidence_deg) > 1e-6 or not right:
        raise ValueError(
            f"no right-looking {direction} orbit sees ({lat}, {lon}) at {incidence_deg} deg "
            f"incidence: {message}"
        )
    return orbit


def retarget(
    orbit: CircularOrbit,
    when: datetime,
    lat: float,
    lon: float,
    height: float,
    node_offset: float = 0.0,
    radius_offset: float = 0.0,
) -> CircularOrbit:
    """The same orbit at another epoch, offset (orbital tube) and re-timed to zero Doppler."""
    moved = replace(
        orbit,
        epoch=to_utc(when),
        node=orbit.node + node_offset,
        semi_major_axis=orbit.semi_major_axis + radius_offset,
    )
    target = geodetic_to_ecef(lat, lon, height)
    step = 0.02  # rad, about 2 s of flight either side
    u = brentq(
        lambda u0: _doppler(replace(moved, latitude_argument=u0), target),
        orbit.latitude_argument - step,
        orbit.latitude_argument + step,
        xtol=1e-15,
    )
    return replace(moved, latitude_argument=u)


def state_vector_times(when: datetime, span: float, spacing: float = 10.0) -> list[datetime]:
    """UTC times on whole multiples of ``spacing`` seconds covering ``when ± span/2``."""
    when = to_utc(when)
    midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
    t = (when - midnight).total_seconds()
    first = np.floor((t - span / 2) / spacing) * spacing
    last = np.ceil((t + span / 2) / spacing) * spacing
    return [midnight + timedelta(seconds=float(s)) for s in np.arange(first, last + 1e-6, spacing)]


def absolute_orbit(mission: str, track: int, when: datetime) -> int:
    """Absolute orbit number of ``mission`` on relative orbit ``track`` nearest to ``when``."""
    ref_time, ref_orbit, offset = _REFERENCE_ORBIT[mission]
    estimate = ref_orbit + (to_utc(when) - ref_time).total_seconds() / (
        SECONDS_PER_CYCLE / ORBITS_PER_CYCLE
    )
    base = int(np.floor(estimate))
    candidates = [o for o in range(base - 90, base + 91) if (o - offset) % 175 + 1 == track]
    return min(candidates, key=lambda o: abs(o - estimate))


def _tai_minus_utc(when: datetime) -> float:
    return 37.0 if to_utc(when) >= _LEAP_2017 else 36.0


def _ut1_minus_utc(when: datetime) -> float:
    stamps = [t.timestamp() for t, _ in _DUT1]
    return float(np.interp(to_utc(when).timestamp(), stamps, [v for _, v in _DUT1]))


def _eof_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def eof_name(mission: str, start: datetime, stop: datetime, created: datetime) -> str:
    """Sentinel-1 precise orbit file name ``S1A_OPER_AUX_POEORB_OPOD_<created>_V<start>_<stop>``."""
    fmt = "%Y%m%dT%H%M%S"
    return (
        f"{mission}_OPER_AUX_POEORB_OPOD_{created.strftime(fmt)}_V{start.strftime(fmt)}_"
        f"{stop.strftime(fmt)}.EOF"
    )


def write_eof(
    path: str | Path,
    mission: str,
    times: list[datetime],
    position: np.ndarray,
    velocity: np.ndarray,
    absolute: int,
    created: datetime,
) -> Path:
    """Write Earth-fixed state vectors as a Sentinel-1 POEORB EOF XML file.

    The layout follows the Earth Explorer files distributed by ESA: ``Fixed_Header`` with the
    validity period (here the span of the state vectors), ``Variable_Header`` with
    ``EARTH_FIXED``/``UTC``, and one ``OSV`` per state vector with TAI, UTC and UT1 times.
    """
    path = Path(path)
    mission_name = {"S1A": "Sentinel-1A", "S1B": "Sentinel-1B"}[mission]
    osvs = []
    for when, p, v in zip(times, position, velocity, strict=True):
        tai = when + timedelta(seconds=_tai_minus_utc(when))
        ut1 = when + timedelta(seconds=_ut1_minus_utc(when))
        osvs.append(
            "    <OSV>\n"
            f"      <TAI>TAI={_eof_time(tai)}</TAI>\n"
            f"      <UTC>UTC={_eof_time(when)}</UTC>\n"
            f"      <UT1>UT1={_eof_time(ut1)}</UT1>\n"
            f"      <Absolute_Orbit>+{absolute:05d}</Absolute_Orbit>\n"
            f'      <X unit="m">{p[0]:.6f}</X>\n'
            f'      <Y unit="m">{p[1]:.6f}</Y>\n'
            f'      <Z unit="m">{p[2]:.6f}</Z>\n'
            f'      <VX unit="m/s">{v[0]:.6f}</VX>\n'
            f'      <VY unit="m/s">{v[1]:.6f}</VY>\n'
            f'      <VZ unit="m/s">{v[2]:.6f}</VZ>\n'
            "      <Quality>NOMINAL</Quality>\n"
            "    </OSV>\n"
        )
    stem = path.name.removesuffix(".EOF")
    text = (
        '<?xml version="1.0" ?>\n'
        "<Earth_Explorer_File>\n"
        "  <Earth_Explorer_Header>\n"
        "    <Fixed_Header>\n"
        f"      <File_Name>{stem}</File_Name>\n"
        "      <File_Description>Precise Orbit Ephemerides (POE) Orbit File</File_Description>\n"
        "      <Notes>synthetic orbit written by sar4tec.simulate</Notes>\n"
        f"      <Mission>{mission_name}</Mission>\n"
        "      <File_Class>OPER</File_Class>\n"
        "      <File_Type>AUX_POEORB</File_Type>\n"
        "      <Validity_Period>\n"
        f"        <Validity_Start>UTC={times[0].strftime('%Y-%m-%dT%H:%M:%S')}</Validity_Start>\n"
        f"        <Validity_Stop>UTC={times[-1].strftime('%Y-%m-%dT%H:%M:%S')}</Validity_Stop>\n"
        "      </Validity_Period>\n"
        "      <File_Version>0001</File_Version>\n"
        "      <Source>\n"
        "        <System>OPOD</System>\n"
        "        <Creator>OPOD</Creator>\n"
        "        <Creator_Version>1.5.3</Creator_Version>\n"
        f"        <Creation_Date>UTC={created.strftime('%Y-%m-%dT%H:%M:%S')}</Creation_Date>\n"
        "      </Source>\n"
        "    </Fixed_Header>\n"
        "    <Variable_Header>\n"
        "      <Ref_Frame>EARTH_FIXED</Ref_Frame>\n"
        "      <Time_Reference>UTC</Time_Reference>\n"
        "    </Variable_Header>\n"
        "  </Earth_Explorer_Header>\n"
        '<Data_Block type="xml">\n'
        f'  <List_of_OSVs count="{len(osvs)}">\n'
        + "".join(osvs)
        + "  </List_of_OSVs>\n</Data_Block>\n</Earth_Explorer_File>\n"
    )
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path
