"""The app's sign-in gate and role checks for shared deployments (hotspot_app.auth holds the
rules; this is the Streamlit face).

`gate()` (called by streamlit_app.py before any page) does nothing when sign-in is off (the
single-user default). When it is on, it shows a sign-in form until a user signs in, ends the
session after `settings.SESSION_MINUTES` without activity, and shows who is signed in with a
sign-out button. Pages ask `can("analyst")` before offering a write, and pass `user_name()` to the
workspace so the audit says who did it. `audit_view(ds)` is the Data page's Audit section,
`users_view()` its Users section for admins.
"""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from hotspot_app.io import auth
from hotspot_app.io import identity
from hotspot_app.core import settings
from hotspot_app.core.errors import InputError

USER, ROLE, SEEN, NOTICE = "auth-user", "auth-role", "auth-seen", "auth-notice"


@st.cache_resource(show_spinner=False)
def _users(target: str):
    return auth.open_users(target)


def _sign_out(notice: str | None = None) -> None:
    for k in (USER, ROLE, SEEN):
        st.session_state.pop(k, None)
    if notice:
        st.session_state[NOTICE] = notice


def gate() -> None:
    """Stop the script with a sign-in form unless sign-in is off or a session is active."""
    identity.set_acting_user(None)
    if not auth.enabled():
        return
    now = datetime.now(timezone.utc)
    if st.session_state.get(USER) and auth.session_expired(st.session_state[SEEN], now):
        _sign_out(f"Your session ended after {settings.SESSION_MINUTES:g} minutes without activity; "
                  "sign in again.")
    if st.session_state.get(USER):
        st.session_state[SEEN] = now
        identity.set_acting_user(st.session_state[USER])  # every write of this run is audited as them
        with st.sidebar:
            st.markdown(f"Signed in as **{st.session_state[USER]}** ({st.session_state[ROLE]})")
            if st.button("Sign out", key="auth-signout"):
                _sign_out("Signed out.")
                st.rerun()
        return
    target = auth.auth_target()
    st.title("Sign in")
    if st.session_state.get(NOTICE):
        st.info(st.session_state.pop(NOTICE))
    try:
        users = _users(target)
        if not len(users.list()):
            st.warning("No users yet: an administrator adds the first one with "
                       "`hotspot users add NAME --role admin`.")
    except InputError as exc:
        st.error(str(exc))
        st.stop()
    with st.form("auth-form"):
        name = st.text_input("User name", key="auth-name")
        password = st.text_input("Password", type="password", key="auth-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user = users.verify(name.strip(), password)
        if user is None:
            st.error("Wrong user name or password.")
        else:
            st.session_state[USER], st.session_state[ROLE], st.session_state[SEEN] = user.name, user.role, now
            st.rerun()
    st.stop()


def user_name() -> str | None:
    """The signed-in user (None when sign-in is off: the store then records the OS user)."""
    return st.session_state.get(USER) if auth.enabled() else None


def can(needed: str) -> bool:
    """May the current user act as `needed` (viewer/analyst/admin)? Always True when sign-in is off."""
    if not auth.enabled():
        return True
    return auth.can(st.session_state.get(ROLE), needed)


def explain(needed: str) -> None:
    """A line saying why a write is not offered to this user."""
    if not can(needed):
        st.info(f"Signed in as a {st.session_state.get(ROLE)}: {needed}s and admins can "
                f"{auth.ROLE_CAN['analyst']}.")


def audit_view(ds) -> None:
    """The Audit section of the Data page (analysts and admins): who changed the workspace."""
    if not ds.workspace or not can("analyst"):
        return
    from hotspot_app.io import workspace

    ws = workspace.open_workspace(ds.workspace)
    if not hasattr(ws, "audit"):
        return
    st.subheader("Audit")
    st.caption("Every change to the workspace: who, when (UTC) and what. Newest first.")
    log = ws.audit()
    st.dataframe(log.iloc[::-1].reset_index(drop=True), hide_index=True, width="stretch")


def users_view() -> None:
    """The Users section of the Data page (admins only): who may sign in, with which role; add a
    user or change a role (the same rules as `hotspot users`)."""
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
            user = users.add(name.strip(), password, role)
        except InputError as exc:
            st.error(str(exc))
        else:
            st.success(f"Added {user.name} ({user.role}).")
    table = users.list()
    st.dataframe(table, hide_index=True, width="stretch")
    if len(table):
        with st.form("auth-users-role"):
            c1, c2 = st.columns(2)
            who = c1.selectbox("User", table["name"].tolist(), key="auth-role-name")
            new_role = c2.selectbox("New role", auth.ROLES, key="auth-role-role")
            change = st.form_submit_button("Change role")
        if change:
            try:
                users.set_role(who, new_role)
            except InputError as exc:
                st.error(str(exc))
            else:
                st.success(f"{who} is now {new_role}.")
