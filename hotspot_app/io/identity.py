"""Who is acting: the name recorded in the load history and the audit log of every write.

- In the app, the sign-in gate sets the signed-in user for each script run (`set_acting_user`).
- In the CLI, a shared deployment's user is given with ``HOTSPOT_USER`` and proved with
  ``HOTSPOT_PASSWORD`` (`auth.cli_identity` checks it against the users store and sets it here);
  otherwise the CLI acts as the operating-system account running it, read from the process's
  user id (`os_user`), never from ``$USER``/``$LOGNAME``, which anyone can set to any name.
"""

from __future__ import annotations

import os
from contextvars import ContextVar

_ACTING: ContextVar[str | None] = ContextVar("hotspot_acting_user", default=None)


def set_acting_user(name: str | None) -> None:
    """Who is acting in this thread/context (the app's gate sets the signed-in user for each
    script run), so every workspace write is audited under their name without each caller
    passing ``user=``."""
    _ACTING.set(name or None)


def acting_user() -> str | None:
    """The user set by `set_acting_user` (None outside a signed-in app session or CLI run)."""
    return _ACTING.get()


def os_user() -> str:
    """The operating-system account of this process, from its user id (not the environment)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # no passwd entry (e.g. a bare container)
        uid = getattr(os, "geteuid", lambda: None)()
        return f"uid {uid}" if uid is not None else "unknown"


def current_user(user: str | None = None) -> str:
    """Who is writing, for the load history and the audit: `user`, else the acting user (signed
    in to the app, or proved to the CLI), else the OS account (`os_user`)."""
    if user:
        return str(user)
    if acting_user():
        return str(acting_user())
    return os_user()
