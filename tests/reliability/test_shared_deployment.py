"""Reliability suite, issue 22 (a shared deployment nobody can break into), by class: secrets never
shown, safe by default, sign-in hardening, a tamper-evident audit. Each test is a case of the
issue's "Why" that failed on the main of its day; the PostGIS ones run on a real throwaway
PostgreSQL (tests/pg.py), which fails rather than skips under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from hotspot_app.cli import app
from hotspot_app.core import schema, settings
from hotspot_app.core.errors import InputError
from hotspot_app.io import auth, identity, workspace

pytest_plugins = ["pg"]

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
SECRET = "p@ss:w/rd-xyzzy"  # a password with every character that used to break the URL


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def one_line_error(result, fragment: str) -> str:
    """Exit 2 and exactly one ``error:`` line on stderr (the last) containing `fragment`."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert fragment in errors[0], errors[0]
    return errors[0]


def incidents(month: str, n: int, start: int = 0):
    data = pd.DataFrame({"incident_id": [f"c{month}-{start + i}" for i in range(n)], "month": [month] * n,
                         "category": ["Burglary"] * n, "x": [450000.0 + 10 * (start + i) for i in range(n)],
                         "y": [515000.0] * n})
    return schema.make_incidents(data, source="police-uk").assign(provider="Cleveland Police")


def with_password(pg_url: str, password: str = SECRET) -> str:
    """The test database's URL with `password` written raw into it (trust auth ignores it)."""
    scheme, rest = pg_url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


def all_text(at) -> str:
    """Every element of an AppTest page as text (labels, values, captions, keys)."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def street_csv(path: Path, month: str, n: int) -> Path:
    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
              "Crime type,Last outcome category,Context")
    rows = [f"c{month}-{i},{month},Cleveland Police,Cleveland Police,{-1.23 + i / 5000:.5f},54.57000,"
            f"On or near A Street,E01,N01,Burglary,," for i in range(n)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


# =============================================================================== secrets
class TestSecretsNeverShown:
    """Why: "Any signed-in viewer sees the database password" (captions, the Add button, the
    print footer, the cache key), and "a password with @, : or / gives invalid literal for int()"."""

    def test_display_form_never_holds_the_password(self):
        for url in (f"postgresql://hotspot:{SECRET}@db.example:5433/partnership",
                    f"postgres://hotspot:{SECRET}@db.example/partnership?sslmode=require",
                    f"postgresql:/hotspot:{SECRET}@db.example/partnership"):
            shown = workspace.display(url)
            assert SECRET not in shown and "rd-xyzzy" not in shown and "p@ss" not in shown
            assert shown.startswith("postgresql://hotspot:***@db.example")
        assert workspace.display("postgresql://u@h/db?password=" + SECRET) == "postgresql://u@h/db?password=***"
        assert workspace.normalise_url(f"postgresql://u:{SECRET}@h:5432/db") == \
            "postgresql://u:p%40ss%3Aw%2Frd-xyzzy@h:5432/db"

    def test_a_password_with_at_colon_slash_opens_the_workspace(self, pg_url):
        url = with_password(pg_url)
        ws = workspace.open_workspace(url)
        ws.load_incidents(incidents("2024-01", 2), user="ann")
        assert len(ws.incidents()) == 2
        assert SECRET not in ws.where and ws.where == workspace.display(url)

    def test_a_bad_port_is_one_line_without_the_password(self):
        with pytest.raises(InputError) as err:
            workspace.open_workspace("postgresql://u:secretpw@h:notaport/db")
        assert "port" in str(err.value) and "secretpw" not in str(err.value)

    def test_cli_outputs_and_errors_never_show_the_password(self, pg_url, tmp_path):
        url = with_password(pg_url)
        month = street_csv(tmp_path / "2024-01-cleveland-street.csv", "2024-01", 3)
        r = invoke("ingest", month, "--into", url)
        assert r.exit_code == 0, r.output
        assert SECRET not in r.stdout + r.stderr and "Workspace postgresql://postgres:***@" in r.stdout
        r = invoke("audit", url, "--format", "json")
        assert r.exit_code == 0 and SECRET not in r.stdout
        assert json.loads(r.stdout)["workspace"] == workspace.display(url)
        port = url.rsplit(":", 1)[1].split("/")[0]
        dead = url.replace(f":{port}/", ":1/")  # nobody listens there
        r = invoke("ingest", month, "--into", dead)
        assert r.exit_code == 2 and SECRET not in r.stdout + r.stderr

    def test_source_keys_and_labels_never_hold_the_password(self, pg_url):
        from hotspot_app.ui import source

        url = with_password(pg_url)
        workspace.open_workspace(url).load_incidents(incidents("2024-01", 2), user="ann")
        key = source.workspace_key(url)
        ds = source.dataset(key)
        assert SECRET not in key and SECRET not in ds.label and SECRET not in ds.workspace
        assert source.target_of(key) == url  # the real URL stays inside the data source

    def test_data_page_never_shows_the_password(self, pg_url, monkeypatch, tmp_path):
        from streamlit.testing.v1 import AppTest

        url = with_password(pg_url)
        workspace.open_workspace(url).load_incidents(incidents("2024-01", 2), user="setup")
        auth.open_users(url).add("alan", "analyst password", "analyst")
        monkeypatch.setattr(settings, "WORKSPACE", url)
        monkeypatch.setattr(settings, "WORKSPACE_ENV", url)
        monkeypatch.setattr(settings, "AUTH", None)
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()
        at.text_input(key="auth-name").input("alan")
        at.text_input(key="auth-password").input("analyst password")
        at.button[0].click().run()
        at.switch_page("hotspot_app/ui/pages/data.py").run()
        assert not at.exception, at.exception
        month = street_csv(tmp_path / "2024-02-cleveland-street.csv", "2024-02", 3)
        at.file_uploader(key="dt-inc-files").set_value([(month.name, month.read_bytes(), "text/csv")]).run()
        assert not at.exception, at.exception
        labels = [b.label for b in at.button]
        assert any(label.startswith("Add to workspace (postgresql://postgres:***@") for label in labels), labels
        for page in ("data", "overview", "hotspots"):
            at.switch_page(f"hotspot_app/ui/pages/{page}.py").run()
            text = all_text(at)
            assert SECRET not in text and "p%40ss" not in text, page
        assert SECRET not in at.session_state["source"] and at.session_state["source"].startswith(
            "workspace:postgresql://postgres:***@")


# =============================================================================== safe by default
class TestSafeByDefault:
    """Why: "make app listens on all interfaces with no sign-in, and an anonymous visitor has every
    write control"; a PostGIS workspace without sign-in must not start."""

    def test_make_app_serves_this_machine_only(self):
        out = subprocess.run(["make", "-n", "app"], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "MAKEFLAGS": ""})
        run = [line for line in out.stdout.splitlines() if "hotspot_app.ui.serve" in line]
        assert run and "--server.address 127.0.0.1" in run[0], out.stdout  # serve runs the preflight first
        config = (ROOT / ".streamlit" / "config.toml").read_text()
        assert 'address = "127.0.0.1"' in config

    @pytest.mark.parametrize("address", ["0.0.0.0", "", "192.168.1.20", "::"])
    def test_serving_beyond_localhost_without_sign_in_refuses_to_start(self, address, monkeypatch, tmp_path):
        from hotspot_app.ui import preflight

        monkeypatch.setattr(settings, "AUTH", None)
        monkeypatch.setattr(settings, "WORKSPACE", tmp_path / "workspace.gpkg")
        args = ["--server.address", address] if address else []
        assert preflight.main(args) == 2
        assert auth.deployment_problem(address or None).startswith("serving beyond this machine")
        assert preflight.main(["--server.address", "127.0.0.1"]) == 0
        assert preflight.main(["--server.address", "localhost"]) == 0

    def test_a_postgis_workspace_without_sign_in_refuses_to_start(self, monkeypatch, capsys):
        from hotspot_app.ui import preflight

        monkeypatch.setattr(settings, "WORKSPACE", f"postgresql://hotspot:{SECRET}@db.example/partnership")
        monkeypatch.setattr(settings, "AUTH", "off")
        assert preflight.main(["--server.address", "127.0.0.1"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "is a shared PostgreSQL database: it needs sign-in" in err
        assert SECRET not in err

    def test_the_gate_shows_only_the_refusal(self, monkeypatch):
        from streamlit.testing.v1 import AppTest

        monkeypatch.setattr(settings, "WORKSPACE", "postgresql://hotspot@db.example/partnership")
        monkeypatch.setattr(settings, "AUTH", "off")
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [
            "The app will not start: the workspace postgresql://hotspot@db.example/partnership is a shared "
            "PostgreSQL database: it needs sign-in (unset HOTSPOT_AUTH=off; users are added with "
            "`hotspot users add`)"]
        assert not at.file_uploader and not at.button

    def test_anonymous_and_viewers_get_no_write_controls(self, monkeypatch, tmp_path):
        from streamlit.testing.v1 import AppTest

        users = tmp_path / "users.json"
        auth.open_users(users).add("vera", "viewer password", "viewer")
        path = tmp_path / "workspace.gpkg"
        workspace.open_workspace(path).load_incidents(incidents("2024-01", 3), user="setup")
        workspace.open_workspace(path).add_intervention("Patrols", "patrols", "2024-01-01",
                                                        geometry=box(450000, 515000, 450100, 515100))
        monkeypatch.setattr(settings, "AUTH", str(users))
        monkeypatch.setattr(settings, "WORKSPACE", path)
        monkeypatch.setattr(settings, "WORKSPACE_ENV", str(path))
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()
        assert [t.value for t in at.title] == ["Sign in"] and not at.file_uploader  # anonymous: a form only
        at.text_input(key="auth-name").input("vera")
        at.text_input(key="auth-password").input("viewer password")
        at.button[0].click().run()
        at.switch_page("hotspot_app/ui/pages/data.py").run()
        assert not at.exception, at.exception
        assert "Loaded now" in [h.value for h in at.subheader]
        assert not at.file_uploader  # no uploads at all
        labels = [b.label for b in at.button] + [b.label for b in at.get("form_submit_button")]
        for write in ("Add to workspace", "Replace everything", "Save the area and intervention",
                      "Delete intervention", "Delete area", "Save changes", "Restore"):
            assert not [label for label in labels if write in label], (write, labels)
        assert any("Signed in as a viewer" in i.value for i in at.info)


# =============================================================================== sign-in
class TestSignInHardening:
    """Why: no lockout (30 wrong guesses, then the right password works); 0.4 s CPU and 64 MiB per
    attempt; a demoted user keeps their role in open tabs; user changes not audited; no remove or
    disable; 8 spaces accepted as a password; ``bob\\n`` accepted as a name; session minutes
    nan/inf/-5; viewers upload 500 MB files that are never cleaned up."""

    @pytest.fixture(autouse=True)
    def _fresh_throttles(self):
        clients = getattr(auth, "CLIENTS", None)  # the per-client lockouts of this process
        if clients is not None:
            clients.clear()
        yield
        if clients is not None:
            clients.clear()

    @pytest.fixture(params=["json", "postgis"])
    def users(self, request, tmp_path):
        if request.param == "json":
            return auth.open_users(tmp_path / "users.json")
        return auth.open_users(request.getfixturevalue("pg_url"))

    def test_thirty_wrong_guesses_lock_the_user_out(self, users):
        users.add("ann", "correct horse", "analyst")
        t = 1_000_000.0
        refused = []
        for i in range(30):
            with pytest.raises(auth.SignInRefused) as err:
                users.sign_in("ann", f"guess {i}", client=f"10.0.0.{i}", now=t + i)
            refused.append(str(err.value))
        assert refused[:auth.FREE_ATTEMPTS] == ["Wrong user name or password."] * auth.FREE_ATTEMPTS
        assert all(r.startswith("Too many failed sign-ins; try again in") for r in refused[auth.FREE_ATTEMPTS:])
        with pytest.raises(auth.SignInRefused, match="Too many failed sign-ins"):
            users.sign_in("ann", "correct horse", client="10.9.9.9", now=t + 31)  # the right password
        assert users.sign_in("ann", "correct horse", client="10.9.9.9", now=t + 31 + auth.LOCKOUT_MAX_S) == \
            auth.User("ann", "analyst")

    def test_one_client_guessing_many_names_is_locked_out(self, users):
        users.add("ann", "correct horse", "analyst")
        t = 2_000_000.0
        for i in range(auth.FREE_ATTEMPTS):
            with pytest.raises(auth.SignInRefused, match="Wrong user name or password"):
                users.sign_in(f"user{i}", "password", client="203.0.113.7", now=t)
        with pytest.raises(auth.SignInRefused, match="Too many failed sign-ins"):
            users.sign_in("ann", "correct horse", client="203.0.113.7", now=t + 1)
        assert users.sign_in("ann", "correct horse", client="198.51.100.1", now=t + 1).name == "ann"
        assert [auth.lockout_seconds(n) for n in (4, 5, 6, 7, 20)] == [0.0, 30.0, 60.0, 120.0, 900.0]

    def test_a_password_check_is_cpu_and_memory_bounded(self, users, monkeypatch):
        users.add("ann", "correct horse", "analyst")
        stored = users._get("ann")["hash"]
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # 19 MiB, 2 passes (was 64 MiB, 3)
        from argon2 import PasswordHasher

        inside, peak, lock = [0], [0], threading.Lock()
        real = PasswordHasher.verify
        gate = threading.Event()

        def counting(self, hash, password):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            gate.wait(5)
            try:
                return real(self, hash, password)
            finally:
                with lock:
                    inside[0] -= 1

        monkeypatch.setattr(PasswordHasher, "verify", counting)
        threads = [threading.Thread(target=users.verify, args=("ann", "wrong")) for _ in range(8)]
        for th in threads:
            th.start()
        while True:  # wait until the slots are taken and the others queue
            with lock:
                if inside[0] >= auth.VERIFY_SLOTS:
                    break
        gate.set()
        for th in threads:
            th.join()
        assert peak[0] == auth.VERIFY_SLOTS == 2

    def test_old_hashes_still_verify_and_are_rehashed(self, tmp_path):
        from argon2 import PasswordHasher

        path = tmp_path / "users.json"
        path.write_text(json.dumps({"users": [{"name": "ann", "role": "admin", "created": "2025-01-01",
                                               "hash": PasswordHasher().hash("correct horse")}]}))
        users = auth.open_users(path)
        assert users.sign_in("ann", "correct horse").role == "admin"
        assert users._get("ann")["hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    def test_password_policy_and_names_by_full_match(self, users):
        for bad, message in [(" " * 8, "only spaces"), ("aaaaaaaaaa", "one character repeated"),
                             ("short", "at least 8"), ("bobbybob", "the user name")]:
            with pytest.raises(InputError, match=message):
                users.add("bobbybob", bad, "viewer")
        for name in ("bob\n", "bob ", " bob", "bob\t"):
            with pytest.raises(InputError, match="parameter 'name'"):
                users.add(name, "long enough", "viewer")
        assert users.list()["name"].tolist() == []

    def test_remove_disable_enable_and_every_change_audited(self, users):
        users.add("root-admin", "admin password", "admin", by="setup")
        users.add("bob", "bobs password", "analyst", by="root-admin")
        users.set_role("bob", "viewer", by="root-admin")
        users.set_password("bob", "new bobs password", by="root-admin")
        users.disable("bob", by="root-admin")
        assert users.current("bob") is None and users.verify("bob", "new bobs password") is None
        with pytest.raises(auth.SignInRefused, match="This account is disabled"):
            users.sign_in("bob", "new bobs password")
        users.enable("bob", by="root-admin")
        assert users.current("bob") == auth.User("bob", "viewer")
        users.remove("bob", by="root-admin")
        assert users.list()["name"].tolist() == ["root-admin"]
        with pytest.raises(InputError, match="last admin"):
            users.remove("root-admin", by="root-admin")
        log = users.audit()
        assert log[["user", "action"]].values.tolist() == [
            ["setup", "user_added"], ["root-admin", "user_added"], ["root-admin", "user_role_set"],
            ["root-admin", "user_password_set"], ["root-admin", "user_disabled"], ["root-admin", "user_enabled"],
            ["root-admin", "user_removed"]]
        assert log["detail"].tolist()[2] == "bob: role analyst -> viewer"
        assert "bobs password" not in " ".join(log["detail"])

    def test_cli_users_remove_and_disable(self, tmp_path):
        store = str(tmp_path / "users.json")
        r = runner.invoke(app, ["users", "add", "root", "--role", "admin", "--store", store, "--password-stdin"],
                          input="admin password\n")
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, ["users", "add", "bob", "--store", store, "--password-stdin"], input="bobs password\n")
        assert r.exit_code == 0, r.output
        assert invoke("users", "disable", "bob", "--store", store).stdout.strip() == "bob is disabled."
        assert auth.open_users(store).list()[["name", "disabled"]].values.tolist() == [["bob", True], ["root", False]]
        assert invoke("users", "enable", "bob", "--store", store).stdout.strip() == "bob is enabled."
        assert invoke("users", "remove", "bob", "--store", store).stdout.strip() == "bob is removed."
        one_line_error(invoke("users", "remove", "nobody", "--store", store), "no user 'nobody'")
        r = runner.invoke(app, ["users", "add", "eve", "--store", store, "--password-stdin"], input=" " * 8 + "\n")
        one_line_error(r, "a password cannot be only spaces")

    @pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "abc", "1e9"])
    def test_session_minutes_validated_at_start(self, value, monkeypatch, capsys):
        from hotspot_app.ui import preflight

        monkeypatch.setattr(settings, "SESSION_MINUTES_TEXT", value)
        try:
            minutes = float(value)
        except ValueError:
            minutes = float("nan")
        monkeypatch.setattr(settings, "SESSION_MINUTES", minutes)
        with pytest.raises(InputError, match="parameter 'HOTSPOT_SESSION_MINUTES': must be a number of minutes"):
            auth.session_minutes()
        assert preflight.main(["--server.address", "127.0.0.1"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and f"got '{value}'" in err

    def test_session_minutes_bad_in_the_environment_is_one_line(self):
        proc = subprocess.run([sys.executable, "-m", "hotspot_app.ui.preflight", "--server.address", "127.0.0.1"],
                              cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "HOTSPOT_SESSION_MINUTES": "nan"})
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "HOTSPOT_SESSION_MINUTES" in proc.stderr

    def test_a_demoted_or_disabled_user_loses_rights_in_open_tabs(self, monkeypatch, tmp_path):
        from streamlit.testing.v1 import AppTest

        users_file = tmp_path / "users.json"
        users = auth.open_users(users_file)
        users.add("root-admin", "admin password", "admin")
        users.add("alan", "analyst password", "analyst")
        path = tmp_path / "workspace.gpkg"
        workspace.open_workspace(path).load_incidents(incidents("2024-01", 3), user="setup")
        monkeypatch.setattr(settings, "AUTH", str(users_file))
        monkeypatch.setattr(settings, "WORKSPACE", path)
        monkeypatch.setattr(settings, "WORKSPACE_ENV", str(path))
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()
        at.text_input(key="auth-name").input("alan")
        at.text_input(key="auth-password").input("analyst password")
        at.button[0].click().run()
        at.switch_page("hotspot_app/ui/pages/data.py").run()
        assert at.file_uploader  # an analyst loads data
        users.set_role("alan", "viewer")  # meanwhile, in another tab
        at.run()
        assert not at.exception, at.exception
        assert at.session_state["auth-role"] == "viewer" and not at.file_uploader
        users.disable("alan", by="root-admin")
        at.run()
        assert [t.value for t in at.title] == ["Sign in"]
        assert any("disabled or removed" in i.value for i in at.info)

    def test_uploads_are_size_limited_and_cleaned_up(self, tmp_path, monkeypatch):
        import time as _time

        from hotspot_app.ui import source

        class Upload:
            def __init__(self, name, data, size=None):
                self.name, self._data, self.size = name, data, size if size is not None else len(data)

            def getvalue(self):
                return self._data

        folder = tmp_path / "uploads"
        with pytest.raises(InputError) as err:
            source.save_uploads([Upload("huge.csv", b"", size=(source.UPLOAD_MAX_MB + 1) * 1024 * 1024)], folder)
        assert str(err.value).startswith("huge.csv: the file is larger than 200 MB")
        old = source.save_uploads([Upload("jan.csv", b"a,b\n1,2\n")], folder)[0]
        stale = _time.time() - (source.UPLOAD_KEEP_HOURS + 1) * 3600
        os.utime(Path(old).parent, (stale, stale))
        new = source.save_uploads([Upload("feb.csv", b"a,b\n3,4\n")], folder)[0]
        assert not Path(old).exists() and Path(new).exists()
        config = (ROOT / ".streamlit" / "config.toml").read_text()
        assert "maxUploadSize = 200" in config


# =============================================================================== audit
@pytest.fixture(params=["gpkg", "postgis"])
def ws(request, tmp_path):
    if request.param == "gpkg":
        return workspace.open_workspace(tmp_path / "ws.gpkg")
    return workspace.open_workspace(request.getfixturevalue("pg_url"))


def _target(ws) -> str:
    return ws.url if hasattr(ws, "url") else str(ws.path)


def _tamper(ws, sql: str, pg_server=None) -> None:
    """Change the stored audit behind the tool's back: SQLite for a GeoPackage; for PostGIS as the
    table's owner with the append-only trigger switched off (what the chain must still catch)."""
    if hasattr(ws, "url"):
        import psycopg

        with psycopg.connect(ws.url, autocommit=True) as conn:
            conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
            conn.execute(sql)
            conn.execute("ALTER TABLE audit ENABLE TRIGGER USER")
    else:
        import sqlite3

        con = sqlite3.connect(ws.path)
        with con:
            con.execute(sql.replace("audit", "hotspot_audit"))
        con.close()


def _three_writes(ws) -> None:
    ws.load_incidents(incidents("2024-01", 3), files=["2024-01.csv"], user="ann")
    ws.add_intervention("Patrols", "patrols", "2024-02-01", geometry=box(450000, 515000, 450100, 515100), user="bob")
    ws.load_incidents(incidents("2024-02", 2), files=["2024-02.csv"], user="cat")


class TestTamperEvidentAudit:
    """Why: anyone with the app's database credentials can UPDATE or DELETE audit rows with no
    trace; a dropped audit table reads "No changes recorded yet"; the CLI audits whoever $USER says."""

    def test_the_apps_role_cannot_update_delete_or_truncate_the_audit(self, pg_url):
        import psycopg

        ws = workspace.open_workspace(pg_url)
        _three_writes(ws)
        for sql in ("UPDATE audit SET \"user\" = 'mallory' WHERE seq = 1", "DELETE FROM audit WHERE seq = 2",
                    "TRUNCATE audit"):
            with psycopg.connect(pg_url, autocommit=True) as conn, pytest.raises(psycopg.Error) as err:
                conn.execute(sql)
            assert "the audit log is append-only" in str(err.value)
        assert ws.audit()["user"].tolist() == ["ann", "bob", "cat"]
        assert ws.verify_audit() == (3, None)

    def test_verify_passes_then_names_an_edited_row(self, ws):
        _three_writes(ws)
        r = invoke("audit", _target(ws), "--verify")
        assert r.exit_code == 0, r.output
        assert "the audit log's 3 rows are intact" in r.stdout
        _tamper(ws, "UPDATE audit SET detail = 'nothing to see' WHERE seq = 2")
        line = one_line_error(invoke("audit", _target(ws), "--verify"), "audit row 2 (")
        assert line.endswith("intervention_added by bob) was changed after it was written")

    def test_verify_names_a_deleted_row_in_the_middle_or_at_the_end(self, ws):
        _three_writes(ws)
        _tamper(ws, "DELETE FROM audit WHERE seq = 2")
        one_line_error(invoke("audit", _target(ws), "--verify"), "audit row 2 deleted (the log jumps from row 1 to row 3)")

    def test_verify_names_a_deleted_last_row(self, ws):
        _three_writes(ws)
        _tamper(ws, "DELETE FROM audit WHERE seq = 3")
        one_line_error(invoke("audit", _target(ws), "--verify"),
                       "audit row 3 deleted (the log ends at row 2; the workspace recorded 3)")

    def test_a_dropped_audit_table_is_reported_missing(self, ws):
        _three_writes(ws)
        if hasattr(ws, "url"):
            import psycopg

            with psycopg.connect(ws.url, autocommit=True) as conn:
                conn.execute("DROP TABLE audit")
        else:
            import sqlite3

            con = sqlite3.connect(ws.path)
            with con:
                con.execute("DROP TABLE hotspot_audit")
            con.close()
        r = invoke("audit", _target(ws))
        one_line_error(r, "the audit log is missing")
        assert "No changes recorded yet" not in r.stdout
        one_line_error(invoke("audit", _target(ws), "--verify"), "the audit log is missing")

    def test_the_cli_records_the_process_account_not_dollar_user(self, tmp_path, monkeypatch):
        monkeypatch.setenv("USER", "mallory")
        monkeypatch.setenv("LOGNAME", "mallory")
        monkeypatch.delenv("HOTSPOT_USER", raising=False)
        month = street_csv(tmp_path / "2024-01-cleveland-street.csv", "2024-01", 2)
        path = tmp_path / "ws.gpkg"
        r = invoke("ingest", month, "--into", path)
        assert r.exit_code == 0, r.output
        assert f"acting as {identity.os_user()} (this computer's account" in r.stderr
        assert workspace.open_workspace(path).audit()["user"].tolist() == [identity.os_user()] != ["mallory"]

    def test_the_cli_acts_as_a_deployment_user_only_with_their_password(self, tmp_path, monkeypatch):
        store = tmp_path / "users.json"
        users = auth.open_users(store)
        users.add("ann", "analyst password", "analyst")
        users.add("vic", "viewer password", "viewer")
        monkeypatch.setattr(settings, "AUTH", str(store))
        month = street_csv(tmp_path / "2024-01-cleveland-street.csv", "2024-01", 2)
        path = tmp_path / "ws.gpkg"
        one_line_error(invoke("ingest", month, "--into", path, env={"HOTSPOT_USER": "ann", "HOTSPOT_PASSWORD": ""}),
                       "HOTSPOT_USER needs HOTSPOT_PASSWORD")
        one_line_error(invoke("ingest", month, "--into", path, env={"HOTSPOT_USER": "ann",
                                                                    "HOTSPOT_PASSWORD": "wrong password"}),
                       "Wrong user name or password.")
        one_line_error(invoke("ingest", month, "--into", path, env={"HOTSPOT_USER": "vic",
                                                                    "HOTSPOT_PASSWORD": "viewer password"}),
                       "vic is a viewer; this needs an analyst or admin")
        assert not path.exists()
        r = invoke("ingest", month, "--into", path, env={"HOTSPOT_USER": "ann", "HOTSPOT_PASSWORD": "analyst password"})
        assert r.exit_code == 0, r.output
        assert "acting as ann (HOTSPOT_USER)" in r.stderr
        assert workspace.open_workspace(path).audit()["user"].tolist() == ["ann"]

    def test_the_users_files_log_is_chained_too(self, tmp_path):
        store = tmp_path / "users.json"
        users = auth.open_users(store)
        users.add("ann", "analyst password", "admin")
        users.add("bob", "bobs password", "viewer")
        assert invoke("audit", store, "--verify").exit_code == 0
        doc = json.loads(store.read_text())
        doc["audit"][0]["user"] = "mallory"
        store.write_text(json.dumps(doc))
        one_line_error(invoke("audit", store, "--verify"), "audit row 1 (")
