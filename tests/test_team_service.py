"""Sign-in end to end (issue 14): an OpenID Connect provider for tests
(oidc-provider-mock) and the app as `make run` starts it with sign-in from
the environment, both on 127.0.0.1; Debian's chromium signs in as a viewer
and as a data admin. Planted secrets appear in no page, log or database."""
import http.cookiejar
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from changeboard import db, signin, uploadgate
from tests.test_browser import (
    SHOTS,
    WANT_SHOTS,
    _free_port,
    _settled,
    _settled_on,
)

ROOT = Path(__file__).resolve().parents[1]
ADMIN, VIEWER = "ann@acme.example", "vic@acme.example"
OLD, MID = "olga@acme.example", "mia@acme.example"
CLIENT_SECRET = "planted-client-secret-Zq8u1T"
COOKIE_SECRET = "planted-cookie-secret-Kp4w9R-0123456789abcdef"
UPLOAD = (b"change_id,change_type,state,created_at,title\n"
          b"SSO-1,normal,closed,2024-03-12T15:15:00Z,signed-in load\n")
pytestmark = pytest.mark.browser


def _start(command, *, env, log: Path, health: str) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(health, timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                raise RuntimeError(log.read_text()[-3000:]) from None
            time.sleep(0.3)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def service(sample_db, tmp_path_factory):
    """The identity provider and the app, with a database of its own."""
    tmp = tmp_path_factory.mktemp("sso")
    database = tmp / "cb.duckdb"
    shutil.copyfile(sample_db, database)
    idp_port, app_port = _free_port(), _free_port()
    idp = f"http://127.0.0.1:{idp_port}"
    users = [{"sub": "ann", "email": ADMIN, "name": "Ann Admin"},
             {"sub": "vic", "email": VIEWER, "name": "Vic Viewer"},
             # an address the provider says it has not verified (Keycloak
             # lets a user type any into their account page)
             {"sub": "eve", "email": ADMIN, "email_verified": False,
              "name": "Eve"},
             # ID tokens the provider says it issued 13 and 11 hours ago,
             # as a browser's cookie from a sign-in that long ago holds
             {"sub": "olga", "email": OLD, "name": "Olga Old",
              "iat": int(time.time() - 13 * 3600)},
             {"sub": "mia", "email": MID, "name": "Mia Mid",
              "iat": int(time.time() - 11 * 3600)}]
    provider = _start(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(idp_port),
         "--host", "127.0.0.1",
         *[a for u in users for a in ("--user-claims", json.dumps(u))]],
        env=dict(os.environ), log=tmp / "idp.log",
        health=f"{idp}/.well-known/openid-configuration")
    url = f"http://127.0.0.1:{app_port}"
    env = {**os.environ, "CHANGEBOARD_DB": str(database),
           "XDG_RUNTIME_DIR": str(tmp / "run"),
           "CHANGEBOARD_OIDC_METADATA_URL":
               f"{idp}/.well-known/openid-configuration",
           "CHANGEBOARD_OIDC_CLIENT_ID": "changeboard",
           "CHANGEBOARD_OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "CHANGEBOARD_OIDC_COOKIE_SECRET": COOKIE_SECRET,
           "CHANGEBOARD_OIDC_REDIRECT_URI": f"{url}/oauth2callback",
           "CHANGEBOARD_DATA_ADMINS": ADMIN,
           "CHANGEBOARD_VIEWERS": "@acme.example"}
    (tmp / "run").mkdir(mode=0o700)
    app = _start([sys.executable, "-m", "changeboard.serve", "run",
                  "--host", "127.0.0.1", "--port", str(app_port)],
                 env=env, log=tmp / "app.log", health=f"{url}/_stcore/health")
    yield {"url": url, "db": database, "log": tmp / "app.log"}
    _stop(app)
    _stop(provider)


def _shot(page, name: str) -> None:
    """A full-page screenshot to look at, when asked for (as
    test_browser's: CHANGEBOARD_SCREENSHOTS=1)."""
    if WANT_SHOTS:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _through_provider(page, service, sub: str, back: str = "/**") -> None:
    """From the sign-in page: Sign in, signed in as `sub` at the provider,
    and back at the app (at a URL matching `back`)."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    page.wait_for_url(f"{service['url']}{back}", timeout=60_000)


@pytest.fixture(scope="module")
def visitor(browser):
    """The module's browser profile: each visit a tab of its own, its
    cookies (the app's and the provider's) cleared first (_fresh_tab), so
    that each is a new visitor to both, while Streamlit's scripts are
    fetched and compiled once (a fresh profile per visit did that again:
    0.3-0.7 s of each sign-in). A test that needs two browsers at once opens
    the second itself."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def _fresh_tab(visitor, height: int = 900):
    """A new tab of the module's profile, for a new visitor: no cookie of
    any site, no page's storage (sessionStorage is the tab's own)."""
    visitor.clear_cookies()
    page = visitor.new_page()
    page.set_viewport_size({"width": 1280, "height": height})
    return page


def _back_from_provider(visitor, service, sub: str, at: str = ""):
    """A new visitor (_fresh_tab) that signed in as `sub` at the provider,
    from the page at `at` (the first page's sign-in page by default), and
    is back at the app, whatever page follows: the tab."""
    page = _fresh_tab(visitor)
    page.goto(service["url"] + at)
    _settled(page)
    _through_provider(page, service, sub, back=f"{at}**" if at else "/**")
    return page


def _sign_in(visitor, service, sub: str):
    """A new visitor (_fresh_tab) signed in as `sub` at the provider, on
    the Data page, where the sign-in began (the sign-in comes back to it,
    the first page not drawn on the way): the tab."""
    page = _back_from_provider(visitor, service, sub, "/data")
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    _settled_on(page, "Data")
    return page


def _sign_out(page) -> None:
    """Sign out from the sidebar, through the provider's end-session page
    (Streamlit ends the provider's session too, its end_session_endpoint),
    back to the sign-in page."""
    page.locator('[data-testid="stSidebar"]').get_by_role(
        "button", name="Sign out").click()
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)


def _data_page(service, page):
    page.goto(f"{service['url']}/data")
    _settled(page)


def _no_secret_anywhere(service, pages: list[str]) -> None:
    """The planted secrets are in none of these pages' HTML, the server's
    log so far, or the database file."""
    log = service["log"].read_text(errors="replace")
    stored = service["db"].read_bytes()
    for secret in (CLIENT_SECRET, COOKIE_SECRET):
        assert not [html for html in pages if secret in html]
        assert secret not in log
        assert secret.encode() not in stored


def _batches(path):
    with db.connect(path, read_only=True) as con:
        return con.execute("select batch_id, file_name, loaded_by from "
                           "ingest_batches order by batch_id").fetchall()


def test_a_visitor_sees_only_the_sign_in_page(service, visitor):
    page = _fresh_tab(visitor, height=700)
    seen = []
    for path in ("", "/data", "/changes"):
        page.goto(service["url"] + path)
        _settled(page)
        assert page.get_by_role("button", name="Sign in").count() == 1
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        assert page.locator('[data-testid="stDataFrame"], '
                            '[data-testid="stFileUploader"]').count() == 0
        seen.append(page.content())
    _shot(page, "signin-page")
    page.close()
    _no_secret_anywhere(service, seen)


# every page title the tab's documents are given, kept across its pages
# (each page sets its own: "Overview · Changeboard")
TITLES_KEPT = """(() => {
  const title = Object.getOwnPropertyDescriptor(Document.prototype, "title");
  Object.defineProperty(Document.prototype, "title", {
    configurable: true,
    get() { return title.get.call(this); },
    set(value) {
      const seen = JSON.parse(sessionStorage.getItem("titles") || "[]");
      sessionStorage.setItem("titles", JSON.stringify([...seen, value]));
      title.set.call(this, value);
    }});
})()"""


def _titles(page) -> list[str]:
    return page.evaluate('JSON.parse(sessionStorage.getItem("titles") '
                         '|| "[]")')


def _return_cookie(visitor) -> list[dict]:
    return [c for c in visitor.cookies() if c["name"] == signin.RETURN_COOKIE]


def test_a_link_opened_before_signing_in_is_where_the_sign_in_ends(
        service, visitor):
    """A mailed CAB pack's link (the meeting and its window in the address)
    opened by someone not signed in ended, after the sign-in, on the
    Overview: Streamlit's sign-in always comes back to the first page. The
    page asked for is kept in the tab while the provider signs them in,
    and the first page the sign-in comes back to is not drawn on the way
    (its queries were run, its charts sent, for the browser to leave it)."""
    page = _fresh_tab(visitor)
    page.add_init_script(TITLES_KEPT)
    asked = "/cab?meeting=2026-12-08&until=2026-12-11"
    page.goto(service["url"] + asked)
    _settled(page)
    assert _return_cookie(visitor)
    _through_provider(page, service, "vic", back="/cab?**")
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    _settled(page)
    assert page.url.startswith(service["url"] + "/cab?")
    assert "meeting=2026-12-08" in page.url and "until=2026-12-11" in page.url
    page.get_by_text("Review window Tue 08 Dec 2026 10:00 to Fri 11 Dec "
                     "2026 10:00").first.wait_for(timeout=60_000)
    _shot(page, "signin-back-to-the-link")
    titles = _titles(page)
    assert "CAB pack · Changeboard" in titles
    assert not [t for t in titles if t.startswith("Overview")], titles
    assert not _return_cookie(visitor)
    # once: the first page opened again stays the first page
    page.goto(service["url"])
    _settled(page)
    assert page.url.rstrip("/") == service["url"] or \
        page.url.startswith(service["url"] + "/?")
    page.close()
    # what the tab keeps leads only to this site: a path a browser reads as
    # another host ('/<tab>/host', '//host') is not followed
    # (with the cookie saying a page is kept, the first page drew nothing
    # on the way there: it is reloaded, and drawn; without it, it was drawn)
    from playwright.sync_api import Error as PlaywrightError
    for hostile, said in (("/\t/127.0.0.2:9/x", True),
                          ("//127.0.0.2:9/x", False)):
        page = _fresh_tab(visitor)
        page.goto(service["url"])
        _settled(page)
        page.evaluate("([key, to]) => sessionStorage.setItem(key, "
                      "JSON.stringify({to: to, at: Date.now()}))",
                      [signin.RETURN_KEY, hostile])
        if said:
            _keep_return_cookie(page)
        _through_provider(page, service, "vic")
        # every page the tab opens from here on (a navigation the return
        # script starts would come after the check below otherwise)
        opened: list[str] = []
        page.on("framenavigated", lambda frame, page=page, opened=opened:
                frame == page.main_frame and opened.append(frame.url))
        page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
        # the return script ran: it removes what it read, then goes there
        # or not
        try:
            page.wait_for_function(
                "(key) => sessionStorage.getItem(key) === null",
                arg=signin.RETURN_KEY, timeout=60_000)
            unread = None
        except PlaywrightError as exc:  # off this site it cannot be read
            unread = exc
        page.wait_for_load_state()
        assert page.url.startswith(service["url"]), (hostile, page.url)
        assert all(url.startswith(service["url"]) for url in opened), (
            hostile, opened)
        assert unread is None, unread
        _settled_on(page, "Overview")
        assert not _return_cookie(visitor)
        page.close()


def _keep_return_cookie(page) -> None:
    page.evaluate("(name) => document.cookie = name + '=1; path=/'",
                  signin.RETURN_COOKIE)


def test_a_viewer_has_no_upload_control_and_a_forged_upload_is_refused(
        service, visitor):
    page = _sign_in(visitor, service, "vic")
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert VIEWER in sidebar and "Role: Viewer" in sidebar
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert "needs the data admin role" in page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0
    _shot(page, "signin-viewer-data")
    # a hand-made upload with the viewer's cookies is refused by the server
    before = _batches(service["db"])
    cookies = {c["name"]: c["value"] for c in visitor.cookies()}
    for headers in ({}, {"X-Xsrftoken": cookies.get("_streamlit_xsrf", "")}):
        answer = page.request.put(
            f"{service['url']}/_stcore/upload_file/forged-session/f1",
            multipart={"file": {"name": "changes.csv", "mimeType": "text/csv",
                                "buffer": UPLOAD}},
            headers=headers, fail_on_status_code=False)
        assert answer.status in (400, 403), answer.status
    assert _batches(service["db"]) == before
    _no_secret_anywhere(service, [page.content()])
    page.close()
    assert f"changeboard.signin: signed in {VIEWER} as Viewer" in \
        service["log"].read_text()  # once a session, in the server's log


def _put_in_a_session(url: str, cookies: dict) -> tuple[int, str]:
    """Open a Streamlit session over the server's WebSocket with these
    cookies, as a browser does, and while it is open send a file to
    Streamlit's upload route for it, as the Data page's uploader would:
    the answer's status and text."""
    import asyncio
    import urllib.error

    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    xsrf = cookies["_streamlit_xsrf"]

    def put(session: str) -> tuple[int, str]:
        body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; "
                b"filename=\"changes.csv\"\r\nContent-Type: text/csv\r\n"
                b"\r\n" + UPLOAD + b"\r\n--b--\r\n")
        request = urllib.request.Request(
            f"{url}/_stcore/upload_file/{session}/f1", data=body,
            method="PUT", headers={
                "Content-Type": "multipart/form-data; boundary=b",
                "Cookie": header, "X-Xsrftoken": xsrf})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    async def opened() -> tuple[int, str]:
        async with websockets.connect(
                url.replace("http", "ws", 1) + "/_stcore/stream",
                subprotocols=["streamlit", xsrf],
                additional_headers={"Cookie": header, "Origin": url}) as ws:
            rerun = BackMsg()
            rerun.rerun_script.query_string = ""
            rerun.rerun_script.page_script_hash = ""
            await ws.send(rerun.SerializeToString())
            while True:
                message = ForwardMsg()
                message.ParseFromString(await ws.recv())
                if message.WhichOneof("type") == "new_session":
                    session = message.new_session.initialize.session_id
                    return await asyncio.to_thread(put, session)

    # a thread of its own: the browser's (sync) API keeps an event loop
    # running in this one
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(
            lambda: asyncio.run(asyncio.wait_for(opened(), 60))).result()


def test_an_upload_from_a_session_that_may_not_load_is_refused_unread(
        service, visitor):
    """A security review sent six 190 MB files from the sign-in page's own
    session (no uploader on it) to Streamlit's upload route: each was held
    in the server's memory (204) until the session ended. A session whose
    user may not load data is now answered 403 before its body is read;
    a data admin's upload is the test below."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar))
    for path in ("/", "/_stcore/health"):  # as a browser's first visit
        opener.open(service["url"] + path, timeout=30).read()
    unsigned = {c.name: c.value for c in jar}
    status, said = _put_in_a_session(service["url"], unsigned)
    assert (status, said) == (403, uploadgate.REFUSED)
    _sign_in(visitor, service, "vic").close()
    viewer = {c["name"]: c["value"] for c in visitor.cookies()}
    status, said = _put_in_a_session(service["url"], viewer)
    assert (status, said) == (403, uploadgate.REFUSED)
    log = service["log"].read_text()
    assert "changeboard.uploadgate: refused an upload: not signed in" in log
    assert (f"changeboard.uploadgate: refused an upload: signed in as "
            f"{VIEWER} (Viewer)") in log


def test_a_data_admin_loads_a_file_recorded_with_their_email_then_signs_out(
        service, visitor):
    page = _sign_in(visitor, service, "ann")
    assert "Role: Data admin, Viewer" in page.locator(
        '[data-testid="stSidebar"]').inner_text()
    before = _batches(service["db"])
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first\
        .set_input_files({"name": "changes-sso.csv", "mimeType": "text/csv",
                          "buffer": UPLOAD})
    commit = page.get_by_role("button", name="Commit this load")
    commit.wait_for(timeout=60_000)
    _shot(page, "signin-admin-data")
    commit.click()
    page.get_by_text("Loaded changes-sso.csv as batch").wait_for(
        timeout=60_000)
    _settled(page)
    seen = [page.content()]
    after = _batches(service["db"])
    assert after[:-1] == before
    assert after[-1][1:] == ("upload/changes-sso.csv", ADMIN)
    assert page.locator('[data-testid="stException"]').count() == 0
    _sign_out(page)
    page.goto(f"{service['url']}/data")
    _settled(page)
    assert page.get_by_role("button", name="Sign in").count() == 1
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    seen.append(page.content())
    page.close()
    _no_secret_anywhere(service, seen)
    # every load has its author: the sample build's own and Ann's
    assert {by for *_, by in _batches(service["db"])} == {
        "changeboard:sample", ADMIN}


def test_an_identity_cookie_kept_from_before_sign_out_signs_nobody_in(
        service, browser, visitor):
    """Sign-out ends the identity, not only this browser's copy of it: the
    signed cookie it cleared, replayed from another browser afterwards (a
    copy taken off a shared machine, a proxy's log), finds the sign-in
    page; signing in again makes a new identity that works."""
    page = _sign_in(visitor, service, "ann")
    kept = [c for c in visitor.cookies()
            if c["name"].startswith("_streamlit_user")]
    assert kept
    _sign_out(page)
    page.close()
    replay = browser.new_context(viewport={"width": 1280, "height": 900})
    replay.add_cookies(kept)
    page = replay.new_page()
    _data_page(service, page)
    assert page.get_by_role("button", name="Sign in").count() == 1
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert ADMIN not in page.inner_text("body")
    replay.close()
    # signing in again afterwards works
    page = _sign_in(visitor, service, "ann")
    assert "Role: Data admin, Viewer" in page.locator(
        '[data-testid="stSidebar"]').inner_text()
    page.close()


def test_a_tab_whose_sign_in_ended_elsewhere_shows_no_page_list(
        service, browser, visitor):
    """Ann signed out in one browser; another holding her sign-in (its
    cookies) clicked a page and found the sign-in page with the app's list
    of pages still beside it, where a visitor sees the sign-in page alone."""
    page = _sign_in(visitor, service, "ann")
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    other.add_cookies(visitor.cookies())
    tab = other.new_page()
    _data_page(service, tab)
    nav = '[data-testid="stSidebarNav"]'
    assert tab.locator(nav).count() == 1
    _sign_out(page)
    page.close()
    tab.locator(nav).get_by_text("Releases").click()
    tab.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    _settled(tab)
    _shot(tab, "signin-ended-elsewhere")
    assert tab.locator(nav).count() == 0
    assert ADMIN not in tab.inner_text("body")
    other.close()


def test_an_unverified_email_claim_gets_no_role(service, visitor):
    """An e-mail the identity provider marks unverified (email_verified
    false) is not the user's: it matches no e-mail or domain rule, so Eve,
    who typed the data admin's address, has no role and cannot load."""
    page = _sign_in_no_role(visitor, service, "eve")
    body = page.inner_text("body")
    assert "no Changeboard role" in body
    assert "Role: Data admin" not in body
    _data_page(service, page)
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert "Role: Data admin" not in page.inner_text("body")
    page.close()
    # the log says so, and whether a groups claim came (an admin told 'no
    # Changeboard role' found no trace of the sign-in in the log)
    assert (f"signed in {ADMIN} with no Changeboard role: no rule of "
            "CHANGEBOARD_DATA_ADMINS or CHANGEBOARD_CAB_MEMBERS or "
            "CHANGEBOARD_VIEWERS matches its e-mail, which the provider marks "
            "unverified (no e-mail or domain rule counts it) or its groups "
            "(the token's groups claim is missing); its claims: ") in \
        service["log"].read_text()
    # the token's claims alone, not the keys st.user adds of its own
    [line] = [t for t in service["log"].read_text().splitlines()
              if f"signed in {ADMIN} with no Changeboard role" in t]
    claims = line.split("its claims: ")[1].split(", ")
    assert "email" in claims and "sub" in claims
    assert not {"is_logged_in", "provider", "tokens"} & set(claims), claims


def _sign_in_no_role(visitor, service, sub: str):
    """Sign in as `sub`, whatever page follows (no sidebar without a role):
    the tab."""
    page = _back_from_provider(visitor, service, sub)
    page.get_by_role("button", name="Sign out").first.wait_for(
        timeout=60_000)
    _settled(page)
    return page


def test_a_sign_in_older_than_the_session_hours_is_sent_to_sign_in_again(
        service, visitor):
    """Streamlit keeps the identity cookie 30 days; Changeboard lets a
    sign-in in for CHANGEBOARD_SESSION_HOURS (default 12) from the issue
    time (iat) of the ID token the provider signed. Olga's token says 13
    hours ago: back from the provider she finds the sign-in page, told
    why, and Sign in takes her to the provider again; Mia's says 11 hours
    ago: she is signed in."""
    page = _sign_in(visitor, service, "mia")
    assert MID in page.locator('[data-testid="stSidebar"]').inner_text()
    page.close()
    page = _back_from_provider(visitor, service, "olga")
    page.get_by_text("Your sign-in has ended").wait_for(timeout=60_000)
    _settled(page)
    assert "a sign-in lasts 12 hours" in page.inner_text("body")
    assert OLD not in page.inner_text("body")
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    assert [c for c in visitor.cookies() if c["name"] == "_streamlit_user"]
    _data_page(service, page)
    assert page.get_by_role("button", name="Sign in").count() == 1
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    seen = [page.content()]
    # signing in again, with a token issued now, gets in, back on the Data
    # page the sign-in was asked from (the app's first page sends it there)
    _through_provider(page, service, "ann", back="/data**")
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    _settled_on(page, "Data")
    assert "Role: Data admin, Viewer" in page.locator(
        '[data-testid="stSidebar"]').inner_text()
    page.close()
    _no_secret_anywhere(service, seen)


def test_a_refused_client_secret_is_said_on_the_page_and_named_in_the_log(
        sample_db, tmp_path, browser):
    """A wrong CHANGEBOARD_OIDC_CLIENT_SECRET: the provider refuses the
    code's exchange, and Streamlit sent the browser back to the sign-in page
    with no word, its log a traceback naming no setting. The page now says
    the sign-in failed, and the log names the settings to check (never the
    secret)."""
    idp_port, app_port = _free_port(), _free_port()
    idp, url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{app_port}"
    provider = _start(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(idp_port),
         "--host", "127.0.0.1", "--require-registration", "true",
         "--user-claims", json.dumps({"sub": "vic", "email": VIEWER})],
        env=dict(os.environ), log=tmp_path / "idp.log",
        health=f"{idp}/.well-known/openid-configuration")
    try:
        request = urllib.request.Request(
            f"{idp}/oauth2/clients", method="POST",
            data=json.dumps({"redirect_uris": [f"{url}/oauth2callback"]}
                            ).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            client = json.load(answer)
        database = tmp_path / "cb.duckdb"
        shutil.copyfile(sample_db, database)
        (tmp_path / "run").mkdir(mode=0o700)
        env = {**os.environ, "CHANGEBOARD_DB": str(database),
               "XDG_RUNTIME_DIR": str(tmp_path / "run"),
               "CHANGEBOARD_OIDC_METADATA_URL":
                   f"{idp}/.well-known/openid-configuration",
               "CHANGEBOARD_OIDC_CLIENT_ID": client["client_id"],
               "CHANGEBOARD_OIDC_CLIENT_SECRET": CLIENT_SECRET,  # not its
               "CHANGEBOARD_OIDC_COOKIE_SECRET": COOKIE_SECRET,
               "CHANGEBOARD_OIDC_REDIRECT_URI": f"{url}/oauth2callback",
               "CHANGEBOARD_VIEWERS": "@acme.example"}
        app = _start([sys.executable, "-m", "changeboard.serve", "run",
                      "--host", "127.0.0.1", "--port", str(app_port)],
                     env=env, log=tmp_path / "app.log",
                     health=f"{url}/_stcore/health")
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
            _settled(page)
            _through_provider(page, {"url": url}, "vic")
            page.get_by_text("A sign-in on this server failed").wait_for(
                timeout=60_000)
            # the note is drawn before the button, in the same run: read
            # the page once that run has ended (a suite on a loaded machine
            # read it between the two, 5 Dec)
            _settled(page)
            body = page.inner_text("body")
            assert ("A sign-in on this server failed moments ago: "
                    "Changeboard could not complete it with your "
                    "organisation's sign-in service. If it was yours, try "
                    "again") in body
            assert page.get_by_role("button", name="Sign in").count() == 1
            context.close()
            log = (tmp_path / "app.log").read_text()
            assert ("a sign-in failed: the identity provider refused the "
                    "app's credentials (invalid_client): check "
                    "CHANGEBOARD_OIDC_CLIENT_ID and "
                    "CHANGEBOARD_OIDC_CLIENT_SECRET") in log
            assert CLIENT_SECRET not in log
        finally:
            _stop(app)
    finally:
        _stop(provider)


def test_text_sent_to_the_callback_cannot_forge_a_log_line(monkeypatch):
    """`/oauth2callback?error=access_denied 2026-12-06 12:00:00,000 INFO
    changeboard.signin: signed in mallory@... as Data admin` (no sign-in,
    and no nginx log line: the site logs no callback) put that sign-in in
    the server's log inside Streamlit's line. An error that is not an
    OAuth error code is withheld, and the description is quoted and cut
    short."""
    import logging

    monkeypatch.setattr(signin, "_failed", {})
    signin.install_logging()
    streamlit_log = logging.getLogger(signin.STREAMLIT_AUTH_LOG)
    written = []

    class Kept(logging.Handler):
        def emit(self, record):
            written.append(record.getMessage())

    kept = Kept()
    streamlit_log.addHandler(kept)
    said = []
    monkeypatch.setattr(signin.log, "warning",
                        lambda text, *args: said.append(text % args))
    forged = ("access_denied2026-12-06 12:00:00,000 INFO changeboard.signin: "
              "signed in mallory@acme.example as Data admin")
    try:
        # as Streamlit logs it (new lines taken out)
        streamlit_log.error("Error during authentication: %s. Error "
                            "description: %s", forged, "x" * 500)
        streamlit_log.error("Error during authentication: %s. Error "
                            "description: %s", "access_denied",
                            "AADSTS50105: not assigned")
        # the forged line sent as the description, beside a real code
        streamlit_log.error("Error during authentication: %s. Error "
                            "description: %s", "access_denied",
                            "x" + forged.removeprefix("access_denied"))
    finally:
        streamlit_log.removeHandler(kept)
    assert written == [
        "Error during authentication: (not an OAuth error code: 106 "
        "characters, withheld). Error description: " + "x" * 200 + "…",
        "Error during authentication: access_denied. Error description: "
        "AADSTS50105%3A%20not%20assigned",
        "Error during authentication: access_denied. Error description: "
        "x2026-12-06%2012%3A00%3A00%2C000%20INFO%20changeboard.signin%3A%20"
        "signed%20in%20mallory%40acme.example%20as%20Data%20admin"]
    assert not any("signed in" in line for line in written + said)
    assert said[0] == ("a sign-in failed: the identity provider answered the "
                       "sign-in with the error '(not an OAuth error code: "
                       "106 characters, withheld)'")


def test_a_callback_with_no_sign_in_under_way_is_explained_in_the_log(
        monkeypatch):
    """A sign-in started at http://localhost:... while the redirect URI
    names 127.0.0.1 came back to the sign-in page, and the log held only
    Streamlit's 'Missing provider for OAuth callback ... stale or replayed'
    (which every sign-out's return also left). Changeboard's line beside it
    names the causes and the setting; the sign-in page says nothing (the
    callback cannot tell whose it was)."""
    import logging

    monkeypatch.setattr(signin, "_failed", {})
    signin.install_logging()
    streamlit_log = logging.getLogger(signin.STREAMLIT_AUTH_LOG)
    said = []
    monkeypatch.setattr(signin.log, "info",
                        lambda text, *args: said.append(text % args))
    streamlit_log.warning(
        "Missing provider for OAuth callback; this often indicates a stale "
        "or replayed callback (for example, from browser back/forward "
        "navigation).")
    assert len(said) == 1 and said[0].startswith(
        "the callback above had no sign-in under way on this server: a "
        "sign-out's return from the identity provider (nginx sends those "
        "home), a sign-in started at another address than "
        "CHANGEBOARD_OIDC_REDIRECT_URI's host")
    assert signin.failed_just_now() is None


def test_an_error_sent_to_the_callback_is_logged_as_sent_not_said_on_the_page(
        monkeypatch):
    """Streamlit logs '?error=' of a callback before it checks its state,
    so any request could put it there: it is logged with its own code
    (every code read as access_denied before), and the sign-in page says
    nothing of it; a failed code exchange, which needs a sign-in under way,
    is said there."""
    import logging

    monkeypatch.setattr(signin, "_failed", {})
    signin.install_logging()
    streamlit_log = logging.getLogger(signin.STREAMLIT_AUTH_LOG)
    said = []
    monkeypatch.setattr(signin.log, "warning",
                        lambda text, *args: said.append(text % args))
    streamlit_log.error("Error during authentication: %s. Error "
                        "description: %s", "server_error", "down")
    assert said == ["a sign-in failed: the identity provider answered the "
                    "sign-in with the error 'server_error'"]
    assert signin.failed_just_now() is None
    streamlit_log.error("Error during authentication: %s. Error "
                        "description: %s", "access_denied", None)
    assert said[-1].endswith("'access_denied' (the user cancelled, or the "
                             "app is not assigned to them there)")
    assert signin.failed_just_now() is None
    try:
        raise TimeoutError("read timed out")
    except TimeoutError:
        streamlit_log.warning("OAuth token exchange failed for provider "
                              "'%s'. Clearing auth cookies.", "default",
                              exc_info=True)
    assert said[-1].startswith("a sign-in failed: the identity provider's "
                               "token endpoint did not answer (TimeoutError)")
    assert signin.failed_just_now().startswith(
        "A sign-in on this server failed moments ago: Changeboard could not "
        "complete it")


def test_the_apps_log_goes_to_stderr_as_it_is_when_a_record_comes(
        monkeypatch):
    """The handler was bound to the stderr of the moment it was made: a
    test's captured stderr, closed after it, made a later test's log line
    print 'Logging error ... I/O operation on closed file' and a
    traceback into that test's stderr (a CLI test failed on it under two
    workers). The app's log follows sys.stderr."""
    import io
    import logging

    signin.install_logging()
    ours = logging.getLogger("changeboard")
    [handler] = [h for h in ours.handlers if isinstance(h, logging.StreamHandler)]
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    ours.info("one")
    first.close()  # as a test's capture is closed after it
    monkeypatch.setattr("sys.stderr", second)
    ours.info("two")
    assert "two" in second.getvalue()
    assert "Logging error" not in second.getvalue()
    assert handler.stream is second
