"""Sign-in in the app: Streamlit's st.login / st.user / st.logout, and the
roles of changeboard/auth.py for the session's user.

Streamlit's identity cookie is signed, not stored: st.logout deletes this
browser's copy, but a copy kept elsewhere (another tab's session, a cookie
taken off a shared machine) would stay valid for its 30 days. So a sign-out
is recorded in the application state (`signed_out`, changeboard/appstate.py,
shared by every replica), and an identity signed out is nobody: the sign-in
(its issuer, subject, issue time and nonce) is refused wherever it shows up.

A sign-in also ends CHANGEBOARD_SESSION_HOURS (default 12) after the
identity provider issued its ID token. The cookie holds the token's claims
as Authlib checked them at sign-in (`iat`, the issue time, is one it
requires) and Streamlit never renews it, so `iat` is when this sign-in
began; an older one finds the sign-in page, and signing in again makes a
new one. The token's own `exp` is not the session's end: it says how long
the token itself may be presented (minutes to an hour at most providers).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import streamlit as st

from changeboard import appstate, auth, callbacklog, config, ui

log = logging.getLogger("changeboard.signin")
# Streamlit's identity cookie lives 30 days: a sign-out is kept a day more
SIGNED_OUT_KEPT_DAYS = 31
SCHEMA = """
create table if not exists signed_out (
    identity text primary key,
    signed_out_at text not null
);
"""


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


def _identity(claims: dict) -> str | None:
    """One sign-in's key: a hash of its ID token's issuer, subject, issue
    time and nonce (None when the token names no subject)."""
    if not claims.get("sub"):
        return None
    signed = [str(claims.get(k, "")) for k in ("iss", "sub", "iat", "nonce")]
    return hashlib.sha256(json.dumps(signed).encode()).hexdigest()


def expired(claims: dict, now: float | None = None) -> bool:
    """Whether this sign-in is older than CHANGEBOARD_SESSION_HOURS, from
    its ID token's issue time (iat). One without a numeric iat, or while
    the setting is not a number of hours above 0, counts as expired:
    refused rather than left to live as long as the cookie."""
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float) \
            or not math.isfinite(issued):
        return True
    try:
        hours = auth.session_hours()
    except ValueError as exc:
        log.error("every sign-in is refused: %s", exc)
        return True
    return (time.time() if now is None else now) - issued > hours * 3600


def signed_out(claims: dict) -> bool:
    """Whether this sign-in was ended by a sign-out (on any replica)."""
    identity = _identity(claims)
    if identity is None or not appstate.path_for(config.DB_PATH).exists():
        return False
    with appstate.connect(config.DB_PATH, SCHEMA, write=False) as con:
        return con.execute("select 1 from signed_out where identity = ?",
                           [identity]).fetchone() is not None


def sign_out() -> None:
    """The Sign out buttons' callback: this sign-in is recorded as ended
    (so no copy of its cookie signs in again), then st.logout, which
    happens also when the record cannot be written (logged as an error)."""
    claims = st.user.to_dict() if st.user.is_logged_in else {}
    identity = _identity(claims)
    who = claims.get("email") or claims.get("sub")
    if identity is not None:
        now = datetime.now(UTC)
        try:
            with appstate.connect(config.DB_PATH, SCHEMA) as con:
                con.execute("insert or ignore into signed_out values (?, ?)",
                            [identity, now.isoformat()])
                # a cookie older than Streamlit's 30 days is refused anyway:
                # the sign-outs kept are the last SIGNED_OUT_KEPT_DAYS' alone
                con.execute("delete from signed_out where signed_out_at < ?",
                            [(now - timedelta(days=SIGNED_OUT_KEPT_DAYS))
                             .isoformat()])
        except (OSError, sqlite3.Error) as exc:
            # this browser is still signed out; a copy of its cookie
            # elsewhere stays valid until the sign-in ends by age
            log.error("the sign-out of %s could not be recorded in %s (%s: "
                      "%s): it ends in this browser only. Make that file "
                      "writable by the app", who,
                      appstate.path_for(config.DB_PATH),
                      type(exc).__name__, exc)
        else:
            log.info("signed out %s", who)
    st.logout()


def current() -> auth.User | None:
    """The session's user; None = sign-in configured but not signed in.
    Read from st.user (the identity cookie Streamlit signs) on every call;
    a sign-in ended by a sign-out, or older than CHANGEBOARD_SESSION_HOURS,
    is not signed in."""
    if not configured():
        return auth.single_user()
    return user_of(st.user.to_dict())


def user_of(claims: dict) -> auth.User | None:
    """The user of a session's identity claims (st.user's), None when it
    is not signed in: no sign-in, one ended by a sign-out, or one older
    than CHANGEBOARD_SESSION_HOURS (sign-in configured)."""
    if not claims.get("is_logged_in") or expired(claims) or \
            signed_out(claims):
        return None
    return auth.user_from_claims(claims)


def _ended_by_age() -> str | None:
    """What the sign-in page says when this browser's sign-in expired."""
    if not (st.user.is_logged_in and expired(st.user.to_dict())):
        return None
    try:
        hours = auth.session_hours()
    except ValueError:
        return "Your sign-in has ended. Sign in again to continue."
    lasts = f"{hours:g} hour{'' if hours == 1 else 's'}"
    # a Save or Commit clicked after it ended was refused: say so, where
    # the page said only that the sign-in had ended
    return (f"Your sign-in has ended: a sign-in lasts {lasts}. Nothing "
            "asked of Changeboard since (a decision saved, a file loaded) "
            "was recorded: sign in again, then do it again.")


def _ended_by_sign_out() -> str | None:
    """What the sign-in page says when this browser's sign-in was ended by
    a sign-out in another tab or window (a Commit clicked here after it
    showed the bare sign-in page, as if nothing had been asked)."""
    if not (st.user.is_logged_in and signed_out(st.user.to_dict())):
        return None
    return ("This sign-in was ended by a sign-out, in another tab or window. "
            "Nothing asked of Changeboard since (a decision saved, a file "
            "loaded) was recorded: sign in again, then do it again.")


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


# the page a visitor asked for (a mailed CAB pack's link: the meeting and
# its window in the address), kept in the tab's sessionStorage while the
# identity provider signs them in: Streamlit's sign-in always comes back
# to the first page (streamlit/streamlit#10162), and the link was lost
RETURN_KEY = "changeboard-return-to"
RETURN_MINUTES = 15  # a sign-in that takes longer starts on the first page
# beside it, a cookie saying only that a page is kept (the server cannot
# read the tab's sessionStorage): the signed-in first run that finds it
# draws no page, where the first page was drawn (its queries run, its
# charts sent) only for the browser to leave it
RETURN_COOKIE = "changeboard-return"
KEEP_RETURN = """<script>
try {
  sessionStorage.setItem(%s, JSON.stringify({to: %s, at: Date.now()}));
  document.cookie = %s + "=1; path=/; max-age=%d; samesite=lax";
} catch (e) {}
</script>"""
# once, in a signed-in session's first run: a path on this site only (no
# //host or /\host, read by a browser as another site), not stale. The
# cookie goes; a run that drew nothing for it (waiting, true) reloads this
# page when there is nowhere to go (the page kept was another tab's)
GO_BACK = r"""<script>
(function (key, cookie, minutes, waiting) {
  var went = false;
  try {
    var kept = JSON.parse(sessionStorage.getItem(key) || "null");
    sessionStorage.removeItem(key);
    var here = window.location.pathname + window.location.search;
    if (kept && typeof kept.to === "string" && /^\/(?![\/\\])/.test(kept.to)
        && Date.now() - kept.at < minutes * 60000) {
      /* read as the browser would: it must stay on this site */
      var to = new URL(kept.to, window.location.origin);
      var path = to.pathname + to.search;
      if (to.origin === window.location.origin && path !== here) {
        window.location.replace(path);
        went = true;
      }
    }
  } catch (e) {}
  try {
    document.cookie = cookie + "=; path=/; max-age=0; samesite=lax";
    /* not again while the cookie stays (a reload would find it) */
    if (waiting && !went &&
        document.cookie.split(/;\s*/).indexOf(cookie + "=1") < 0) {
      window.location.replace(window.location.href);
    }
  } catch (e) {}
})(%s, %s, %d, %s);
</script>"""


def asked_for() -> str | None:
    """The path and query of the page the visitor opened, when it is not
    the first page bare (nothing to come back to)."""
    url = st.context.url
    path = urllib.parse.urlsplit(url).path if url else ""
    query = urllib.parse.urlencode(st.query_params.to_dict())
    if not path.startswith("/") or path.startswith("//"):
        return None
    if path.rstrip("/") == "" and not query:
        return None
    return path + (f"?{query}" if query else "")


def _keep_return() -> None:
    to = asked_for()
    if to is not None:
        # as a JavaScript string that cannot end the script element
        text = json.dumps(to).replace("<", "\\u003c")
        st.html(KEEP_RETURN % (json.dumps(RETURN_KEY), text,
                               json.dumps(RETURN_COOKIE),
                               RETURN_MINUTES * 60),
                unsafe_allow_javascript=True)


def _returning() -> bool:
    """Whether this is a signed-in session's first run and the browser
    says a page asked for before the sign-in is kept (RETURN_COOKIE)."""
    return not st.session_state.get("signin-return-checked") and \
        st.context.cookies.get(RETURN_COOKIE) == "1"


def _go_back(waiting: bool = False) -> None:
    """In a signed-in session's first run, the page asked for before the
    sign-in, if any (the script removes what it read). `waiting`: this run
    draws no page for it, and the browser reloads this one when there is
    nowhere to go."""
    if st.session_state.get("signin-return-checked"):
        return
    st.session_state["signin-return-checked"] = True
    st.html(GO_BACK % (json.dumps(RETURN_KEY), json.dumps(RETURN_COOKIE),
                       RETURN_MINUTES, "true" if waiting else "false"),
            unsafe_allow_javascript=True)


def provider_down() -> str | None:
    """What a visitor is told when the identity provider cannot be reached
    now (its metadata, read as serve.check_provider reads it at start), or
    None. Streamlit's own sign-in answered such a click with a bare
    "Authentication error" page; the operator's log gets the reason, which
    names the setting, never its URL."""
    from changeboard import serve

    try:
        reason = serve.check_provider(_auth_section())
    except serve.Refused as exc:
        reason = str(exc)
    if reason is None:
        return None
    log.warning("a sign-in could not start: %s", reason.removeprefix(
        "WARNING: "))
    return ("Sign-in is not available right now: Changeboard cannot reach "
            "your organisation's sign-in service. Try again in a few "
            "minutes; if it goes on, tell whoever runs Changeboard (its log "
            "says why).")


# Streamlit's own sign-in callback (/oauth2callback): a failed one logs a
# line and sends the browser back to the sign-in page, saying nothing there
STREAMLIT_AUTH_LOG = callbacklog.STREAMLIT_AUTH_LOG
# a failed callback on this server is said on its sign-in page this long
FAILED_SAID_SECONDS = 120
_failed: dict[str, float | str] = {}


def _failure_reason(record: logging.LogRecord
                    ) -> tuple[str, str | None] | None:
    """(for the log: what went wrong and the setting to check, for the
    page: what went wrong in a user's words, or None) of Streamlit's log
    line of a failed sign-in callback, or None for another line. An error
    the provider sent back (?error=) is for the log alone: Streamlit logs
    it before it checks the callback's state, so any request could set it
    for the page."""
    message = record.getMessage()
    if message.startswith("Error during authentication"):
        error = message.split(":", 1)[1].split(". Error description", 1)[0]
        error = error.strip()[:80]  # a code, or what was withheld
        why = (" (the user cancelled, or the app is not assigned to them "
               "there)" if error == "access_denied" else "")
        return (f"the identity provider answered the sign-in with the error "
                f"{error!r}{why}", None)
    if not message.startswith("OAuth token exchange failed"):
        return None
    exc = record.exc_info[1] if record.exc_info else None
    error = str(getattr(exc, "error", "") or "")
    name = type(exc).__name__ if exc is not None else ""
    if error in ("invalid_client", "unauthorized_client"):
        cause = ("the identity provider refused the app's credentials "
                 f"({error}): check CHANGEBOARD_OIDC_CLIENT_ID and "
                 "CHANGEBOARD_OIDC_CLIENT_SECRET ([auth] client_id, "
                 "client_secret) against the app registered there")
    elif error == "invalid_grant":
        cause = ("the identity provider refused the sign-in's one-time code "
                 "(invalid_grant: used already, expired, or the redirect URI "
                 "is not the one registered: CHANGEBOARD_OIDC_REDIRECT_URI)")
    elif error == "mismatching_state":
        cause = ("the sign-in came back to a server that did not start it "
                 "(mismatching_state: replicas without nginx's sticky route, "
                 "or a sign-in left open too long)")
    elif "Connect" in name or "Timeout" in name:
        cause = (f"the identity provider's token endpoint did not answer "
                 f"({name}): is the provider up and reachable from this "
                 "server?")
    else:
        cause = f"the sign-in could not be completed ({name}: {error or exc})"
    return cause, "Changeboard could not complete it with your " \
        "organisation's sign-in service"


class _FailedSignIn(logging.Handler):
    """Beside Streamlit's log line of a failed callback, Changeboard's,
    naming the setting to check; the time and reason kept for this
    server's sign-in page (the callback cannot tell the browser)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Missing provider for OAuth"):
            # no sign-in under way here for the callback's state: which
            # browser, and whether one was lost, the callback cannot tell
            log.info("the callback above had no sign-in under way on this "
                     "server: a sign-out's return from the identity provider "
                     "(nginx sends those home), a sign-in started at another "
                     "address than CHANGEBOARD_OIDC_REDIRECT_URI's host (the "
                     "browser's cookies are that address's), on another "
                     "replica, or a callback opened again")
            return
        found = _failure_reason(record)
        if found is None:
            return
        cause, said = found
        if said is not None:
            _failed.update(at=time.monotonic(), said=said)
        log.warning("a sign-in failed: %s", cause)


def install_logging() -> None:
    """Once per process: Changeboard's log lines from INFO up on the
    server's stderr beside Streamlit's (sign-ins, sign-outs and recorded
    decisions were INFO, which Python's default handler drops), and the
    handler of failed sign-in callbacks."""
    with _install_lock:  # sessions' first runs race after a restart
        _install()


_install_lock = threading.Lock()


class _Stderr(logging.StreamHandler):
    """A handler writing to sys.stderr as it is when a record comes, not as
    it was when the handler was made: a test's captured stderr, kept after
    the test closed it, printed 'Logging error ... I/O operation on closed
    file' with a traceback into a later test's stderr (a CLI test, under
    two workers, read it as the command's)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass  # always sys.stderr's


def _install() -> None:
    ours = logging.getLogger("changeboard")
    if not ours.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.addHandler(handler)  # propagating still: the root has none
        ours.setLevel(logging.INFO)
    callbacklog.install()
    watched = logging.getLogger(STREAMLIT_AUTH_LOG)
    if not any(isinstance(h, _FailedSignIn) for h in watched.handlers):
        watched.addHandler(_FailedSignIn(level=logging.WARNING))


def failed_just_now() -> str | None:
    """What the sign-in page says after a failed code exchange on this
    server in the last FAILED_SAID_SECONDS, or None. The callback cannot
    tell its browser, so every visitor of this server's sign-in page reads
    it then: it says a sign-in on this server, not theirs."""
    at = _failed.get("at")
    if at is None or time.monotonic() - float(at) > FAILED_SAID_SECONDS:
        return None
    return (f"A sign-in on this server failed moments ago: {_failed['said']}. "
            "If it was yours, try again; if it fails again, tell whoever "
            "runs Changeboard (its log says why).")


# keys st.user adds of its own beside the ID token's claims: a no-role
# sign-in's log line lists the claims alone
STREAMLIT_KEYS = frozenset({"is_logged_in", "provider", "tokens"})

# the sign-ins this process has logged (a page load is a new session):
# the latest LOGGED_KEPT, oldest dropped first
LOGGED_KEPT = 4096
_logged: dict[str, None] = {}
_logged_lock = threading.Lock()


def _log_sign_in(user: auth.User, claims: dict) -> None:
    """A line in the log when this server first sees a sign-in: who, and
    the roles given; with no role, which claims came (an admin told 'no
    Changeboard role' can see whether the groups claim arrived)."""
    identity = _identity(claims) or user.email
    with _logged_lock:  # sessions run on threads of their own
        if identity in _logged:
            return
        _logged[identity] = None
        while len(_logged) > LOGGED_KEPT:
            del _logged[next(iter(_logged))]
    if user.roles:
        log.info("signed in %s as %s", user.email, user.role_label)
        return
    claim = config.env("CHANGEBOARD_GROUPS_CLAIM")
    groups = claims.get(claim)
    # which it was, an e-mail rule or a group rule, is the admin's to see:
    # the e-mail (and whether it counts) and whether the groups came
    log.warning("signed in %s with no Changeboard role: no rule of %s "
                "matches its e-mail%s or its groups (the token's %s claim "
                "%s); its claims: %s", user.email or "(no e-mail)",
                " or ".join(r.setting for r in auth.ROLES),
                ", which the provider marks unverified (no e-mail or "
                "domain rule counts it)" if auth.unverified(claims) else "",
                claim, "is missing" if groups is None else
                f"holds {len(groups) if isinstance(groups, list) else 1} "
                "value(s)", ", ".join(sorted(set(claims) - STREAMLIT_KEYS)))


def gate(pages: list | None = None) -> auth.User:
    """Before any page: the sign-in page for a visitor, a refusal for a
    user with no role, else the user (shown in the sidebar). `pages`: the
    app's pages, whose list the sign-in and refusal pages hide (a session
    whose sign-in ended elsewhere kept the last run's list beside the
    sign-in page)."""
    install_logging()
    user = current()
    if user is not None and user.signed_in:
        _log_sign_in(user, st.user.to_dict())
    if (user is None or not user.roles) and pages:
        st.navigation(pages, position="hidden")
    if user is None:
        st.title("Changeboard")
        ended = _ended_by_age() or _ended_by_sign_out()
        failed = None if ended else failed_just_now()
        if ended:
            st.info(ended)
        if failed:
            st.warning(failed)
        st.write("Sign in with your organisation's account to see change "
                 "and release data.")
        _keep_return()
        if st.button("Sign in", type="primary", key="signin_button"):
            with st.spinner("Reaching the sign-in service..."):
                down = provider_down()
            if down is None:
                st.login(_provider())
            else:
                st.error(down)
        st.stop()
    if user.signed_in and not user.roles:
        st.title("Changeboard")
        st.error(f"You are signed in as {ui.plain(user.email)}, but no "
                 "Changeboard "
                 "role is given to that account. Ask your Changeboard "
                 "administrator for access.")
        st.button("Sign out", on_click=sign_out, key="signout_norole")
        st.stop()
    if user.signed_in and _returning():
        # back from the provider to the first page, on the way to the one
        # asked for: that one alone is drawn
        if pages:
            st.navigation(pages, position="hidden")
        _go_back(waiting=True)
        st.caption("Signed in: opening the page you asked for...")
        st.stop()
    with st.sidebar:
        if user.signed_in:
            _go_back()  # here: its empty element moves no page content
            # the address in a code span: shown as is, not as a mail link
            shown = user.email.replace("`", "'")
            who = "" if user.name == user.email else \
                f"**{ui.plain(user.name)}**  \n"
            st.caption(f"Signed in as {who}`{shown}`  \n"
                       f"Role: {user.role_label}")
            st.button("Sign out", on_click=sign_out, key="signout_button")
        else:
            st.caption("Single-user mode: no sign-in configured")
    return user
