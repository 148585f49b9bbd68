"""A shared deployment's users and audit: `hotspot users ...` and `hotspot audit`."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from hotspot_app.cli.common import (
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
    """Add a user with a password (asked for twice, hidden) and a role."""
    from hotspot_app.io import auth

    users = auth.open_users(store_)
    auth.check_role(role)
    user = users.add(name, _read_password(password_stdin), role)
    typer.echo(f"Added {user.name} ({user.role}).")


@users_app.command("set-role")
@guarded
def users_set_role_command(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help="viewer, analyst or admin."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
):
    """Change a user's role."""
    from hotspot_app.io import auth

    user = auth.open_users(store_).set_role(name, role)
    typer.echo(f"{user.name} is now {user.role}.")


@users_app.command("set-password")
@guarded
def users_set_password_command(
    name: str = typer.Argument(..., help="User name."),
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
):
    """Set a user's password."""
    from hotspot_app.io import auth

    users = auth.open_users(store_)
    users.set_password(name, _read_password(password_stdin))
    typer.echo(f"Password of {name} changed.")


@users_app.command("list")
@guarded
def users_list_command(
    store_: Optional[str] = typer.Option(None, "--store", help=_STORE_HELP),
    fmt: str = typer.Option("text", "--format", help="text or json."),
):
    """List users and their roles (never passwords)."""
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
    target: str = typer.Argument(..., metavar="WORKSPACE", help="Workspace: a .gpkg file or a postgresql:// URL."),
    fmt: str = typer.Option("text", "--format", help="text or json."),
):
    """Who changed the workspace, when, and what (loads, replacements, areas, interventions, runs)."""
    from hotspot_app.io import workspace

    check_choice(fmt, ("text", "json"), "format")
    ws = workspace.open_workspace(target)
    if not hasattr(ws, "audit"):
        fail(f"{workspace.display(target)}: this workspace has no audit log")
    log = ws.audit()
    if fmt == "json":
        emit_json({"workspace": str(getattr(ws, "where", target)), "audit": log.to_dict(orient="records")})
    elif len(log):
        typer.echo(log.to_markdown(index=False))
    else:
        typer.echo("No changes recorded yet.")
