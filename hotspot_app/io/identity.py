"""Who is acting: the name recorded in the load history and the audit log of every write."""

from __future__ import annotations

import getpass
from contextvars import ContextVar

_ACTING: ContextVar[str | None] = ContextVar("hotspot_acting_user", default=None)


def set_acting_user(name: str | None) -> None:
    """Who is acting in this thread/context (the app's gate sets the signed-in user for each
    script run), so every workspace write is audited under their name without each caller
    passing ``user=``."""
    _ACTING.set(name or None)


def acting_user() -> str | None:
    """The user set by `set_acting_user` (None outside a signed-in app session)."""
    return _ACTING.get()


def current_user(user: str | None = None) -> str:
    """Who is writing, for the load history and the audit: `user`, else the user signed in to the
    app (shared deployments), else the OS user."""
    if user:
        return str(user)
    if acting_user():
        return str(acting_user())
    try:
        return getpass.getuser()
    except Exception:  # no login name (e.g. a container without passwd entry)
        return "unknown"
