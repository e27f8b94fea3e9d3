"""How `make run` serves the app (issue 13, items 4 and 10): on this machine
only unless told, WebSocket connections only for the allowed Host names, no
error details in the browser."""
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.ports import free_port as _free_port

ROOT = Path(__file__).resolve().parents[1]


def _outward_address() -> str | None:
    """This machine's address on its network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = sock.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def served(sample_db):
    """`make run` on a free port, against the sample database."""
    port = _free_port()
    env = {**os.environ, "CHANGEBOARD_DB": str(sample_db),
           "PORT": str(port)}
    env.pop("HOST", None)
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                raise RuntimeError(proc.stdout.read().decode()) from None
            time.sleep(0.3)
    yield port
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def _handshake(port: int, host: str) -> str:
    """The status line of a WebSocket upgrade to Streamlit's stream with
    this Host header (and a matching Origin, as a rebinding page sends)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\n"
               f"Origin: http://{host}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: streamlit\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_make_run_listens_on_this_machine_unless_told(served):
    assert " 101 " in _handshake(served, f"127.0.0.1:{served}")
    outward = _outward_address()
    if outward is None:
        pytest.skip("no network address besides loopback to probe")
    with pytest.raises(OSError):
        socket.create_connection((outward, served), timeout=3).close()
    # /_stcore/metrics is therefore not reachable from the network either
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{outward}:{served}/_stcore/metrics",
                               timeout=3)


def test_a_websocket_with_a_foreign_host_header_is_refused(served):
    assert " 101 " in _handshake(served, f"localhost:{served}")
    for host in ("attacker.example", f"attacker.example:{served}",
                 "127.0.0.1.attacker.example"):
        assert " 101 " not in _handshake(served, host), host


def _launch(*args, env=None, tmp=None):
    """`python -m changeboard.serve run --dry-run ...`: what `make run`
    would start, or its refusal."""
    env = {k: v for k, v in {**os.environ, **(env or {})}.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_OPEN"))
           or k in (env or {})}
    if tmp is not None:
        env["XDG_RUNTIME_DIR"] = str(tmp)
    return subprocess.run([sys.executable, "-m", "changeboard.serve", "run",
                           "--dry-run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_make_run_binds_where_told():
    made = subprocess.run(["make", "-n", "run", "HOST=0.0.0.0",
                           "ALLOWED_HOSTS=localhost,cb.example.com"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    made = " ".join(made.replace("\\\n", " ").split())
    assert ("-m changeboard.serve run --host 0.0.0.0 --port 8501 "
            "--allowed-hosts localhost,cb.example.com") in made
    command = _launch().stdout
    assert "--server.address 127.0.0.1" in command
    told = _launch("--host", "0.0.0.0", "--allowed-hosts",
                   "localhost,cb.example.com",
                   env={"CHANGEBOARD_OPEN_DEPLOYMENT": "1"})
    assert "--server.address 0.0.0.0" in told.stdout
    assert ("--server.allowedHosts localhost --server.allowedHosts "
            "cb.example.com") in told.stdout


def test_serving_the_network_without_sign_in_is_refused_unless_opted_in():
    refused = _launch("--host", "0.0.0.0")
    assert refused.returncode == 2 and not refused.stdout
    assert "refusing to serve 0.0.0.0 without sign-in" in refused.stderr
    assert "CHANGEBOARD_OPEN_DEPLOYMENT=1" in refused.stderr
    # each make target's own setting (make serve's is LISTEN: HOST, all it
    # named, does nothing there)
    assert "(HOST=127.0.0.1 for make run, LISTEN=127.0.0.1:8500 for make " \
        "serve)" in refused.stderr
    opened = _launch("--host", "0.0.0.0",
                     env={"CHANGEBOARD_OPEN_DEPLOYMENT": "1"})
    assert opened.returncode == 0
    assert "WARNING: serving 0.0.0.0 WITHOUT sign-in" in opened.stderr
    # loopback needs no sign-in: laptop mode
    assert _launch("--host", "127.0.0.1").returncode == 0


def test_sign_in_from_the_environment_goes_to_a_private_secrets_file(
        tmp_path, monkeypatch):
    from changeboard import serve

    secret, cookie = "planted-client-secret-4711", "planted-cookie-secret-0815"
    env = {"CHANGEBOARD_OIDC_METADATA_URL":
           "https://login.example.com/.well-known/openid-configuration",
           "CHANGEBOARD_OIDC_CLIENT_ID": "changeboard",
           "CHANGEBOARD_OIDC_CLIENT_SECRET": secret,
           "CHANGEBOARD_OIDC_COOKIE_SECRET": cookie,
           "CHANGEBOARD_OIDC_REDIRECT_URI":
           "https://cb.example.com/oauth2callback"}
    half = _launch(env={k: v for k, v in env.items()
                        if "CLIENT_SECRET" not in k}, tmp=tmp_path)
    assert half.returncode == 2
    assert "missing CHANGEBOARD_OIDC_CLIENT_SECRET" in half.stderr
    served = _launch("--host", "0.0.0.0", "--allowed-hosts", "cb.example.com",
                     env=env, tmp=tmp_path)
    assert served.returncode == 0, served.stderr  # sign-in: may face the net
    files = served.stdout.split("--secrets.files ")[1:]
    named = Path(files[-1].split()[0])
    # the dry run names the file and writes nothing; a start writes it
    assert not named.exists()
    for key, value in {**env, "XDG_RUNTIME_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(key, value)
    signed_in, handed = serve.signin("run-8501", ["cb.example.com"])
    written = handed[-1]
    assert signed_in and written == named
    assert written.parent == tmp_path / "changeboard"
    assert not written.is_relative_to(ROOT)
    assert written.stat().st_mode & 0o777 == 0o600
    assert written.parent.stat().st_mode & 0o777 == 0o700
    section = tomllib.loads(written.read_text())["auth"]
    assert (section["client_secret"], section["cookie_secret"]) == (
        secret, cookie)
    for said in (served.stdout, served.stderr, half.stdout, half.stderr):
        assert secret not in said and cookie not in said


SIGN_IN = {"CHANGEBOARD_OIDC_METADATA_URL":
           "https://login.example.com/.well-known/openid-configuration",
           "CHANGEBOARD_OIDC_CLIENT_ID": "changeboard",
           "CHANGEBOARD_OIDC_CLIENT_SECRET": "planted-client-secret-4711",
           "CHANGEBOARD_OIDC_COOKIE_SECRET": "planted-cookie-secret-0815",
           "CHANGEBOARD_OIDC_REDIRECT_URI":
           "https://cb.example.com/oauth2callback"}


def test_a_plain_http_redirect_uri_to_another_port_is_warned_of(tmp_path):
    """CHANGEBOARD_OIDC_REDIRECT_URI=http://localhost:8500/oauth2callback
    beside a start on another port started without a word, though every
    sign-in would come back to a port nothing answers. A plain-http one is
    checked against the port served (make run's port, make serve's
    LISTEN); an https one has a TLS proxy in front, whose port may
    differ."""
    warned = "sends a signed-in browser back to port 8500, but this start " \
        "serves port 8501"
    for uri, said in (("http://localhost:8500/oauth2callback", True),
                      ("http://localhost:8501/oauth2callback", False),
                      ("https://localhost/oauth2callback", False)):
        done = _launch("--port", "8501", env={
            **SIGN_IN, "CHANGEBOARD_OIDC_REDIRECT_URI": uri}, tmp=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (warned in done.stderr) is said, (uri, done.stderr)
    # make serve's LISTEN: its port, 80 when it names none
    from changeboard import serve
    section = {"redirect_uri": "http://cb.example.com/oauth2callback"}
    assert serve.redirect_port_warning(section, 80) is None
    assert "back to port 80, but this start serves port 8500" in \
        serve.redirect_port_warning(section, 8500)


def test_a_redirect_uri_the_app_would_not_answer_is_refused_at_start(
        tmp_path):
    """An operator's slip in the sign-in settings stops the start with a
    message naming the setting (never a secret), where the app used to
    start and fail every sign-in: a redirect URI whose host is not an
    allowed host (Streamlit refuses every signed-in browser's WebSocket;
    CHANGEBOARD_ALLOWED_HOSTS left out of the systemd unit's settings), one
    not ending in /oauth2callback (the provider sends browsers where
    Streamlit does not answer), a metadata URL that is no URL."""
    refused = _launch("--host", "0.0.0.0", env=SIGN_IN, tmp=tmp_path)
    assert refused.returncode == 2 and not refused.stdout
    assert ("the host cb.example.com of CHANGEBOARD_OIDC_REDIRECT_URI "
            "([auth] redirect_uri) is not among the allowed hosts "
            "(localhost, 127.0.0.1)") in refused.stderr
    assert "--allowed-hosts" in refused.stderr
    # the unit's --allowed-hosts ${CHANGEBOARD_ALLOWED_HOSTS} when unset
    assert "not among the allowed hosts" in _launch(
        "--allowed-hosts", "", env=SIGN_IN, tmp=tmp_path).stderr
    for hosts in ("cb.example.com", "localhost,*.example.com", "*"):
        assert _launch("--host", "0.0.0.0", "--allowed-hosts", hosts,
                       env=SIGN_IN, tmp=tmp_path).returncode == 0, hosts
    for wrong in ("https://cb.example.com/", "https://cb.example.com",
                  "https://cb.example.com/oauth2callback/x",
                  "https://cb.example.com/changeboard/oauth2callback"):
        said = _launch("--allowed-hosts", "cb.example.com", env={
            **SIGN_IN, "CHANGEBOARD_OIDC_REDIRECT_URI": wrong}, tmp=tmp_path)
        assert said.returncode == 2, wrong
        assert ("CHANGEBOARD_OIDC_REDIRECT_URI ([auth] redirect_uri) must "
                "be the app's public URL followed by /oauth2callback"
                ) in said.stderr
    assert "not under a path" in said.stderr  # the last one, not naming it
    for wrong in ("login.example.com/.well-known/openid-configuration",
                  "planted-client-secret-4711"):  # a value pasted wrongly
        said = _launch("--allowed-hosts", "cb.example.com", env={
            **SIGN_IN, "CHANGEBOARD_OIDC_METADATA_URL": wrong}, tmp=tmp_path)
        assert said.returncode == 2
        assert ("CHANGEBOARD_OIDC_METADATA_URL ([auth] server_metadata_url) "
                "is not an http(s) URL") in said.stderr
        assert wrong not in said.stderr


def test_a_dry_run_names_the_secrets_file_it_would_write_and_writes_nothing(
        tmp_path):
    """`run --dry-run` printed the command and had written the sign-in
    settings' secrets file (client and cookie secrets) on the way: a dry
    run writes nothing, and never prints a secret."""
    said = _launch("--allowed-hosts", "localhost,cb.example.com",
                   env=SIGN_IN, tmp=tmp_path)
    assert said.returncode == 0, said.stderr
    would = tmp_path / "changeboard" / "secrets-run-8501.toml"
    assert f"--secrets.files {would}" in said.stdout
    assert not (tmp_path / "changeboard").exists()
    assert list(tmp_path.iterdir()) == []
    for secret in ("planted-client-secret-4711", "planted-cookie-secret-0815"):
        assert secret not in said.stdout + said.stderr


def test_a_misspelt_setting_is_refused_at_start_naming_the_right_one(
        tmp_path):
    """A CHANGEBOARD_* name Changeboard never reads did nothing, silently:
    CHANGEBOARD_VIEWER=@acme.com left the viewers at `*` (anyone the
    identity provider signs in), CHANGEBOARD_DATA_ADMIN left nobody able to
    load. The start stops, naming it and the setting meant, never a value
    (a misspelt credential's value is a secret)."""
    said = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_VIEWER": "@acme.com",
        "CHANGEBOARD_OIDC_CLIENTSECRET": "planted-misspelt-secret-77"},
        tmp=tmp_path)
    assert said.returncode == 2 and not said.stdout
    assert ("not a Changeboard setting, so it would do nothing: "
            "CHANGEBOARD_OIDC_CLIENTSECRET (did you mean "
            "CHANGEBOARD_OIDC_CLIENT_SECRET?); CHANGEBOARD_VIEWER (did you "
            "mean CHANGEBOARD_VIEWERS?)") in said.stderr
    assert "planted-misspelt-secret-77" not in said.stderr
    assert "@acme.com" not in said.stderr
    # every name the code reads is one it knows: settings and credentials
    from changeboard import config

    assert config.unknown_settings(dict.fromkeys(_names_the_code_reads(),
                                                 "")) == []


def test_a_failure_threshold_that_is_no_priority_is_refused_at_start(
        tmp_path):
    """Every page would stop on it: the start does, naming the setting."""
    said = _launch(env={"CHANGEBOARD_FAILURE_MIN_PRIORITY": "P2"},
                   tmp=tmp_path)
    assert said.returncode == 2 and not said.stdout
    assert "CHANGEBOARD_FAILURE_MIN_PRIORITY='P2' is not a priority: a " \
        "whole number from 1" in said.stderr
    assert _launch(env={"CHANGEBOARD_FAILURE_MIN_PRIORITY": "2"},
                   tmp=tmp_path).returncode == 0


def test_a_role_setting_with_a_comment_after_it_is_refused_at_start(
        tmp_path):
    """deploy.md's settings file put `# record CAB decisions` after
    CHANGEBOARD_CAB_MEMBERS' value; systemd keeps it in the value, and
    nobody was a CAB member, silently."""
    said = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_CAB_MEMBERS": "group:cab  # record CAB"},
        tmp=tmp_path)
    assert said.returncode == 2 and not said.stdout
    assert "CHANGEBOARD_CAB_MEMBERS holds a '#'" in said.stderr
    assert "group:cab" not in said.stderr
    said = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_CAB_MEMBERS": "group:cab"}, tmp=tmp_path)
    assert said.returncode == 0, said.stderr


def test_role_rules_that_match_nobody_stop_the_start_and_open_viewers_are_said(
        tmp_path):
    """Role settings written wrong (a domain without its '@') started a
    service where nobody had a role, silently; CHANGEBOARD_VIEWERS unset
    lets anyone the provider signs in read every page, which the start now
    says."""
    said = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_VIEWERS": "acme.com"}, tmp=tmp_path)
    assert said.returncode == 2 and not said.stdout
    assert "CHANGEBOARD_VIEWERS: its rule has no '@'" in said.stderr
    said = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_VIEWERS": "@acme.com"}, tmp=tmp_path)
    assert said.returncode == 0, said.stderr
    assert "CHANGEBOARD_VIEWERS is not set" not in said.stderr
    unset = {k: v for k, v in SIGN_IN.items() if k != "CHANGEBOARD_VIEWERS"}
    said = _launch("--allowed-hosts", "cb.example.com", env=unset,
                   tmp=tmp_path)
    assert said.returncode == 0, said.stderr
    assert "warning: CHANGEBOARD_VIEWERS is not set: anyone the identity " \
        "provider signs in may read every page" in said.stderr


def _names_the_code_reads() -> set[str]:
    """Every whole CHANGEBOARD_* name the code and the deploy files quote
    ("CHANGEBOARD_DB", ${CHANGEBOARD_ALLOWED_HOSTS})."""
    names = set()
    for folder in ("changeboard", "ingest", "reports", "views", "deploy"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".service", ""):
                names |= set(re.findall(
                    r"[\"'{](CHANGEBOARD_[A-Z0-9_]*[A-Z0-9])\b",
                    path.read_text(errors="replace")))
    assert "CHANGEBOARD_SMTP_PASSWORD" in names
    return names


def test_an_application_state_it_cannot_write_is_refused_at_start(tmp_path):
    """Sign-outs (and CAB decisions) are written beside the database
    (<database>.app.sqlite, CHANGEBOARD_APP_DB). Where the app could not
    write there (a database directory owned by another user, a mistyped
    CHANGEBOARD_APP_DB), it started, and Sign out failed with a generic
    error and left the user signed in. With sign-in the start stops,
    naming the file and what to do; without it, a warning."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    state = blocker / "cb.app.sqlite"  # its folder cannot be made
    said = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_APP_DB": str(state)}, tmp=tmp_path)
    assert said.returncode == 2 and not said.stdout
    assert (f"cannot write {state}, where sign-outs and CAB decisions are "
            f"recorded ({blocker} is not a directory): make it writable by "
            "the user the app runs as") in said.stderr
    assert "CHANGEBOARD_APP_DB" in said.stderr
    assert "nobody could sign out" in said.stderr
    single = _launch(env={"CHANGEBOARD_APP_DB": str(state)}, tmp=tmp_path)
    assert single.returncode == 0
    assert f"WARNING: cannot write {state}" in single.stderr
    assert not state.parent.is_dir()  # nothing created to find that out
    writable = _launch("--allowed-hosts", "cb.example.com", env={
        **SIGN_IN, "CHANGEBOARD_APP_DB": str(tmp_path / "new" / "s.sqlite")},
        tmp=tmp_path)
    assert writable.returncode == 0, writable.stderr
    assert not (tmp_path / "new").exists()


def test_a_metadata_url_that_is_no_providers_metadata_is_refused_at_start(
        tmp_path):
    """A metadata URL with the wrong tenant or realm, one that is not the
    provider's metadata, or Entra's multi-tenant /common started the app,
    and every Sign in ended on a bare "Authentication error" page with a
    traceback in the log naming no setting. Now the start reads it: such a
    URL is refused, naming the setting (never the URL); an unreachable one
    is a warning (a provider briefly down must not stop the service)."""
    import http.server
    import json
    import threading

    issuer = "http://127.0.0.1:{port}"
    answers = {
        "/good/.well-known/openid-configuration": issuer,
        "/common/.well-known/openid-configuration":
            "https://login.example.com/{tenantid}/v2.0"}

    class Provider(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's name
            if self.path == "/failing/.well-known/openid-configuration":
                self.send_error(503)
                return
            if self.path == "/page":
                body, kind = b"<html>sign in</html>", "text/html"
            elif self.path in answers:
                said = answers[self.path].replace("{port}", str(port))
                body, kind = json.dumps({
                    "issuer": said, "authorization_endpoint": f"{said}/a",
                    "token_endpoint": f"{said}/t", "jwks_uri": f"{said}/j"
                }).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    setting = ("CHANGEBOARD_OIDC_METADATA_URL ([auth] "
               "server_metadata_url)")

    def start(path: str):
        return _launch("--allowed-hosts", "cb.example.com", env={
            **SIGN_IN, "CHANGEBOARD_OIDC_METADATA_URL":
            f"http://127.0.0.1:{port}{path}"}, tmp=tmp_path)

    try:
        good = start("/good/.well-known/openid-configuration")
        assert good.returncode == 0 and "WARNING" not in good.stderr, \
            good.stderr
        for path, said in (
                ("/wrong-realm/.well-known/openid-configuration",
                 f"{setting} answered HTTP 404: it is not the identity "
                 "provider's OpenID Connect metadata"),
                ("/page", f"{setting} does not answer with OpenID Connect "
                 "metadata (no issuer, authorization_endpoint, "
                 "token_endpoint, jwks_uri)"),
                ("/common/.well-known/openid-configuration",
                 f"{setting} is a multi-tenant endpoint")):
            refused = start(path)
            assert refused.returncode == 2 and not refused.stdout, path
            assert said in refused.stderr, refused.stderr
            assert path not in refused.stderr
        # a provider that is there but failing (a 503 while it restarts)
        # must not stop the service: a warning, as when it is unreachable
        failing = start("/failing/.well-known/openid-configuration")
        assert failing.returncode == 0, failing.stderr
        assert (f"WARNING: the identity provider's metadata ({setting}) "
                "answered HTTP 503: nobody can sign in until it answers "
                "with its metadata") in failing.stderr
    finally:
        server.shutdown()
        server.server_close()
    down = start("/good/.well-known/openid-configuration")  # nobody answers
    assert down.returncode == 0
    assert (f"WARNING: the identity provider's metadata ({setting}) cannot "
            "be read now (Connection refused): nobody can sign in until "
            "this machine reaches it") in down.stderr
    assert str(port) not in down.stderr


def test_a_session_length_that_is_no_number_of_hours_is_refused_at_start(
        tmp_path):
    """The app would refuse every sign-in with it: the start stops, naming
    CHANGEBOARD_SESSION_HOURS; a decimal is a length."""
    for wrong in ("0", "-2", "12h", "nan"):
        said = _launch("--allowed-hosts", "cb.example.com", env={
            **SIGN_IN, "CHANGEBOARD_SESSION_HOURS": wrong}, tmp=tmp_path)
        assert said.returncode == 2 and not said.stdout, wrong
        assert ("CHANGEBOARD_SESSION_HOURS must be a number of hours above "
                f"0, got '{wrong}'") in said.stderr
    for right in ("12", "0.5", " 8 "):
        assert _launch("--allowed-hosts", "cb.example.com", env={
            **SIGN_IN, "CHANGEBOARD_SESSION_HOURS": right},
            tmp=tmp_path).returncode == 0, right


def test_the_secrets_file_and_what_users_record_stay_out_of_git(tmp_path):
    """The README says to keep .streamlit/secrets.toml (the client and
    cookie secrets, the SMTP password) out of git, but the clone's
    .gitignore did not: `git add .` in a clone committed it, and the
    application state `make run` writes beside the database (sign-outs,
    CAB decisions) with it."""
    shutil.copyfile(ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    wanted = [".streamlit/secrets.toml", "changeboard.duckdb.app.sqlite",
              "changeboard.duckdb.app.sqlite-wal",
              "changeboard.duckdb.app.sqlite-shm"]
    for name in [*wanted, ".streamlit/config.toml"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    ignored = subprocess.run(["git", "check-ignore", *wanted,
                              ".streamlit/config.toml"], cwd=tmp_path,
                             capture_output=True, text=True).stdout
    assert ignored.split() == wanted  # the shipped config.toml is kept
    # a .venv that links to a shared environment, and the lock replicas
    # take to build the sample, were not ignored either (.venv/ matches a
    # folder only)
    (tmp_path / ".venv").symlink_to(tmp_path / ".streamlit")
    (tmp_path / ".changeboard.duckdb.sample.lock").write_text("")
    also = [".venv", ".changeboard.duckdb.sample.lock"]
    ignored = subprocess.run(["git", "check-ignore", *also], cwd=tmp_path,
                             capture_output=True, text=True).stdout
    assert ignored.split() == also


def test_the_shipped_configuration_hides_error_details():
    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert shipped["client"]["showErrorDetails"] == "none"
    # the only CSV exports are the neutralised ones (reports.csv_bytes)
    assert shipped["client"]["disableDataExport"] is True
    # no Deploy button, nor Streamlit's other developer options
    assert shipped["client"]["toolbarMode"] == "minimal"
    assert shipped["server"]["address"] == "127.0.0.1"
    assert shipped["server"]["enableXsrfProtection"] is True
    assert "attacker.example" not in shipped["server"]["allowedHosts"]
    assert shipped["browser"]["gatherUsageStats"] is False
    # what make run, make serve and the systemd unit add (deploy/)
    production = tomllib.loads((ROOT / "deploy" / "streamlit.toml"
                                ).read_text())
    assert production["server"]["enableXsrfProtection"] is True
    assert production["client"]["showErrorDetails"] == "none"
    assert production["browser"]["gatherUsageStats"] is False
    command = _launch().stdout
    assert "--server.maxUploadSize 200 " in command
    assert "--client.showErrorDetails none" in command
    assert "--server.maxUploadSize 5 " in _launch(
        env={"CHANGEBOARD_MAX_UPLOAD_MB": "5"}).stdout


def test_the_shipped_nginx_site_and_units_are_valid(tmp_path):
    """deploy/: the nginx site as `changeboard.serve nginx` renders it
    passes `nginx -t`; the systemd unit starts a replica."""
    from changeboard import serve

    nginx = "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        pytest.fail("nginx missing: `make test` installs Debian's nginx")
    site = serve.nginx_site([8601, 8602], "127.0.0.1:8500")
    assert "hash $changeboard_route consistent;" in site
    assert "server 127.0.0.1:8602 max_fails=0;" in site
    assert "proxy_set_header Upgrade $http_upgrade;" in site
    tls = serve.nginx_site([8601], "443", cert="/c.pem", key="/k.pem")
    assert "listen 443 ssl;" in tls and "ssl_certificate_key /k.pem;" in tls
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in tls  # not Debian's 1.0, 1.1
    (tmp_path / "tmp").mkdir()
    (tmp_path / "changeboard.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(serve.NGINX_MAIN.format(
        run=tmp_path, tmp=tmp_path / "tmp", user=""))
    checked = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"),
                              "-p", str(tmp_path), "-e",
                              str(tmp_path / "error.log")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    unit = (ROOT / "deploy" / "systemd" / "changeboard@.service").read_text()
    assert "-m changeboard.serve replica" in unit and "--port %i" in unit
    assert "EnvironmentFile=/etc/changeboard/changeboard.env" in unit


def test_the_sync_job_and_the_replicas_read_separate_settings_files():
    """The sync unit read the replicas' settings file, the sign-in's client
    and cookie secrets included, and docs/deploy.md put the API
    credentials in it, where every replica read them: each now has its
    own file, and the docs' files hold only their own secrets."""
    units = ROOT / "deploy" / "systemd"
    files = {name: re.findall(r"^EnvironmentFile=(\S+)$",
                              (units / name).read_text(), re.M)
             for name in ("changeboard@.service", "changeboard-sync.service")}
    assert files == {"changeboard@.service": ["/etc/changeboard/changeboard.env"],
                     "changeboard-sync.service": ["/etc/changeboard/sync.env"]}
    guide = (ROOT / "docs" / "deploy.md").read_text()
    replicas = guide.split("/etc/changeboard/changeboard.env`):")[1].split(
        "```")[1]
    assert "CHANGEBOARD_OIDC_CLIENT_SECRET=" in replicas
    assert not re.search(r"_(PASSWORD|TOKEN)\b|CHANGEBOARD_JIRA", replicas)
    sync = guide.split("/etc/changeboard/sync.env`):")[1].split("\n\n")[0]
    assert "CHANGEBOARD_SERVICENOW_USER" in sync and "OIDC" not in sync


def test_a_port_in_use_stops_make_serve_naming_it(sample_db, tmp_path):
    """make serve with a replica's port taken (another Changeboard answering
    /_stcore/health there passed the health check) put nginx in front of
    whatever held it, or, with nginx's own address taken, stopped with
    nginx's retries and no word of what to change. Now it refuses before
    starting anything, naming the port and the option that moves it."""
    held, free = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHANGEBOARD_OIDC_")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    env["CHANGEBOARD_DB"] = str(sample_db)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", held))
        taken.listen()
        for listen, first, said in (
                (f"127.0.0.1:{free}", held - 1,
                 f"port {held} (replica 2 of 2) is already in use on "
                 "127.0.0.1, by another Changeboard or another program: "
                 "stop it, or start the replicas from another port "
                 "(--first-port)"),
                (f"127.0.0.1:{held}", free,
                 f"127.0.0.1:{held}, where nginx would listen, is already "
                 "in use: stop what listens there, or choose another "
                 "address (--listen; LISTEN for make serve)")):
            if first == held - 1 and _in_use(first):
                continue  # the port below is someone else's: not this case
            refused = subprocess.run(
                [sys.executable, "-m", "changeboard.serve", "serve",
                 "--listen", listen, "--first-port", str(first),
                 "--replicas", "2"], cwd=ROOT, env=env,
                capture_output=True, text=True, timeout=60)
            assert refused.returncode == 2, refused.stderr
            assert said in refused.stderr
            assert "Uvicorn" not in refused.stderr  # no replica started
    assert list(tmp_path.rglob("nginx-*")) == []


def test_a_replica_that_ends_stops_make_serve_naming_it(sample_db, tmp_path):
    """One replica ending took nginx and the other replica down with it,
    saying only 'Stopping...' twice: which one ended, and how, is said."""
    port, first = _free_port(), _free_port()
    while _in_use(first + 1):
        first = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_OPEN"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(sample_db))
    served = subprocess.Popen(
        [sys.executable, "-m", "changeboard.serve", "serve", "--listen",
         f"127.0.0.1:{port}", "--first-port", str(first), "--replicas", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _in_use(port):
            assert served.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
        with urllib.request.urlopen(  # a line in nginx's access log
                f"http://127.0.0.1:{port}/_stcore/health", timeout=10):
            pass
        second = subprocess.run(
            ["pgrep", "-f", f"server.port {first + 1} "], capture_output=True,
            text=True, check=True).stdout.split()
        assert len(second) == 1
        os.kill(int(second[0]), signal.SIGTERM)
        assert served.wait(timeout=60) == 1
        said = served.stderr.read()
        # Streamlit ends on SIGTERM by itself: status 0
        assert (f"Changeboard: the replica on 127.0.0.1:{first + 1} exited "
                "with status 0; stopping the others") in said
        assert not _in_use(port) and not _in_use(first)
        # nginx's logs outlive its run folder, said (they went with it,
        # leaving nothing to read of what led to the end)
        kept = re.search(r"nginx's logs are kept in (\S+)", said)
        assert kept, said
        assert "GET /_stcore/health" in (
            Path(kept.group(1)) / "access.log").read_text()
    finally:
        if served.poll() is None:
            os.killpg(served.pid, signal.SIGTERM)
            served.wait(timeout=30)


def _in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _answer(port: int, host: str, tls: bool) -> str:
    """What nginx on this port says to a request for `host` (for TLS, also
    the name the browser asks the handshake for): its status line, or why
    there is none."""
    import http.client
    import ssl

    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            con.sock = context.wrap_socket(
                socket.create_connection(("127.0.0.1", port), timeout=10),
                server_hostname=host)
        con.request("GET", "/", headers={"Host": host})
        return str(con.getresponse().status)
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        con.close()


@pytest.mark.parametrize("tls", [False, True])
def test_the_named_nginx_site_answers_its_host_names_only(tmp_path, tls):
    """docs/deploy.md has the site named (--server-name) "so nginx answers
    no other host", but nginx answered every Host from it (the only server
    on the port is its default): a page on another name resolving to the
    server (DNS rebinding) reached the app. Now any other Host gets no
    answer, and over TLS no handshake."""
    from changeboard import serve

    port, nobody = _free_port(), _free_port()  # no replica listens: 502
    cert = key = ""
    if tls:
        cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "1", "-subj",
                        "/CN=cb.example.test", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "changeboard.conf").write_text(serve.nginx_site(
        [nobody], f"127.0.0.1:{port}", cert=cert, key=key,
        server_name="cb.example.test"))
    (tmp_path / "nginx.conf").write_text(serve.NGINX_MAIN.format(
        run=tmp_path, tmp=tmp_path / "tmp", user=""))
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c",
                              str(tmp_path / "nginx.conf"), "-p",
                              str(tmp_path), "-e", str(tmp_path / "e.log")],
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert nginx.poll() is None, nginx.stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert _answer(port, "cb.example.test", tls) == "502"
        for other in ("attacker.example", "127.0.0.1"):
            assert _answer(port, other, tls) in (
                "RemoteDisconnected", "SSLError"), other
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)


def test_over_tls_the_apps_cookies_are_secure_and_http_is_redirected(
        tmp_path):
    """Streamlit sets its identity cookies (one holds the ID token) without
    Secure, and the TLS site passed them so: with the port-80 redirect that
    docs/deploy.md asks for, a browser sent them in clear to it (an admin
    saw them in that server's log). Over TLS nginx now marks every cookie
    Secure and sends HSTS, and --redirect-http is that redirect."""
    import http.client
    import http.server
    import ssl
    import threading

    from changeboard import serve

    class Replica(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Set-Cookie", "_streamlit_user=t0ken; Path=/; "
                             "HttpOnly; SameSite=Lax")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_):
            pass

    replica = http.server.HTTPServer(("127.0.0.1", 0), Replica)
    threading.Thread(target=replica.serve_forever, daemon=True).start()
    port, plain = _free_port(), _free_port()
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=cb.example.test",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    site = serve.nginx_site([replica.server_address[1]], f"127.0.0.1:{port}",
                            cert=cert, key=key, server_name="cb.example.test",
                            redirect_http=f"127.0.0.1:{plain}")
    nginx = _started_nginx(tmp_path, port, site, serve.NGINX_MAIN)
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        con.sock = context.wrap_socket(  # the name asked in the handshake
            socket.create_connection(("127.0.0.1", port), timeout=10),
            server_hostname="cb.example.test")
        con.request("GET", "/cab", headers={"Host": "cb.example.test"})
        answer = con.getresponse()
        cookies = answer.headers.get_all("Set-Cookie")
        assert answer.status == 200 and len(cookies) == 2, cookies
        assert all(re.search(r";\s*secure\b", c, re.I) for c in cookies), \
            cookies
        assert answer.headers["Strict-Transport-Security"] == \
            "max-age=31536000"
        con.close()
        con = http.client.HTTPConnection("127.0.0.1", plain, timeout=10)
        con.request("GET", "/cab?meeting=2026-12-08",
                    headers={"Host": "cb.example.test"})
        answer = con.getresponse()
        assert answer.status == 301 and answer.headers["Location"] == (
            f"https://cb.example.test:{port}/cab?meeting=2026-12-08")
        assert "Set-Cookie" not in answer.headers
        con.close()
        # a callback sent to plain HTTP: redirected, its code in no log
        con = http.client.HTTPConnection("127.0.0.1", plain, timeout=10)
        con.request("GET", "/oauth2callback?code=ONE-TIME-c0de&state=s",
                    headers={"Host": "cb.example.test"})
        assert con.getresponse().status == 301
        con.close()
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        replica.shutdown()
    logged = [p for p in tmp_path.rglob("*") if p.is_file()
              and b"ONE-TIME-c0de" in p.read_bytes()]
    assert not logged, logged
    plain_site = serve.nginx_site([8601], "127.0.0.1:8500",
                                  redirect_http="127.0.0.1:8080")
    assert "Secure" not in plain_site and "Strict-Transport" not in \
        plain_site and "return 301" not in plain_site


@pytest.mark.browser
def test_changeboard_serve_honours_sign_in_from_the_environment(
        sample_db, tmp_path, browser):
    """`changeboard serve` ("the dashboard, as make run") with the
    CHANGEBOARD_OIDC_* settings serves the sign-in page, as make run does,
    where it ignored them and served single-user mode (every role, the
    upload control) to whoever reached it."""
    from tests.test_browser import _settled
    from tests.test_team_service import _start, _stop

    port = _free_port()
    (tmp_path / "run").mkdir(mode=0o700)
    env = {**os.environ, **SIGN_IN, "XDG_RUNTIME_DIR": str(tmp_path / "run"),
           "CHANGEBOARD_OIDC_REDIRECT_URI":
           f"http://127.0.0.1:{port}/oauth2callback"}
    app = _start([sys.executable, "-m", "changeboard", "serve", "--db",
                  str(sample_db), "--port", str(port)], env=env,
                 log=tmp_path / "serve.log",
                 health=f"http://127.0.0.1:{port}/_stcore/health")
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/data")
        _settled(page)
        assert page.get_by_role("button", name="Sign in").count() == 1
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        assert "Single-user mode" not in page.inner_text("body")
        page.close()
    finally:
        _stop(app)
    said = (tmp_path / "serve.log").read_text()
    assert SIGN_IN["CHANGEBOARD_OIDC_CLIENT_SECRET"] not in said


@pytest.mark.browser
def test_changeboard_serve_serves_with_make_runs_production_options(
        sample_db, tmp_path, browser):
    """`changeboard serve` ("the dashboard, as make run") starts Streamlit
    with deploy/streamlit.toml's production options and the upload limit
    CHANGEBOARD_MAX_UPLOAD_MB, as make run does, where it served
    Streamlit's defaults: 200 MB uploads whatever the setting, the code
    watched for changes."""
    from changeboard import serve
    from tests.test_browser import _settled
    from tests.test_team_service import _start, _stop

    port = _free_port()
    env = {k: v for k, v in os.environ.items()  # single-user: may upload
           if not k.startswith("CHANGEBOARD_OIDC_")}
    env["CHANGEBOARD_MAX_UPLOAD_MB"] = "3"
    app = _start([sys.executable, "-m", "changeboard", "serve", "--db",
                  str(sample_db), "--port", str(port)], env=env,
                 log=tmp_path / "serve.log",
                 health=f"http://127.0.0.1:{port}/_stcore/health")
    try:
        # changeboard serve became the server (exec): its own command line
        words = [w.decode() for w in Path(f"/proc/{app.pid}/cmdline")
                 .read_bytes().split(b"\0")[:-1]]
        assert words[1:4] == ["-m", "changeboard.launch", "run"]
        given = list(zip(words[5::2], words[6::2], strict=True))
        production = serve.production_options()
        wanted = list(zip(production[::2], production[1::2], strict=True))
        assert ("--server.fileWatcherType", "none") in wanted
        assert ("--client.showErrorDetails", "none") in wanted
        assert [w for w in wanted if w not in given] == []
        assert ("--server.maxUploadSize", "3") in given
        assert ("--server.address", "127.0.0.1") in given
        # on jemalloc (make jemalloc), as it says at its start
        assert "changeboard: memory allocator: jemalloc\n" in (
            tmp_path / "serve.log").read_text()
        # no other site may frame it, nginx or not (make run served the
        # network saying nothing of it: clickjacking)
        for path in ("/", "/cab?meeting=2026-12-08", "/_stcore/health",
                     "/no-such-page"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                        timeout=10) as answer:
                assert answer.headers.get_all("X-Frame-Options") == [
                    "SAMEORIGIN"], path
                assert answer.headers.get_all("Content-Security-Policy") \
                    == ["frame-ancestors 'self'"], path
        # the running server's limit: the Data page's upload control says 3
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/data")
        _settled(page)
        uploader = page.locator('[data-testid="stFileUploader"]').first
        assert re.search(r"(?<!\d)3MB per file", uploader.inner_text())
        page.close()
    finally:
        _stop(app)


def test_a_wheel_brings_the_production_options_with_the_app(tmp_path,
                                                            monkeypatch):
    """An installed wheel has no deploy/ beside the code: pyproject.toml
    installs deploy/streamlit.toml with the app (changeboard_app), where
    the serving commands find it."""
    from changeboard import serve

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text()
                          )["tool"]["setuptools"]
    assert setup["package-dir"]["changeboard_app"] == "."
    assert "deploy/streamlit.toml" in setup["package-data"]["changeboard_app"]
    installed = tmp_path / "site" / "changeboard_app" / "deploy"
    installed.mkdir(parents=True)
    shutil.copyfile(ROOT / "deploy" / "streamlit.toml",
                    installed / "streamlit.toml")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(serve, "PRODUCTION", tmp_path / "deploy" /
                        "streamlit.toml")  # no clone's deploy/
    assert serve.production_file() == installed / "streamlit.toml"
    command = " ".join(serve.streamlit_command(
        "127.0.0.1", 8501, ["localhost"], [], app=tmp_path / "app.py"))
    assert f"run {tmp_path / 'app.py'} " in command
    assert "--server.fileWatcherType none" in command


def _started_nginx(tmp_path: Path, port: int, site: str, main: str):
    """Real nginx on 127.0.0.1:port with this site and main configuration
    (NGINX_MAIN's {run} is tmp_path), once it accepts connections."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    (tmp_path / "changeboard.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(main.format(
        run=tmp_path, tmp=tmp_path / "tmp", user=""))
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c",
                              str(tmp_path / "nginx.conf"), "-p",
                              str(tmp_path), "-e", str(tmp_path / "e.log")],
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return nginx
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                nginx.kill()
                raise RuntimeError(nginx.stderr.read().decode()) from None
            time.sleep(0.1)


def test_a_browser_reaches_the_app_through_nginx_on_any_port(sample_db,
                                                             tmp_path):
    """The site sent `Host: $host`, which drops the port: a browser at
    http://cb.example.test:8080 sent Origin http://cb.example.test:8080,
    the replica read Host cb.example.test, and Streamlit refused every
    WebSocket as cross-origin (a blank page; README's LISTEN=0.0.0.0:8080
    example). The site passes the Host the browser sent."""
    from changeboard import serve

    replica, port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_OPEN"))}
    app = subprocess.Popen(
        [sys.executable, "-m", "changeboard.serve", "run", "--host",
         "127.0.0.1", "--port", str(replica), "--allowed-hosts",
         "cb.example.test"], cwd=ROOT, env={
             **env, "CHANGEBOARD_DB": str(sample_db),
             "XDG_RUNTIME_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    nginx = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{replica}/_stcore/health",
                        timeout=2):
                    break
            except OSError:
                assert app.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        nginx = _started_nginx(
            tmp_path, port, serve.nginx_site(
                [replica], f"127.0.0.1:{port}",
                server_name="cb.example.test"),
            serve.NGINX_MAIN)
        # the browser's Host and Origin carry the port it was given
        assert " 101 " in _handshake(port, f"cb.example.test:{port}")
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=20)
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=20)


def _replica_recording_paths():
    """A stand-in replica on a free loopback port, answering 200 to every
    GET, and the list of the paths it was asked for (nginx's proxying seen
    from behind it)."""
    import http.server
    import threading

    reached = []

    class Replica(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's name
            reached.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    replica = http.server.HTTPServer(("127.0.0.1", _free_port()), Replica)
    threading.Thread(target=replica.serve_forever, daemon=True).start()
    return replica, reached


def test_no_other_site_may_frame_the_app(tmp_path):
    """Neither nginx nor Streamlit said who may frame the app: a page of
    another site showed a signed-in CAB member's page in a frame (a
    security review). Every answer, the sign-in callback's included, now
    says only the app's own pages may."""
    from changeboard import serve

    replica, _ = _replica_recording_paths()
    port = _free_port()
    nginx = _started_nginx(tmp_path, port, serve.nginx_site(
        [replica.server_port], f"127.0.0.1:{port}"), serve.NGINX_MAIN)
    try:
        for path in ("/", "/cab?meeting=2026-12-08",
                     "/oauth2callback?code=c&state=s"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                        timeout=10) as answer:
                assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
                assert answer.headers["Content-Security-Policy"] == \
                    "frame-ancestors 'self'"
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        replica.shutdown()


def test_the_sign_in_callbacks_code_stays_out_of_the_access_log(tmp_path):
    """The identity provider sends the browser back to
    /oauth2callback?code=...&state=...: the authorization code is a
    credential, but make serve's access log (and Debian's combined one,
    for the installed site) kept the whole request line. The callback
    still reaches the replica with its query; no log line holds it."""
    from changeboard import serve

    replica, reached = _replica_recording_paths()
    port = _free_port()
    kept = "access_log {run}/access.log changeboard;"
    assert kept in serve.NGINX_MAIN
    main = serve.NGINX_MAIN.replace(  # as Debian's nginx.conf logs too
        kept, kept + "\n    access_log {run}/combined.log combined;")
    nginx = _started_nginx(tmp_path, port, serve.nginx_site(
        [replica.server_port], f"127.0.0.1:{port}"), main)
    code = "planted-authorization-code-Hq7"
    try:
        for path in (f"/oauth2callback?code={code}&state=st4te",
                     "/?after=sign-in"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                        timeout=10) as answer:
                assert answer.status == 200
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        replica.shutdown()
        replica.server_close()
    assert reached == [f"/oauth2callback?code={code}&state=st4te",
                       "/?after=sign-in"]
    for log in ("access.log", "combined.log", "e.log"):
        said = (tmp_path / log).read_text()
        assert code not in said, log
    for log in ("access.log", "combined.log"):  # the logs still log
        assert "GET /?after=sign-in" in (tmp_path / log).read_text(), log


def test_a_sign_outs_return_is_sent_home_by_nginx(tmp_path):
    """After Sign out, the identity provider's end-session page sends the
    browser to /oauth2callback with neither a code nor an error: Streamlit
    logged each as 'Missing provider for OAuth callback ... a stale or
    replayed callback', the line a lost sign-in leaves. nginx sends that
    return home; a callback with a code or an error still reaches the
    replica."""
    import http.client

    from changeboard import serve

    replica, reached = _replica_recording_paths()
    port = _free_port()
    nginx = _started_nginx(tmp_path, port, serve.nginx_site(
        [replica.server_port], f"127.0.0.1:{port}"), serve.NGINX_MAIN)
    answers = {}
    try:
        for path in ("/oauth2callback", "/oauth2callback?state=s",
                     "/oauth2callback?code=c0de&state=s",
                     "/oauth2callback?error=access_denied&state=s"):
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            con.request("GET", path)
            answer = con.getresponse()
            answers[path] = (answer.status, answer.getheader("Location"))
            con.close()
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        replica.shutdown()
        replica.server_close()
    assert answers == {
        "/oauth2callback": (302, "/"), "/oauth2callback?state=s": (302, "/"),
        "/oauth2callback?code=c0de&state=s": (200, None),
        "/oauth2callback?error=access_denied&state=s": (200, None)}
    assert reached == ["/oauth2callback?code=c0de&state=s",
                       "/oauth2callback?error=access_denied&state=s"]


def test_serve_removes_the_secrets_file_it_wrote_when_it_stops(
        sample_db, tmp_path):
    """`make serve` writes the sign-in settings given as CHANGEBOARD_OIDC_*
    to an owner-only secrets file its replicas read, and the file, the
    client and cookie secrets in it, stayed after the service stopped. A
    real `serve` (a replica behind nginx, the provider unreachable: a
    warning) now removes it when it stops, as it removes nginx's folder."""
    from tests.test_team_service import _start, _stop

    port, first, dead = _free_port(), _free_port(), _free_port()
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    database = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, database)
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_OPEN"))}
    env.update(SIGN_IN, CHANGEBOARD_DB=str(database),
               XDG_RUNTIME_DIR=str(run),
               CHANGEBOARD_APP_DB=str(tmp_path / "app.sqlite"),
               CHANGEBOARD_OIDC_METADATA_URL=(
                   f"http://127.0.0.1:{dead}/.well-known/"
                   "openid-configuration"),
               CHANGEBOARD_OIDC_REDIRECT_URI=f"{url}/oauth2callback")
    proc = _start([sys.executable, "-m", "changeboard.serve", "serve",
                   "--listen", f"127.0.0.1:{port}", "--replicas", "1",
                   "--first-port", str(first)],
                  env=env, log=tmp_path / "serve.log",
                  health=f"{url}/_stcore/health")
    written = run / "changeboard" / f"secrets-serve-{first}.toml"
    try:
        secret = SIGN_IN["CHANGEBOARD_OIDC_CLIENT_SECRET"]
        assert secret in written.read_text()  # what the replica reads
    finally:
        _stop(proc)
    assert not written.exists()
    assert list((run / "changeboard").iterdir()) == []
    said = (tmp_path / "serve.log").read_text()
    assert "WARNING" in said and secret not in said


def test_a_failed_sign_in_callback_leaves_its_code_out_of_the_error_log(
        tmp_path):
    """With no replica answering, nginx's error log says why a request
    failed, and its request line with it: the callback's carried the
    one-time authorization code. The callback still fails as any request
    does (502); the error log keeps the other requests' failures, not the
    code."""
    from changeboard import serve

    down = _free_port()  # nothing listens: every request to it fails
    port = _free_port()
    nginx = _started_nginx(tmp_path, port, serve.nginx_site(
        [down], f"127.0.0.1:{port}"), serve.NGINX_MAIN)
    code = "planted-authorization-code-Wz4"
    try:
        for path in (f"/oauth2callback?code={code}&state=st4te",
                     "/?after=sign-in"):
            with pytest.raises(urllib.error.HTTPError) as failed:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                       timeout=10)
            assert failed.value.code == 502
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
    errors = (tmp_path / "error.log").read_text()
    assert "GET /?after=sign-in" in errors  # the error log still logs
    for log in ("error.log", "e.log", "access.log"):
        assert code not in (tmp_path / log).read_text(), log


def test_the_nginx_site_is_refused_with_half_of_tls(tmp_path):
    """`changeboard.serve nginx --tls-cert X` without --tls-key printed a
    site with `ssl_certificate_key ;`, which nginx refuses on reload; a
    key without a certificate gave a plain-HTTP site without a word. Both
    are refused, naming the missing option, and print no site."""
    def site(*options):
        return subprocess.run(
            [sys.executable, "-m", "changeboard.serve", "nginx", *options],
            cwd=ROOT, capture_output=True, text=True, timeout=60)

    for given, missing in (("--tls-cert", "--tls-key"),
                           ("--tls-key", "--tls-cert")):
        refused = site(given, str(tmp_path / "given.pem"))
        assert refused.returncode == 2 and not refused.stdout, given
        assert f"changeboard: {given} without {missing}" in refused.stderr
    both = site("--tls-cert", "/c.pem", "--tls-key", "/k.pem")
    assert both.returncode == 0, both.stderr
    assert "ssl_certificate_key /k.pem;" in both.stdout


def test_make_serve_on_ipv6_loopback_needs_no_sign_in(sample_db, tmp_path):
    """`--listen [::1]:8500` (IPv6 loopback, as nginx writes it) was
    refused without sign-in as if it faced the network: the loopback check
    knew ::1 but not [::1]. It serves now; an IPv6 address without its
    brackets (which nginx would not take) is refused, saying how to write
    it."""
    from tests.test_team_service import _start, _stop

    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("this machine has no IPv6 loopback")
    port, first = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_OPEN"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(sample_db))
    command = [sys.executable, "-m", "changeboard.serve", "serve",
               "--replicas", "1", "--first-port", str(first), "--listen"]
    for malformed in (f"::1:{port}", f"[::1:{port}", f"[::1]:{port}x"):
        refused = subprocess.run([*command, malformed], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2, malformed
        assert (f"--listen {malformed} (LISTEN for make serve) is not "
                "address:port") in refused.stderr
        assert "[::1]:8500" in refused.stderr
    proc = _start([*command, f"[::1]:{port}"], env=env,
                  log=tmp_path / "serve.log",
                  health=f"http://[::1]:{port}/_stcore/health")
    _stop(proc)
    assert "without sign-in" not in (tmp_path / "serve.log").read_text()
    from changeboard import auth  # a replica's --facing, written so too
    assert auth.is_loopback("[::1]") and not auth.is_loopback("[::]")


def test_make_serve_takes_a_request_body_nginx_buffers_to_disk(sample_db,
                                                               tmp_path):
    """make serve as root runs nginx's workers as nobody, whose buffer
    folder sat in private_dir() (0700): a body over 16 KB, which nginx
    writes to a file (every upload of the Data page, a 29.8 KB CSV),
    failed with HTTP 500 (open() ... failed (13: Permission denied)) and
    the app logged nothing. The body reaches the replica (which answers
    a POST to its health check 405), and the folder goes with the stop."""
    import glob
    import tempfile

    from tests.test_team_service import _start, _stop

    port, first = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_OPEN"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(sample_db))
    before = set(glob.glob(f"{tempfile.gettempdir()}/changeboard-nginx-*"))
    proc = _start([sys.executable, "-m", "changeboard.serve", "serve",
                   "--replicas", "1", "--first-port", str(first), "--listen",
                   f"127.0.0.1:{port}"], env=env, log=tmp_path / "serve.log",
                  health=f"http://127.0.0.1:{port}/_stcore/health")
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/_stcore/health", data=b"x" * 100_000,
            method="POST")
        with pytest.raises(urllib.error.HTTPError) as answered:
            urllib.request.urlopen(request, timeout=30)
        [error_log] = glob.glob(f"{tmp_path}/changeboard/nginx-*/error.log")
        logged = Path(error_log).read_text()
    finally:
        _stop(proc)
    assert answered.value.code == 405, (answered.value.code, logged)
    assert "Permission denied" not in logged
    assert set(glob.glob(f"{tempfile.gettempdir()}/changeboard-nginx-*")) \
        <= before


def test_make_serve_starts_its_replicas_from_first_port(sample_db,
                                                       tmp_path):
    """docs/deploy.md describes --first-port, but make serve had no way to
    pass it: a machine whose 8601 is taken could not run it. FIRST_PORT
    moves the replicas (here onto a port in use, which stops it naming
    that port)."""
    first = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHANGEBOARD_OIDC_")}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(sample_db))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first))
        taken.listen()
        # its own session: a make serve that did start is stopped whole
        made = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"FIRST_PORT={first}",
             f"LISTEN=127.0.0.1:{_free_port()}"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        try:
            said = made.communicate(timeout=60)[1]
        finally:
            if made.poll() is None:
                os.killpg(made.pid, signal.SIGTERM)
                made.wait(timeout=30)
    assert made.returncode != 0
    assert f"port {first} (replica 1 of 2) is already in use" in said


def test_the_printed_nginx_site_warns_when_it_names_no_host():
    """`changeboard.serve nginx --listen 443 --tls-cert ... --tls-key ...`
    without --server-name printed a TLS site for every host name, with exit
    0 and nothing on stderr, where make serve warns of the same. It warns,
    naming the option; named, or on loopback, it says nothing."""
    command = [sys.executable, "-m", "changeboard.serve", "nginx",
               "--tls-cert", "/etc/ssl/certs/cb.pem", "--tls-key",
               "/etc/ssl/private/cb.key"]
    for extra, warned in ((["--listen", "443"], True),
                          (["--listen", "443", "--server-name", "_"], True),
                          (["--listen", "443", "--server-name",
                            "cb.example.test"], False),
                          (["--listen", "127.0.0.1:8443"], False)):
        done = subprocess.run([*command, *extra], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "server {" in done.stdout
        assert ("WARNING: nginx on " in done.stderr and "answers any Host "
                "name" in done.stderr and "--server-name" in done.stderr
                ) is warned, (extra, done.stderr)


def test_make_serve_names_its_site_or_warns_that_it_answers_any_host(
        sample_db, tmp_path):
    """make serve rendered its nginx site without a server name, so with
    LISTEN=0.0.0.0:... it answered any Host (a page on another name
    resolving to the machine reached the app) and nothing said so; the
    named site of docs/deploy.md was for the installed nginx only. Now
    SERVER_NAME (--server-name) names make serve's site, and listening
    beyond this machine without it warns, naming the setting."""
    from tests.test_team_service import _start, _stop

    made = subprocess.run(["make", "-n", "serve",
                           "SERVER_NAME=cb.example.test"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    assert '--server-name "cb.example.test"' in made
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHANGEBOARD_OIDC_")}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(sample_db),
               CHANGEBOARD_OPEN_DEPLOYMENT="1")
    port, first = _free_port(), _free_port()
    command = [sys.executable, "-m", "changeboard.serve", "serve",
               "--replicas", "1", "--first-port", str(first)]
    warning = "answers any Host name"
    with socket.socket() as taken:  # stops it before anything listens
        taken.bind(("127.0.0.1", first))
        taken.listen()
        for named, warned in (([], True), (["--server-name", "_"], True),
                              (["--server-name", "cb.example.test"], False)):
            said = subprocess.run(
                [*command, "--listen", f"0.0.0.0:{port}", *named], cwd=ROOT,
                env=env, capture_output=True, text=True, timeout=60).stderr
            assert f"port {first} (replica 1 of 1) is already in use" in said
            assert (f"WARNING: nginx on 0.0.0.0:{port} {warning}" in said
                    ) is warned, named
            if warned:
                assert "--server-name; SERVER_NAME for make serve" in said
    # named, make serve's nginx answers that name only
    proc = _start([*command, "--listen", f"127.0.0.1:{port}",
                   "--server-name", "cb.example.test"], env=env,
                  log=tmp_path / "serve.log",
                  health=f"http://127.0.0.1:{first}/_stcore/health")
    try:
        deadline = time.monotonic() + 30
        while _answer(port, "cb.example.test", False) != "200":
            assert time.monotonic() < deadline, "nginx did not answer"
            time.sleep(0.3)
        assert _answer(port, "attacker.example", False) == \
            "RemoteDisconnected"
    finally:
        _stop(proc)
    assert warning not in (tmp_path / "serve.log").read_text()


def test_changeboard_serve_checks_the_application_state_as_make_run(
        sample_db, tmp_path):
    """`changeboard serve` lacked the start check make run has: with
    sign-in and an application state it could not write (beside its --db,
    or CHANGEBOARD_APP_DB) it started, and Sign out failed leaving the user
    signed in. Now it is refused the same way, for the database it serves;
    without sign-in it warns and serves."""
    from tests.test_team_service import _start, _stop

    port = _free_port()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_APP_DB"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(sample_db))
    signed_in = {**env, **SIGN_IN, "CHANGEBOARD_OIDC_REDIRECT_URI":
                 f"http://127.0.0.1:{port}/oauth2callback"}
    command = [sys.executable, "-m", "changeboard", "serve", "--port",
               str(port), "--db"]
    for database, state, extra in (
            (blocker / "cb.duckdb", blocker / "cb.duckdb.app.sqlite", {}),
            (sample_db, blocker / "s.sqlite",
             {"CHANGEBOARD_APP_DB": str(blocker / "s.sqlite")})):
        refused = subprocess.run([*command, str(database)], cwd=ROOT,
                                 env={**signed_in, **extra},
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2, refused.stderr
        assert (f"changeboard: cannot write {state}, where sign-outs and CAB "
                f"decisions are recorded ({blocker} is not a directory)"
                ) in refused.stderr
        assert "nobody could sign out" in refused.stderr
        assert "First run" not in refused.stderr  # refused before building
        assert SIGN_IN["CHANGEBOARD_OIDC_CLIENT_SECRET"] not in \
            refused.stderr
    proc = _start([*command, str(sample_db)],
                  env={**env, "CHANGEBOARD_APP_DB": str(blocker / "s.sqlite")},
                  log=tmp_path / "serve.log",
                  health=f"http://127.0.0.1:{port}/_stcore/health")
    _stop(proc)
    assert (f"WARNING: cannot write {blocker / 's.sqlite'}"
            in (tmp_path / "serve.log").read_text())


def test_replicas_starting_on_a_missing_database_build_the_sample_once(
        tmp_path):
    """The replicas of a service start together (systemctl enable --now
    changeboard@8601 changeboard@8602): on a missing database each built
    the sample, and the later build replaced the earlier one (kept as a
    snapshot). Now one builds it; the other waits for it, then serves it."""
    from tests.test_team_service import _stop

    database = tmp_path / "data" / "cb.duckdb"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_APP_DB"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), CHANGEBOARD_DB=str(database),
               CHANGEBOARD_OPEN_DEPLOYMENT="1")
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / f"replica-{port}.log" for port in ports]
    procs = []
    for port, log in zip(ports, logs, strict=True):
        with open(log, "wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "changeboard.serve", "replica",
                 "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True))
    try:
        deadline = time.monotonic() + 180
        for port, proc in zip(ports, procs, strict=True):
            while True:
                try:
                    urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/_stcore/health",
                        timeout=2).close()
                    break
                except OSError:
                    assert proc.poll() is None, logs
                    assert time.monotonic() < deadline, "no replica came up"
                    time.sleep(0.3)
    finally:
        for proc in procs:
            _stop(proc)
    said = [log.read_text() for log in logs]
    built = [text.count("First run: building the sample database "
                        f"{database}") for text in said]
    assert sorted(built) == [0, 1], said
    assert database.is_file()
    snapshots = database.with_name(database.name + ".snapshots")
    assert not snapshots.exists() or not any(snapshots.iterdir()), \
        "a second build replaced the first"
