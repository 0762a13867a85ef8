"""Blocks with halos: process a large raster piecewise with memory bounded by the block size.

A block reads ``read`` (the block grown by the halo, clipped at the image edge), computes on it,
and writes only its ``inner`` part to ``write`` in the output.  With output strides ``(sy, sx)``
the blocks are aligned to the strides, and ``write`` is expressed in output pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One block of an image of shape ``(rows, cols)``.

    Attributes
    ----------
    read : tuple of slice
        Input rows/cols to read (block plus halo, clipped to the image).
    core : tuple of slice
        Input rows/cols this block is responsible for (no halo).
    inner : tuple of slice
        The core expressed relative to ``read`` (index the array that was read with it).
    write : tuple of slice
        Output rows/cols the core maps to (equal to ``core`` when strides are 1).
    """

    read: tuple[slice, slice]
    core: tuple[slice, slice]
    inner: tuple[slice, slice]
    write: tuple[slice, slice]


def iter_blocks(
    shape: tuple[int, int],
    block_shape: tuple[int, int],
    halo: tuple[int, int] = (0, 0),
    strides: tuple[int, int] = (1, 1),
) -> Iterator[Block]:
    """Yield the blocks that tile an image of ``shape``.

    Parameters
    ----------
    shape : (rows, cols)
        Input image size.
    block_shape : (rows, cols)
        Core block size in input pixels; rounded up to a multiple of ``strides``.
    halo : (hy, hx)
        Extra input pixels read on each side (e.g. the half window of a filter).
    strides : (sy, sx)
        Output strides; output pixel ``i`` belongs to input rows ``[i*sy, (i+1)*sy)``.
    """
    rows, cols = shape
    sy, sx = strides
    by = -(-max(block_shape[0], 1) // sy) * sy
    bx = -(-max(block_shape[1], 1) // sx) * sx
    hy, hx = halo
    for r0 in range(0, rows, by):
        r1 = min(r0 + by, rows)
        for c0 in range(0, cols, bx):
            c1 = min(c0 + bx, cols)
            rr0, rr1 = max(r0 - hy, 0), min(r1 + hy, rows)
            cc0, cc1 = max(c0 - hx, 0), min(c1 + hx, cols)
            yield Block(
                read=(slice(rr0, rr1), slice(cc0, cc1)),
                core=(slice(r0, r1), slice(c0, c1)),
                inner=(slice(r0 - rr0, r1 - rr0), slice(c0 - cc0, c1 - cc0)),
                write=(slice(r0 // sy, -(-r1 // sy)), slice(c0 // sx, -(-c1 // sx))),
            )
