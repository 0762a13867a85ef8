"""Ionospheric range change over a whole frame: thin-shell geometry tabulated once, numba per pixel.

The direct evaluation (:func:`sar4tec.corrections.ionosphere.slant_range_change`) costs about ten
transcendental functions per pixel for the pierce point.  But the pierce point's offset from its
pixel and the obliquity ``1 / cos z'`` depend only on the pixel's latitude, the heading and the
incidence (not on longitude, time or the ionosphere), and smoothly: they change over degrees of
these variables, while a frame spans ~2° of latitude, ~1° of heading and 16° of incidence.
:class:`ShellGeometry` therefore evaluates them once per frame on a fine (latitude, heading,
incidence) table, and a numba kernel interpolates that table trilinearly at every pixel — with
the pixel's own incidence, so the incidence variations that follow the terrain stay exact — and
samples VTEC at the resulting pierce point on the IONEX maps themselves.

Why not sample the range change on a coarse grid of pixels and interpolate?  A pixel's incidence
is not smooth over the frame: a target ``h`` metres higher is seen about ``h sin θ / ρ`` steeper
(slant range ``ρ`` ≈ 850 km), 0.12° for 3 km of relief.  That changes the obliquity by ~0.15 %
(1.5 mm at 1 m of ionospheric range change) and moves the pierce point by ~1.3 km (1.5 mm more in
a 0.065 TECU/km gradient), at the scale of the terrain.  The table takes every pixel's own
incidence.  VTEC is looked up on the maps per pixel (a bilinear lookup is cheap), so
the slope breaks of the bilinear map surface along its node lines need no resolving either
(coarse sampling on 5 km / 10 km nodes misses them by up to 0.012 / 0.05 mm on the steepest map
of the test data, the IGS map of 2024-12-14 with 0.065 TECU/km).

Table steps and error budget (numerical second differences of the pierce point and the
obliquity over latitudes ≤ 60°, incidences 25–50° and all headings; linear interpolation errs by
``curvature × step² / 8``):

* latitude, 0.05°: ≤ 0.03 m of pierce-point position;
* heading, 0.1°: ≤ 0.21 m;
* incidence, 0.05°: ≤ 0.17 m, and ≤ 2.7e-7 of the obliquity (0.3 µm at 1 m of range change).

0.4 m of pierce-point position in the steepest real gradient (0.065 TECU/km) is 3e-5 TECU,
0.5 µm of range: the table adds nothing measurable to the thin-shell model.
"""

from __future__ import annotations

from datetime import datetime

import numba
import numpy as np

from sar4tec.constants import SENTINEL1_FREQUENCY
from sar4tec.corrections.ionosphere import Ionex, pierce_point, range_change_per_tecu

#: table steps (degrees) along latitude, heading and incidence (error budget in the module doc)
TABLE_STEPS = (0.05, 0.1, 0.05)


def angle_range(values) -> tuple[float, float]:
    """Smallest ``(lo, hi)`` of angles (degrees, finite values only) that does not wrap at ±180°.

    Headings of a descending track near ±180° (e.g. 179.5 and -179.5) give ``(179.5, 180.5)``.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no finite angle")
    plain = (float(values.min()), float(values.max()))
    turned = np.mod(values, 360.0)
    wrapped = (float(turned.min()), float(turned.max()))
    return plain if plain[1] - plain[0] <= wrapped[1] - wrapped[0] else wrapped


class ShellGeometry:
    """Thin-shell pierce-point offsets and obliquity tabulated over a frame's geometry.

    Parameters
    ----------
    shell_height, base_radius : float
        The IONEX file's shell height and Earth radius, m.
    lat_range, heading_range, incidence_range : (lo, hi)
        Degrees spanned by the pixels (see :func:`angle_range` for headings near ±180°).
    steps : (float, float, float)
        Table steps in latitude, heading and incidence, degrees.

    Notes
    -----
    ``table[i, j, k]`` holds the pierce point's latitude and longitude offsets (degrees) and
    ``1 / cos z'`` for latitude ``origin[0] + i step[0]``, heading ``origin[1] + j step[1]`` and
    incidence ``origin[2] + k step[2]``; each axis reaches one step beyond its range.
    """

    def __init__(
        self,
        shell_height: float,
        base_radius: float,
        lat_range: tuple[float, float],
        heading_range: tuple[float, float],
        incidence_range: tuple[float, float],
        steps: tuple[float, float, float] = TABLE_STEPS,
    ):
        self.shell_height, self.base_radius = float(shell_height), float(base_radius)
        axes = []
        ranges = (lat_range, heading_range, incidence_range)
        names = ("latitude", "heading", "incidence")
        for (lo, hi), step, name in zip(ranges, steps, names, strict=True):
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"ShellGeometry: invalid {name} range ({lo}, {hi})")
            count = int(np.ceil((hi - lo) / step - 1e-9)) + 3
            axes.append(lo - step + step * np.arange(count))
        if axes[2][-1] >= 90.0:
            raise ValueError(f"ShellGeometry: incidence up to {incidence_range[1]}° is not < 90°")
        lat, heading, incidence = np.meshgrid(*axes, indexing="ij")
        lat_p, lon_p, zenith = pierce_point(
            lat, 0.0, incidence, heading, self.shell_height, self.base_radius
        )
        self.table = np.stack([lat_p - lat, lon_p, 1.0 / np.cos(np.radians(zenith))], axis=-1)
        self.origin = np.array([a[0] for a in axes])
        self.step = np.asarray(steps, dtype=np.float64)

    def range_change(
        self,
        ionex: Ionex,
        lat,
        lon,
        incidence_deg,
        heading_deg,
        when: datetime,
        frequency_hz: float = SENTINEL1_FREQUENCY,
        *,
        interpolation: str = "rotated",
    ) -> np.ndarray:
        """Apparent range shortening (m) by the ionosphere, as ``slant_range_change`` but fast.

        Parameters are those of :func:`~sar4tec.corrections.ionosphere.slant_range_change`;
        the points must lie inside the table's ranges.  NaN in any input gives NaN.

        Raises
        ------
        ValueError
            If ``ionex`` has another shell than the table, a point lies outside the table's
            ranges, or a pierce point outside the maps' latitudes.
        """
        if (ionex.shell_height, ionex.base_radius) != (self.shell_height, self.base_radius):
            raise ValueError(
                f"{ionex.path}: shell {ionex.shell_height:g} m over {ionex.base_radius:g} m, "
                f"but the table was made for {self.shell_height:g} m over {self.base_radius:g} m"
            )
        terms = ionex.time_terms(when, interpolation)
        arrays = np.broadcast_arrays(
            *(np.asarray(a, dtype=np.float64) for a in (lat, lon, incidence_deg, heading_deg))
        )
        flat = [np.ascontiguousarray(a).ravel() for a in arrays]
        out = np.empty(flat[0].size)
        dlon = ionex.lon[1] - ionex.lon[0]
        outside_table, outside_maps = _range_change(
            self.table,
            self.origin,
            1.0 / self.step,
            np.ascontiguousarray(ionex.tec),
            np.array([ionex.lat[0], 1.0 / (ionex.lat[1] - ionex.lat[0])]),
            np.array([ionex.lon[0], 1.0 / dlon, 360.0 / abs(dlon), abs(dlon) / 360.0]),
            np.array([t[0] for t in terms], dtype=np.int64),
            np.array([t[1] for t in terms]),
            np.array([t[2] for t in terms]),
            interpolation == "nearest",
            range_change_per_tecu(frequency_hz),
            *flat,
            out,
        )
        if outside_table:
            lo = self.origin
            hi = self.origin + self.step * (np.array(self.table.shape[:3]) - 1)
            raise ValueError(
                f"{outside_table} point(s) outside the shell table (latitude {lo[0]:.3f}.."
                f"{hi[0]:.3f}, heading {lo[1]:.2f}..{hi[1]:.2f}, incidence {lo[2]:.2f}.."
                f"{hi[2]:.2f} deg)"
            )
        if outside_maps:
            raise ValueError(f"{ionex.path}: latitude outside the maps ({outside_maps} points)")
        return out.reshape(arrays[0].shape)


@numba.njit(cache=True, inline="always")
def _map_value(tec, index, fy, lon, lon_axis, nearest):  # pragma: no cover - numba
    """Map ``index`` at fractional row ``fy`` and a longitude, as ``Ionex._spatial``.

    ``lon_axis`` is ``(first node, 1 / step, nodes per 360°, 1 / nodes per 360°)``; longitudes
    wrap (integer ``%`` is slow: the indices are wrapped by comparison).
    """
    nlat, ncol = tec.shape[1], tec.shape[2]
    span = lon_axis[2]
    fx = (lon - lon_axis[0]) * lon_axis[1]
    fx -= span * np.floor(fx * lon_axis[3])  # 0 <= fx <= span
    if nearest:
        ix = int(np.rint(fx))
        return tec[index, int(np.rint(fy)), ix - ncol if ix >= ncol else ix]
    iy = min(int(fy), nlat - 2)
    ix = int(fx)
    wy, wx = fy - iy, fx - ix
    if ix >= ncol:
        ix -= ncol
    ix1 = ix + 1
    if ix1 >= ncol:  # a grid without a repeated 180° column wraps; one with it ends there
        ix1 = ix1 - ncol if span == ncol else ncol - 1
    return (
        (1 - wy) * (1 - wx) * tec[index, iy, ix]
        + (1 - wy) * wx * tec[index, iy, ix1]
        + wy * (1 - wx) * tec[index, iy + 1, ix]
        + wy * wx * tec[index, iy + 1, ix1]
    )


@numba.njit(cache=True, parallel=True)
def _range_change(
    table, origin, inv_step, tec, lat_axis, lon_axis, maps, weights, shifts, nearest, scale,
    lat, lon, inc, heading, out,
):  # fmt: skip  # pragma: no cover - numba
    """Per point: trilinear table lookup, VTEC at the pierce point, ``scale VTEC / cos z'``.

    ``lat_axis`` is ``(first node, 1 / step)`` of the maps.  Returns the number of points
    outside the table and of pierce points outside the maps.
    """
    n_lat, n_head, n_inc = table.shape[0], table.shape[1], table.shape[2]
    last_row = tec.shape[1] - 1.0
    outside_table = 0
    outside_maps = 0
    for p in numba.prange(lat.size):
        turn = heading[p] - origin[1]  # headings wrap: 0 <= turn < 360
        if turn < 0.0:
            turn += 360.0
        elif turn >= 360.0:
            turn -= 360.0
        fi = (lat[p] - origin[0]) * inv_step[0]
        fj = turn * inv_step[1]
        fk = (inc[p] - origin[2]) * inv_step[2]
        if np.isnan(fi + fj + fk + lon[p]):
            out[p] = np.nan
            continue
        if fi < 0.0 or fi > n_lat - 1 or fj > n_head - 1 or fk < 0.0 or fk > n_inc - 1:
            outside_table += 1
            out[p] = np.nan
            continue
        i, j, k = min(int(fi), n_lat - 2), min(int(fj), n_head - 2), min(int(fk), n_inc - 2)
        a, b, c = fi - i, fj - j, fk - k
        dlat = dlon = obliquity = 0.0
        for di in range(2):
            wi = a if di else 1.0 - a
            for dj in range(2):
                wij = wi * (b if dj else 1.0 - b)
                for dk in range(2):
                    w = wij * (c if dk else 1.0 - c)
                    dlat += w * table[i + di, j + dj, k + dk, 0]
                    dlon += w * table[i + di, j + dj, k + dk, 1]
                    obliquity += w * table[i + di, j + dj, k + dk, 2]
        fy = (lat[p] + dlat - lat_axis[0]) * lat_axis[1]
        if fy < -1e-9 or fy > last_row + 1e-9:
            outside_maps += 1
            out[p] = np.nan
            continue
        fy = min(max(fy, 0.0), last_row)
        vtec = 0.0
        for m in range(maps.size):
            vtec += weights[m] * _map_value(
                tec, maps[m], fy, lon[p] + dlon + shifts[m], lon_axis, nearest
            )
        out[p] = scale * vtec * obliquity
    return outside_table, outside_maps
