"""Workspace addresses: which targets are PostgreSQL URLs, their normal form, and the one display
form every face shows (never the password)."""

from __future__ import annotations

import os
import re

from hotspot_app.core.errors import InputError

_URL = re.compile(r"(?i)^postgres(?:ql)?(?:\+psycopg)?:/+(.*)$")


def url_of(target: object) -> str | None:
    """The PostgreSQL URL `target` names (also when a Path collapsed its ``//``), else None."""
    text = os.fspath(target) if isinstance(target, (str, os.PathLike)) else ""
    m = _URL.match(str(text))
    return f"postgresql://{m.group(1)}" if m else None


def is_url(target: object) -> bool:
    """True for ``postgresql://`` (or ``postgres://``) URLs, also when a `Path` has collapsed the
    double slash (``postgresql:/host/db``)."""
    return url_of(target) is not None


def normalise_url(target: object) -> str:
    """The URL as given, with ``postgresql://`` restored (a `Path` turns ``//`` into ``/``)."""
    url = url_of(target)
    if url is None:
        raise InputError(f"not a PostgreSQL URL: {display(target)}", parameter="workspace")
    return url


def display(target: object) -> str:
    """How a workspace is shown on every page, output, log line, error and cache key: a path as
    given, a PostgreSQL URL without its password (``postgresql://user:***@host/db``)."""
    url = url_of(target)
    if url is None:
        return os.fspath(target) if isinstance(target, (str, os.PathLike)) else str(target)
    rest = url.split("://", 1)[1]
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    path = re.sub(r"(?i)(password=)[^&]*", r"\1***", path)
    return f"postgresql://{netloc}{slash}{path}"
