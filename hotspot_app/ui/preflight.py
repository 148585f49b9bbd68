"""`python -m hotspot_app.ui.preflight [--server.address ADDRESS]`: the app's start check, run by
``make app`` before Streamlit starts. Exit 0 when the configuration is safe to serve; otherwise one
line ``error: ...`` on stderr and exit 2 (`auth.deployment_problem`: serving beyond localhost or a
PostgreSQL workspace without sign-in, a bad HOTSPOT_SESSION_MINUTES, an unreadable users store).
The app's gate (`signin.gate`) applies the same check on every run, for `streamlit run` started
by hand."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from hotspot_app.io import auth

    args = list(sys.argv[1:] if argv is None else argv)
    address = None
    for i, arg in enumerate(args):
        if arg.startswith("--server.address="):
            address = arg.split("=", 1)[1]
        elif arg == "--server.address" and i + 1 < len(args):
            address = args[i + 1]
    problem = auth.deployment_problem(address)
    if problem:
        print(f"error: the app will not start: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - `make app`
    sys.exit(main())
