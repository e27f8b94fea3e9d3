"""Sign-in and roles in the app (AppTest: the server side of every check);
the browser end to end is tests/test_team_service.py."""
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "x" * 32, "client_id": "changeboard",
        "client_secret": "s" * 16,
        "server_metadata_url":
            "http://127.0.0.1:9/.well-known/openid-configuration"}
ADMIN, VIEWER = "ann@acme.example", "vic@acme.example"
UPLOAD = (b"change_id,change_type,state,created_at,title\n"
          b"UP-1,normal,closed,2024-03-12T15:15:00Z,uploaded\n")


@pytest.fixture
def db_copy(sample_db, tmp_path, monkeypatch):
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    monkeypatch.setattr(config, "DB_PATH", copy)
    monkeypatch.setenv("CHANGEBOARD_DATA_ADMINS", ADMIN)
    monkeypatch.setenv("CHANGEBOARD_VIEWERS", "@acme.example")
    return copy


def signed_in(claims: dict) -> dict:
    """st.user of a browser back from the identity provider with these
    claims: a sign-in made now (its ID token's iat) unless they say when."""
    return {"is_logged_in": True, "iat": int(time.time()), **claims}


def _app(user: dict | None, page: str | None = "views/data.py") -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": False} if user is None else signed_in(user)
    app.run()
    if page:
        app.switch_page(page).run()
    return app


def _batches(path):
    with db.connect(path, read_only=True) as con:
        return con.execute("select batch_id, loaded_by from ingest_batches "
                           "order by batch_id").fetchall()


def _sidebar(app) -> str:
    return " ".join(c.value for c in app.sidebar.caption)


def test_a_visitor_sees_only_the_sign_in_page(db_copy):
    app = _app(None, page=None)
    assert not app.exception
    assert [t.value for t in app.title] == ["Changeboard"]
    assert [b.label for b in app.button] == ["Sign in"]
    assert not app.dataframe and not app.metric
    # a page's address does not get past it either
    app.switch_page("views/data.py").run()
    assert [t.value for t in app.title] == ["Changeboard"]
    assert not app.file_uploader and not app.dataframe


def test_sign_in_with_the_provider_down_says_so_on_the_page(db_copy,
                                                            caplog):
    """Nothing answers at the provider's metadata URL (AUTH: port 9): Sign
    in went on to Streamlit's sign-in, which showed a bare "Authentication
    error" page. The page now says sign-in is unavailable, and the log says
    why, naming the setting and not its URL."""
    app = _app(None, page=None)
    app.button(key="signin_button").click().run()
    assert not app.exception
    [said] = [e.value for e in app.error]
    assert said.startswith("Sign-in is not available right now")
    assert [b.label for b in app.button] == ["Sign in"]  # to try again
    logged = " ".join(r.getMessage() for r in caplog.records
                      if r.name == "changeboard.signin")
    assert "a sign-in could not start" in logged
    assert "CHANGEBOARD_OIDC_METADATA_URL" in logged
    assert "127.0.0.1:9" not in logged and "127.0.0.1:9" not in said


def test_a_viewer_sees_the_history_but_no_upload_control(db_copy):
    app = _app({"email": VIEWER, "name": "Vic"})
    assert not app.exception
    assert [t.value for t in app.title] == ["Data"]
    assert not app.file_uploader
    assert not [b for b in app.button if b.key == "data_commit"]
    assert "Load a file" not in [s.value for s in app.header]
    assert any("needs the data admin role" in i.value for i in app.info)
    # the role as the sidebar names it ('a viewer' here, 'Viewer' there)
    assert any(i.value.endswith("(you are Viewer).") for i in app.info)
    caption = _sidebar(app).replace("\\", "")
    assert VIEWER in caption and "Role: Viewer" in caption
    assert [b.label for b in app.sidebar.button] == ["Sign out"]
    history = [f.value for f in app.dataframe
               if "loaded_by" in f.value.columns]
    assert history and (history[0]["loaded_by"] == "changeboard:sample").all()
    # the sample banner tells a viewer who can replace the sample, not how
    banner = [i.value for i in app.info if "generated sample data" in i.value]
    assert banner and "A data admin replaces it" in banner[0]
    assert "changeboard load" not in banner[0]


def test_a_data_admin_loads_and_the_batch_records_their_email(db_copy):
    app = _app({"email": ADMIN})
    assert "Role: Data admin, Viewer" in _sidebar(app)
    assert any("`changeboard load`" in i.value for i in app.info)
    before = _batches(db_copy)
    app.file_uploader(key="data_upload").upload(
        "changes-upload.csv", UPLOAD, "text/csv").run()
    app.button(key="data_commit").click().run()
    assert not app.exception
    after = _batches(db_copy)
    assert after[:-1] == before and after[-1][1] == ADMIN
    # the load history lists it with its author
    history = [f.value for f in app.dataframe
               if "loaded_by" in f.value.columns][0]
    assert history.iloc[0]["loaded_by"] == ADMIN


def committed_as_a_viewer_loads_nothing(app, db_copy, caplog) -> None:
    """The page's commit clicked after its user became a viewer: refused
    on the server, logged, and no batch written."""
    before = _batches(db_copy)
    app.user = signed_in({"email": VIEWER})
    app.button(key="data_commit").click().run()
    assert not app.exception
    assert _batches(db_copy) == before
    assert f"refused load: signed in as {VIEWER} (Viewer)" in caplog.text


def test_the_write_path_checks_the_role_again_on_the_server(db_copy, caplog):
    """A commit that arrives for a user who may not load (a forged widget
    message, or a role taken away mid-session) loads nothing."""
    app = _app({"email": ADMIN})
    app.file_uploader(key="data_upload").upload(
        "changes-upload.csv", UPLOAD, "text/csv").run()
    committed_as_a_viewer_loads_nothing(app, db_copy, caplog)
    # and the refusal is what the page shows, never a success
    assert not app.success
    assert not app.file_uploader


def test_a_shipped_mapping_is_offered_to_a_data_admin_only(db_copy,
                                                          caplog):
    """The shipped mappings are chosen where the upload is: a data admin
    sees them, a viewer does not, and a commit with one that arrives for a
    viewer is refused on the server."""
    admin = _app({"email": ADMIN})
    admin.selectbox(key="data_source").select("mapping").run()
    admin.selectbox(key="data_shipped_mapping").select("uci-incidents").run()
    admin.file_uploader(key="data_upload").upload(
        "incident_event_log.csv",
        b"number,sys_mod_count,opened_at,cmdb_ci,priority,caused_by,"
        b"resolved_at\nINC1,0,29/2/2016 01:16,?,?,?,?\n", "text/csv").run()
    assert not admin.exception
    assert [b for b in admin.button if b.key == "data_commit"]
    committed_as_a_viewer_loads_nothing(admin, db_copy, caplog)
    viewer = _app({"email": VIEWER, "name": "Vic"})
    assert not viewer.exception
    assert not [s for s in viewer.selectbox
                if s.key in ("data_source", "data_shipped_mapping")]


def test_a_user_with_no_role_is_told_and_can_sign_out(db_copy):
    app = _app({"email": "mallory@elsewhere.example"}, page=None)
    assert not app.exception
    assert any("no Changeboard role" in e.value for e in app.error)
    assert [b.label for b in app.button] == ["Sign out"]
    assert not app.dataframe


def test_sign_out_returns_to_the_sign_in_page(db_copy):
    app = _app({"email": VIEWER}, page=None)
    app.sidebar.button(key="signout_button").click().run()
    assert not app.exception
    assert [b.label for b in app.button] == ["Sign in"]


def test_sign_out_signs_out_when_the_application_state_cannot_be_written(
        db_copy, tmp_path, monkeypatch, caplog):
    """Where the app could not write the application state (a directory
    not the app user's), Sign out ended on the generic error page and left
    the user signed in. Now this browser is signed out, and the log says
    the sign-out was not recorded and what to fix."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(config, "APP_DB", str(blocker / "cb.app.sqlite"))
    app = _app({"email": VIEWER, "sub": "vic", "iss": "http://idp.example",
                "nonce": "n-1"}, page=None)
    with caplog.at_level("ERROR", logger="changeboard.signin"):
        app.sidebar.button(key="signout_button").click().run()
    assert not app.exception
    assert [b.label for b in app.button] == ["Sign in"]
    assert (f"the sign-out of {VIEWER} could not be recorded in "
            f"{blocker / 'cb.app.sqlite'}") in caplog.text
    assert "Make that file writable by the app" in caplog.text


def test_without_sign_in_the_data_page_says_single_user_mode(db_copy):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("views/data.py").run()
    assert not app.exception
    assert any("Single-user mode" in c.value for c in app.caption)
    assert "Single-user mode" in _sidebar(app)
    assert app.file_uploader  # the one local user may load


def test_a_sign_in_ended_by_sign_out_is_refused_in_every_other_session(
        db_copy):
    """The sign-out is recorded in the application state every replica
    reads: another session (tab, replica) holding the same sign-in is back
    at the sign-in page on its next rerun; a later sign-in is not."""
    issued = int(time.time()) - 600
    claims = {"email": ADMIN, "sub": "ann", "iss": "http://idp.example",
              "iat": issued, "nonce": "n-1"}
    other = _app(claims)
    assert other.file_uploader
    leaving = _app(claims, page=None)
    leaving.sidebar.button(key="signout_button").click().run()
    assert not leaving.exception
    other.run()
    assert not other.exception
    assert [b.label for b in other.button] == ["Sign in"]
    assert not other.file_uploader and not other.dataframe
    # and says why, and that nothing asked since was done (a Commit
    # clicked there showed the bare sign-in page)
    assert [i.value for i in other.info] == [
        "This sign-in was ended by a sign-out, in another tab or window. "
        "Nothing asked of Changeboard since (a decision saved, a file "
        "loaded) was recorded: sign in again, then do it again."]
    again = _app({**claims, "iat": issued + 100, "nonce": "n-2"})
    assert again.file_uploader and "Role: Data admin" in _sidebar(again)


def test_sign_outs_older_than_the_cookie_lifetime_are_let_go(db_copy):
    """The sign-outs are kept only while a cookie of theirs could still be
    valid (Streamlit's 30 days, a day more): the table does not grow with
    every sign-out ever made."""
    from changeboard import appstate, config, signin
    claims = {"email": ADMIN, "sub": "ann", "iss": "http://idp.example",
              "iat": int(time.time()) - 600, "nonce": "n-1"}
    with appstate.connect(config.DB_PATH, signin.SCHEMA) as con:
        con.execute("insert into signed_out values (?, ?)",
                    ["old", "2020-01-01T00:00:00+00:00"])
    leaving = _app(claims, page=None)
    leaving.sidebar.button(key="signout_button").click().run()
    assert not leaving.exception
    with appstate.connect(config.DB_PATH, signin.SCHEMA, write=False) as con:
        kept = [r[0] for r in con.execute(
            "select identity from signed_out").fetchall()]
    assert kept == [signin._identity(claims)]


def _sign_in_page(app) -> bool:
    return [b.label for b in app.button] == ["Sign in"] and \
        not app.file_uploader and not app.dataframe and not app.sidebar.button


def test_a_sign_in_older_than_the_session_hours_finds_the_sign_in_page(
        db_copy, monkeypatch):
    """Streamlit's identity cookie lives 30 days whatever the ID token
    says: a sign-in lasts CHANGEBOARD_SESSION_HOURS (default 12) from its
    ID token's issue time (iat), then the browser is back at the sign-in
    page, told why; a sign-in with no usable issue time is refused."""
    now = time.time()
    recent = _app({"email": ADMIN, "iat": int(now - 11 * 3600)})
    assert not recent.exception
    assert recent.file_uploader and "Role: Data admin" in _sidebar(recent)
    for iat in (int(now - 13 * 3600), None, "2026-01-20", float("nan"),
                True):
        old = _app({"email": ADMIN, "iat": iat})
        assert not old.exception
        assert _sign_in_page(old), iat
        said = " ".join(i.value for i in old.info)
        assert "Your sign-in has ended" in said, iat
    assert "a sign-in lasts 12 hours" in said
    # a session open in a tab ends on its next rerun: the setting is read
    # there, and the server refuses a commit that arrives afterwards
    recent.file_uploader(key="data_upload").upload(
        "changes-upload.csv", UPLOAD, "text/csv").run()
    before = _batches(db_copy)
    monkeypatch.setenv("CHANGEBOARD_SESSION_HOURS", "10.5")
    recent.button(key="data_commit").click().run()
    assert not recent.exception
    assert _batches(db_copy) == before and not recent.success
    assert _sign_in_page(recent)
    assert any("a sign-in lasts 10.5 hours. Nothing asked of Changeboard "
               "since (a decision saved, a file loaded) was recorded: sign "
               "in again, then do it again." in i.value for i in recent.info)
    # a setting that is no number of hours refuses every sign-in
    for wrong in ("0", "-1", "twelve", "inf"):
        monkeypatch.setenv("CHANGEBOARD_SESSION_HOURS", wrong)
        assert _sign_in_page(_app({"email": ADMIN})), wrong


class _Sessions:
    """What uploadgate.refusal reads of Streamlit's runtime: the identity
    (st.user's claims) of the session with an id."""

    def __init__(self, sessions: dict[str, dict]):
        self._session_mgr = self
        self.sessions = sessions

    def get_active_session_info(self, session_id: str):
        from types import SimpleNamespace
        claims = self.sessions.get(session_id)
        return None if claims is None else SimpleNamespace(
            session=SimpleNamespace(_user_info=claims))


def test_the_upload_gate_lets_a_data_admin_through_and_no_one_else(
        db_copy, monkeypatch):
    """The upload route's check (changeboard/uploadgate.py) reads the
    session's identity as the pages do: a data admin may upload; a viewer,
    a visitor, a sign-in older than the session hours and one ended by a
    sign-out elsewhere may not; a session the server does not hold is left
    to Streamlit's handler; without sign-in (this machine only) anyone
    may, as the Data page lets them."""
    from changeboard import signin, uploadgate
    now = int(time.time())
    ended = {"email": ADMIN, "sub": "ann", "iss": "http://idp.example",
             "iat": now - 600, "nonce": "n-ended"}
    leaving = _app(ended, page=None)  # signs out: recorded for every replica
    leaving.sidebar.button(key="signout_button").click().run()
    assert not leaving.exception
    sessions = _Sessions({
        "admin": signed_in({"email": ADMIN, "sub": "ann", "nonce": "n-2"}),
        "viewer": signed_in({"email": VIEWER, "sub": "vic"}),
        "visitor": {"is_logged_in": False},
        "old": signed_in({"email": ADMIN, "sub": "ann",
                          "iat": now - 13 * 3600}),
        "ended": signed_in(ended)})
    monkeypatch.setattr(signin, "configured", lambda: True)
    said = {s: uploadgate.refusal(sessions, s) for s in (
        "admin", "viewer", "visitor", "old", "ended", "gone")}
    assert said == {"admin": None, "viewer": f"signed in as {VIEWER} "
                    "(Viewer)", "visitor": "not signed in",
                    "old": "not signed in", "ended": "not signed in",
                    "gone": None}
    monkeypatch.setattr(signin, "configured", lambda: False)
    assert uploadgate.refusal(sessions, "visitor") is None
