"""Users, roles, password hashing and session time-outs for a shared deployment (docs/design.md §9).

Sign-in is OFF for the single-user default. It is ON when ``HOTSPOT_AUTH`` names a users store
(a ``.json`` file, or a ``postgresql://`` URL) or when the workspace (``HOTSPOT_WORKSPACE``) is a
PostgreSQL URL — then the users live in that database's ``hotspot_users`` table.

Roles, each including the ones before it:

``viewer``
    reads everything (maps, tables, evaluations, the data pages);
``analyst``
    also loads data, draws areas, records interventions, saves cluster runs, sees the audit log;
``admin``
    also manages users.

Passwords are hashed with Argon2id (argon2-cffi); the clear text is never stored. No Streamlit
here: ``hotspot_app/ui/signin.py`` is the app's gate over these functions, ``hotspot users`` the CLI.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from hotspot_app.core import settings
from hotspot_app.core.errors import InputError
from hotspot_app.io.workspace.urls import is_url, normalise_url

__all__ = ["ROLES", "ROLE_CAN", "User", "can", "check_role", "auth_target", "enabled", "open_users",
           "JsonUsers", "PostgresUsers", "session_expired"]

#: Roles in increasing order of rights.
ROLES = ("viewer", "analyst", "admin")
#: What each role may do (for help texts and the app's messages).
ROLE_CAN = {
    "viewer": "read everything",
    "analyst": "load data, draw areas, record interventions, save cluster runs, see the audit log",
    "admin": "manage users (and everything an analyst can do)",
}
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")






@dataclass(frozen=True)
class User:
    name: str
    role: str


def check_role(role: str) -> str:
    """`role` if it is one of `ROLES`, else `InputError` naming the parameter."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, got '{role}'", parameter="role")
    return role


def can(role: str | None, needed: str) -> bool:
    """True when a user with `role` has the rights of `needed` (admin > analyst > viewer)."""
    check_role(needed)
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def session_expired(last_seen: datetime, now: datetime | None = None,
                    minutes: float | None = None) -> bool:
    """True when more than `minutes` (default `settings.SESSION_MINUTES`) passed since `last_seen`."""
    now = now or datetime.now(timezone.utc)
    limit = settings.SESSION_MINUTES if minutes is None else minutes
    return (now - last_seen).total_seconds() > limit * 60


def auth_target() -> str | None:
    """Where the users are: ``HOTSPOT_AUTH``, else the workspace when it is a PostgreSQL URL, else
    None (sign-in off)."""

    if settings.AUTH:
        return normalise_url(settings.AUTH) if is_url(settings.AUTH) else settings.AUTH
    if is_url(settings.WORKSPACE):
        return normalise_url(settings.WORKSPACE)
    return None


def enabled() -> bool:
    """Is sign-in required (a shared deployment)?"""
    return auth_target() is not None


def open_users(target: str | Path | None = None):
    """The users store at `target` (default `auth_target()`): `PostgresUsers` for a URL,
    `JsonUsers` for a file."""

    target = auth_target() if target is None else target
    if target is None:
        raise InputError("no users store: set HOTSPOT_AUTH (a users .json file or a postgresql:// "
                         "URL) or use a PostgreSQL workspace", parameter="store")
    if is_url(target):
        return PostgresUsers(str(target))
    return JsonUsers(target)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InputError(f"user name '{name}' must be 1-64 letters, digits, '.', '_', '@' or '-'",
                         parameter="name")
    return name


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", parameter="password")
    return password


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Users(ABC):
    """Shared behaviour; subclasses (a JSON file, a PostgreSQL table) store rows {name, role,
    hash, created}."""

    @abstractmethod
    def _rows(self) -> list[dict]:
        """Every stored user row."""

    @abstractmethod
    def _upsert(self, row: dict, new: bool) -> None:
        """Insert (`new`) or update one user row."""

    def list(self) -> pd.DataFrame:
        """Users: name, role, created (no hashes), by name."""
        rows = sorted(self._rows(), key=lambda r: r["name"])
        return pd.DataFrame({"name": [r["name"] for r in rows], "role": [r["role"] for r in rows],
                             "created": [r["created"] for r in rows]}, dtype=object)

    def _get(self, name: str) -> dict | None:
        return next((r for r in self._rows() if r["name"] == name), None)

    def add(self, name: str, password: str, role: str = "viewer") -> User:
        """Add a user (refuses an existing name)."""
        _check_name(name), _check_password(password), check_role(role)
        if self._get(name) is not None:
            raise InputError(f"user '{name}' already exists (use set-role or set-password)", parameter="name")
        self._upsert({"name": name, "role": role, "hash": _hasher().hash(password), "created": _now()}, new=True)
        return User(name, role)

    def set_role(self, name: str, role: str) -> User:
        check_role(role)
        row = self._existing(name)
        self._upsert({**row, "role": role}, new=False)
        return User(name, role)

    def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        row = self._existing(name)
        self._upsert({**row, "hash": _hasher().hash(password)}, new=False)

    def _existing(self, name: str) -> dict:
        row = self._get(name)
        if row is None:
            raise InputError(f"no user '{name}'", parameter="name")
        return row

    def verify(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs, else None (also for an unknown name)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        row = self._get(name or "")
        hasher = _hasher()
        if row is None:
            # Spend the same time as a real check, so timing does not reveal which names exist.
            try:
                hasher.verify(_DUMMY_HASH(), password or "")
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            hasher.verify(row["hash"], password or "")
        except (VerificationError, InvalidHashError):
            return None
        return User(row["name"], row["role"])


_dummy: list[str] = []


def _DUMMY_HASH() -> str:  # noqa: N802 - a lazily computed constant
    if not _dummy:
        _dummy.append(_hasher().hash("not a password of anyone"))
    return _dummy[0]


class JsonUsers(_Users):
    """Users in a JSON file (written atomically; readable by the app's user only)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"JsonUsers({str(self.path)!r})"

    def _rows(self) -> list[dict]:
        if not self.path.exists():
            return []
        try:
            return list(json.loads(self.path.read_text(encoding="utf-8"))["users"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"not a users file ({exc})", file=self.path) from exc

    def _upsert(self, row: dict, new: bool) -> None:
        from hotspot_app.io.exports import write_text_atomic

        rows = [r for r in self._rows() if r["name"] != row["name"]] + [row]
        rows.sort(key=lambda r: r["name"])
        write_text_atomic(self.path, json.dumps({"users": rows}, indent=1) + "\n")
        try:
            self.path.chmod(0o600)
        except OSError:
            pass


class PostgresUsers(_Users):
    """Users in the ``hotspot_users`` table of a PostgreSQL database (the shared workspace's)."""

    def __init__(self, url: str):

        self.url = normalise_url(url)
        import psycopg

        self._psycopg = psycopg
        try:
            with psycopg.connect(self.url) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS hotspot_users (name text PRIMARY KEY, "
                             "role text NOT NULL, hash text NOT NULL, created text NOT NULL)")
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise InputError(f"cannot open the users table: {first}", parameter="store") from exc

    def __repr__(self) -> str:
        return "PostgresUsers(...)"

    def _rows(self) -> list[dict]:
        with self._psycopg.connect(self.url) as conn:
            cur = conn.execute("SELECT name, role, hash, created FROM hotspot_users")
            return [dict(zip(("name", "role", "hash", "created"), r)) for r in cur.fetchall()]

    def _upsert(self, row: dict, new: bool) -> None:
        with self._psycopg.connect(self.url) as conn:
            if new:
                try:
                    conn.execute("INSERT INTO hotspot_users (name, role, hash, created) VALUES (%s, %s, %s, %s)",
                                 (row["name"], row["role"], row["hash"], row["created"]))
                except self._psycopg.errors.UniqueViolation as exc:
                    raise InputError(f"user '{row['name']}' already exists", parameter="name") from exc
            else:
                conn.execute("UPDATE hotspot_users SET role = %s, hash = %s WHERE name = %s",
                             (row["role"], row["hash"], row["name"]))
