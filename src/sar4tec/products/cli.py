"""``sar4tec inspect PRODUCT``: print what a product file holds."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``inspect`` subcommand to the ``sar4tec`` parser."""
    parser = subparsers.add_parser(
        "inspect",
        help="print what a product holds (grid, CRS, units, reference frame/point/date, stats)",
        description="Describe sar4tec products: GeoTIFF, NetCDF, HDF5, STAC JSON, residual CSV.",
    )
    parser.add_argument("products", nargs="+", metavar="PRODUCT", help="product file(s)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sar4tec.products.inspect import describe

    for k, path in enumerate(args.products):
        if k:
            print()
        print(describe(path))
    return 0
