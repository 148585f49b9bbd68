"""PostGIS workspace: the workspace interface (`base.Workspace`) on PostgreSQL/PostGIS,
for a partnership's shared deployment (docs/design.md §9).

Selected by a ``postgresql://user[:password]@host[:port]/database`` URL wherever a workspace is
accepted (`workspace.open_workspace`). The tool creates and migrates its tables (``hotspot_schema``
holds the schema version). Every write is ONE transaction that first locks the single row of
``hotspot_state`` (``SELECT ... FOR UPDATE``): writers queue instead of losing each other's
updates, and a writer that passes ``expected_version`` gets `errors.ConflictError` when someone
else committed since it read. Each write bumps the version and appends to ``audit``.

Tables
------
``incidents``
    Canonical incidents plus ``provider`` and any extra input columns (added as loads bring them).
    Index on (source, provider, month) for the accumulate rule; GiST index on ``geometry``.
``areas__<layer>``
    One table per area layer (as the GeoPackage's layers); GiST index on ``geometry``.
``interventions``, ``cluster_runs``, ``patrol_areas``
    As in the GeoPackage.
``loads``, ``audit``, ``incidents_removed``
    Load history; who/when/what of every write; the rows each replacing load removed (as JSON,
    the last `KEEP_REMOVED` such loads kept: the database's counterpart of the GeoPackage's
    timestamped backups). ``audit`` is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE
    for every role (the app's included), and its rows are hash-chained (`audit.py`), the head
    kept in ``hotspot_state``, so a row changed with the trigger disabled (by the table's owner)
    is still found by ``hotspot audit URL --verify``.
``hotspot_records``, ``hotspot_deleted``
    The version of every intervention and area (edits carry the version the user saw) and the
    deleted ones, kept whole so the Data page can restore them (`base.RECORDS`, `base.DELETED`).
``hotspot_meta``
    Column order and pandas dtypes of each table, so that reading returns equal data (datetime
    resolution, ints, bools, NaT/None) exactly as the GeoPackage backend does.

Reads and writes go through geopandas' own PostGIS I/O (``to_postgis`` / ``read_postgis``, which
use COPY on psycopg 3) over SQLAlchemy + GeoAlchemy2.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot_app.core import schema, settings
from hotspot_app.core.errors import ConflictError, InputError, OutputError
from hotspot_app.io.workspace import audit as chain
from hotspot_app.io.workspace.base import (
    AREA_PREFIX,
    DELETED,
    DELETED_COLUMNS,
    RECORD_KINDS,
    RECORDS,
    RecordChange,
    apply_record_change,
    audit_missing,
    check_record,
    frame_of,
    kept,
    layer_key,
    next_number,
    record_changes,
    CLUSTER_RUNS,
    INCIDENTS,
    INTERVENTIONS,
    PATROL_AREAS,
    LoadResult,
    area_frames,
    check_geo,
    check_intervention_fields,
    intervention_added_text,
    no_location_by_month,
    restore_dtypes,
    coverage_from_summary,
    summary_of,
    with_provider,
)
from hotspot_app.core.selection import Selection
from hotspot_app.io.identity import current_user
from hotspot_app.io.workspace import urls
from hotspot_app.io.workspace.partitioned import degrade_dtype, merge_dtype
from hotspot_app.io.workspace.urls import normalise_url
from hotspot_app.io.workspace.base import Workspace

__all__ = ["PostgisWorkspace", "SCHEMA_VERSION", "KEEP_REMOVED"]

#: Version of the tables this code writes; `PostgisWorkspace` migrates older databases to it.
SCHEMA_VERSION = 3
#: PostgreSQL's longest identifier (bytes); longer column names would be cut and collide.
MAX_IDENTIFIER = 63
#: Replacing loads whose removed rows are kept in ``incidents_removed``.
KEEP_REMOVED = 5
#: Columns of the incidents key of the accumulate rule (docs/design.md §5b).
LOAD_KEY = ("source", "provider", "month")

_ENGINES: dict[str, Any] = {}

# Each step migrates the previous version to the next (index = target version - 1).
_MIGRATIONS: list[list[str]] = [
    [
        "CREATE EXTENSION IF NOT EXISTS postgis",
        """CREATE TABLE hotspot_state (
               id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL,
               changed_by text, changed_at timestamptz NOT NULL DEFAULT now())""",
        "INSERT INTO hotspot_state (id, version) VALUES (1, 0)",
        "CREATE TABLE hotspot_meta (tbl text PRIMARY KEY, meta jsonb NOT NULL)",
        """CREATE TABLE loads (
               load_id bigserial PRIMARY KEY, loaded_at timestamptz NOT NULL DEFAULT now(),
               "user" text NOT NULL, files jsonb NOT NULL, providers jsonb NOT NULL,
               read bigint NOT NULL, loaded bigint NOT NULL, rejected bigint NOT NULL,
               added bigint NOT NULL, replaced bigint NOT NULL, months jsonb NOT NULL,
               replace_all boolean NOT NULL, no_location jsonb NOT NULL)""",
        """CREATE TABLE audit (
               id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
               "user" text NOT NULL, action text NOT NULL, detail text NOT NULL)""",
        """CREATE TABLE incidents_removed (
               load_id bigint NOT NULL, removed_at timestamptz NOT NULL DEFAULT now(),
               row jsonb NOT NULL)""",
        "CREATE INDEX incidents_removed_load ON incidents_removed (load_id)",
        """CREATE TABLE incidents (
               _rowid bigserial PRIMARY KEY, incident_id text, source text, provider text,
               occurred timestamp, month text, category text, "group" text, kind text,
               subcategory text, weight double precision, location text,
               geometry geometry(Geometry, 27700))""",
        "CREATE INDEX incidents_load_key ON incidents (source, provider, month)",
        "CREATE INDEX incidents_geometry ON incidents USING gist (geometry)",
    ],
    [
        # the audit's hash chain (head in hotspot_state) and its append-only trigger
        f"ALTER TABLE hotspot_state ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0, "
        f"ADD COLUMN audit_hash text NOT NULL DEFAULT '{chain.GENESIS}'",
        "ALTER TABLE audit ADD COLUMN seq bigint, ADD COLUMN prev_hash text, ADD COLUMN row_hash text",
        lambda conn: _chain_existing_audit(conn),
        "ALTER TABLE audit ALTER COLUMN seq SET NOT NULL",
        "CREATE UNIQUE INDEX audit_seq ON audit (seq)",
        """CREATE OR REPLACE FUNCTION hotspot_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
               USING ERRCODE = 'insufficient_privilege';
           END $$""",
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit FOR EACH ROW "
        "EXECUTE FUNCTION hotspot_audit_append_only()",
        "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT "
        "EXECUTE FUNCTION hotspot_audit_append_only()",
        "REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM PUBLIC",
        # record versions and deleted records
        """CREATE TABLE hotspot_records (
               kind text NOT NULL, id text NOT NULL, version bigint NOT NULL, digest text,
               changed_by text, changed_at timestamptz, deleted boolean NOT NULL DEFAULT false,
               PRIMARY KEY (kind, id))""",
        """CREATE TABLE hotspot_deleted (
               n bigserial PRIMARY KEY, kind text NOT NULL, id text NOT NULL, name text, layer text,
               deleted_at timestamptz NOT NULL, deleted_by text, version bigint, data jsonb NOT NULL,
               restored_at timestamptz, restored_by text)""",
        "CREATE INDEX hotspot_deleted_record ON hotspot_deleted (kind, id)",
    ],
    [
        # incidents partitioned by month (declarative LIST partitioning, one partition a month),
        # and the summary of what is stored (rows per source, provider, month, kind, category,
        # group): coverage and selection planning without scanning the incidents
        lambda conn: _partition_incidents(conn),
        """CREATE TABLE incidents_summary (
               source text, provider text, month text, kind text, category text, "group" text,
               rows bigint NOT NULL, load_id bigint)""",
        "CREATE INDEX incidents_summary_key ON incidents_summary (source, provider, month)",
        """INSERT INTO incidents_summary SELECT source, provider, month, kind, category, "group", count(*), NULL
           FROM incidents GROUP BY 1, 2, 3, 4, 5, 6""",
        # what reading the files said, kept with each load (commands reading the workspace say it)
        "ALTER TABLE loads ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'",
    ],
]

#: The partition of rows whose month has none of its own (a missing month).
DEFAULT_PARTITION = "incidents_default"


def _partition_name(month: str) -> str:
    """``incidents_m2024_01`` for month 2024-01 (any other text: a stable hash of it)."""
    import hashlib
    import re

    if re.fullmatch(r"\d{4}-\d{2}", str(month)):
        return "incidents_m" + str(month).replace("-", "_")
    return "incidents_x" + hashlib.sha256(str(month).encode("utf-8")).hexdigest()[:16]


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _partition_incidents(conn) -> None:
    """Migration 3: the incidents table becomes a table partitioned by month (LIST), with the
    same columns, rows (in the same order: ``_rowid`` kept) and indexes; a database written before
    is moved over in this one transaction."""
    from sqlalchemy import text

    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('incidents')")).scalar()
    if kind is None or kind == "p":
        return
    indexes = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                "AND tablename = 'incidents'")).all()
    for name, _ in indexes:
        conn.execute(text(f"ALTER INDEX {_q(name)} RENAME TO {_q('old_' + name)}"))
    conn.execute(text("ALTER TABLE incidents RENAME TO incidents_unpartitioned"))
    conn.execute(text("ALTER TABLE incidents_unpartitioned DROP CONSTRAINT IF EXISTS incidents_pkey"))
    conn.execute(text("CREATE TABLE incidents (LIKE incidents_unpartitioned INCLUDING DEFAULTS) "
                      "PARTITION BY LIST (month)"))
    conn.execute(text("ALTER SEQUENCE IF EXISTS incidents__rowid_seq OWNED BY incidents._rowid"))
    conn.execute(text(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF incidents DEFAULT"))
    for (month,) in conn.execute(text("SELECT DISTINCT month FROM incidents_unpartitioned "
                                      "WHERE month IS NOT NULL ORDER BY 1")).all():
        conn.execute(text(f"CREATE TABLE {_q(_partition_name(month))} PARTITION OF incidents "
                          f"FOR VALUES IN ({_literal(month)})"))
    conn.execute(text("INSERT INTO incidents SELECT * FROM incidents_unpartitioned ORDER BY _rowid"))
    conn.execute(text("DROP TABLE incidents_unpartitioned"))
    conn.execute(text("CREATE INDEX incidents_rowid ON incidents (_rowid)"))
    conn.execute(text("CREATE INDEX incidents_load_key ON incidents (source, provider, month)"))
    for name, definition in indexes:
        if name in ("incidents_pkey", "incidents_load_key"):
            continue
        # e.g. the GiST index on the geometry, now on the partitioned table (and every partition)
        column = definition[definition.rindex("(") + 1: definition.rindex(")")]
        method = "USING gist " if "USING gist" in definition else ""
        conn.execute(text(f"CREATE INDEX {_q(name)} ON incidents {method}({column})"))


def _iso_us(ts) -> str:
    """An audit row's ``at`` as hashed: UTC, to the microsecond (`audit.now_text`'s form)."""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _chain_existing_audit(conn) -> None:
    """Migration 2: number and chain the audit rows written before the chain (in id order)."""
    from sqlalchemy import text

    rows = conn.execute(text('SELECT id, at, "user", action, detail FROM audit ORDER BY id')).all()
    prev = chain.GENESIS
    for seq, r in enumerate(rows, start=1):
        at = _iso_us(r.at)
        h = chain.row_hash(prev, seq, at, r.user, r.action, r.detail)
        conn.execute(text("UPDATE audit SET seq = :s, prev_hash = :p, row_hash = :h, at = CAST(:at AS timestamptz) "
                          "WHERE id = :id"), {"s": seq, "p": prev, "h": h, "at": at, "id": r.id})
        prev = h
    conn.execute(text("UPDATE hotspot_state SET audit_seq = :s, audit_hash = :h WHERE id = 1"),
                 {"s": len(rows), "h": prev})






def _sqlalchemy_url(url: str):
    """The SQLAlchemy URL of `url`, built from its decoded parts (a password holding ``@``, ``:``
    or ``/`` stays one password; a password left out is read by libpq from PGPASSWORD/.pgpass)."""
    from urllib.parse import parse_qsl

    from sqlalchemy.engine import URL

    p = urls.parts(url)
    return URL.create("postgresql+psycopg", username=p.user, password=p.password, host=p.host or None,
                      port=p.port, database=p.database, query=dict(parse_qsl(p.query)))


def _engine(url: str):
    from sqlalchemy import create_engine

    if url not in _ENGINES:
        _ENGINES[url] = create_engine(_sqlalchemy_url(url), pool_pre_ping=True)
    return _ENGINES[url]


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _iso(ts) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").isoformat(timespec="seconds").replace("+00:00", "Z")


def _meta_of(df: pd.DataFrame) -> dict:
    meta = {"columns": [str(c) for c in df.columns],
            "dtypes": {str(c): str(t) for c, t in df.dtypes.items()}}
    if isinstance(df, gpd.GeoDataFrame):
        meta["geometry"] = df.geometry.name
    return meta


class PostgisWorkspace(Workspace):
    """A workspace in a PostgreSQL/PostGIS database, implementing `base.Workspace`.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database``. The database must exist and have
        (or let this user create) the ``postgis`` extension; the tool's tables are created or
        migrated on first use.
    """

    def __init__(self, url: str, check: bool = True):
        self.url = normalise_url(url)
        try:
            import psycopg  # noqa: F401
            import geoalchemy2  # noqa: F401
        except ImportError as exc:
            raise InputError(f"a PostgreSQL workspace needs the '{exc.name}' package "
                             "(pip install 'hotspot_app[postgis]')", parameter="workspace") from exc
        self._engine = _engine(self.url)
        self._migrate()
        if check:
            self.check()

    @property
    def where(self) -> str:
        """The URL without its password (`urls.display`: the one display form)."""
        return urls.display(self.url)

    def __repr__(self) -> str:
        return f"PostgisWorkspace({self.where!r})"

    # ----------------------------------------------------------------- plumbing
    def _connect_error(self, exc: Exception) -> InputError:
        first = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
        return InputError(f"cannot use the PostgreSQL workspace: {first[0] if first else exc}",
                          file=self.where)

    def _migrate(self) -> None:
        from sqlalchemy import exc as sa_exc, text

        try:
            with self._engine.connect() as conn:  # up to date: no lock, no DDL (read-only users too)
                if conn.execute(text("SELECT to_regclass('hotspot_schema') IS NOT NULL")).scalar() and \
                        conn.execute(text("SELECT max(version) FROM hotspot_schema")).scalar() == SCHEMA_VERSION:
                    return
            with self._engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('hotspot_schema'))"))
                conn.execute(text("CREATE TABLE IF NOT EXISTS hotspot_schema (version integer NOT NULL)"))
                current = conn.execute(text("SELECT max(version) FROM hotspot_schema")).scalar()
                current = int(current or 0)
                if current > SCHEMA_VERSION:
                    raise InputError(f"the workspace's tables are version {current}, newer than this "
                                     f"tool understands ({SCHEMA_VERSION}); upgrade hotspot_app",
                                     file=self.where)
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[version - 1]:
                        if callable(statement):
                            statement(conn)
                        else:
                            conn.execute(text(statement))
                    conn.execute(text("DELETE FROM hotspot_schema"))
                    conn.execute(text("INSERT INTO hotspot_schema (version) VALUES (:v)"), {"v": version})
        except sa_exc.SQLAlchemyError as exc:
            raise self._connect_error(exc) from exc

    def schema_version(self) -> int:
        """The version of the workspace's tables (`SCHEMA_VERSION` once opened)."""
        return int(self._scalar("SELECT max(version) FROM hotspot_schema"))

    def _scalar(self, sql: str, params: dict | None = None, conn=None):
        from sqlalchemy import text

        if conn is not None:
            return conn.execute(text(sql), params or {}).scalar()
        with self._engine.connect() as c:
            return c.execute(text(sql), params or {}).scalar()

    @contextmanager
    def _write(self, user: str | None, expected_version: str | None = None,
               bump: bool = True) -> Iterator[Any]:
        """One transaction holding the workspace's write lock; bumps the version on commit (unless
        `bump` is False: an audit-only step). A lost connection or a database error is one
        `OutputError` line; the transaction is rolled back, so nothing is changed."""
        from sqlalchemy import exc as sa_exc, text

        who = current_user(user)
        try:
            with self._engine.begin() as conn:
                row = conn.execute(text("SELECT version, changed_by FROM hotspot_state WHERE id = 1 "
                                        "FOR UPDATE")).one_or_none()
                if row is None:
                    raise InputError("the workspace's state row is missing (hotspot_state has no row): "
                                     "its tables were changed outside hotspot_app; run `hotspot audit "
                                     "WORKSPACE --verify`", file=self.where)
                if expected_version is not None and str(row.version) != str(expected_version):
                    raise ConflictError(self.where, row.changed_by)
                yield conn
                if bump:
                    conn.execute(text("UPDATE hotspot_state SET version = version + 1, changed_by = :u, "
                                      "changed_at = now() WHERE id = 1"), {"u": who})
        except sa_exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "write") from None

    def _db_error(self, exc: Exception, doing: str) -> OutputError:
        """One line for a database failure (connection lost, server gone, a statement refused)."""
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        if doing == "write":
            return OutputError(f"the database write failed ({first}); it was rolled back, the workspace "
                               "is unchanged", file=self.where)
        return OutputError(f"cannot read the PostgreSQL workspace ({first})", file=self.where)

    def _audit(self, conn, user: str | None, action: str, detail: str) -> None:
        """Append one audit row, chained to the head in hotspot_state (locked by `_write`)."""
        from sqlalchemy import text

        head = conn.execute(text("SELECT audit_seq, audit_hash FROM hotspot_state WHERE id = 1")).one()
        entry = chain.chain(int(head.audit_seq), head.audit_hash, [(current_user(user), action, detail)])[0]
        conn.execute(text('INSERT INTO audit (seq, at, "user", action, detail, prev_hash, row_hash) VALUES '
                          "(:s, CAST(:at AS timestamptz), :u, :a, :d, :p, :h)"),
                     {"s": entry.seq, "at": entry.at, "u": entry.user, "a": entry.action, "d": entry.detail,
                      "p": entry.prev_hash, "h": entry.row_hash})
        conn.execute(text("UPDATE hotspot_state SET audit_seq = :s, audit_hash = :h WHERE id = 1"),
                     {"s": entry.seq, "h": entry.row_hash})

    def audit_with(self, change, action: str, detail: str, user: str | None = None) -> None:
        """Run `change(db)` and append its audit row in ONE transaction (the users store's
        changes: not a data change, so the version is kept). `db.execute(sql, params)` takes the
        driver's ``%s`` placeholders."""
        from sqlalchemy import exc as sa_exc

        class _Driver:
            def __init__(self, conn):
                self.conn = conn

            def execute(self, sql, params=()):
                try:
                    return self.conn.exec_driver_sql(sql, tuple(params))
                except sa_exc.DBAPIError as exc:
                    raise exc.orig from None

        with self._write(user, bump=False) as conn:
            change(_Driver(conn))
            self._audit(conn, user, action, detail)

    def _all_meta(self, conn=None) -> dict[str, dict]:
        from sqlalchemy import text

        def run(c):
            return {r.tbl: r.meta for r in c.execute(text("SELECT tbl, meta FROM hotspot_meta"))}

        if conn is not None:
            return run(conn)
        with self._engine.connect() as c:
            return run(c)

    def _set_meta(self, conn, table: str, meta: dict) -> None:
        from sqlalchemy import text

        conn.execute(text("INSERT INTO hotspot_meta (tbl, meta) VALUES (:t, CAST(:m AS jsonb)) "
                          "ON CONFLICT (tbl) DO UPDATE SET meta = EXCLUDED.meta"),
                     {"t": table, "m": json.dumps(meta)})

    def _columns(self, conn, table: str) -> dict[str, str]:
        """{column: SQL type} of a table ({} when it does not exist)."""
        from sqlalchemy import text

        rows = conn.execute(text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"),
            {"t": _q(table)})
        return {r[0]: r[1] for r in rows}

    def _put(self, conn, table: str, df: pd.DataFrame, replace: bool = False) -> int:
        """Append `df`'s rows to `table` (creating it, adding new columns); with `replace`, its
        rows replace the table's. Returns the rows written. Runs inside the caller's transaction."""
        from sqlalchemy import text

        for col in map(str, df.columns):
            if len(col.encode("utf-8")) > MAX_IDENTIFIER:
                raise InputError(f"column names longer than {MAX_IDENTIFIER} bytes cannot be stored in "
                                 f"PostgreSQL (this one has {len(col.encode('utf-8'))}); rename the column "
                                 "in the input file", column=col, file=self.where)
        stage = f"_stage_{uuid.uuid4().hex[:16]}"
        order = "_hotspot_order"
        staged = df.copy()
        staged[order] = np.arange(len(staged), dtype="int64")
        geom = staged.geometry.name if isinstance(staged, gpd.GeoDataFrame) else None
        if geom and len(staged) and staged.geometry.isna().all():
            # to_postgis refuses a column of only missing geometries: stage it as text NULLs.
            plain = pd.DataFrame(staged)
            plain[geom] = pd.Series([None] * len(plain), dtype=object, index=plain.index)
            plain.to_sql(stage, conn, index=False)
        elif geom:
            staged.to_postgis(stage, conn, index=False)
        else:
            pd.DataFrame(staged).to_sql(stage, conn, index=False)
        stage_cols = self._columns(conn, stage)
        target_cols = self._columns(conn, table)
        if table == INCIDENTS and "month" in df.columns and target_cols:
            self._ensure_partitions(conn, df["month"])
        if not target_cols:
            conn.execute(text(f"CREATE TABLE {_q(table)} (_rowid bigserial PRIMARY KEY)"))
        elif replace:
            conn.execute(text(f"DELETE FROM {_q(table)}"))
        had_rows = bool(target_cols) and bool(conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {_q(table)})")).scalar())
        for col in map(str, df.columns):
            if col in target_cols:
                continue
            if col == geom:
                conn.execute(text(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(col)} geometry(Geometry, 27700)"))
                conn.execute(text(f"CREATE INDEX {_q(table + '_' + col + '_gist')} ON {_q(table)} "
                                  f"USING gist ({_q(col)})"))
            else:
                conn.execute(text(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(col)} {stage_cols[col]}"))
            target_cols[col] = stage_cols[col]
        cols = [str(c) for c in df.columns]
        def expr(c: str) -> str:
            if c == geom:
                return _q(c) if stage_cols[c].startswith("geometry") else \
                    f"ST_SetSRID(CAST({_q(c)} AS geometry), 27700)"
            return _q(c) if stage_cols[c] == target_cols[c] else f"CAST({_q(c)} AS {target_cols[c]})"

        select = ", ".join(expr(c) for c in cols)
        conn.execute(text(f"INSERT INTO {_q(table)} ({', '.join(map(_q, cols))}) "
                          f"SELECT {select} FROM {_q(stage)} ORDER BY {_q(order)}"))
        conn.execute(text(f"DROP TABLE {_q(stage)}"))
        # Column order and dtypes, so reading gives back what was written.
        new = _meta_of(df)
        old = self._all_meta(conn).get(table)
        if old is None or not had_rows:
            meta = new
        else:
            meta = {"columns": list(old["columns"]), "dtypes": dict(old["dtypes"])}
            if geom:
                meta["geometry"] = geom
            for col in new["columns"]:
                if col not in meta["columns"]:
                    meta["columns"].append(col)
                    meta["dtypes"][col] = degrade_dtype(new["dtypes"][col])  # older rows are NULL
                else:
                    meta["dtypes"][col] = merge_dtype(meta["dtypes"][col], new["dtypes"][col])
            if len(df):
                for col in meta["columns"]:
                    if col not in new["columns"]:
                        meta["dtypes"][col] = degrade_dtype(meta["dtypes"][col])  # the new rows are NULL
        self._set_meta(conn, table, meta)
        return len(df)

    def _ensure_partitions(self, conn, months) -> None:
        """A partition for each month about to be written (before the rows come: a month's rows
        must never land in the default partition, which only holds rows without a month)."""
        from sqlalchemy import text

        if conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('incidents')")).scalar() != "p":
            return  # a database not migrated yet (the migration partitions what it holds)
        have = {r[0] for r in conn.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('incidents')"))}
        for month in sorted({str(m) for m in pd.unique(pd.Series(months).dropna())}):
            name = _partition_name(month)
            if name not in have:
                conn.execute(text(f"CREATE TABLE {_q(name)} PARTITION OF incidents FOR VALUES IN ({_literal(month)})"))

    def _summary_add(self, conn, inc: pd.DataFrame, load_id: int | None = None) -> None:
        """Add the rows of `inc` (of load `load_id`) to ``incidents_summary`` (the same
        transaction as the rows)."""
        from sqlalchemy import text

        if not len(inc):
            return
        table = summary_of(inc, np.ones(len(inc), dtype="int64"))
        conn.execute(text('INSERT INTO incidents_summary (source, provider, month, kind, category, "group", rows, '
                          "load_id) SELECT *, CAST(:load AS bigint) FROM unnest(CAST(:s AS text[]), CAST(:p AS text[]), "
                          "CAST(:m AS text[]), CAST(:k AS text[]), CAST(:c AS text[]), CAST(:g AS text[]), "
                          "CAST(:n AS bigint[]))"),
                     {"s": table["source"].tolist(), "p": table["provider"].tolist(), "m": table["month"].tolist(),
                      "k": table["kind"].tolist(), "c": table["category"].tolist(), "g": table["group"].tolist(),
                      "n": [int(v) for v in table["rows"]], "load": load_id})

    def _read(self, table: str, conn=None, where: str = "", params: dict | None = None,
              columns: list[str] | None = None) -> pd.DataFrame | None:
        """A table as written (None when it has never been written); `columns`: only these (in
        the table's order; the geometry always)."""
        from sqlalchemy import text

        def run(c):
            meta = self._all_meta(c).get(table)
            if meta is None:
                return None
            if columns is not None:
                keep = set(columns) | {meta.get("geometry")}
                meta = {**meta, "columns": [col for col in meta["columns"] if col in keep],
                        "dtypes": {k: v for k, v in meta["dtypes"].items() if k in keep}}
            cols = ", ".join(_q(col) for col in meta["columns"])
            sql = text(f"SELECT {cols} FROM {_q(table)} {where} ORDER BY _rowid")
            geom = meta.get("geometry")
            if geom:
                df = gpd.read_postgis(sql, c, geom_col=geom, crs=settings.CRS, params=params or {})
                if geom not in df.columns or df.geometry.name != geom:
                    df = gpd.GeoDataFrame(df, geometry=geom, crs=settings.CRS)
            else:
                df = pd.read_sql(sql, c, params=params or {})
            return restore_dtypes(df, meta)

        if conn is not None:
            return run(conn)
        from sqlalchemy import exc as sa_exc

        try:
            with self._engine.connect() as c:
                return run(c)
        except sa_exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "read") from None

    # ----------------------------------------------------------------- version
    def version(self) -> str:
        """Changes on every committed write."""
        from sqlalchemy import exc as sa_exc

        try:
            return str(self._scalar("SELECT version FROM hotspot_state WHERE id = 1"))
        except sa_exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "read") from None

    # ----------------------------------------------------------------- whole tables
    def write(self, *, incidents: gpd.GeoDataFrame | None = None,
              areas: gpd.GeoDataFrame | list[gpd.GeoDataFrame] | None = None,
              interventions: gpd.GeoDataFrame | None = None, user: str | None = None,
              expected_version: str | None = None) -> None:
        """Replace several tables in ONE transaction (a consistent snapshot): the incidents, the
        area layers present in `areas` (one table or a list), and/or the interventions."""
        frames: dict = {}
        for part in ([] if areas is None else areas if isinstance(areas, list) else [areas]):
            frames.update(area_frames(part))
        if incidents is not None:
            check_geo(incidents, "incidents")
        if interventions is not None:
            check_geo(interventions, "interventions")
        if incidents is None and interventions is None and not frames:
            return
        from sqlalchemy import text

        with self._write(user, expected_version) as conn:
            if incidents is not None:
                self._put(conn, INCIDENTS, incidents, replace=True)
                conn.execute(text("DELETE FROM incidents_summary"))
                self._summary_add(conn, with_provider(incidents))
                self._audit(conn, user, "replace_all", f"incidents layer written: {len(incidents):,} rows")
            self._write_area_frames(conn, frames, user)
            if interventions is not None:
                old = self._read(INTERVENTIONS, conn)
                self._put(conn, INTERVENTIONS, interventions, replace=True)
                self._apply_records(conn, record_changes("intervention", old, interventions), user)
                self._audit(conn, user, "intervention_added",
                            f"interventions layer written: {len(interventions)} interventions")



    # ----------------------------------------------------------------- incidents
    def incidents(self, selection: Selection | None = None) -> gpd.GeoDataFrame:
        """The incidents `selection` keeps (all by default), with the selection in the query:
        only the partitions of the months asked for, only the (kind, category, group) chosen,
        points inside the bbox (the GiST index, then the exact coordinates), only the columns
        asked for; rows in the order they were loaded. Equal to ``selection.apply(all)``. Raises
        `InputError` when nothing has been loaded yet."""
        if self._all_meta().get(INCIDENTS) is None:
            raise InputError(f"{self.where} has no incidents loaded yet", file=self.where)
        if selection is None or selection.everything:
            return self._read(INCIDENTS)
        summary = self.incident_summary() if (selection.category or selection.period) else None
        if summary is not None and summary[["month", "kind", "category", "group"]].isna().any().any():
            return selection.apply(self._read(INCIDENTS))  # a missing key cannot be matched in SQL
        where, params = self._where(selection, summary)
        df = self._read(INCIDENTS, where=where, params=params,
                        columns=None if selection.columns is None else list(selection.columns))
        return df.reset_index(drop=True)

    def _where(self, sel: Selection, summary: pd.DataFrame | None) -> tuple[str, dict]:
        """The WHERE clause of a selection: the (month, kind, category, group) the selection rule
        keeps, judged once per distinct combination stored (`summary`), and the bbox."""
        from hotspot_app.core import selection as selection_rules

        terms, params = [], {}
        if summary is not None:
            ok = selection_rules.mask(summary, sel.category, sel.months()) if len(summary) else np.zeros(0, bool)
            chosen = summary[ok][["month", "kind", "category", "group"]].drop_duplicates()
            terms.append("month = ANY(CAST(:months AS text[]))")
            params["months"] = sorted(set(chosen["month"]))
            if not ok.all():
                terms.append('(month, kind, category, "group") IN (SELECT * FROM unnest(CAST(:cm AS text[]), '
                             "CAST(:ck AS text[]), CAST(:cc AS text[]), CAST(:cg AS text[])))")
                params.update(cm=chosen["month"].tolist(), ck=chosen["kind"].tolist(),
                              cc=chosen["category"].tolist(), cg=chosen["group"].tolist())
        if sel.bbox is not None:
            x0, y0, x1, y1 = sel.bbox
            terms.append("geometry && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 27700) AND ST_X(geometry) BETWEEN :x0 AND :x1 "
                         "AND ST_Y(geometry) BETWEEN :y0 AND :y1")
            params.update(x0=x0, y0=y0, x1=x1, y1=y1)
        return ("WHERE " + " AND ".join(terms)) if terms else "", params

    def incident_summary(self) -> pd.DataFrame:
        """Rows per source, provider, month, kind, category and group (`SUMMARY_COLUMNS`), from
        ``incidents_summary`` (kept with every load), not from the incidents."""
        with self._engine.connect() as c:
            df = pd.read_sql('SELECT source, provider, month, kind, category, "group", sum(rows) AS rows '
                             'FROM incidents_summary GROUP BY 1, 2, 3, 4, 5, 6', c)
        df = df[df["rows"] > 0]
        return summary_of(df, df["rows"].to_numpy())

    def load_incidents(self, incidents, *, files=(), read=None, rejected=None, replace_all: bool = False,
                       user: str | None = None, expected_version: str | None = None,
                       areas: gpd.GeoDataFrame | None = None, warnings=()) -> LoadResult:
        """Add a load (docs/design.md §5b): for every (source, provider, month) in `incidents`, the stored
        rows with that key are replaced by the load's; all other rows, areas, interventions and
        runs are kept. `replace_all` removes every incident first. One transaction: the removed
        rows are kept in ``incidents_removed``, the load in ``loads`` and ``audit``.

        `incidents`: a GeoDataFrame or an iterable of them (batches, each copied in as it comes,
        all in the one transaction); `files`, `read` and `rejected` may then be callables asked
        once the batches are consumed. `rejected`: the number of rejected rows, or the rejects table (its
        "no location" rows are counted per month for the coverage grid). `areas`: area layers
        written in the same transaction (each layer present replaced)."""
        from sqlalchemy import text

        batches = [incidents] if isinstance(incidents, pd.DataFrame) else incidents
        frames = area_frames(areas) if areas is not None and len(areas) else {}
        who = current_user(user)
        with self._write(who, expected_version) as conn:
            load_id = int(conn.execute(text("SELECT nextval(pg_get_serial_sequence('loads', 'load_id'))")).scalar())
            exists = self._all_meta(conn).get(INCIDENTS) is not None
            before = int(self._scalar("SELECT count(*) FROM incidents", conn=conn)) if exists else 0
            removed: dict = {}
            seen: set = set()
            added = 0
            if replace_all and exists:
                removed = self._remove_keys(conn, None, load_id)
            for batch in batches:
                check_geo(batch, "incidents")
                inc = with_provider(batch)
                for col in LOAD_KEY:
                    if inc[col].isna().any():
                        row = int(np.flatnonzero(inc[col].isna().to_numpy())[0]) + 1
                        raise InputError(f"incidents without a {col} cannot be loaded into a workspace",
                                         row=row, column=col)
                keys = {tuple(k) for k in inc[list(LOAD_KEY)].astype(str).drop_duplicates().itertuples(
                    index=False, name=None)}
                if not replace_all and self._all_meta(conn).get(INCIDENTS) is not None:
                    # a key's stored rows go before its first batch comes in (never this load's own)
                    fresh = sorted(keys - seen)
                    if fresh:
                        removed.update(self._remove_keys(conn, fresh, load_id))
                seen |= keys
                if len(inc) or not added:
                    added += self._put(conn, INCIDENTS, inc)
                    self._summary_add(conn, inc, load_id)
            files = files() if callable(files) else files
            files = [Path(str(getattr(f, "name", f))).name for f in (files or ())]  # names, not paths
            read = read() if callable(read) else read
            rejected = rejected() if callable(rejected) else rejected
            no_location = no_location_by_month(rejected) if isinstance(rejected, pd.DataFrame) else {}
            n_rejected = len(rejected) if isinstance(rejected, pd.DataFrame) else int(rejected or 0)
            n_read = int(read) if read is not None else added + n_rejected
            if removed:
                conn.execute(text(
                    "DELETE FROM incidents_removed WHERE load_id NOT IN (SELECT DISTINCT load_id "
                    f"FROM incidents_removed ORDER BY load_id DESC LIMIT {KEEP_REMOVED})"))
            replaced = sum(removed.values())
            months = sorted({k[2] for k in seen})
            months_replaced = sorted({k[2] for k in removed})
            providers = sorted({k[1] for k in seen})
            warnings = list(warnings() if callable(warnings) else warnings)
            conn.execute(text(
                'INSERT INTO loads (load_id, "user", files, providers, read, loaded, rejected, added, '
                "replaced, months, replace_all, no_location, warnings) VALUES (:id, :u, CAST(:f AS jsonb), "
                "CAST(:p AS jsonb), :r, :l, :rej, :a, :rep, CAST(:m AS jsonb), :ra, CAST(:nl AS jsonb), "
                "CAST(:w AS jsonb))"),
                {"id": load_id, "u": who, "f": json.dumps(files), "p": json.dumps(providers),
                 "r": n_read, "l": added, "rej": n_rejected, "a": added, "rep": replaced,
                 "m": json.dumps(months), "ra": bool(replace_all), "nl": json.dumps(no_location),
                 "w": json.dumps(warnings)})
            # Same wording as the GeoPackage's audit, plus what was read and the months.
            ordered = dict(sorted(removed.items()))
            detail = (f"load {load_id}: {', '.join(files) or 'incidents'}; {added:,} rows added"
                      + (f", {replaced:,} removed ({'; '.join(f'{s} {p} {m}: {n:,}' for (s, p, m), n in ordered.items())})"
                         if replaced else "")
                      + f"; read {n_read:,}, rejected {n_rejected:,}; months {_month_span(months)}")
            self._audit(conn, who, "replace_all" if replace_all else "load", detail)
            self._write_area_frames(conn, frames, who)
        return LoadResult(before=before, after=before + added - replaced, added=added, replaced=replaced,
                          months_replaced=months_replaced, load_id=load_id, removed=dict(sorted(removed.items())))

    def _remove_keys(self, conn, keys: list[tuple] | None, load_id: int) -> dict:
        """Remove the stored rows of these (source, provider, month) keys (all rows when None),
        keeping them in ``incidents_removed``; returns {key: rows removed}."""
        from sqlalchemy import text

        if keys is None:
            cond, params = "", {}
        else:
            cond = ("WHERE (source, provider, month) IN (SELECT * FROM unnest("
                    "CAST(:s AS text[]), CAST(:p AS text[]), CAST(:m AS text[])))")
            params = {"s": [k[0] for k in keys], "p": [k[1] for k in keys], "m": [k[2] for k in keys]}
        rows = conn.execute(text(
            f"SELECT source, provider, month, count(*) AS n FROM incidents {cond} "
            "GROUP BY source, provider, month ORDER BY source, provider, month"), params).all()
        removed = {(r.source, r.provider, r.month): int(r.n) for r in rows}
        if removed:
            conn.execute(text(
                "INSERT INTO incidents_removed (load_id, row) SELECT :load_id, "
                "to_jsonb(i) - 'geometry' || jsonb_build_object('geometry', ST_AsText(i.geometry)) "
                f"FROM incidents i {cond}"), {**params, "load_id": load_id})
            conn.execute(text(f"DELETE FROM incidents {cond}"), params)
            conn.execute(text(f"DELETE FROM incidents_summary {cond}"), params)
        return removed

    def loads(self) -> pd.DataFrame:
        """The load history, oldest first."""
        with self._engine.connect() as c:
            df = pd.read_sql('SELECT load_id, loaded_at, "user", files, providers, read, loaded, '
                             "rejected, added, replaced, months, replace_all, no_location "
                             "FROM loads ORDER BY load_id", c)
        df["loaded_at"] = pd.Series([_iso(t) for t in df["loaded_at"]], index=df.index, dtype=object)
        df["user"] = df["user"].astype(object)
        for col in ("files", "providers", "months", "no_location"):  # lists ({month: rows})
            df[col] = df[col].astype(object)
        for col in ("load_id", "read", "loaded", "rejected", "added", "replaced"):
            df[col] = df[col].astype("int64")
        df["replace_all"] = df["replace_all"].astype(bool)
        return df

    def coverage(self) -> pd.DataFrame:
        """Rows per source x provider x month of the stored incidents."""
        return coverage_from_summary(self.incident_summary())

    def load_warnings(self) -> list[str]:
        """What reading the files said, for every load that still contributes rows."""
        from sqlalchemy import text

        with self._engine.connect() as c:
            rows = c.execute(text("SELECT warnings FROM loads WHERE load_id IN (SELECT DISTINCT load_id FROM "
                                  "incidents_summary WHERE rows > 0) ORDER BY load_id")).all()
        return list(dict.fromkeys(w for (ws,) in rows for w in (ws or [])))

    def audit(self) -> pd.DataFrame:
        """Every write: at (ISO 8601 UTC), user, action, detail; oldest first. `InputError` when
        the audit table is missing (never an empty log)."""
        rows = self.audit_rows()
        df = pd.DataFrame([[r["at"], r["user"], r["action"], r["detail"]] for r in rows],
                          columns=["at", "user", "action", "detail"])
        df["at"] = pd.Series([t[:19] + "Z" for t in df["at"]], index=df.index, dtype=object)
        return df.astype(object)

    def audit_rows(self) -> list[dict]:
        """The audit rows with their chain (`audit.CHAIN_COLUMNS`), in seq order."""
        from sqlalchemy import exc as sa_exc, text

        try:
            with self._engine.connect() as c:
                if c.execute(text("SELECT to_regclass('audit') IS NULL")).scalar():
                    raise audit_missing(self.where, "audit")
                rows = c.execute(text('SELECT seq, at, "user", action, detail, prev_hash, row_hash FROM audit '
                                      "ORDER BY seq")).all()
        except sa_exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "read") from None
        return [{"seq": int(r.seq), "at": _iso_us(r.at), "user": r.user, "action": r.action,
                 "detail": r.detail, "prev_hash": r.prev_hash, "row_hash": r.row_hash} for r in rows]

    def audit_head(self) -> tuple[int, str] | None:
        from sqlalchemy import text

        with self._engine.connect() as c:
            r = c.execute(text("SELECT audit_seq, audit_hash FROM hotspot_state WHERE id = 1")).one_or_none()
        return None if r is None else (int(r.audit_seq), str(r.audit_hash))

    # ----------------------------------------------------------------- areas
    def _area_tables(self, conn=None) -> list[str]:
        return [t for t in self._all_meta(conn) if t.startswith(AREA_PREFIX)]

    def area_layers(self) -> list[str]:
        """Area layer names present (ward, town_centre, micro_hotspot, patrol, custom, then others)."""
        from hotspot_app.io.workspace.gpkg import ordered_layers

        return ordered_layers(t[len(AREA_PREFIX):] for t in self._area_tables())

    def areas(self, layer: str | None = None) -> gpd.GeoDataFrame:
        """Areas of one layer, or all layers concatenated (ward first) when `layer` is None."""
        from hotspot_app.io.workspace.gpkg import read_areas

        return read_areas(self.where, layer, self._read, self.area_layers())

    def write_areas(self, areas: gpd.GeoDataFrame, *, user: str | None = None,
                    expected_version: str | None = None) -> None:
        """Replace each area layer present in ``areas['layer']`` (other layers kept)."""
        frames = area_frames(areas)
        with self._write(user, expected_version) as conn:
            self._write_area_frames(conn, frames, user)

    def _write_area_frames(self, conn, frames: dict, user: str | None) -> None:
        for table, frame in frames.items():
            old = self._read(table, conn)
            self._put(conn, table, frame, replace=True)
            self._apply_records(conn, record_changes("area", old, frame, table[len(AREA_PREFIX):]), user)
            names = ", ".join(map(str, frame["name"].head(5))) + (f" and {len(frame) - 5} more" if len(frame) > 5 else "")
            detail = f"{table[len(AREA_PREFIX):]} layer: {len(frame)} areas ({names})"
            if old is not None and len(old):
                detail += f"; replaced {len(old)} areas"
            self._audit(conn, user, "area_added", detail)

    def delete_area(self, area_id: str, *, user: str | None = None,
                    expected_version: str | None = None, record_version: int | None = None) -> None:
        """Delete one area (by `area_id`) from whichever layer holds it; it is kept in
        ``hotspot_deleted`` so it can be restored. With `record_version` (the version the user
        saw) a changed or deleted area is refused."""
        with self._write(user, expected_version) as conn:
            for table in self._area_tables(conn):
                df = self._read(table, conn)
                hit = df["area_id"].astype(str) == str(area_id)
                if hit.any():
                    check_record("area", str(area_id), record_version, df,
                                 self._record_row(conn, "area", area_id),
                                 self._deleted_entry(conn, "area", area_id))
                    layer = table[len(AREA_PREFIX):]
                    rest = df[~hit].reset_index(drop=True)
                    self._put(conn, table, rest, replace=True)
                    self._apply_records(conn, record_changes("area", df[hit], None, layer), user)
                    self._audit(conn, user, "area_deleted", f"{df.loc[hit, 'name'].iloc[0]} ({layer}, {area_id})")
                    if not len(rest):
                        self._drop_table(conn, table)
                    return
            check_record("area", str(area_id), record_version, None, self._record_row(conn, "area", area_id),
                         self._deleted_entry(conn, "area", area_id))
            raise InputError(f"no area '{area_id}' in {self.where}", parameter="area_id")

    def _drop_table(self, conn, table: str) -> None:
        from sqlalchemy import text

        conn.execute(text(f"DROP TABLE IF EXISTS {_q(table)}"))
        conn.execute(text("DELETE FROM hotspot_meta WHERE tbl = :t"), {"t": table})

    def used_ids(self, kind: str) -> list[str]:
        """Every intervention or area id held now or ever (deleted included)."""
        id_col = RECORD_KINDS[kind]
        with self._engine.connect() as conn:
            ids = self._record_ids(conn, kind)
            tables = [INTERVENTIONS] if kind == "intervention" else self._area_tables(conn)
            for table in tables:
                df = self._read(table, conn)
                if df is not None and id_col in df.columns:
                    ids += df[id_col].astype(str).tolist()
        return ids

    # ----------------------------------------------------------------- interventions
    def interventions(self) -> gpd.GeoDataFrame:
        """Interventions (an empty table with the schema columns when none are stored)."""
        df = self._read(INTERVENTIONS)
        if df is None:
            from hotspot_app.io.workspace.base import empty_interventions

            return empty_interventions()
        return df

    def add_intervention(self, name: str, type: str, start, end=None, *, area_id: str | None = None,
                         geometry=None, radius_m: float | None = None, notes: str | None = None,
                         intervention_id: str | None = None, user: str | None = None) -> str:
        """Append one intervention; returns its id (``int-<n>`` above every id this workspace has
        ever held, unless given)."""
        with self._write(user) as conn:
            current = self._read(INTERVENTIONS, conn)
            used = self._record_ids(conn, "intervention")
            live = [] if current is None else current["intervention_id"].astype(str).tolist()
            if intervention_id is None:
                n = next_number(used + live, r"int-(\d+)")
                intervention_id = f"int-{n}"
            elif str(intervention_id) in used:
                raise InputError(f"intervention id '{intervention_id}' was used before; ids are never "
                                 "reused", parameter="intervention_id")
            row = schema.new_intervention(current, name, type, start, end,
                                          area_id=area_id, geometry=geometry, radius_m=radius_m,
                                          notes=notes, intervention_id=intervention_id)
            intervention_id = row["intervention_id"].iloc[0]
            self._put(conn, INTERVENTIONS, row)
            self._apply_records(conn, record_changes("intervention", None, row), user)
            self._audit(conn, user, "intervention_added", intervention_added_text(row.iloc[0]))
        return intervention_id

    def _intervention(self, conn, intervention_id: str, record_version: int | None):
        table = self._read(INTERVENTIONS, conn)
        check_record("intervention", str(intervention_id), record_version, table,
                     self._record_row(conn, "intervention", intervention_id),
                     self._deleted_entry(conn, "intervention", intervention_id))
        return table, table["intervention_id"].astype(str) == str(intervention_id)

    def update_intervention(self, intervention_id: str, *, user: str | None = None,
                            record_version: int | None = None, **fields) -> None:
        """Change fields of one intervention (name, type, area_id, start, end, radius_m, notes,
        geometry); with `record_version` (the version the user saw) refused when it changed."""
        check_intervention_fields(fields)
        with self._write(user) as conn:
            table, mask = self._intervention(conn, intervention_id, record_version)
            old = table.copy()
            i = int(np.flatnonzero(mask.to_numpy())[0])
            schema.check_intervention(fields.get("type", table.at[i, "type"]), fields.get("start", table.at[i, "start"]),
                                      fields.get("end", table.at[i, "end"]))
            changes = []
            for col, value in fields.items():
                if col in ("start", "end"):
                    value = pd.Timestamp(value) if value is not None and not pd.isna(value) else pd.NaT
                elif col == "radius_m":
                    value = float(value) if value is not None else np.nan
                before = table.at[i, col] if col != "geometry" else table.geometry.iloc[i]
                if col == "geometry":
                    table = table.set_geometry(table.geometry.where(table.index != i, value))
                    changes.append("geometry")
                else:
                    table.loc[i, col] = value
                    changes.append(f"{col} {_plain(before)} -> {_plain(value)}")
            self._put(conn, INTERVENTIONS, table, replace=True)
            self._apply_records(conn, record_changes("intervention", old, table), user)
            self._audit(conn, user, "intervention_edited",
                        f"{table.at[i, 'name']} ({intervention_id}): " + "; ".join(changes))

    def delete_intervention(self, intervention_id: str, *, user: str | None = None,
                            record_version: int | None = None) -> None:
        """Delete one intervention (kept in ``hotspot_deleted`` so it can be restored); with
        `record_version`, refused when it changed since the user saw it."""
        with self._write(user) as conn:
            table, mask = self._intervention(conn, intervention_id, record_version)
            name = table.loc[mask, "name"].iloc[0]
            self._put(conn, INTERVENTIONS, table[~mask].reset_index(drop=True), replace=True)
            self._apply_records(conn, record_changes("intervention", table[mask], None), user)
            self._audit(conn, user, "intervention_deleted", f"{name} ({intervention_id})")

    # ----------------------------------------------------------------- records, deletes, restores
    def _record_row(self, conn, kind: str, record_id: str) -> dict | None:
        from sqlalchemy import text

        r = conn.execute(text(f"SELECT version, digest, changed_by, changed_at, deleted FROM {RECORDS} "
                              "WHERE kind = :k AND id = :i"), {"k": kind, "i": str(record_id)}).one_or_none()
        if r is None:
            return None
        return {"version": int(r.version), "digest": r.digest, "changed_by": r.changed_by,
                "changed_at": _iso(r.changed_at) if r.changed_at is not None else None, "deleted": bool(r.deleted)}

    def _deleted_entry(self, conn, kind: str, record_id: str) -> dict | None:
        from sqlalchemy import text

        r = conn.execute(text(f"SELECT n, name, layer, deleted_at, deleted_by, version, data FROM {DELETED} "
                              "WHERE kind = :k AND id = :i AND restored_at IS NULL ORDER BY n DESC LIMIT 1"),
                         {"k": kind, "i": str(record_id)}).one_or_none()
        if r is None:
            return None
        return {"n": r.n, "name": r.name, "layer": r.layer, "deleted_at": _iso(r.deleted_at),
                "deleted_by": r.deleted_by, "version": r.version, "data": r.data}

    def _record_ids(self, conn, kind: str) -> list[str]:
        from sqlalchemy import text

        return [str(r[0]) for r in conn.execute(text(f"SELECT id FROM {RECORDS} WHERE kind = :k"), {"k": kind})]

    def _apply_records(self, conn, changes: list[RecordChange], user: str | None,
                       restored: tuple[str, str] | None = None) -> None:
        from sqlalchemy import text

        who = current_user(user)
        for ch in changes:
            current = self._record_row(conn, ch.kind, ch.id)
            version = apply_record_change(current, ch)
            if version is None:
                continue
            conn.execute(text(f"INSERT INTO {RECORDS} (kind, id, version, digest, changed_by, changed_at, deleted) "
                              "VALUES (:k, :i, :v, :d, :u, now(), :x) ON CONFLICT (kind, id) DO UPDATE SET "
                              "version = EXCLUDED.version, digest = EXCLUDED.digest, changed_by = EXCLUDED.changed_by, "
                              "changed_at = EXCLUDED.changed_at, deleted = EXCLUDED.deleted"),
                         {"k": ch.kind, "i": ch.id, "v": version, "d": ch.digest, "u": who, "x": ch.digest is None})
            if ch.digest is None:
                conn.execute(text(f"INSERT INTO {DELETED} (kind, id, name, layer, deleted_at, deleted_by, version, "
                                  "data) VALUES (:k, :i, :n, :l, now(), :u, :v, CAST(:data AS jsonb))"),
                             {"k": ch.kind, "i": ch.id, "n": ch.name, "l": ch.layer, "u": who, "v": version,
                              "data": kept(ch)})
        if restored is not None:
            conn.execute(text(f"UPDATE {DELETED} SET restored_at = now(), restored_by = :u WHERE n = (SELECT "
                              f"max(n) FROM {DELETED} WHERE kind = :k AND id = :i AND restored_at IS NULL)"),
                         {"u": who, "k": restored[0], "i": restored[1]})

    def record_versions(self, kind: str) -> dict[str, int]:
        """{id: version} of the live interventions or areas."""
        from sqlalchemy import text

        if kind not in RECORD_KINDS:
            raise InputError(f"kind must be one of {', '.join(RECORD_KINDS)}", parameter="kind")
        id_col = RECORD_KINDS[kind]
        with self._engine.connect() as conn:
            tables = [INTERVENTIONS] if kind == "intervention" else self._area_tables(conn)
            live = []
            for table in tables:
                df = self._read(table, conn)
                if df is not None:
                    live += df[id_col].astype(str).tolist()
            stored = {str(r[0]): int(r[1]) for r in conn.execute(text(
                f"SELECT id, version FROM {RECORDS} WHERE kind = :k AND NOT deleted"), {"k": kind})}
        return {i: stored.get(i, 1) for i in live}

    def deleted(self) -> pd.DataFrame:
        """Deleted interventions and areas not restored since, newest first."""
        with self._engine.connect() as c:
            df = pd.read_sql(f"SELECT kind, id, name, layer, deleted_at, deleted_by, version FROM {DELETED} d "
                             "WHERE restored_at IS NULL AND n = (SELECT max(n) FROM "
                             f"{DELETED} e WHERE e.kind = d.kind AND e.id = d.id) ORDER BY n DESC", c)
        df["deleted_at"] = pd.Series([_iso(t) for t in df["deleted_at"]], index=df.index, dtype=object)
        return df[DELETED_COLUMNS].astype(object)

    def restore(self, kind: str, record_id: str, *, user: str | None = None) -> str:
        """Put back the last deleted version of an intervention or area; returns its name."""
        with self._write(user) as conn:
            entry = self._deleted_entry(conn, kind, record_id)
            if entry is None:
                raise InputError(f"no deleted {kind} '{record_id}' to restore", parameter="id")
            table = INTERVENTIONS if kind == "intervention" else AREA_PREFIX + layer_key(entry["layer"] or "custom")
            current = self._read(table, conn)
            id_col = RECORD_KINDS[kind]
            if current is not None and (current[id_col].astype(str) == str(record_id)).any():
                raise InputError(f"{kind} '{record_id}' is in the workspace already", parameter="id")
            geom = current.geometry.name if isinstance(current, gpd.GeoDataFrame) else "geometry"
            row = frame_of(entry["data"], current, geometry=geom)
            self._put(conn, table, row)
            after = self._read(table, conn)
            self._apply_records(conn, record_changes(kind, current, after, entry["layer"], keep_missing=True),
                                user, restored=(kind, str(record_id)))
            self._audit(conn, user, f"{kind}_restored", f"{entry['name']} ({record_id}) restored, deleted by "
                        f"{entry['deleted_by']} at {entry['deleted_at']}")
        return str(entry["name"])

    # ----------------------------------------------------------------- integrity
    def problems(self) -> list[str]:
        """A missing state row, tables this tool wrote that are gone, a missing audit table."""
        from sqlalchemy import exc as sa_exc, text

        out: list[str] = []
        try:
            with self._engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM hotspot_state WHERE id = 1")).scalar() != 1:
                    out.append("the workspace's state row is missing (hotspot_state has no row): it was "
                               "changed outside hotspot_app")
                for table in self._all_meta(conn):
                    if conn.execute(text("SELECT to_regclass(:t) IS NULL"), {"t": _q(table)}).scalar():
                        out.append(f"table '{table}' was removed outside hotspot_app")
                if conn.execute(text("SELECT to_regclass('audit') IS NULL")).scalar():
                    out.append("the audit log (table 'audit') was removed outside hotspot_app")
        except sa_exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "read") from None
        return out

    def accept_changes(self, *, user: str | None = None) -> list[str]:
        """Accept changes made outside this tool: re-create a missing state row (its audit head
        from the last audit row), forget removed tables; audited (``changes_accepted``)."""
        from sqlalchemy import text

        found = self.problems()
        if not found:
            return []
        if any("state row" in f for f in found):
            with self._engine.begin() as conn:
                last = conn.execute(text("SELECT seq, row_hash FROM audit ORDER BY seq DESC LIMIT 1")).one_or_none() \
                    if not conn.execute(text("SELECT to_regclass('audit') IS NULL")).scalar() else None
                conn.execute(text("INSERT INTO hotspot_state (id, version, audit_seq, audit_hash) VALUES "
                                  "(1, (extract(epoch from now()) * 1000)::bigint, :s, :h) ON CONFLICT (id) DO NOTHING"),
                             {"s": int(last.seq) if last is not None else 0,
                              "h": last.row_hash if last is not None else chain.GENESIS})
        with self._write(user) as conn:
            for table in list(self._all_meta(conn)):
                if conn.execute(text("SELECT to_regclass(:t) IS NULL"), {"t": _q(table)}).scalar():
                    conn.execute(text("DELETE FROM hotspot_meta WHERE tbl = :t"), {"t": table})
            if conn.execute(text("SELECT to_regclass('audit') IS NULL")).scalar():
                raise InputError("the audit table is gone; restore the database from a backup (a PostgreSQL "
                                 "audit log cannot be re-created here)", file=self.where)
            self._audit(conn, user, "changes_accepted", "; ".join(found))
        return found

    # ----------------------------------------------------------------- cluster runs

    def save_cluster_run(self, parameters: dict, polygons: gpd.GeoDataFrame, name: str | None = None,
                         user: str | None = None) -> int:
        """Save a cluster run (parameters + its patrol-area polygons); returns run_id."""
        check_geo(polygons, "polygons")
        with self._write(user) as conn:
            exists = self._all_meta(conn).get(CLUSTER_RUNS) is not None
            last = self._scalar("SELECT max(run_id) FROM cluster_runs", conn=conn) if exists else None
            run_id = int(last) + 1 if last is not None else 1
            label = name if name is not None else f"run {run_id}"
            run = pd.DataFrame({
                "run_id": np.array([run_id], dtype="int64"),
                "created": [datetime.now(timezone.utc).isoformat(timespec="seconds")],
                "name": [label],
                "parameters": [json.dumps(parameters, sort_keys=True, default=str)],
                "n_polygons": np.array([len(polygons)], dtype="int64"),
            })
            polys = polygons.copy()
            polys.insert(0, "run_id", np.int64(run_id))
            self._put(conn, CLUSTER_RUNS, run)
            self._put(conn, PATROL_AREAS, polys)
            self._audit(conn, user, "cluster_run_saved",
                        f"{label} (run {run_id}, {len(polygons)} polygons); parameters "
                        f"{json.dumps(parameters, sort_keys=True, default=str)}")
        return run_id


def _plain(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "none"
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else value.isoformat()
    return str(value)


def _month_span(months: list[str]) -> str:
    if not months:
        return "none"
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]} ({len(months)})"

