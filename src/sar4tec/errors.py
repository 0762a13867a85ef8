"""The project's error types: what a user can catch, and what a reader raises on a bad file.

Every error that sar4tec raises on purpose derives from :class:`Sar4tecError`, so a driver
(the CLI, a region summary) can tell a diagnosed problem from a bug.  The concrete classes also
derive from the builtin that callers caught before the base existed (``ValueError`` for a bad
file or configuration, ``RuntimeError`` for a failed download), so existing ``except`` clauses
keep working.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


class Sar4tecError(Exception):
    """Base of every error sar4tec raises on purpose; the message says what to fix."""


class InputFormatError(Sar4tecError, ValueError):
    """A malformed or truncated input file; the message starts with the file's path."""


#: what a parser raises on malformed text: bad numbers, missing fields, broken XML/encodings
PARSE_ERRORS = (
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    ArithmeticError,  # overflow, division by zero
    SyntaxError,  # xml.etree.ElementTree.ParseError
    UnicodeError,
    EOFError,
)


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Turn any parse error inside the block into an :class:`InputFormatError` naming ``path``.

    Parameters
    ----------
    path
        The file being read (first thing in the message).
    what
        What the file should be, e.g. ``"IONEX file"`` (so the message says ``malformed IONEX
        file``).

    Errors that are already :class:`Sar4tecError` pass through unchanged.
    """
    try:
        yield
    except Sar4tecError:
        raise
    except PARSE_ERRORS as err:
        raise InputFormatError(f"{os.fspath(path)}: malformed {what} ({err})") from err
