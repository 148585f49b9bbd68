"""Finding input files, decoding them and reading CSV text into Arrow tables.

- `discover` expands the INCIDENTS arguments: files, folders (searched recursively, e.g.
  police.uk's ``YYYY-MM/`` folders, for ``.csv`` files and ``.zip`` archives of them) and ``.zip``
  archives (their CSV members) into `Source` objects, sorted by path so monthly files load in
  month order. Spatial incident files (GeoJSON, GeoPackage, Parquet) are read when named.
- `sniff` finds the header row (in the first 30 lines) and which kind of file it is.
- `read_csv_table` reads every column as text with pyarrow's multi-threaded CSV reader; when a
  file has rows with the wrong number of fields (or text pyarrow cannot split), it re-reads the
  file with Python's lenient `csv` module so every record is still accounted for: good records
  are returned, the others become rejects (reason ``wrong number of fields``).

Zip archives: members are streamed (the header is sniffed from the first bytes), each at most
`MAX_UNZIPPED_BYTES` decompressed; zips inside zips are read up to `MAX_ZIP_DEPTH` levels;
members sharing a name are all read (the later ones labelled ``(copy 2)``, ...).

Encodings (`decode_lines`): UTF-8 with or without BOM; a file with no valid non-ASCII UTF-8 is
Windows-1252 (cp1252), with a warning; a UTF-8 file with a few lines that are not UTF-8 keeps
UTF-8 everywhere else and reads only those lines as cp1252, with a warning naming the rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hotspot_app.core.errors import InputError
from hotspot_app.io.ingest import rejects as report

TABLE_SUFFIXES = {".csv", ".txt", ".parquet", ".geoparquet", ".geojson", ".json", ".gpkg"}
FOLDER_SUFFIXES = {".csv", ".zip"}
DICT = pa.dictionary(pa.int32(), pa.string())


#: Largest decompressed size of one zip member (zip bombs are refused, naming the member).
MAX_UNZIPPED_BYTES: int = 2 << 30
#: Zips inside zips are read this many levels deep; deeper ones are refused by name.
MAX_ZIP_DEPTH: int = 3


def shown(label) -> str:
    """A file as people read it in a warning: its name ('2024-01-cleveland-street.csv'), a zip
    member as 'archive.zip:member.csv' (a copy's '(copy 2)' kept) -- never the machine's folders."""
    text = str(label)
    head, sep, rest = text.partition(".zip:")
    if sep:
        return Path(head + ".zip").name + ":" + shown(rest)
    copy = re.search(r" \(copy \d+\)$", text)
    core = text[: copy.start()] if copy else text
    return Path(core).name + (copy.group() if copy else "")


@dataclass(frozen=True)
class Source:
    """One input file: on disk, or a member of a zip archive (possibly inside other zips).

    `chain` locates a member: one entry per zip level, the member's position in that archive's
    `infolist()` (positions, not names: two members may share a name and both are read)."""

    label: str
    path: Path
    member: str | None = None
    explicit: bool = True   # named by the user (False: found in a folder or zip)
    chain: tuple[int, ...] = ()

    @property
    def suffix(self) -> str:
        return Path(self.member or self.path.name).suffix.lower()

    @property
    def name(self) -> str:
        return Path(self.member or self.path.name).name

    @property
    def shown(self) -> str:
        """The source as a warning names it: file names, never the folders they sit in."""
        return shown(self.label)

    def _fail(self, exc: Exception):
        return InputError(f"cannot read file: {exc}", file=self.label)

    def _open_member(self, stack):
        """An open binary stream of the member (archives entered on `stack`)."""
        zf = stack.enter_context(zipfile.ZipFile(self.path))
        for depth, index in enumerate(self.chain):
            info = zf.infolist()[index]
            if info.file_size > MAX_UNZIPPED_BYTES:
                raise _too_big(self.label)
            if depth == len(self.chain) - 1:
                return stack.enter_context(zf.open(info))
            inner = _bounded_read(stack.enter_context(zf.open(info)), self.label)
            zf = stack.enter_context(zipfile.ZipFile(io.BytesIO(inner)))
        raise InputError("not a zip member", file=self.label)

    def head(self, limit: int = 65537) -> bytes:
        """The first `limit` bytes (for header sniffing): a zip member is streamed, never read
        whole."""
        try:
            if self.member is None:
                with open(self.path, "rb") as fh:
                    return fh.read(limit)
            with contextlib.ExitStack() as stack:
                return self._open_member(stack).read(limit)
        except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise self._fail(exc) from exc

    def arrow_input(self):
        """What pyarrow's CSV reader reads: the file path (memory-mapped), or the member's bytes."""
        if self.member is None:
            try:
                return pa.OSFile(str(self.path), "r")
            except OSError as exc:
                raise self._fail(exc) from exc
        return pa.BufferReader(self.read_bytes())

    def read_bytes(self) -> bytes:
        """The whole file; a zip member at most `MAX_UNZIPPED_BYTES` decompressed."""
        try:
            if self.member is None:
                return self.path.read_bytes()
            with contextlib.ExitStack() as stack:
                return _bounded_read(self._open_member(stack), self.label)
        except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise self._fail(exc) from exc


def _too_big(label: str) -> InputError:
    return InputError(f"zip member decompresses to more than {MAX_UNZIPPED_BYTES:,} bytes; refused "
                      "(a damaged archive or a zip bomb); unzip it yourself if it is genuine",
                      file=label)


def _bounded_read(stream, label: str) -> bytes:
    """Read a stream, refusing more than `MAX_UNZIPPED_BYTES` (checked as it decompresses: the
    sizes an archive declares can lie)."""
    buf = io.BytesIO()
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            return buf.getvalue()
        if buf.tell() + len(chunk) > MAX_UNZIPPED_BYTES:
            raise _too_big(label)
        buf.write(chunk)


_TABLE_MEMBER = {".csv", ".txt"}


def _wanted(name: str) -> bool:
    return (not name.endswith("/") and not Path(name).name.startswith(".")
            and "__MACOSX" not in name)


def _members(zf: zipfile.ZipFile, label: str, path: Path, chain: tuple[int, ...]) -> list[Source]:
    """CSV members of an open archive, nested zips expanded (bounded depth), sorted by name;
    members sharing a name are all listed (labelled ``(copy 2)``, ...)."""
    infos = zf.infolist()
    found: list[tuple[str, Source]] = []
    seen: dict[str, int] = {}
    for index, info in sorted(enumerate(infos), key=lambda t: (t[1].filename, t[0])):
        name = info.filename
        if not _wanted(name):
            continue
        suffix = Path(name).suffix.lower()
        if suffix not in _TABLE_MEMBER and suffix != ".zip":
            continue
        seen[name] = seen.get(name, 0) + 1
        member_label = f"{label}:{name}" + (f" (copy {seen[name]})" if seen[name] > 1 else "")
        if suffix == ".zip":
            if len(chain) + 1 >= MAX_ZIP_DEPTH:
                raise InputError(f"zip archives nested more than {MAX_ZIP_DEPTH} deep; unzip the "
                                 "outer ones first", file=member_label)
            if info.file_size > MAX_UNZIPPED_BYTES:
                raise _too_big(member_label)
            try:
                with zf.open(info) as fh:
                    inner = zipfile.ZipFile(io.BytesIO(_bounded_read(fh, member_label)))
            except zipfile.BadZipFile as exc:
                raise InputError(f"not a readable zip archive ({exc})", file=member_label) from exc
            with inner:
                found.extend((s.label, s) for s in _members(inner, member_label, path, chain + (index,)))
            continue
        found.append((member_label, Source(member_label, path, name, explicit=False,
                                           chain=chain + (index,))))
    return [s for _, s in found]


def _zip_members(path: Path) -> list[Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            out = _members(zf, str(path), path, ())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip archive ({exc})", file=path) from exc
    if not out:
        raise InputError("zip archive holds no CSV files", file=path)
    return out


def discover(paths) -> list[Source]:
    """Sources for the given files / folders / zip archives (sorted within each folder or zip)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise InputError("no incident files given", parameter="paths")
    out: list[Source] = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError("no such file or folder", file=p)
        if p.is_dir():
            # folders: CSV files and zips of them (boundary GeoJSONs and workspaces often sit
            # beside the data; spatial incident files are read when named explicitly)
            found = sorted(f for f in p.rglob("*") if f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts)
                           and f.suffix.lower() in FOLDER_SUFFIXES)
            if not found:
                raise InputError("folder holds no incident CSV files (.csv, or .zip archives of them)",
                                 file=p)
            for f in found:
                out.extend(_zip_members(f) if f.suffix.lower() == ".zip" else [Source(str(f), f, explicit=False)])
        elif p.suffix.lower() == ".zip":
            out.extend(_zip_members(p))
        else:
            out.append(Source(str(p), p))
    return out


# ----------------------------------------------------------------------------- text and header
MIXED = "utf-8+cp1252"


def _legacy(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def decode_lines(data: bytes) -> tuple[str, str, list[int]]:
    """(text, encoding, fallback lines), the encoding decided per file without corrupting UTF-8:

    - the whole file decodes as UTF-8 (BOM stripped): ``utf-8``;
    - no line holds valid non-ASCII UTF-8: a legacy file, ``cp1252`` (latin-1 for the bytes
      cp1252 leaves undefined);
    - otherwise (a UTF-8 file with a few stray bytes): ``utf-8+cp1252``: every line that is valid
      UTF-8 stays UTF-8, and only the lines that are not are read as cp1252; their 0-based line
      indexes are returned so the caller can name the rows.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    parts, bad, utf8_text = [], [], False
    for i, line in enumerate(data.splitlines(keepends=True)):
        try:
            text = line.decode("utf-8")
            utf8_text = utf8_text or not line.isascii()
        except UnicodeDecodeError:
            text = _legacy(line)
            bad.append(i)
        parts.append(text)
    if not utf8_text:
        return _legacy(data), "cp1252", []
    return "".join(parts), MIXED, bad


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) by `decode_lines` (without the line numbers)."""
    text, encoding, _ = decode_lines(data)
    return text, encoding


def _head_text(data: bytes, limit: int = 65536) -> str:
    head = data[:limit]
    if len(data) > limit and b"\n" in head:
        head = head[: head.rfind(b"\n")]
    return decode(head)[0]


def norm(name: object) -> str:
    """Column-name key: lower case, single spaces, no underscores or BOM."""
    return " ".join(str(name).replace("\ufeff", "").replace("_", " ").strip().lower().split())


def snake(name: object) -> str:
    """`LSOA code` -> `lsoa_code` (names of extra columns kept from the input)."""
    text = re.sub(r"[^0-9a-zA-Z]+", "_", str(name).replace("\ufeff", "").strip().lower()).strip("_")
    return text or "column"


@dataclass(frozen=True)
class Header:
    line: int            # 0-based line index of the header row
    columns: list[str]   # header fields as written
    kind: str | None     # police-uk | police-uk-outcomes | police-uk-stop-search | fire | generic | None


def header_kind(columns) -> str | None:
    """Which kind of file a header row belongs to (None when it is not a recognised header)."""
    from hotspot_app.core.schema import find_column

    keys = {norm(c) for c in columns}
    if {"crime id", "month", "longitude", "latitude", "crime type"} <= keys:
        return "police-uk"
    if {"crime id", "month", "outcome type"} <= keys:
        return "police-uk-outcomes"
    if "part of a policing operation" in keys or "object of search" in keys:
        return "police-uk-stop-search"
    if {"incidentgroup", "stopcodedescription"} <= keys:
        return "fire"
    if "incident category" in keys and keys & {"is primary fire", "cause of fire"}:
        return "fire"
    if find_column(columns, "category") and (find_column(columns, "occurred") or find_column(columns, "month")):
        return "generic"
    return None


def sniff(data: bytes, label: str) -> Header:
    """Find the header row (the first of the first 30 lines that is a recognised header)."""
    text = _head_text(data)
    if not text.strip():
        raise InputError("empty file (no header row)", file=label)
    head = text[:4096]
    control = sum(1 for c in head if c < " " and c not in "\t\n\r")
    if control >= 2 and control * 1000 > len(head):  # binary (or UTF-16): not one damaged field
        raise InputError("not a text (CSV) file", file=label)
    lines = text.splitlines()[:30]
    first = None
    for i, line in enumerate(lines):
        try:
            fields = next(csv.reader([line.replace("\x00", "")]))
        except (csv.Error, StopIteration):
            continue
        if first is None and line.strip():
            first = Header(i, fields, None)
        kind = header_kind(fields)
        if kind:
            _check_unique(fields, label)
            return Header(i, fields, kind)
    if first is not None:
        _check_unique(first.columns, label)
    return first or Header(0, [], None)


def _check_unique(columns, label: str) -> None:
    """A header naming one column twice is refused: the second would silently hide the first."""
    seen: dict[str, int] = {}
    for i, name in enumerate(columns, start=1):
        key = norm(name)
        if key and key in seen:
            raise InputError(f"the header names this column twice (columns {seen[key]} and {i}); rename or "
                             "remove one: otherwise one of them would be read and the other's values lost",
                             file=label, column=str(name).strip())
        seen[key] = i


# ----------------------------------------------------------------------------- CSV reading
@dataclass
class CsvTable:
    """Every record of a CSV file: `table` (text columns, header names as written, plus `_row`,
    the 1-based data row number) and `rejected` (records that could not be split into the header's
    columns)."""

    table: pa.Table
    read: int
    rejected: "report.pd.DataFrame"
    encoding: str


def _pool():
    """Memory pool for the CSV reader: jemalloc when pyarrow has it (in a fresh process it
    faults in new pages far more cheaply than the default for this allocation pattern)."""
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):
        return None


def _fast(data, header: Header, dict_columns: set[str]) -> pa.Table | None:
    bad = []

    def on_invalid(row):
        bad.append(row)
        return "skip"

    names = list(header.columns)
    types = {c: (DICT if norm(c) in dict_columns else pa.string()) for c in names}
    table = pacsv.read_csv(
        data if not isinstance(data, bytes) else pa.BufferReader(data),
        read_options=pacsv.ReadOptions(skip_rows=header.line, use_threads=True,
                                       block_size=1 << 22),
        parse_options=pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                             quoted_strings_can_be_null=False, check_utf8=True),
        memory_pool=_pool(),
    )
    if bad or table.num_columns != len(names):
        return None
    return table


def _slow(text: str, header: Header, label: str, dict_columns: set[str]) -> tuple[pa.Table, int, "report.pd.DataFrame"]:
    """Lenient reader: every csv record is a row; wrong-length records are rejected."""
    lines = text.splitlines(keepends=True)[header.line + 1:]
    ncol = len(header.columns)
    good: list[list[str]] = []
    rows: list[int] = []
    bad_rows, bad_vals = [], []
    n = 0
    reader = csv.reader(lines, strict=False)
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a NUL byte: the record is unreadable
            n += 1
            bad_rows.append(n), bad_vals.append(f"unreadable: {exc}")
            continue
        n += 1
        if not rec:
            rec = [""] * ncol  # blank line: rejected later as "empty row"
        if len(rec) != ncol:
            bad_rows.append(n), bad_vals.append(",".join(rec))
            continue
        good.append(rec)
        rows.append(n)
    cols = list(zip(*good)) if good else [[] for _ in range(ncol)]
    arrays = []
    for name, values in zip(header.columns, cols):
        arr = pa.array(list(values), type=pa.string())
        arrays.append(arr.dictionary_encode() if norm(name) in dict_columns else arr)
    table = pa.Table.from_arrays(arrays, names=list(header.columns)) if ncol else pa.table({})
    table = table.append_column("_row", pa.array(np.asarray(rows, dtype=np.int64)))
    rejected = report.rejects_frame(label, bad_rows, None, report.BAD_FIELDS, bad_vals)
    if len(bad_rows):
        rejected["reason"] = report.BAD_FIELDS
    return table, n, rejected


def read_csv_table(source: Source, header: Header, report_: "report.Report",
                   dict_columns: set[str] = frozenset()) -> CsvTable:
    """Read all records of a CSV source as text columns; see the module docstring."""
    encoding = "utf-8"
    table = None
    data = source.arrow_input()
    for attempt in range(2):
        try:
            table = _fast(data, header, dict_columns)
            break
        except pa.ArrowInvalid:
            table = None
            if attempt == 0:
                data = source.read_bytes()
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    text, encoding, lines = decode_lines(data)
                    data = text.encode("utf-8")
                    continue
            break
    if encoding == MIXED:
        rows = [i - header.line for i in lines if i > header.line]
        shown = ", ".join(map(str, rows[:10])) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        report_.warn(f"{source.shown}: UTF-8 except {len(rows)} row{'s' if len(rows) != 1 else ''} "
                     f"({shown}) with bytes that are not UTF-8; those rows read as Windows-1252 "
                     "(cp1252), the rest as UTF-8")
    elif encoding != "utf-8":
        report_.warn(f"{source.shown}: not UTF-8; read as {encoding} (Windows-1252)")
    if table is not None:
        n = table.num_rows
        table = table.append_column("_row", pa.array(np.arange(1, n + 1, dtype=np.int64)))
        table, rejected = _without_nul(table, source.label)
        return CsvTable(table, n, rejected, encoding)
    text, _ = decode(data if isinstance(data, bytes) else source.read_bytes())
    table, n, rejected = _slow(text, header, source.label, dict_columns)
    table, nul = _without_nul(table, source.label)
    return CsvTable(table, n, pd.concat([rejected, nul], ignore_index=True) if len(nul) else rejected, encoding)


def _without_nul(table: pa.Table, label: str) -> tuple[pa.Table, "report.pd.DataFrame"]:
    """Rows with a NUL byte in any field removed, and rejected naming the first such column: a
    NUL means a damaged file, and a workspace (SQLite/OGR) would cut the text at it."""
    hit_any = None
    first_col = None
    for name in table.column_names:
        if name == "_row":
            continue
        col = table[name]
        chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
        parts = []
        for chunk in chunks:
            if pa.types.is_dictionary(chunk.type):
                if not pc.any(pc.fill_null(pc.match_substring(chunk.dictionary, "\x00"), False)).as_py():
                    parts.append(pa.array(np.zeros(len(chunk), bool)))
                    continue
                chunk = chunk.dictionary_decode()
            if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
                parts.append(pa.array(np.zeros(len(chunk), bool)))
                continue
            parts.append(pc.fill_null(pc.match_substring(chunk, "\x00"), False))
        hit = np.concatenate([p.to_numpy(zero_copy_only=False) for p in parts]) if parts else np.zeros(0, bool)
        if not hit.any():
            continue
        if hit_any is None:
            hit_any, first_col = np.zeros(table.num_rows, bool), np.full(table.num_rows, None, dtype=object)
        new = hit & ~hit_any
        first_col[new] = name
        hit_any |= hit
    if hit_any is None:
        return table, report.empty_rejects()
    at = np.flatnonzero(hit_any)
    rows = table["_row"].to_numpy()[at]
    values = []
    for i, c in zip(at, first_col[at]):
        v = table[c][int(i)].as_py()
        values.append(None if v is None else str(v).replace("\x00", "\\x00"))
    rejected = report.rejects_frame(label, rows, first_col[at], report.NUL_CHARACTER, values)
    return table.filter(pa.array(~hit_any)), rejected


def codes_values(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(codes int, unique values as an object array of str) for a text column."""
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type):
            column = column.unify_dictionaries()
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    codes = column.indices.to_numpy(zero_copy_only=False)
    values = np.asarray(column.dictionary.to_pylist(), dtype=object)
    if column.null_count:
        codes = np.where(column.is_null().to_numpy(zero_copy_only=False), len(values), codes)
        values = np.append(values, "").astype(object)
    return codes, values


@dataclass
class Part:
    """Loaded rows: columns (canonical first), shapely points, 64-bit id keys, and where each row
    came from (`files`: labels; `file_codes`, `rows`: per row)."""

    columns: dict  # name -> Series / array (canonical columns first)
    geometry: np.ndarray
    keys: np.ndarray
    files: list
    file_codes: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.geometry)

    def frame(self) -> pd.DataFrame:
        """The columns in schema order (geometry is added by the caller)."""
        from hotspot_app.core.schema import INCIDENT_COLUMNS

        order = [c for c in INCIDENT_COLUMNS if c in self.columns]
        order += [c for c in self.columns if c not in order]
        return pd.DataFrame({c: self.columns[c] for c in order}, copy=False)
