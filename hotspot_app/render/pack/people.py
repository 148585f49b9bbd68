"""Warnings as a paper says them (issue 20, docs/design.md §10): once, in words, without machine
paths, hashes or code lists. The questions write their warnings in words at their source
(file names, counts, no ids); the pack passes each through `plain` as a last guard and says each
once (`once`)."""

from __future__ import annotations

import re
from pathlib import PurePath

from hotspot_app.core import sentences
from hotspot_app.core.measures import join_names

_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
_RANGE = re.compile(rf"\b({_MONTH})\.\.({_MONTH})\b")
_MONTH_LIST = re.compile(rf"\b{_MONTH}(?:, {_MONTH})+\b")
_HASHES = re.compile(r",? e\.g\. [0-9a-fA-F]{16,}(?:, [0-9a-fA-F]{16,})*")
_HASH = re.compile(r"\b[0-9a-fA-F]{24,}\b")
_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?(?:[/\\][^\s/\\:;,'\"()]+){2,}[/\\]?")
_CODES = re.compile(r"(?:\b[EWSNK]\d{8}\b(?: x\d+)?(?: \([^)]*\))?(?:[,;] ?|$)){3,}")
_CODE = re.compile(r"[EWSNK]\d{8}")
_DUPLICATE_ID = re.compile(r"^([\d,]+) rows? repeats? an incident ID already loaded from the same source.*$")
_REJECTED_DUPLICATES = re.compile(r"^[\d,]+ of [\d,]+ rows were not loaded \(duplicate id: \d+\)$")


def _months_text(months: list[str]) -> str:
    """'2022-04, 2022-05, 2022-06, 2022-09' -> 'April to June 2022 and September 2022'."""
    runs: list[list[str]] = []
    for m in months:
        y, mm = map(int, m.split("-"))
        if runs:
            py, pm = map(int, runs[-1][-1].split("-"))
            if (y * 12 + mm) - (py * 12 + pm) == 1:
                runs[-1].append(m)
                continue
        runs.append([m])
    parts = [sentences.month_name(r[0]) if len(r) == 1 else sentences.span_text(r[0], r[-1]) for r in runs]
    return join_names(parts)


def plain(text: str) -> str:
    """One warning in words: a file path is its file name, a hash example is dropped, a list of
    area codes is counted, months are named ('April 2022 to March 2023')."""
    text = str(text)
    text = _HASHES.sub("", text)
    text = _HASH.sub("(an id)", text)
    text = _PATH.sub(lambda p: PurePath(p.group().rstrip("/\\")).name, text)
    text = _CODES.sub(lambda c: f"{len(_CODE.findall(c.group()))} area codes (listed by the CLI) ", text)
    text = _MONTH_LIST.sub(lambda ms: _months_text(ms.group().split(", ")), text)
    text = _RANGE.sub(lambda r: sentences.span_text(r.group(1), r.group(2)), text)
    text = re.sub(r"\b1 rows\b", "1 row", text)
    text = re.sub(r"\bincident\(s\)", "incidents", text)
    return text.strip()


def once(warnings: list[str]) -> list[str]:
    """The warnings in words, each said once (a rejected-rows line that only repeats the
    duplicate-id warning is left out)."""
    dup = any(_DUPLICATE_ID.match(str(w)) for w in warnings)
    out = [plain(w) for w in warnings if not (dup and _REJECTED_DUPLICATES.match(str(w)))]
    return list(dict.fromkeys(out))
