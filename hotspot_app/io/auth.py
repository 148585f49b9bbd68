"""Users, roles, password hashing, sign-in throttling and session time-outs for a shared
deployment (docs/design.md §9; README "Shared deployment").

Sign-in is OFF for the single-user default (a ``.gpkg`` workspace served on this machine only).
It is ON when ``HOTSPOT_AUTH`` names a users store (a ``.json`` file, or a ``postgresql://`` URL)
or when the workspace (``HOTSPOT_WORKSPACE``) is a PostgreSQL URL — then the users live in that
database's ``hotspot_users`` table. ``HOTSPOT_AUTH=off`` turns it off explicitly, which
`deployment_problem` refuses for a PostgreSQL workspace or an app served beyond localhost.

Roles, each including the ones before it:

``viewer``
    reads everything (maps, tables, evaluations, the data pages);
``analyst``
    also loads data, draws areas, records interventions, saves cluster runs, sees the audit log;
``admin``
    also manages users.

Passwords are hashed with Argon2id (argon2-cffi) at `HASH_PARAMETERS` (OWASP's minimum for
Argon2id: 19 MiB, 2 passes, 1 lane), and at most `VERIFY_SLOTS` checks run at once, so a burst of
sign-ins cannot load a small server (benchmarks/RESULTS.md). Failed sign-ins lock a user name and
a client address out with a growing back-off (`FREE_ATTEMPTS`, `LOCKOUT_S`, `LOCKOUT_MAX_S`).
Every change of the users (add, role, password, remove, disable, enable) is audited with who did
it: in the PostgreSQL workspace's audit table, or in the users file's own hash-chained log.
No Streamlit here: ``hotspot_app/ui/signin.py`` is the app's gate, ``hotspot users`` the CLI.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from hotspot_app.core import settings
from hotspot_app.core.errors import HotspotError, InputError
from hotspot_app.io import identity
from hotspot_app.io.workspace import audit as chain
from hotspot_app.io.workspace.urls import display, is_url, normalise_url

__all__ = ["ROLES", "ROLE_CAN", "User", "SignInRefused", "can", "check_role", "auth_target", "enabled",
           "open_users", "JsonUsers", "PostgresUsers", "session_expired", "session_minutes",
           "deployment_problem", "is_local_address", "cli_identity", "HASH_PARAMETERS", "VERIFY_SLOTS",
           "FREE_ATTEMPTS", "LOCKOUT_S", "LOCKOUT_MAX_S", "CLIENTS", "Throttle"]

#: Roles in increasing order of rights.
ROLES = ("viewer", "analyst", "admin")
#: What each role may do (for help texts and the app's messages).
ROLE_CAN = {
    "viewer": "read everything",
    "analyst": "load data, draw areas, record interventions, save cluster runs, see the audit log",
    "admin": "manage users (and everything an analyst can do)",
}
MIN_PASSWORD = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: Values of HOTSPOT_AUTH that turn sign-in off explicitly.
OFF = ("off", "none", "no", "false", "0")

#: Argon2id cost of each password check: OWASP's minimum (m=19 MiB, t=2, p=1). Hashes made with
#: other parameters still verify and are re-hashed at the next successful sign-in.
HASH_PARAMETERS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
#: At most this many password checks at once (the rest wait up to `BUSY_WAIT_S`).
VERIFY_SLOTS = 2
BUSY_WAIT_S = 20.0
#: Failed sign-ins allowed before a lockout, per user name and per client address.
FREE_ATTEMPTS = 5
#: The first lockout; each further failure doubles it, up to `LOCKOUT_MAX_S`.
LOCKOUT_S = 30.0
LOCKOUT_MAX_S = 15 * 60.0
#: Largest HOTSPOT_SESSION_MINUTES accepted (a week).
SESSION_MINUTES_MAX = 7 * 24 * 60

_SLOTS = threading.BoundedSemaphore(VERIFY_SLOTS)


class SignInRefused(HotspotError):
    """A sign-in was refused: wrong name or password, a lockout, a disabled account or a busy
    server. Its text is the one line the sign-in form (or the CLI) shows."""


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


# ------------------------------------------------------------------------------ settings checks
def session_minutes(value: float | None = None) -> float:
    """HOTSPOT_SESSION_MINUTES (`settings.SESSION_MINUTES`) checked: a number of minutes above 0
    and at most a week; anything else (nan, inf, negative, text) is an `InputError` naming it."""
    raw = settings.SESSION_MINUTES if value is None else value
    try:
        minutes = float(raw)
    except (TypeError, ValueError):
        minutes = math.nan
    if not math.isfinite(minutes) or not 0 < minutes <= SESSION_MINUTES_MAX:
        shown = _as_set(raw) if value is None else raw
        raise InputError(f"must be a number of minutes above 0 and at most {SESSION_MINUTES_MAX} "
                         f"(a week), got '{shown}'", parameter="HOTSPOT_SESSION_MINUTES")
    return minutes


def _as_set(raw) -> str:
    """The session setting as the user wrote it (the environment text when it gave `raw`)."""
    text = getattr(settings, "SESSION_MINUTES_TEXT", None)
    try:
        parsed = float(text)
    except (TypeError, ValueError):
        parsed = math.nan
    same = text is not None and (parsed == raw or (math.isnan(parsed) and isinstance(raw, float) and math.isnan(raw)))
    return str(text) if same else str(raw)


def session_expired(last_seen: datetime, now: datetime | None = None,
                    minutes: float | None = None) -> bool:
    """True when more than `minutes` (default: the checked `session_minutes()`) passed since
    `last_seen`."""
    now = now or datetime.now(timezone.utc)
    limit = session_minutes() if minutes is None else session_minutes(minutes)
    return (now - last_seen).total_seconds() > limit * 60


def _off(value: str | None) -> bool:
    return value is not None and str(value).strip().lower() in OFF


def auth_target() -> str | None:
    """Where the users are: ``HOTSPOT_AUTH``, else the workspace when it is a PostgreSQL URL, else
    None (sign-in off). ``HOTSPOT_AUTH=off`` gives None."""
    if settings.AUTH and _off(settings.AUTH):
        return None
    if settings.AUTH:
        return normalise_url(settings.AUTH) if is_url(settings.AUTH) else settings.AUTH
    if is_url(settings.WORKSPACE):
        return normalise_url(settings.WORKSPACE)
    return None


def enabled() -> bool:
    """Is sign-in required (a shared deployment)?"""
    return auth_target() is not None


def is_local_address(address: str | None) -> bool:
    """True when a server bound to `address` is reachable from this machine only. An unset
    address is Streamlit's default, every interface: not local."""
    text = (address or "").strip().lower().strip("[]")
    return text in ("localhost", "::1") or text.startswith("127.")


def deployment_problem(address: str | None, check_store: bool = True) -> str | None:
    """Why the app must not start as configured (one line), or None: safe by default.

    - HOTSPOT_SESSION_MINUTES must be a sensible number of minutes;
    - a PostgreSQL workspace is shared: it needs sign-in;
    - serving beyond this machine (`address` not 127.0.0.1/localhost) needs sign-in;
    - with sign-in on, the users store must be readable (`check_store`; the app's gate reads it
      anyway, so it checks the cheap rules only on every run)."""
    try:
        session_minutes()
    except InputError as exc:
        return str(exc)
    try:
        target = auth_target()
    except InputError as exc:
        return f"HOTSPOT_AUTH: {exc}"
    if target is None:
        if is_url(settings.WORKSPACE):
            return (f"the workspace {display(settings.WORKSPACE)} is a shared PostgreSQL database: it "
                    "needs sign-in (unset HOTSPOT_AUTH=off; users are added with `hotspot users add`)")
        if not is_local_address(address):
            where = address or "every interface (Streamlit's default)"
            return (f"serving beyond this machine ({where}) needs sign-in: set HOTSPOT_AUTH to a users "
                    "file (add an admin with `hotspot users add NAME --role admin --store FILE`) or "
                    "serve on 127.0.0.1 (`make app`)")
        return None
    if not check_store:
        return None
    try:
        open_users(target).list()
    except (HotspotError, OSError) as exc:
        return f"cannot read the users store: {exc}"
    return None


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


def cli_identity(needed: str | None = None, store: str | Path | None = None) -> str:
    """Who the CLI acts as, set for the audit of this run (`identity.set_acting_user`):

    - ``HOTSPOT_USER`` set: that user of the shared deployment, proved by ``HOTSPOT_PASSWORD``
      (checked against the users store `store`, default `auth_target()`, with the same lockout as
      the app) and holding at least the role `needed`;
    - else the operating-system account running the command (`identity.os_user`, from the
      process's user id, not ``$USER``)."""
    name = os.environ.get("HOTSPOT_USER") or None
    if name is None:
        who = identity.os_user()
    else:
        password = os.environ.get("HOTSPOT_PASSWORD")
        if not password:
            raise InputError("HOTSPOT_USER needs HOTSPOT_PASSWORD (the user's password) to prove who "
                             "is acting", parameter="HOTSPOT_PASSWORD")
        target = store if store is not None else auth_target()
        if target is None:
            raise InputError("HOTSPOT_USER needs a users store: set HOTSPOT_AUTH or use a PostgreSQL "
                             "workspace", parameter="HOTSPOT_USER")
        try:
            user = open_users(target).sign_in(name, password, client="cli")
        except SignInRefused as exc:
            raise InputError(str(exc), parameter="HOTSPOT_USER") from None
        if needed is not None and not can(user.role, needed):
            raise InputError(f"{user.name} is a {user.role}; this needs an {needed} or admin",
                             parameter="HOTSPOT_USER")
        who = user.name
    identity.set_acting_user(who)
    return who


def acting_note(who: str) -> str:
    """What a writing command says on stderr about who acts (`cli_identity`)."""
    if os.environ.get("HOTSPOT_USER"):
        return f"acting as {who} (HOTSPOT_USER)"
    return (f"acting as {who} (this computer's account; set HOTSPOT_USER and HOTSPOT_PASSWORD to act as a "
            "user of a shared deployment)")


# ------------------------------------------------------------------------------ passwords
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(**HASH_PARAMETERS)


def check_name(name: str) -> str:
    """`name` when it is 1-64 letters, digits, '.', '_', '@' or '-' (the whole of it: no trailing
    newline or space), else `InputError`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(f"user name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-' "
                         "(starting with a letter or digit)", parameter="name")
    return name


def check_password(password: str, name: str | None = None) -> str:
    """The password policy: at least `MIN_PASSWORD` characters, not blank, not one character
    repeated, not the user name."""
    text = password or ""
    if len(text) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", parameter="password")
    if not text.strip():
        raise InputError("a password cannot be only spaces", parameter="password")
    if len(set(text)) == 1:
        raise InputError("a password cannot be one character repeated", parameter="password")
    if name and text.strip().lower() == name.lower():
        raise InputError("a password cannot be the user name", parameter="password")
    return password


@contextmanager
def _slot():
    """One of the `VERIFY_SLOTS` password-check slots (SignInRefused when the server stays busy)."""
    if not _SLOTS.acquire(timeout=BUSY_WAIT_S):
        raise SignInRefused("The server is busy with other sign-ins; try again in a moment.")
    try:
        yield
    finally:
        _SLOTS.release()


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def lockout_seconds(failures: int) -> float:
    """Seconds locked out after `failures` consecutive failed sign-ins (0 below FREE_ATTEMPTS)."""
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(LOCKOUT_S * 2 ** (failures - FREE_ATTEMPTS), LOCKOUT_MAX_S)


def _wait_text(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


class Throttle:
    """Failed sign-ins per key (a client address, or a user name not in the store), kept in this
    process: after `FREE_ATTEMPTS` failures the key waits `lockout_seconds`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float]] = {}

    def wait(self, key: str | None, now: float) -> float:
        if not key:
            return 0.0
        with self._lock:
            _, until = self._state.get(key, (0, 0.0))
        return max(0.0, until - now)

    def failed(self, key: str | None, now: float) -> None:
        if not key:
            return
        with self._lock:
            n, _ = self._state.get(key, (0, 0.0))
            self._state[key] = (n + 1, now + lockout_seconds(n + 1))

    def succeeded(self, key: str | None) -> None:
        if key:
            with self._lock:
                self._state.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


#: Failed sign-ins per client address (and per unknown user name), for this server process.
CLIENTS = Throttle()
_UNKNOWN = Throttle()

_dummy: list[str] = []


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher().hash("not a password of anyone"))
    return _dummy[0]


# ------------------------------------------------------------------------------ the stores
class _Users(ABC):
    """Shared behaviour; subclasses (a JSON file, a PostgreSQL table) store rows {name, role,
    hash, created, disabled, failed, locked_until} and an audit of user changes."""

    @abstractmethod
    def _rows(self) -> list[dict]:
        """Every stored user row."""

    @abstractmethod
    def _upsert(self, row: dict, new: bool, action: str | None = None, detail: str = "",
                by: str | None = None) -> None:
        """Insert (`new`) or update one user row; with `action`, audit it in the same step."""

    @abstractmethod
    def _delete(self, name: str, action: str, detail: str, by: str | None) -> None:
        """Remove one user row and audit it."""

    @abstractmethod
    def _set_failures(self, name: str, failed: int, locked_until: float) -> None:
        """Record the failed sign-ins of `name` (not audited)."""

    @abstractmethod
    def audit(self) -> pd.DataFrame:
        """The user changes: at, user (who acted), action, detail; oldest first."""

    def list(self) -> pd.DataFrame:
        """Users: name, role, created, disabled (no hashes), by name."""
        rows = sorted(self._rows(), key=lambda r: r["name"])
        return pd.DataFrame({"name": [r["name"] for r in rows], "role": [r["role"] for r in rows],
                             "created": [r["created"] for r in rows],
                             "disabled": [bool(r.get("disabled")) for r in rows]},
                            columns=["name", "role", "created", "disabled"]).astype(
                                {"name": object, "role": object, "created": object})

    def _get(self, name: str) -> dict | None:
        return next((r for r in self._rows() if r["name"] == name), None)

    def current(self, name: str | None) -> User | None:
        """The user `name` as stored now (None when removed or disabled): the app re-reads it on
        every run and before every write, so a changed role or a disabled account counts at once."""
        row = self._get(name or "")
        if row is None or row.get("disabled"):
            return None
        return User(row["name"], row["role"])

    def _existing(self, name: str) -> dict:
        row = self._get(name)
        if row is None:
            raise InputError(f"no user '{name}'", parameter="name")
        return row

    def _admins_left(self, without: str) -> int:
        return sum(1 for r in self._rows() if r["role"] == "admin" and not r.get("disabled")
                   and r["name"] != without)

    def _keep_an_admin(self, name: str, what: str) -> None:
        row = self._get(name)
        if row is not None and row["role"] == "admin" and not row.get("disabled") and not self._admins_left(name):
            raise InputError(f"{name} is the last admin; add another admin before you {what} them",
                             parameter="name")

    def add(self, name: str, password: str, role: str = "viewer", by: str | None = None) -> User:
        """Add a user (refuses an existing name); audited."""
        check_name(name), check_password(password, name), check_role(role)
        if self._get(name) is not None:
            raise InputError(f"user '{name}' already exists (use set-role or set-password)", parameter="name")
        self._upsert({"name": name, "role": role, "hash": _hasher().hash(password), "created": _now_iso(),
                      "disabled": False, "failed": 0, "locked_until": 0.0}, new=True,
                     action="user_added", detail=f"{name} added as {role}", by=by)
        return User(name, role)

    def set_role(self, name: str, role: str, by: str | None = None) -> User:
        check_role(role)
        row = self._existing(name)
        if role != "admin":
            self._keep_an_admin(name, "demote")
        self._upsert({**row, "role": role}, new=False, action="user_role_set",
                     detail=f"{name}: role {row['role']} -> {role}", by=by)
        return User(name, role)

    def set_password(self, name: str, password: str, by: str | None = None) -> None:
        check_password(password, name)
        row = self._existing(name)
        self._upsert({**row, "hash": _hasher().hash(password), "failed": 0, "locked_until": 0.0},
                     new=False, action="user_password_set", detail=f"{name}: password changed", by=by)

    def disable(self, name: str, by: str | None = None) -> None:
        """Disable a user: they cannot sign in, and open sessions end at their next action."""
        row = self._existing(name)
        self._keep_an_admin(name, "disable")
        self._upsert({**row, "disabled": True}, new=False, action="user_disabled",
                     detail=f"{name} disabled", by=by)

    def enable(self, name: str, by: str | None = None) -> None:
        row = self._existing(name)
        self._upsert({**row, "disabled": False, "failed": 0, "locked_until": 0.0}, new=False,
                     action="user_enabled", detail=f"{name} enabled", by=by)

    def remove(self, name: str, by: str | None = None) -> None:
        """Remove a user (their name stays in the audit)."""
        row = self._existing(name)
        self._keep_an_admin(name, "remove")
        self._delete(name, "user_removed", f"{name} ({row['role']}) removed", by)

    def verify(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs and they are enabled, else None (also for an
        unknown name). No lockout here: `sign_in` is the gate."""
        return self._check(name, password)[0]

    def _check(self, name: str, password: str) -> tuple[User | None, dict | None, bool]:
        """(the user or None, their row or None, whether the password was right)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        row = self._get(name or "")
        hasher = _hasher()
        with _slot():
            try:
                # an unknown name costs the same work, so timing does not reveal which names exist
                hasher.verify(row["hash"] if row is not None else _dummy_hash(), password or "")
            except (VerificationError, InvalidHashError):
                return None, row, False
        if row is None:
            return None, None, False
        if row.get("disabled"):
            return None, row, True
        if hasher.check_needs_rehash(row["hash"]):
            self._upsert({**row, "hash": hasher.hash(password)}, new=False)
        return User(row["name"], row["role"]), row, True

    def sign_in(self, name: str, password: str, client: str | None = None,
                now: float | None = None) -> User:
        """The user, or `SignInRefused`: wrong name or password, a lockout (per user name and
        per `client` address: `FREE_ATTEMPTS` failures, then a doubling back-off), a disabled
        account."""
        now = time.time() if now is None else now
        name = name or ""
        row = self._get(name)
        locked = _UNKNOWN.wait(name, now) if row is None else max(0.0, float(row.get("locked_until") or 0) - now)
        wait = max(CLIENTS.wait(client, now), locked)
        if wait > 0:
            raise SignInRefused(f"Too many failed sign-ins; try again in {_wait_text(wait)}.")
        user, row, right = self._check(name, password)
        if user is None:
            if row is not None and right:  # the right password of a disabled account
                raise SignInRefused("This account is disabled; ask an administrator.")
            CLIENTS.failed(client, now)
            if row is None:
                _UNKNOWN.failed(name, now)
            else:
                failed = int(row.get("failed") or 0) + 1
                self._set_failures(row["name"], failed, now + lockout_seconds(failed))
            raise SignInRefused("Wrong user name or password.")
        CLIENTS.succeeded(client)
        if row.get("failed") or row.get("locked_until"):
            self._set_failures(row["name"], 0, 0.0)
        return user


def _who(by: str | None) -> str:
    return identity.current_user(by)


class JsonUsers(_Users):
    """Users in a JSON file (written atomically under a lock; readable by the app's user only),
    with the hash-chained log of user changes in the same file (``audit``)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"JsonUsers({str(self.path)!r})"

    def _doc(self) -> dict:
        if not self.path.exists():
            return {"users": [], "audit": []}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            doc["users"] = list(doc["users"])
            doc["audit"] = list(doc.get("audit", []))
            return doc
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"not a users file ({exc})", file=self.path) from exc
        except OSError as exc:
            raise InputError(f"cannot read the users file ({exc.strerror or exc})", file=self.path) from None

    def _rows(self) -> list[dict]:
        return self._doc()["users"]

    @contextmanager
    def _locked(self):
        lock = self.path.with_name(f".{self.path.name}.lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise InputError(f"cannot write the users file ({exc.strerror or exc})", file=self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _save(self, doc: dict) -> None:
        from hotspot_app.io.exports import write_text_atomic

        doc["users"].sort(key=lambda r: r["name"])
        write_text_atomic(self.path, json.dumps(doc, indent=1) + "\n")
        try:
            self.path.chmod(0o600)
        except OSError:
            pass

    def _audit_into(self, doc: dict, action: str, detail: str, by: str | None) -> None:
        log = doc["audit"]
        last = log[-1] if log else None
        entry = chain.chain(int(last["seq"]) if last else 0, last["row_hash"] if last else chain.GENESIS,
                            [(_who(by), action, detail)])[0]
        log.append({c: getattr(entry, c) for c in chain.CHAIN_COLUMNS})

    def _upsert(self, row: dict, new: bool, action: str | None = None, detail: str = "",
                by: str | None = None) -> None:
        with self._locked():
            doc = self._doc()
            if new and any(r["name"] == row["name"] for r in doc["users"]):
                raise InputError(f"user '{row['name']}' already exists", parameter="name")
            doc["users"] = [r for r in doc["users"] if r["name"] != row["name"]] + [row]
            if action:
                self._audit_into(doc, action, detail, by)
            self._save(doc)

    def _delete(self, name: str, action: str, detail: str, by: str | None) -> None:
        with self._locked():
            doc = self._doc()
            doc["users"] = [r for r in doc["users"] if r["name"] != name]
            self._audit_into(doc, action, detail, by)
            self._save(doc)

    def _set_failures(self, name: str, failed: int, locked_until: float) -> None:
        with self._locked():
            doc = self._doc()
            for r in doc["users"]:
                if r["name"] == name:
                    r["failed"], r["locked_until"] = int(failed), float(locked_until)
            self._save(doc)

    def audit_rows(self) -> list[dict]:
        """The stored chain rows (`audit.CHAIN_COLUMNS`)."""
        return self._doc()["audit"]

    def audit(self) -> pd.DataFrame:
        rows = self.audit_rows()
        return pd.DataFrame([{k: r.get(k) for k in ("at", "user", "action", "detail")} for r in rows],
                            columns=["at", "user", "action", "detail"]).astype(object)

    def verify_audit(self) -> tuple[int, str | None]:
        """(rows checked, first problem or None) of the users file's log."""
        return chain.verify(self.audit_rows())


class PostgresUsers(_Users):
    """Users in the ``hotspot_users`` table of a PostgreSQL database (the shared workspace's);
    user changes are audited in that workspace's append-only, hash-chained audit table."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        import psycopg

        self._psycopg = psycopg
        try:
            with psycopg.connect(self.url) as conn:
                have = {r[0] for r in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('hotspot_users') "
                    "AND attnum > 0 AND NOT attisdropped")}
                if not have:  # the first use: create the table (a read-only role never gets here)
                    conn.execute("CREATE TABLE IF NOT EXISTS hotspot_users (name text PRIMARY KEY, "
                                 "role text NOT NULL, hash text NOT NULL, created text NOT NULL)")
                if not {"disabled", "failed", "locked_until"} <= have:  # a table of an earlier version
                    conn.execute("ALTER TABLE hotspot_users ADD COLUMN IF NOT EXISTS disabled boolean NOT NULL "
                                 "DEFAULT false, ADD COLUMN IF NOT EXISTS failed integer NOT NULL DEFAULT 0, "
                                 "ADD COLUMN IF NOT EXISTS locked_until double precision NOT NULL DEFAULT 0")
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise InputError(f"cannot open the users table: {first}", parameter="store") from exc

    def __repr__(self) -> str:
        return f"PostgresUsers({display(self.url)!r})"

    def _connect(self):
        try:
            return self._psycopg.connect(self.url)
        except self._psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise InputError(f"cannot reach the users table: {first}", parameter="store") from None

    def _rows(self) -> list[dict]:
        cols = ("name", "role", "hash", "created", "disabled", "failed", "locked_until")
        with self._connect() as conn:
            cur = conn.execute(f"SELECT {', '.join(cols)} FROM hotspot_users")
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def _workspace(self):
        from hotspot_app.io.workspace.postgis import PostgisWorkspace

        return PostgisWorkspace(self.url)

    def _upsert(self, row: dict, new: bool, action: str | None = None, detail: str = "",
                by: str | None = None) -> None:
        values = (row["role"], row["hash"], bool(row.get("disabled")), int(row.get("failed") or 0),
                  float(row.get("locked_until") or 0), row["name"])

        def write(conn):
            if new:
                try:
                    conn.execute("INSERT INTO hotspot_users (name, role, hash, created, disabled, failed, "
                                 "locked_until) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                                 (row["name"], row["role"], row["hash"], row["created"], *values[2:5]))
                except self._psycopg.errors.UniqueViolation as exc:
                    raise InputError(f"user '{row['name']}' already exists", parameter="name") from exc
            else:
                conn.execute("UPDATE hotspot_users SET role = %s, hash = %s, disabled = %s, failed = %s, "
                             "locked_until = %s WHERE name = %s", values)

        if action:
            self._workspace().audit_with(write, action, detail, user=_who(by))
        else:
            with self._connect() as conn:
                write(conn)

    def _delete(self, name: str, action: str, detail: str, by: str | None) -> None:
        self._workspace().audit_with(
            lambda conn: conn.execute("DELETE FROM hotspot_users WHERE name = %s", (name,)),
            action, detail, user=_who(by))

    def _set_failures(self, name: str, failed: int, locked_until: float) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE hotspot_users SET failed = %s, locked_until = %s WHERE name = %s",
                         (int(failed), float(locked_until), name))

    def audit(self) -> pd.DataFrame:
        log = self._workspace().audit()
        return log[log["action"].astype(str).str.startswith("user_")].reset_index(drop=True)
