"""Rejects table and ingest summary.

Every row an ingest path reads ends up either loaded (in the incidents table) or rejected (one
row in the rejects table, with the file, the 1-based data row number, the column and the
reason). The summary counts both, per file and overall; ``read == loaded + rejected`` holds for
every file and is checked before a result is returned.

Row numbers: data rows counted from 1 after the header row. Blank lines count as rows (they are
rejected as ``empty row``), so in a file without quoted line breaks, row N is line N + 1 (+ the
number of lines above the header, if the header is not the first line).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Reasons a row is rejected (the keys of ``rejected_by_reason``).
EMPTY_ROW = "empty row"
BAD_FIELDS = "wrong number of fields"
NO_LOCATION = "no location"
BAD_COORDINATES = "bad coordinates"
OUTSIDE_GB = "outside Great Britain"
BAD_MONTH = "bad month"
BAD_DATE = "bad date"
NO_DATE = "no date"
BAD_KIND = "bad kind"
BAD_WEIGHT = "bad weight"
NOT_A_POINT = "not a point geometry"
DUPLICATE_ID = "duplicate id"
DATE_OUT_OF_RANGE = "date out of range"   # before schema.EARLIEST_MONTH or after latest_month()
NO_CATEGORY = "no category"               # an empty crime type / category (never "Unknown")
NEGATIVE_WEIGHT = "negative weight"
NOT_UTF8 = "undecodable text"             # a row whose bytes are not UTF-8 (rest of file is)
NUL_CHARACTER = "NUL character"           # a field holding a NUL byte (a damaged file): never altered
DEGREES_AS_METRES = "degrees in easting/northing"  # longitude/latitude in metre columns (some rows)

REJECT_COLUMNS = ["file", "row", "column", "reason", "value"]


def rejects_frame(file: str | np.ndarray, row, column, reason, value=None) -> pd.DataFrame:
    """A rejects table (columns file, row, column, reason, value) from scalars or arrays."""
    row = np.asarray(row, dtype=np.int64).reshape(-1)
    n = len(row)

    def col(v):
        if v is None:
            return np.full(n, None, dtype=object)
        if isinstance(v, str):
            return np.full(n, v, dtype=object)
        return np.asarray(v, dtype=object).reshape(-1)

    values = col(value)
    values = np.array([v if v is None or len(str(v)) <= 120 else str(v)[:117] + "..." for v in values],
                      dtype=object) if n else values
    return pd.DataFrame({"file": pd.Series(col(file), dtype=object), "row": row,
                         "column": pd.Series(col(column), dtype=object),
                         "reason": pd.Series(col(reason), dtype=object),
                         "value": pd.Series(values, dtype=object)})


def empty_rejects() -> pd.DataFrame:
    return rejects_frame(np.array([], dtype=object), [], None, None)


@dataclass
class FileCount:
    """Rows read and rejected for one input file (loaded = read - rejected)."""

    file: str
    read: int = 0
    rejected: int = 0

    @property
    def loaded(self) -> int:
        return self.read - self.rejected


@dataclass
class Report:
    """Accumulates per-file counts, rejects and warnings while files are read."""

    files: dict[str, FileCount] = field(default_factory=dict)
    rejects: list[pd.DataFrame] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add_file(self, file: str, read: int) -> None:
        self.files.setdefault(file, FileCount(file)).read += int(read)

    def reject(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self.rejects.append(frame)
            for file, n in frame["file"].value_counts(sort=False).items():
                self.files.setdefault(file, FileCount(file)).rejected += int(n)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(" ".join(message.split()))

    def merge(self, other: "Report") -> None:
        """Add another report's files, rejects and warnings (in that order)."""
        for f in other.files.values():
            mine = self.files.setdefault(f.file, FileCount(f.file))
            mine.read += f.read
            mine.rejected += f.rejected
        self.rejects.extend(other.rejects)
        for w in other.warnings:
            self.warn(w)

    def rejects_table(self) -> pd.DataFrame:
        if not self.rejects:
            return empty_rejects()
        out = pd.concat(self.rejects, ignore_index=True)
        order = {f: i for i, f in enumerate(self.files)}
        out["_f"] = out["file"].map(order)
        return out.sort_values(["_f", "row"], kind="stable").drop(columns="_f").reset_index(drop=True)

    def summary(self, loaded_total: int) -> dict:
        """The summary dict; raises AssertionError if the counts do not add up."""
        rejects = self.rejects_table()
        read = sum(f.read for f in self.files.values())
        rejected = len(rejects)
        by_reason = {str(k): int(v) for k, v in rejects["reason"].value_counts().items()}
        files = [{"file": f.file, "read": f.read, "loaded": f.loaded, "rejected": f.rejected}
                 for f in self.files.values()]
        if read != loaded_total + rejected or any(f.loaded < 0 for f in self.files.values()):
            raise AssertionError(f"ingest counts do not add up: read {read}, loaded {loaded_total}, "
                                 f"rejected {rejected}")
        return {"read": read, "loaded": int(loaded_total), "rejected": rejected,
                "rejected_by_reason": by_reason, "warnings": list(self.warnings), "files": files}


def format_summary(summary: dict) -> str:
    """Human-readable summary for the CLI's text output."""
    n_files = len(summary.get("files", []))
    lines = [f"Read {summary['read']:,} rows from {n_files:,} file{'s' if n_files != 1 else ''}: "
             f"{summary['loaded']:,} loaded, {summary['rejected']:,} rejected."]
    for reason, n in summary["rejected_by_reason"].items():
        lines.append(f"  rejected, {reason}: {n:,}")
    if n_files > 1:
        lines.append("Per file (read / loaded / rejected):")
        for f in summary["files"]:
            lines.append(f"  {f['file']}: {f['read']:,} / {f['loaded']:,} / {f['rejected']:,}")
    if summary["warnings"]:
        lines.append("Warnings:")
        lines.extend(f"  - {w}" for w in summary["warnings"])
    return "\n".join(lines)
