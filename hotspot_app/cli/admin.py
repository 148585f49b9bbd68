"""A shared deployment's users and audit: `hotspot users ...` and `hotspot audit`.

Who acts: a user of the shared deployment proved with ``HOTSPOT_USER`` and ``HOTSPOT_PASSWORD``
(an admin for user changes), else the operating-system account running the command
(`auth.cli_identity`); either is recorded in the audit and said on stderr.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from hotspot_app.cli.common import (
    progress,
    check_choice,
    app,
    emit_json,
    fail,
    guarded,
)

users_app = typer.Typer(help="Users and roles of a shared deployment (sign-in): viewer, analyst, admin.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")

_STORE_HELP = ("Users store: a .json file or a postgresql:// URL (default: HOTSPOT_AUTH, else the "
               "PostgreSQL workspace in HOTSPOT_WORKSPACE).")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)


def _store_and_actor(store_: Optional[str]):
    """The users store and who acts on it (an admin when HOTSPOT_USER is given)."""
    from hotspot_app.io import auth

    users = auth.open_users(store_)
    target = store_ if store_ is not None else auth.auth_target()
    return users, acting(auth.cli_identity("admin", store=target))


@users_app.command("add")
@guarded
def users_add_command(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
    role: str = typer.Option("viewer", "--role", help="viewer (read), analyst (load data, draw areas, "
                             "record interventions, save runs) or admin (manage users)."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin (no prompt)."),
):
    """Add a user with a password (asked for twice, hidden; at least 8 characters, not blank) and a role."""
    from hotspot_app.io import auth

    auth.check_role(role)
    auth.check_name(name)
    users, who = _store_and_actor(store_)
    user = users.add(name, _read_password(password_stdin), role, by=who)
    typer.echo(f"Added {user.name} ({user.role}).")


@users_app.command("set-role")
@guarded
def users_set_role_command(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help="viewer, analyst or admin."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
):
    """Change a user's role (it counts at their next action in the app)."""
    from hotspot_app.io import auth

    auth.check_role(role)
    users, who = _store_and_actor(store_)
    user = users.set_role(name, role, by=who)
    typer.echo(f"{user.name} is now {user.role}.")


@users_app.command("set-password")
@guarded
def users_set_password_command(
    name: str = typer.Argument(..., help="User name."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
):
    """Set a user's password (and lift a sign-in lockout)."""
    users, who = _store_and_actor(store_)
    users.set_password(name, _read_password(password_stdin), by=who)
    typer.echo(f"Password of {name} changed.")


@users_app.command("disable")
@guarded
def users_disable_command(
    name: str = typer.Argument(..., help="User name."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
):
    """Disable a user: they cannot sign in, and open sessions end at their next action."""
    users, who = _store_and_actor(store_)
    users.disable(name, by=who)
    typer.echo(f"{name} is disabled.")


@users_app.command("enable")
@guarded
def users_enable_command(
    name: str = typer.Argument(..., help="User name."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
):
    """Enable a disabled user again."""
    users, who = _store_and_actor(store_)
    users.enable(name, by=who)
    typer.echo(f"{name} is enabled.")


@users_app.command("remove")
@guarded
def users_remove_command(
    name: str = typer.Argument(..., help="User name."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
):
    """Remove a user (their name stays in the audit)."""
    users, who = _store_and_actor(store_)
    users.remove(name, by=who)
    typer.echo(f"{name} is removed.")


@users_app.command("list")
@guarded
def users_list_command(
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    fmt: str = typer.Option("text", "--format", help="text or json."),
):
    """List users, their roles and whether they are disabled (never passwords)."""
    from hotspot_app.io import auth

    check_choice(fmt, ("text", "json"), "format")
    table = auth.open_users(store_).list()
    if fmt == "json":
        emit_json({"users": table.to_dict(orient="records")})
    elif len(table):
        typer.echo(table.to_markdown(index=False))
    else:
        typer.echo("No users yet: add the first admin with `hotspot users add NAME --role admin`.")


@app.command("audit")
@guarded
def audit_command(
    target: str = typer.Argument(..., metavar="WORKSPACE", help="Workspace: a .gpkg file or a postgresql:// "
                                 "URL; or a users .json file (its log of user changes)."),
    verify: bool = typer.Option(False, "--verify", help="Check the audit's hash chain and the workspace "
                                "against changes made outside this tool; exit 2 naming the first problem."),
    accept_changes: bool = typer.Option(False, "--accept-changes", help="Accept changes made outside this "
                                        "tool (e.g. a layer deleted in QGIS) as the workspace's new state; audited."),
    fmt: str = typer.Option("text", "--format", help="text or json."),
):
    """Who changed the workspace, when, and what (loads, replacements, areas, interventions, runs,
    users); --verify checks that nothing was changed or removed since."""
    from hotspot_app.io import auth, workspace

    check_choice(fmt, ("text", "json"), "format")
    shown = workspace.display(target)
    if not workspace.is_url(target) and str(target).lower().endswith(".json"):
        _users_audit(target, verify, fmt)
        return
    if not workspace.is_url(target) and not workspace.is_workspace(target):
        fail(f"{shown}: not a workspace (a .gpkg written by hotspot, or a postgresql:// URL)")
    ws = workspace.open_workspace(target, check=False)
    if accept_changes:
        store = auth.auth_target() or (target if workspace.is_url(target) else None)
        who = acting(auth.cli_identity("analyst", store=store))
        accepted = ws.accept_changes(user=who)
        typer.echo(f"Accepted {len(accepted)} change(s) made outside hotspot_app: " + "; ".join(accepted)
                   if accepted else "Nothing to accept: no changes made outside hotspot_app.")
        return
    if verify:
        problems = ws.problems()
        n, broken = ws.verify_audit()
        if fmt == "json":
            emit_json({"workspace": ws.where, "rows": n, "verified": broken is None and not problems,
                       "problem": broken, "problems": problems})
        if broken is not None:
            fail(f"{shown}: {broken}")
        if problems:
            fail(f"{shown}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        if fmt == "text":
            typer.echo(f"{shown}: the audit log's {n:,} rows are intact (hash chain verified) and the "
                       "workspace was not changed outside hotspot_app.")
        return
    log = ws.audit()
    if fmt == "json":
        emit_json({"workspace": ws.where, "audit": log.to_dict(orient="records")})
    elif len(log):
        typer.echo(log.to_markdown(index=False))
    else:
        typer.echo("No changes recorded yet.")


def _users_audit(target: str, verify: bool, fmt: str) -> None:
    from hotspot_app.io import auth

    users = auth.JsonUsers(target)
    if verify:
        n, broken = users.verify_audit()
        if fmt == "json":
            emit_json({"workspace": target, "rows": n, "verified": broken is None, "problem": broken, "problems": []})
        if broken is not None:
            fail(f"{target}: {broken}")
        if fmt == "text":
            typer.echo(f"{target}: the log of user changes ({n:,} rows) is intact (hash chain verified).")
        return
    log = users.audit()
    if fmt == "json":
        emit_json({"workspace": target, "audit": log.to_dict(orient="records")})
    elif len(log):
        typer.echo(log.to_markdown(index=False))
    else:
        typer.echo("No user changes recorded yet.")


def acting(who: str) -> str:
    """Say on stderr whom a writing command acts as (recorded in the audit); returns `who`."""
    from hotspot_app.io import auth

    progress(auth.acting_note(who))
    return who
