"""Writing what users take away: one home for file and download outputs.

Safety rules (docs/design.md §10, every CSV and XLSX the tool writes):
- **Formula neutralising**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return is written with a leading apostrophe (``'=HYPERLINK(...)``) so spreadsheets show it as
  text instead of running it (OWASP "CSV injection"). Numbers stay numbers: only text cells are
  touched, so ``-5`` stored as a number is unchanged while the text ``"-5"`` gains the apostrophe.
- **Atomic files**: `write_bytes_atomic` writes beside the target and renames over it, so a
  failure (disk full, kill, permission) leaves the previous file intact; an `OSError` becomes a
  one-line `OutputError` naming the path.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd

from hotspot_app.core.errors import InputError, OutputError

__all__ = ["FORMULA_PREFIXES", "neutralise", "neutralise_frame", "csv_bytes", "write_bytes_atomic",
           "write_text_atomic", "check_outputs_distinct", "xml_text"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Characters XML 1.0 (so XLSX and DOCX) cannot hold: C0 controls other than tab, LF and CR.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value) -> str:
    """`value` as text an XLSX or DOCX file can hold: each control character XML refuses (e.g. a
    BEL or NUL in an area name) is shown as U+FFFD, so one odd name cannot block a whole
    spreadsheet or report."""
    return _NOT_XML.sub("\ufffd", str(value))


def neutralise(value):
    """`value` made safe for a spreadsheet cell: text starting with a formula prefix gets a
    leading apostrophe; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells (and column names) are neutralised; numeric, boolean and
    datetime columns are untouched."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            if hasattr(s, "geom_type"):  # a GeoSeries is written by its own driver
                continue
            out[col] = s.map(neutralise, na_action="ignore")
        elif isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.cat.rename_categories([neutralise(c) for c in s.cat.categories])
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame, **kwargs) -> bytes:
    """UTF-8 CSV of `df` with text neutralised (empty cell = null)."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    return neutralise_frame(df).to_csv(**kwargs).encode("utf-8")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, file_mode(path))  # mkstemp makes 0600; give the mode a plain open() would
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError(f"could not write ({exc.strerror or exc}); the previous file is unchanged", file=str(path)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def file_mode(path: Path) -> int:
    """The mode `path` has (when replacing it) or a new file gets under the process umask (not
    mkstemp's private 0600, which would lock partners out of a shared workspace). The one home of
    that rule: store.py's atomic writes use it too."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """`write_bytes_atomic` for UTF-8 text."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def check_outputs_distinct(inputs: Iterable[str | os.PathLike], outputs: Iterable[str | os.PathLike | None]) -> None:
    """Refuse an output path that is one of the inputs or another output (an overwritten source is
    lost data). Raises `InputError` naming the path."""
    seen: dict[Path, str] = {}
    for p in inputs:
        seen[Path(p).resolve()] = "an input"
    for p in outputs:
        if p is None:
            continue
        rp = Path(p).resolve()
        if rp in seen:
            raise InputError(f"{p} is {seen[rp]}; choose another output path", parameter="out")
        seen[rp] = "another output"
