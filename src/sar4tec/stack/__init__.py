"""The coregistered SLC stack on disk (HDF5), and block iteration with halos."""

from sar4tec.stack.blocks import Block, iter_blocks

__all__ = ["Block", "iter_blocks"]
