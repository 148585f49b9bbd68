"""The project's exceptions (docs/design.md §5: one-line errors naming the problem).

Every exception is a `HotspotError` that names what is wrong: the file, and where known the row
number and column, or the parameter. Its `str()` is a single line suitable for the CLI's one-line
error. `InputError`: the input is wrong; `OutputError`: an output could not be written;
`ConflictError`: a workspace changed since it was opened. Each face catches `HotspotError` once
(`cli.common.guarded`, `ui.common.answer_or_stop`).
"""

from __future__ import annotations

from pathlib import Path


class HotspotError(Exception):
    """Base class of the project's exceptions: one line naming what is wrong and where.

    Parameters
    ----------
    message : str
        What is wrong, in plain English.
    file, row, column, parameter : optional
        Where it is wrong. ``row`` is the 1-based data row number (header excluded).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        parameter: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.parameter = parameter
        super().__init__(self.render())

    def render(self) -> str:
        """The one-line text: the places it names, then the message."""
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        if self.parameter:
            where.append(f"parameter '{self.parameter}'")
        text = " ".join(str(self.message).split())  # always one line
        return f"{', '.join(where)}: {text}" if where else text


class InputError(HotspotError, ValueError):
    """Bad input: an unreadable file, a missing column, an invalid parameter value. Raised at the
    boundary (ingest, CLI arguments, parameters)."""


class OutputError(HotspotError):
    """An output could not be written (disk full, read-only folder, permission). One line naming
    the path; the previous file, if any, is intact. Not an `InputError`: the input was fine."""


class ConflictError(HotspotError):
    """A workspace changed since it was opened (another user or process wrote to it). One line:
    "workspace <where> changed since you opened it (by <who>); reload and try again"."""

    def __init__(self, where: str, by: str | None = None) -> None:
        self.where = str(where)
        self.by = by or "another process"
        super().__init__(f"workspace {self.where} changed since you opened it (by {self.by}); "
                         "reload and try again")
