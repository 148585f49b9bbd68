"""Reading an indicator spec (docs/design.md §5b "Indicators"): a CSV with columns ``indicator``,
``category`` (groups or categories, ``;``-separated) and ``target``; one-line errors naming the
file."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from hotspot_app.core.errors import InputError


def read(path: str | os.PathLike, parameter: str = "spec") -> pd.DataFrame:
    """The spec's rows as text (nothing read as a number or a null)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such indicator spec", file=path, parameter=parameter)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the indicator spec ({' '.join(str(exc).split())})", file=path) from None
