"""Workspace addresses: which targets are PostgreSQL URLs, their parts and normal form, and the one
display form every face shows (never the password).

A PostgreSQL workspace is ``postgresql://user[:password]@host[:port]/database[?options]``. The
password is best left out of the URL altogether: libpq (and so this tool) reads it from the
``PGPASSWORD`` environment variable or the ``~/.pgpass`` file, and the app also takes root-level
``PGPASSWORD`` from ``.streamlit/secrets.toml`` (README, "Shared deployment"). When a password is
written in the URL it may hold any character: ``@``, ``:`` and ``/`` are read as part of it (the
last ``@`` ends it), and ``%XX`` escapes are decoded (write a literal ``%`` as ``%25``).

`display` is the ONE form shown by every page, output, log line, error, audit entry and cache
key: ``postgresql://user:***@host/db``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from hotspot_app.core.errors import InputError

_URL = re.compile(r"(?is)^postgres(?:ql)?(?:\+psycopg)?:/+(.*)$")
_MASK = "***"


def url_of(target: object) -> str | None:
    """The PostgreSQL URL `target` names (also when a Path collapsed its ``//``), else None."""
    text = os.fspath(target) if isinstance(target, (str, os.PathLike)) else ""
    m = _URL.match(str(text))
    return f"postgresql://{m.group(1)}" if m else None


def is_url(target: object) -> bool:
    """True for ``postgresql://`` (or ``postgres://``) URLs, also when a `Path` has collapsed the
    double slash (``postgresql:/host/db``)."""
    return url_of(target) is not None


@dataclass(frozen=True)
class UrlParts:
    """The parts of a PostgreSQL URL, decoded (None = not given)."""

    user: str | None
    password: str | None
    host: str
    port: int | None
    database: str
    query: str

    def url(self, mask: bool = False) -> str:
        """The URL again: percent-encoded (a form libpq and SQLAlchemy both read), or with the
        password replaced by ``***`` (`mask`)."""
        auth = ""
        if self.user is not None or self.password is not None:
            auth = quote(self.user or "", safe="")
            if self.password is not None:
                auth += ":" + (_MASK if mask else quote(self.password, safe=""))
            auth += "@"
        port = f":{self.port}" if self.port is not None else ""
        query = f"?{_mask_query(self.query) if mask else self.query}" if self.query else ""
        return f"postgresql://{auth}{self.host}{port}/{self.database}{query}"


def _mask_query(query: str) -> str:
    return re.sub(r"(?i)((?:^|&)password=)[^&]*", r"\1" + _MASK, query)


def parts(target: object) -> UrlParts:
    """The parts of the PostgreSQL URL `target`; `InputError` (naming the workspace in its display
    form, never the password) when it cannot be read."""
    url = url_of(target)
    if url is None:
        raise InputError(f"not a PostgreSQL URL: {_masked(target)}", parameter="workspace")
    rest = url.split("://", 1)[1]
    userinfo = None
    at = _userinfo_end(rest)
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1:]
    hostport, _, path = rest.partition("/")
    database, _, query = path.partition("?")
    user = password = None
    if userinfo is not None:
        raw_user, colon, raw_password = userinfo.partition(":")
        user = unquote(raw_user) or None
        password = unquote(raw_password) if colon else None
    host, port = hostport, None
    if "," not in hostport:  # several hosts (libpq failover) are passed through as given
        m = re.match(r"^(\[[^\]]*\]|[^:]*)(?::(.*))?$", hostport)
        host, port_text = m.group(1), m.group(2)
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                shown = _masked(url)
                raise InputError(
                    f"the port in {shown} is not a number: a password with @, : or / must be "
                    "percent-encoded in the URL (%40, %3A, %2F), or better given in PGPASSWORD",
                    parameter="workspace")
            port = int(port_text)
    if not database:
        raise InputError(f"no database name in {_masked(url)} (postgresql://user@host/database)",
                         parameter="workspace")
    return UrlParts(user, password, host, port, unquote(database), query)


def normalise_url(target: object) -> str:
    """The URL in its normal form: ``postgresql://``, user and password percent-encoded."""
    return parts(target).url()


def display(target: object) -> str:
    """How a workspace is shown on every page, output, log line, error and cache key: a path as
    given, a PostgreSQL URL without its password (``postgresql://user:***@host/db``)."""
    url = url_of(target)
    if url is None:
        return os.fspath(target) if isinstance(target, (str, os.PathLike)) else str(target)
    try:
        return parts(url).url(mask=True)
    except InputError:  # unreadable: hide everything that could be a password
        return _masked(url)


def _masked(target: object) -> str:
    """`display` without parsing (for URLs that cannot be parsed): everything between the
    user name and the last ``@`` is masked."""
    url = url_of(target)
    if url is None:
        return os.fspath(target) if isinstance(target, (str, os.PathLike)) else str(target)
    rest = url.split("://", 1)[1]
    at = _userinfo_end(rest)
    if at >= 0:
        userinfo, host = rest[:at], rest[at + 1:]
        rest = f"{userinfo.split(':', 1)[0]}:{_MASK}@{host}" if ":" in userinfo else rest
    return f"postgresql://{_mask_query(rest)}"


def _userinfo_end(rest: str) -> int:
    """Where the user and password end: the last ``@`` before the options (``?``), -1 if none."""
    q = rest.find("?")
    return (rest if q < 0 else rest[:q]).rfind("@")


def password_of(target: object) -> str | None:
    """The password written in a PostgreSQL URL (None for a path or a URL without one): what the
    tests search every page and output for."""
    try:
        return parts(target).password if is_url(target) else None
    except InputError:
        return None
