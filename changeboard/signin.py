"""Sign-in in the app: Streamlit's st.login / st.user / st.logout, and the
roles of changeboard/auth.py for the session's user."""
from __future__ import annotations

import logging

import streamlit as st

from changeboard import auth, ui

log = logging.getLogger("changeboard.signin")


def _auth_section() -> dict:
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        return dict(st.secrets.get("auth") or {})
    except FileNotFoundError:  # no secrets file at all
        return {}


def configured() -> bool:
    """Whether sign-in is configured ([auth] in the secrets Streamlit read)."""
    return bool(_auth_section())


def _provider() -> str | None:
    """The one named provider ([auth.<name>]), or None for a bare [auth]."""
    named = [k for k, v in _auth_section().items() if isinstance(v, dict)]
    return named[0] if len(named) == 1 else None


def current() -> auth.User | None:
    """The session's user; None = sign-in configured but not signed in.
    Read from st.user (the identity cookie Streamlit signs) on every call."""
    if not configured():
        return auth.single_user()
    if not st.user.is_logged_in:
        return None
    return auth.user_from_claims(st.user.to_dict())


def refusal(permission: str) -> str | None:
    """Why the session's user may not do this (None: they may); the server
    side of every write asks this, whatever the page showed."""
    user = current()
    if user is not None and user.can(permission):
        return None
    who = "not signed in" if user is None else \
        f"signed in as {user.email} ({user.role_label})"
    log.warning("refused %s: %s", permission, who)
    return (f"Loading data needs the data admin role; you are {who}. "
            "Nothing was loaded.")


def gate() -> auth.User:
    """Before any page: the sign-in page for a visitor, a refusal for a
    user with no role, else the user (shown in the sidebar)."""
    user = current()
    if user is None:
        st.title("Changeboard")
        st.write("Sign in with your organisation's account to see change "
                 "and release data.")
        if st.button("Sign in", type="primary", key="signin_button"):
            st.login(_provider())
        st.stop()
    if user.signed_in and not user.roles:
        st.title("Changeboard")
        st.error(f"You are signed in as {ui.plain(user.email)}, but no "
                 "Changeboard "
                 "role is given to that account. Ask your Changeboard "
                 "administrator for access.")
        st.button("Sign out", on_click=st.logout, key="signout_norole")
        st.stop()
    with st.sidebar:
        if user.signed_in:
            # the address in a code span: shown as is, not as a mail link
            shown = user.email.replace("`", "'")
            who = "" if user.name == user.email else \
                f"**{ui.plain(user.name)}**  \n"
            st.caption(f"Signed in as {who}`{shown}`  \n"
                       f"Role: {user.role_label}")
            st.button("Sign out", on_click=st.logout, key="signout_button")
        else:
            st.caption("Single-user mode: no sign-in configured")
    return user
