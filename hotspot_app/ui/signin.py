"""The app's sign-in gate and role checks (`io.auth` holds the rules; this is the Streamlit face).

`gate()` (called by streamlit_app.py before any page) first refuses to serve an unsafe
configuration with one line (`auth.deployment_problem`: serving beyond localhost or a PostgreSQL
workspace without sign-in, a bad HOTSPOT_SESSION_MINUTES, an unreadable users store). When
sign-in is off (the single-user default, this machine only) it does nothing more. When it is on,
it shows a sign-in form until a user signs in (with the lockout of `auth.sign_in`), re-reads the
user's role and state on every run (a demoted, disabled or removed user's open tabs follow at
their next click), ends the session after HOTSPOT_SESSION_MINUTES without activity, and shows
who is signed in with a sign-out button. Pages ask `can("analyst")` before offering a write and
call `require("analyst")` just before it (the role read from the store again).
`audit_view(ds)` is the Data page's Audit section, `users_view()` its Users section for admins.
"""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from hotspot_app.core.errors import HotspotError, InputError
from hotspot_app.io import auth
from hotspot_app.io import identity

USER, ROLE, SEEN, NOTICE = "auth-user", "auth-role", "auth-seen", "auth-notice"


@st.cache_resource(show_spinner=False)
def _users(target: str):
    return auth.open_users(target)


def _sign_out(notice: str | None = None) -> None:
    for k in (USER, ROLE, SEEN):
        st.session_state.pop(k, None)
    if notice:
        st.session_state[NOTICE] = notice


def _load_secrets() -> None:
    """Root-level entries of ``.streamlit/secrets.toml`` (e.g. PGPASSWORD) become environment
    variables, where libpq reads the database password: it never has to be in a URL."""
    try:
        st.secrets.load_if_toml_exists()
    except Exception:  # a malformed secrets file: Streamlit reports it itself
        pass


def client_address() -> str | None:
    """The client's address (None when unknown): as Streamlit sees it, or, when that is this
    machine (a reverse proxy in front, README "Shared deployment"), the address the proxy added
    last to X-Forwarded-For."""
    try:
        ip = st.context.ip_address
    except Exception:
        return None
    if not isinstance(ip, str):
        return None
    if auth.is_local_address(ip):
        try:
            forwarded = st.context.headers.get("X-Forwarded-For")
        except Exception:
            forwarded = None
        if isinstance(forwarded, str) and forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return ip


def gate() -> None:
    """Stop the script with one line if the configuration is unsafe, else with a sign-in form
    unless sign-in is off or a session is active."""
    identity.set_acting_user(None)
    _load_secrets()
    problem = auth.deployment_problem(st.get_option("server.address"), check_store=False)
    if problem:
        st.error(f"The app will not start: {problem}")
        st.stop()
    if not auth.enabled():
        return
    target = auth.auth_target()
    now = datetime.now(timezone.utc)
    if st.session_state.get(USER) and auth.session_expired(st.session_state[SEEN], now):
        _sign_out(f"Your session ended after {auth.session_minutes():g} minutes without activity; "
                  "sign in again.")
    if st.session_state.get(USER):
        try:
            current = _users(target).current(st.session_state[USER])
        except HotspotError as exc:
            st.error(f"Cannot read the users store: {exc}")
            st.stop()
        if current is None:
            _sign_out("Your account was disabled or removed; ask an administrator.")
        elif current.role != st.session_state.get(ROLE):
            st.session_state[NOTICE] = f"Your role is now {current.role}."
            st.session_state[ROLE] = current.role
    if st.session_state.get(USER):
        st.session_state[SEEN] = now
        identity.set_acting_user(st.session_state[USER])  # every write of this run is audited as them
        with st.sidebar:
            st.markdown(f"Signed in as **{st.session_state[USER]}** ({st.session_state[ROLE]})")
            if st.session_state.get(NOTICE):
                st.info(st.session_state.pop(NOTICE))
            if st.button("Sign out", key="auth-signout"):
                _sign_out("Signed out.")
                st.rerun()
        return
    st.title("Sign in")
    if st.session_state.get(NOTICE):
        st.info(st.session_state.pop(NOTICE))
    try:
        users = _users(target)
        if not len(users.list()):
            st.warning("No users yet: an administrator adds the first one with "
                       "`hotspot users add NAME --role admin`.")
    except HotspotError as exc:
        st.error(str(exc))
        st.stop()
    with st.form("auth-form"):
        name = st.text_input("User name", key="auth-name")
        password = st.text_input("Password", type="password", key="auth-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = users.sign_in(name.strip(), password, client=client_address())
        except auth.SignInRefused as exc:
            st.error(str(exc))
        else:
            st.session_state[USER], st.session_state[ROLE], st.session_state[SEEN] = user.name, user.role, now
            st.rerun()
    st.stop()


def user_name() -> str | None:
    """The signed-in user (None when sign-in is off: the store then records the OS user)."""
    return st.session_state.get(USER) if auth.enabled() else None


def can(needed: str) -> bool:
    """May the current user act as `needed` (viewer/analyst/admin)? With sign-in off the app
    serves this machine only (the gate refuses anything else): its one user may. With sign-in
    on, an anonymous visitor may not."""
    if not auth.enabled():
        return True
    return auth.can(st.session_state.get(ROLE), needed)


def require(needed: str) -> None:
    """Just before a write: the signed-in user's role and state read from the store again; an
    `InputError` (shown as one line) when they may no longer do it."""
    if not auth.enabled():
        return
    current = _users(auth.auth_target()).current(st.session_state.get(USER))
    if current is None:
        _sign_out("Your account was disabled or removed; ask an administrator.")
        raise InputError("your account was disabled or removed; nothing was changed", parameter="user")
    st.session_state[ROLE] = current.role
    if not auth.can(current.role, needed):
        raise InputError(f"you are a {current.role} now; an {needed} or admin can do this; nothing was changed",
                         parameter="role")


def explain(needed: str) -> None:
    """A line saying why a write is not offered to this user."""
    if not can(needed):
        st.info(f"Signed in as a {st.session_state.get(ROLE)}: {needed}s and admins can "
                f"{auth.ROLE_CAN['analyst']}.")


def audit_view(ds) -> None:
    """The Audit section of the Data page (analysts and admins): who changed the workspace. A
    missing audit table is an error, never an empty log."""
    if not ds.workspace or not can("analyst"):
        return
    from hotspot_app.ui import source

    st.subheader("Audit")
    try:
        log = source.audit(ds.key)
    except HotspotError as exc:
        st.error(str(exc))
        return
    st.caption("Every change to the workspace: who, when (UTC) and what. Newest first.")
    st.dataframe(log.iloc[::-1].reset_index(drop=True), hide_index=True, width="stretch")


def users_view() -> None:
    """The Users section of the Data page (admins only): who may sign in, with which role; add a
    user, change a role, disable, enable or remove one (the same rules as `hotspot users`)."""
    if not auth.enabled() or not can("admin"):
        return
    users = _users(auth.auth_target())
    st.subheader("Users")
    st.caption("viewer: " + auth.ROLE_CAN["viewer"] + ". analyst: " + auth.ROLE_CAN["analyst"]
               + ". admin: " + auth.ROLE_CAN["admin"] + ".")
    with st.form("auth-users-add", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input("New user name", key="auth-new-name")
        password = c2.text_input("Their password", type="password", key="auth-new-password")
        role = c3.selectbox("Role", auth.ROLES, key="auth-new-role")
        add = st.form_submit_button("Add user")
    if add:
        try:
            require("admin")
            user = users.add(name.strip(), password, role, by=user_name())
        except HotspotError as exc:
            st.error(str(exc))
        else:
            st.success(f"Added {user.name} ({user.role}).")
    table = users.list()
    st.dataframe(table, hide_index=True, width="stretch")
    if not len(table):
        return
    with st.form("auth-users-role"):
        c1, c2, c3 = st.columns(3)
        who = c1.selectbox("User", table["name"].tolist(), key="auth-role-name")
        new_role = c2.selectbox("New role", auth.ROLES, key="auth-role-role")
        action = c3.selectbox("Or", ["change the role", "disable", "enable", "remove"], key="auth-role-action")
        change = st.form_submit_button("Change role")
    if change:
        try:
            require("admin")
            if action == "change the role":
                users.set_role(who, new_role, by=user_name())
                done = f"{who} is now {new_role}."
            else:
                getattr(users, action)(who, by=user_name())
                done = f"{who} is {action}d." if action != "remove" else f"{who} is removed."
        except HotspotError as exc:
            st.error(str(exc))
        else:
            st.success(done)
