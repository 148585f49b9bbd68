"""Users, roles, hashed passwords, session time-outs (hotspot_app.auth) and the `hotspot users` /
`hotspot audit` commands, on a users file and on the PostgreSQL workspace's own table."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from hotspot_app.io import auth
from hotspot_app.io import identity
from hotspot_app.core import settings
from hotspot_app.io import workspace
from hotspot_app.cli import app
from hotspot_app.core.errors import InputError

pytest_plugins = ["pg"]

runner = CliRunner()


@pytest.fixture(params=["json", "postgis"])
def users(request, tmp_path):
    if request.param == "json":
        return auth.open_users(tmp_path / "users.json")
    return auth.open_users(request.getfixturevalue("pg_url"))


def test_roles_include_the_ones_below():
    assert [auth.can(r, "viewer") for r in auth.ROLES] == [True, True, True]
    assert [auth.can(r, "analyst") for r in auth.ROLES] == [False, True, True]
    assert [auth.can(r, "admin") for r in auth.ROLES] == [False, False, True]
    assert auth.can(None, "viewer") is False and auth.can("root", "viewer") is False
    with pytest.raises(InputError, match="parameter 'role': role must be one of viewer, analyst, admin"):
        auth.can("viewer", "superuser")


def test_session_expires_after_the_setting():
    seen = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert auth.session_expired(seen, seen + timedelta(minutes=30), minutes=30) is False
    assert auth.session_expired(seen, seen + timedelta(minutes=30, seconds=1), minutes=30) is True
    assert auth.session_expired(seen, seen + timedelta(minutes=5), minutes=4) is True


def test_passwords_are_hashed_and_checked(users):
    users.add("ann", "correct horse", "analyst")
    users.add("vic", "battery staple", "viewer")
    assert users.verify("ann", "correct horse") == auth.User("ann", "analyst")
    assert users.verify("ann", "Correct horse") is None
    assert users.verify("nobody", "correct horse") is None
    assert users.verify("ann", "") is None
    assert users.list().to_dict(orient="list") == {
        "name": ["ann", "vic"], "role": ["analyst", "viewer"], "created": users.list()["created"].tolist(),
        "disabled": [False, False]}
    stored = users._rows()
    assert all("correct horse" not in json.dumps(r) and r["hash"].startswith("$argon2id$") for r in stored)
    users.set_role("vic", "admin")
    assert users.verify("vic", "battery staple") == auth.User("vic", "admin")
    users.set_password("vic", "new password 1")
    assert users.verify("vic", "battery staple") is None
    assert users.verify("vic", "new password 1") == auth.User("vic", "admin")


def test_bad_users_are_refused_with_the_parameter(users):
    users.add("ann", "correct horse", "analyst")
    with pytest.raises(InputError, match="parameter 'name': user 'ann' already exists"):
        users.add("ann", "another one", "viewer")
    with pytest.raises(InputError, match="parameter 'password': a password needs at least 8 characters"):
        users.add("bob", "short", "viewer")
    with pytest.raises(InputError, match="parameter 'role'"):
        users.add("bob", "long enough", "owner")
    with pytest.raises(InputError, match="parameter 'name'"):
        users.add("bad name; drop", "long enough", "viewer")
    with pytest.raises(InputError, match="no user 'zed'"):
        users.set_role("zed", "viewer")
    assert users.list()["name"].tolist() == ["ann"]


def test_users_file_is_private(tmp_path):
    users = auth.open_users(tmp_path / "users.json")
    users.add("ann", "correct horse", "admin")
    assert (tmp_path / "users.json").stat().st_mode & 0o077 == 0


def test_sign_in_is_off_by_default_and_on_for_a_users_store_or_a_postgres_workspace(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "AUTH", None)
    monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
    assert auth.enabled() is False
    monkeypatch.setattr(settings, "AUTH", str(tmp_path / "users.json"))
    assert auth.auth_target() == str(tmp_path / "users.json")
    monkeypatch.setattr(settings, "AUTH", None)
    from pathlib import Path

    monkeypatch.setattr(settings, "WORKSPACE", Path("postgresql://hotspot@db.example/partnership"))
    assert auth.auth_target() == "postgresql://hotspot@db.example/partnership"


def test_cli_users_add_set_role_list(tmp_path):
    store_ = str(tmp_path / "users.json")
    r = runner.invoke(app, ["users", "add", "ann", "--role", "admin", "--store", store_, "--password-stdin"],
                      input="correct horse\n")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "Added ann (admin)."
    r = runner.invoke(app, ["users", "add", "vic", "--store", store_], input="battery staple\nbattery staple\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "set-role", "vic", "analyst", "--store", store_])
    assert r.exit_code == 0 and r.stdout.strip() == "vic is now analyst."
    r = runner.invoke(app, ["users", "list", "--store", store_, "--format", "json"])
    doc = json.loads(r.stdout)
    assert [(u["name"], u["role"]) for u in doc["users"]] == [("ann", "admin"), ("vic", "analyst")]
    assert "hash" not in r.stdout
    assert auth.open_users(store_).verify("vic", "battery staple") == auth.User("vic", "analyst")
    r = runner.invoke(app, ["users", "set-role", "vic", "boss", "--store", store_])
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: parameter 'role': role must be one of viewer, analyst, admin, got 'boss'"
    r = runner.invoke(app, ["users", "add", "bob", "--store", store_, "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and "at least 8 characters" in r.stderr


def test_cli_users_without_a_store_says_how_to_set_one(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "AUTH", None)
    monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
    r = runner.invoke(app, ["users", "list"])
    assert r.exit_code == 2 and "set HOTSPOT_AUTH" in r.stderr


def test_cli_audit_json_lists_every_write_with_the_user(pg_url):
    import pandas as pd
    from shapely.geometry import box

    from hotspot_app.core import schema

    ws = workspace.open_workspace(pg_url)
    inc = schema.make_incidents(pd.DataFrame({"month": ["2024-01"] * 2, "category": ["Burglary"] * 2,
                                              "x": [450000.0, 450010.0], "y": [515000.0, 515000.0]}),
                                source="police-uk").assign(provider="Cleveland Police")
    ws.load_incidents(inc, files=["2024-01-cleveland-street.csv"], read=2, rejected=0, user="ann")
    ws.add_intervention("Patrols", "patrols", "2024-02-01", geometry=box(450000, 515000, 450100, 515100),
                        user="ann")
    r = runner.invoke(app, ["audit", pg_url, "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["workspace"] == pg_url
    assert [(e["user"], e["action"]) for e in doc["audit"]] == [("ann", "load"), ("ann", "intervention_added")]
    assert "2024-01-cleveland-street.csv" in doc["audit"][0]["detail"]
    r = runner.invoke(app, ["audit", pg_url])
    assert r.exit_code == 0 and "intervention_added" in r.stdout and "Patrols (patrols, int-1, from 2024-02-01, ongoing)" in r.stdout


def test_app_sign_in_refuses_a_wrong_password_and_the_session_times_out(monkeypatch, tmp_path):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    users = tmp_path / "users.json"
    auth.open_users(users).add("ann", "correct horse", "analyst")
    monkeypatch.setattr(settings, "AUTH", str(users))
    monkeypatch.setattr(settings, "SESSION_MINUTES", 30.0)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"),
                           default_timeout=180)
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    at.text_input(key="auth-name").input("ann")
    at.text_input(key="auth-password").input("correct hors")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    assert "auth-user" not in at.session_state
    at.text_input(key="auth-password").input("correct horse")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["auth-user"] == "ann" and at.session_state["auth-role"] == "analyst"
    assert "Sign in" not in [t.value for t in at.title]
    # 29 minutes idle: still signed in; 31 minutes: signed out with a notice.
    at.session_state["auth-seen"] = datetime.now(timezone.utc) - timedelta(minutes=29)
    at.run()
    assert at.session_state["auth-user"] == "ann"
    at.session_state["auth-seen"] = datetime.now(timezone.utc) - timedelta(minutes=31)
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert any("ended after 30 minutes without activity" in i.value for i in at.info)


def test_writes_are_audited_as_the_acting_app_user(pg_url):
    """The app's gate sets the signed-in user for each script run; writes that do not name a
    user are then audited as them (not as the server's OS user)."""
    import contextvars

    from shapely.geometry import box

    ws = workspace.open_workspace(pg_url)

    def as_signed_in():
        identity.set_acting_user("alan")
        ws.add_intervention("Patrols", "patrols", "2024-02-01", geometry=box(0, 0, 10, 10))

    contextvars.copy_context().run(as_signed_in)
    ws.add_intervention("CCTV", "cctv", "2024-03-01", geometry=box(0, 0, 10, 10), user="bob")
    import getpass

    ws.delete_intervention("int-1")  # outside the signed-in context: the OS user
    assert ws.audit()["user"].tolist() == ["alan", "bob", getpass.getuser()]


def test_admins_manage_users_on_the_data_page_and_analysts_cannot(monkeypatch, tmp_path):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    users_file = tmp_path / "users.json"
    users = auth.open_users(users_file)
    users.add("root-admin", "admin password", "admin")
    users.add("ann", "correct horse", "analyst")
    monkeypatch.setattr(settings, "AUTH", str(users_file))

    def signed_in(name: str, password: str) -> AppTest:
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"),
                               default_timeout=180)
        at.run()
        at.text_input(key="auth-name").input(name)
        at.text_input(key="auth-password").input(password)
        at.button[0].click().run()
        at.switch_page("hotspot_app/ui/pages/data.py")
        at.run()
        assert not at.exception, at.exception
        return at

    at = signed_in("ann", "correct horse")
    assert "Users" not in [h.value for h in at.subheader]
    at = signed_in("root-admin", "admin password")
    assert "Users" in [h.value for h in at.subheader]
    at.text_input(key="auth-new-name").input("bob")
    at.text_input(key="auth-new-password").input("bobs password")
    at.selectbox(key="auth-new-role").select("viewer")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert [s.value for s in at.success][-1] == "Added bob (viewer)."
    assert auth.open_users(users_file).verify("bob", "bobs password") == auth.User("bob", "viewer")
    at.selectbox(key="auth-role-name").select("bob")
    at.selectbox(key="auth-role-role").select("analyst")
    next(b for b in at.button if b.label == "Change role").click().run()
    assert auth.open_users(users_file).verify("bob", "bobs password") == auth.User("bob", "analyst")
