"""How a pack's tables sit on the page (docs/design.md §10): the one layout rule the PDF and the
Word renderers both follow, so a table is never clipped.

A table is laid out on the pack's page (A4 portrait by default; the spec's ``page`` key sets
the size and orientation). Column widths are estimated from their text (numbers never wrap; the
row labels and headers may wrap at spaces). A table that does not fit the width at the normal
size is, in this order:

1. shrunk a little (to `HOME_FLOOR_PT`) on the page as it is;
2. turned: put (with its section's heading and text) on a landscape page of the same size, its
   font reduced if need be, never below `FLOOR_PT`;
3. split: cut into column groups, each repeating the row-label column (and keeping the header
   groups, e.g. an authority's Current / Previous / Diff / % Diff, together), each part on a
   landscape page at the floor size or larger.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotspot_app.core.errors import InputError

#: Page sizes (width, height) in millimetres, portrait.
PAGE_SIZES = {"A4": (210.0, 297.0), "A3": (297.0, 420.0), "Letter": (215.9, 279.4)}
ORIENTATIONS = ("portrait", "landscape")
#: Page margins in millimetres (left/right, top, bottom), the same in PDF and Word.
MARGIN_SIDE_MM, MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 12.0, 16.0, 18.0
#: Table font sizes in points: the normal size, and the smallest a table is shrunk to.
TABLE_PT, FLOOR_PT = 8.0, 6.5
#: A table is shrunk on the page's own orientation down to this size before it is turned.
HOME_FLOOR_PT = 7.0
#: Average glyph width of the table font (DejaVu Sans / Arial) as a fraction of its size, and
#: the padding and borders of a cell, in points at any font size.
GLYPH_EM, CELL_PAD_PT = 0.62, 7.5
#: The longest row label (characters) kept on one line, and the longest text of another text
#: column (a place, a ward); longer texts wrap at spaces.
LABEL_CHARS, TEXT_CHARS = 30, 18
#: A header wraps at spaces onto lines of about this many characters.
HEADER_CHARS = 12
PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Page:
    """The pack's page: size name and orientation (validated by `page_of`)."""

    size: str = "A4"
    orientation: str = "portrait"

    def dimensions_mm(self, orientation: str | None = None) -> tuple[float, float]:
        w, h = PAGE_SIZES[self.size]
        return (h, w) if (orientation or self.orientation) == "landscape" else (w, h)

    def text_width_pt(self, orientation: str | None = None) -> float:
        return (self.dimensions_mm(orientation)[0] - 2 * MARGIN_SIDE_MM) * PT_PER_MM

    @property
    def turned(self) -> str:
        return "landscape" if self.orientation == "portrait" else "portrait"

    def css_size(self, orientation: str | None = None) -> str:
        return f"{self.size} {orientation or self.orientation}"


def page_of(value, parameter: str = "page") -> Page:
    """The page a spec's ``page`` key asks for: ``A4`` / ``A3`` / ``Letter``, optionally with
    ``landscape`` (``"A4 landscape"``), or a mapping ``{size, orientation}``; None: A4 portrait."""
    if value is None:
        return Page()
    if isinstance(value, str):
        words = value.split()
        value = {"size": words[0] if words else "", "orientation": words[1] if len(words) > 1 else "portrait"}
        if len(words) > 2:
            raise InputError(f"'{' '.join(words)}' is not a page; use e.g. 'A4' or 'A4 landscape'",
                             parameter=parameter)
    if not isinstance(value, dict):
        raise InputError("a page size (A4, A3 or Letter) with an optional orientation", parameter=parameter)
    for k in value:
        if k not in ("size", "orientation"):
            raise InputError("unknown key; use size, orientation", parameter=f"{parameter}.{k}")
    sizes = {k.lower(): k for k in PAGE_SIZES}
    size = sizes.get(str(value.get("size", "A4")).lower())
    if size is None:
        raise InputError(f"'{value.get('size')}' is not a page size; use {', '.join(PAGE_SIZES)}",
                         parameter=f"{parameter}.size")
    orientation = str(value.get("orientation", "portrait")).lower()
    if orientation not in ORIENTATIONS:
        raise InputError(f"'{value.get('orientation')}' is not an orientation; use portrait or landscape",
                         parameter=f"{parameter}.orientation")
    return Page(size, orientation)


@dataclass(frozen=True)
class Part:
    """One printed piece of a table: the columns it shows (indices into the table's columns; the
    row-label column 0 always first), its page orientation and its font size in points."""

    columns: tuple[int, ...]
    orientation: str
    font_pt: float
    index: int = 0  # 0 for the first part, 1.. for the continuations
    parts: int = 1


def _text_width(text: str, wrap: bool, limit: int | None = None) -> int:
    """Characters a cell needs: the whole text, or (wrapping at spaces) its longest word, at
    most `limit` characters on a line."""
    text = str(text)
    if not wrap:
        return len(text)
    longest = max((len(w) for w in text.split()), default=0)
    return max(longest, min(len(text), limit or len(text)))


def column_chars(columns: list[tuple[str, str]], cells: list[list[str]], indent: list[int],
                 text_columns: set[int] | frozenset[int] = frozenset({0})) -> list[int]:
    """Characters each column needs on one line: its cells (numbers whole; the row labels, with
    their indent, and other `text_columns` wrapping after `LABEL_CHARS`), its header (wrapping
    at spaces)."""
    out = []
    for j, (_, label) in enumerate(columns):
        if j == 0:
            need = max([_text_width(("   " * (indent[i] if i < len(indent) else 0)) + row[0], True, LABEL_CHARS)
                        for i, row in enumerate(cells)] or [0])
        elif j in text_columns:
            need = max([_text_width(row[j], True, TEXT_CHARS) for row in cells] or [0])
        else:
            need = max([len(str(row[j])) for row in cells] or [0])
        out.append(max(need, _text_width(label, True, HEADER_CHARS), 3))
    return out


def width_pt(chars: list[int], font_pt: float) -> float:
    return sum(c * font_pt * GLYPH_EM + CELL_PAD_PT for c in chars)


def _groups(columns: list[tuple[str, str]]) -> list[list[int]]:
    """Runs of columns under one header group (column 0, the row labels, excluded)."""
    runs: list[list[int]] = []
    for j in range(1, len(columns)):
        g = columns[j][0]
        if runs and g and columns[runs[-1][-1]][0] == g:
            runs[-1].append(j)
        else:
            runs.append([j])
    return runs


def _fonts(largest: float, smallest: float) -> list[float]:
    """Font sizes from `largest` down to `smallest` in half points."""
    return [t / 10 for t in range(int(largest * 10), int(smallest * 10) - 1, -5)]


def plan(columns: list[tuple[str, str]], cells: list[list[str]], indent: list[int], page: Page,
         text_columns: set[int] | frozenset[int] = frozenset({0})) -> list[Part]:
    """The parts a table prints as on `page` (see the module's rule). Every column is in exactly
    one part, the row labels in all of them; `text_columns` may wrap at spaces."""
    chars = column_chars(columns, cells, indent, text_columns)
    every = tuple(range(len(columns)))
    home = page.orientation
    for font in _fonts(TABLE_PT, HOME_FLOOR_PT):  # as it is, or a little smaller
        if width_pt(chars, font) <= page.text_width_pt(home):
            return [Part(every, home, font)]
    wide = max((home, page.turned), key=page.text_width_pt)
    avail = page.text_width_pt(wide)
    for font in _fonts(TABLE_PT, FLOOR_PT):  # turned, shrunk to the floor at most
        if width_pt(chars, font) <= avail:
            return [Part(every, wide, font)]
    label = width_pt(chars[:1], FLOOR_PT)
    pieces: list[list[int]] = []  # header groups, or single columns of a group wider than a page
    for run in _groups(columns):
        if label + width_pt([chars[j] for j in run], FLOOR_PT) > avail:
            pieces.extend([j] for j in run)
        else:
            pieces.append(run)
    n = 1  # the fewest parts that hold the pieces in order, then as even as that allows
    while True:
        parts = _partition(pieces, [width_pt([chars[j] for j in p], FLOOR_PT) for p in pieces], n)
        if parts is not None and all(label + w <= avail for _, w in parts):
            break
        n += 1
    out = []
    for k, (cols, _) in enumerate(parts):
        need = [chars[0]] + [chars[j] for j in cols]
        font = next((f for f in _fonts(TABLE_PT, FLOOR_PT) if width_pt(need, f) <= avail), FLOOR_PT)
        out.append(Part((0, *cols), wide, font, k, len(parts)))
    return out


def _partition(pieces: list[list[int]], widths: list[float], n: int):
    """`pieces` in order cut into at most `n` runs whose widest is as narrow as possible:
    [(columns, width)], or None when there are fewer pieces than `n` would need."""
    if n > len(pieces):
        return None
    lo, hi = max(widths), sum(widths)
    for _ in range(40):  # bisect the widest run's width
        mid = (lo + hi) / 2
        runs, width = 1, 0.0
        for w in widths:
            if width + w > mid:
                runs, width = runs + 1, w
            else:
                width += w
        lo, hi = (mid, hi) if runs > n else (lo, mid)
    out: list[tuple[list[int], float]] = []
    for piece, w in zip(pieces, widths):
        if out and out[-1][1] + w <= hi + 1e-6:
            out[-1] = (out[-1][0] + piece, out[-1][1] + w)
        else:
            out.append((list(piece), w))
    return out
