"""The audit log's hash chain (design §9, README "Shared deployment"): one rule for the
GeoPackage, the PostGIS workspace and a users file.

Every audit row carries ``prev_hash`` (the ``row_hash`` of the row before it; `GENESIS` for the
first) and ``row_hash`` = SHA-256 of the row's canonical JSON (``seq``, ``at``, ``user``,
``action``, ``detail``; keys sorted, no spaces, UTF-8) followed by ``prev_hash``. Changing,
deleting or inserting a row breaks the chain at that row; deleting rows at the end is caught by
the head (last ``seq`` and ``row_hash``) that each backend keeps beside its version token.
`verify` reports the first broken row. The PostGIS audit table is append-only besides (a trigger
refuses UPDATE, DELETE and TRUNCATE); a GeoPackage's owner can rewrite anything in the file, so
there the chain makes changes evident rather than impossible.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

GENESIS = "0" * 64

#: Columns of an audit row as stored (both backends and the users file).
CHAIN_COLUMNS = ["seq", "at", "user", "action", "detail", "prev_hash", "row_hash"]


def now_text() -> str:
    """The ``at`` of a new audit row: UTC, ISO 8601 to the microsecond, ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(prev_hash: str, seq: int, at: str, user: str, action: str, detail: str) -> str:
    """SHA-256 (hex) of the row's canonical JSON followed by `prev_hash`."""
    canonical = json.dumps({"seq": int(seq), "at": str(at), "user": str(user), "action": str(action),
                            "detail": str(detail)}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256((canonical + str(prev_hash)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One new audit row, chained to `prev_hash`."""

    seq: int
    at: str
    user: str
    action: str
    detail: str
    prev_hash: str
    row_hash: str


def chain(prev_seq: int, prev_hash: str, rows: Iterable[tuple[str, str, str]],
          at: str | None = None) -> list[Entry]:
    """New entries for (user, action, detail) rows following the row (`prev_seq`, `prev_hash`)."""
    at = at or now_text()
    out: list[Entry] = []
    seq, prev = int(prev_seq), prev_hash or GENESIS
    for user, action, detail in rows:
        seq += 1
        detail = " ".join(str(detail).split())
        h = row_hash(prev, seq, at, user, action, detail)
        out.append(Entry(seq, at, str(user), str(action), detail, prev, h))
        prev = h
    return out


def verify(rows: Iterable[dict], head: tuple[int, str] | None = None) -> tuple[int, str | None]:
    """(rows checked, the first problem or None). `rows` are dicts with `CHAIN_COLUMNS`, in
    ``seq`` order; `head` is the (seq, row_hash) the backend recorded for its last row (None:
    unknown, e.g. a workspace written before the chain)."""
    prev_seq, prev = 0, GENESIS
    n = 0
    for r in rows:
        n += 1
        seq = int(r["seq"])
        where = f"audit row {seq} ({r.get('at')}, {r.get('action')} by {r.get('user')})"
        if seq != prev_seq + 1:
            missing = f"row {prev_seq + 1}" if seq == prev_seq + 2 else f"rows {prev_seq + 1} to {seq - 1}"
            return n, f"audit {missing} deleted (the log jumps from row {prev_seq} to row {seq})"
        if r.get("prev_hash") != prev:
            return n, f"{where} does not follow the row before it: a row before it was changed or removed"
        expected = row_hash(prev, seq, r["at"], r["user"], r["action"], r["detail"])
        if r.get("row_hash") != expected:
            return n, f"{where} was changed after it was written"
        prev_seq, prev = seq, expected
    if head is not None:
        head_seq, head_hash = int(head[0]), str(head[1])
        if head_seq > prev_seq:
            missing = f"row {head_seq}" if head_seq == prev_seq + 1 else f"rows {prev_seq + 1} to {head_seq}"
            return n, f"audit {missing} deleted (the log ends at row {prev_seq}; the workspace recorded {head_seq})"
        if head_seq == prev_seq and head_seq and head_hash != prev:
            return n, f"audit row {head_seq} differs from the one the workspace recorded"
    return n, None
