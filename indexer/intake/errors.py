"""What the file readers say about a file or a row they cannot read (shared by every format)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, undecodable, no header)."""


class FileTooLarge(FileError):
    """The file holds more than a caller allows (rows, or an XLSX that unpacks too far); raised
    while streaming, before the excess is read (issue #18: a 1.4 MB XLSX of 10 M rows took 3.5 GB)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One row that cannot be read (bad JSON, wrong shape)."""

    reason: str


Row = dict[str, Any]
