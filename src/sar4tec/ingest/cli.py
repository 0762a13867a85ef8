"""``sar4tec ingest FORMAT PATH MANIFEST OUTDIR``: an existing SLC stack onto a frame's grid."""

from __future__ import annotations

import argparse

from sar4tec.ingest.common import DEFAULT_PATTERN, FORMATS, IngestSettings, ingest_frame


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ingest`` subcommand."""
    p = subparsers.add_parser(
        "ingest",
        help="resample an OPERA / ISCE2 topsStack / GeoTIFF SLC stack onto a frame grid",
        description=__doc__,
    )
    p.add_argument("format", choices=FORMATS)
    p.add_argument("path", help="folder of the stack")
    p.add_argument(
        "manifest",
        help="the frame's acquire manifest (bounds, track, orbit_direction, orbits, dem)",
    )
    p.add_argument("outdir", help="folder for the CSLCs and manifest.json")
    p.add_argument("--pattern", default=DEFAULT_PATTERN, help="geotiff file-name pattern")
    p.add_argument("--time-utc", default=None, help="HH:MM:SS when the product has no time")
    p.add_argument(
        "--mission", default=None, help="S1A...S1D when the product does not name its satellite"
    )
    p.add_argument("--polarization", default="VV")
    p.add_argument(
        "--spacing",
        type=float,
        nargs=2,
        default=(0.0001, 0.00005),
        metavar=("DY", "DX"),
        help="frame grid pixel in degrees",
    )
    p.add_argument("--block-size", type=int, default=256)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = IngestSettings(
        args.format,
        args.path,
        pattern=args.pattern,
        time_utc=args.time_utc,
        mission=args.mission,
        polarization=args.polarization,
        spacing=tuple(args.spacing),
        block_size=args.block_size,
    )
    print(ingest_frame(settings, args.manifest, args.outdir))
    return 0
