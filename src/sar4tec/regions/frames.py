"""Grouping bursts into frames with stable IDs, and selecting the frames a region touches.

Every track is cut into a fixed tiling along the orbit: tile ``k`` of track ``t`` holds the
burst IDs ``first(t) + k L … first(t) + (k + 1) L + overlap - 1`` of all three sub-swaths,
where ``first(t)`` is the track's first burst ID (:func:`track_burst_range`), ``L`` the frame
length in bursts (9 ≈ 170 km, one IW SLC product) and ``overlap`` the bursts shared with the
next frame (so frame mosaics can be stitched, as OPERA's DISP-S1 frames do).  A frame is the
part of a tile with one pass direction.  Its ID, ``T<track><A|D>_<first burst ID of the
tile>`` (e.g. ``T064A_136228``), depends only on the burst-ID map, never on the region,
threshold or margin: the same ground gets the same frame ID in every configuration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sar4tec.regions.bursts import Burst, full_burst_id, track_burst_range


@dataclass(frozen=True)
class Frame:
    """A set of bursts processed together.

    Attributes
    ----------
    frame_id
        Stable ID, e.g. ``T064A_136228``.
    track, direction
        Relative orbit and ``ascending``/``descending``.
    burst_ids
        Full burst IDs (``TTT_BBBBBB_IWs``), sorted by burst ID then sub-swath.
    geometry
        Union of the burst footprints (shapely, lon/lat).
    """

    frame_id: str
    track: int
    direction: str
    burst_ids: tuple[str, ...]
    geometry: object

    @property
    def swaths(self) -> dict[str, list[int]]:
        """Burst IDs per sub-swath."""
        out: dict[str, list[int]] = defaultdict(list)
        for full in self.burst_ids:
            _, number, swath = full.split("_")
            out[swath].append(int(number))
        return dict(out)

    def to_dict(self) -> dict:
        """JSON-ready description (footprint reduced to its lon/lat bounds)."""
        return {
            "frame": self.frame_id,
            "track": self.track,
            "orbit_direction": self.direction,
            "bursts": list(self.burst_ids),
            "bounds": [round(v, 6) for v in self.geometry.bounds],
        }


def frame_id(track: int, direction: str, tile_start: int) -> str:
    """``T<track:03d><A|D>_<tile_start:06d>``."""
    return f"T{track:03d}{direction[0].upper()}_{tile_start:06d}"


def tiles_of(burst: Burst, frame_bursts: int = 9, overlap: int = 1) -> list[int]:
    """First burst IDs of the tiles that contain ``burst`` (two where tiles overlap)."""
    if frame_bursts < 1 or not 0 <= overlap < frame_bursts:
        raise ValueError(
            f"need frame_bursts >= 1 and 0 <= overlap < frame_bursts: {frame_bursts}, {overlap}"
        )
    first, _ = track_burst_range(burst.track)
    offset = burst.burst_id - first
    k = offset // frame_bursts
    starts = [first + k * frame_bursts]
    if k > 0 and offset - k * frame_bursts < overlap:
        starts.insert(0, first + (k - 1) * frame_bursts)
    return starts


def group_frames(
    bursts: Iterable[Burst], frame_bursts: int = 9, overlap: int = 1
) -> dict[str, Frame]:
    """All frames of the given bursts, by frame ID (see the module docstring)."""
    import shapely

    members: dict[tuple[int, str, int], list[Burst]] = defaultdict(list)
    for burst in bursts:
        for start in tiles_of(burst, frame_bursts, overlap):
            members[(burst.track, burst.direction, start)].append(burst)
    frames = {}
    for (track, direction, start), group in sorted(members.items()):
        group = sorted(
            {b.full_id: b for b in group}.values(), key=lambda b: (b.burst_id, b.subswath)
        )
        fid = frame_id(track, direction, start)
        frames[fid] = Frame(
            fid,
            track,
            direction,
            tuple(full_burst_id(b.track, b.burst_id, b.subswath) for b in group),
            shapely.union_all([b.geometry for b in group]),
        )
    return frames


def select_frames(
    region,
    bursts: Sequence[Burst],
    frame_bursts: int = 9,
    overlap: int = 1,
    tracks: Sequence[int] | None = None,
    directions: Sequence[str] = ("ascending", "descending"),
) -> list[Frame]:
    """Frames with at least one burst intersecting ``region`` (a shapely geometry, lon/lat).

    A selected frame keeps all its bursts from the map, also those outside the region, so its
    content is as stable as its ID.  ``tracks``/``directions`` restrict the choice.
    """
    import shapely

    keep = [
        b for b in bursts if b.direction in directions and (not tracks or b.track in set(tracks))
    ]
    if not keep or region.is_empty:
        return []
    tree = shapely.STRtree([b.geometry for b in keep])
    hit = tree.query(region, predicate="intersects")
    touched = set()
    for i in hit:
        b = keep[int(i)]
        touched.update((b.track, b.direction, s) for s in tiles_of(b, frame_bursts, overlap))
    wanted = {frame_id(*key) for key in touched}
    members = [
        b
        for b in keep
        if any((b.track, b.direction, s) in touched for s in tiles_of(b, frame_bursts, overlap))
    ]
    frames = group_frames(members, frame_bursts, overlap)
    return [f for fid, f in frames.items() if fid in wanted]
