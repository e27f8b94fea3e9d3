"""The CAB pack delivered before the meeting (issue 16): `report cab --send`
against a real SMTP server (aiosmtpd) and a real HTTP receiver, both on
127.0.0.1 and started by the test; retries, send-once, the record of sends,
and secrets kept out of every message, log and the database."""
import datetime as dt
import email
import html
import ipaddress
import json
import logging
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import urllib.parse
from contextlib import contextmanager
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from changeboard import auth, config, db, decisions
from reports import cab, delivery
from tests.ports import free_port
from tests.test_cab_pack import MEETING, insert, load_cab_data, planned

ROOT = Path(__file__).resolve().parents[1]
AGENDA = ["C1", "C2"]  # load_cab_data's changes for decision
RECIPIENTS = ["cab@acme.test", "chair@acme.test", "ops@acme.test"]
PASSWORD = "Pa55-w0rd-s3cret!"
USER = "mailer"
TOKEN = "T0KEN0123456789abcdefXYZ"
SEND_SETTINGS = [name for name in config.SETTINGS
                 if name.startswith(("CHANGEBOARD_SMTP_", "CHANGEBOARD_CAB_",
                                     "CHANGEBOARD_SEND_",
                                     "CHANGEBOARD_PUBLIC_URL"))
                 ] + [delivery.PASSWORD_ENV, delivery.WEBHOOK_ENV]
needs_pdf_tools = pytest.mark.skipif(
    not (Path(cab.CHROMIUM).exists() and shutil.which("pdftotext")
         and shutil.which("pdfinfo")),
    reason="needs /usr/bin/chromium and poppler-utils (pdftotext, pdfinfo)")


# --- real components -----------------------------------------------------------

class Inbox:
    """An aiosmtpd handler: answers DATA with the given replies first (e.g.
    '451 ...'), then accepts and keeps the messages."""

    def __init__(self, replies=(), unknown=()):
        self.replies = list(replies)
        self.unknown = set(unknown)  # recipients refused with 550
        self.envelopes = []
        self.attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.unknown:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default)
                for e in self.envelopes]


@contextmanager
def smtp_server(inbox, port=None, **smtp_options):
    controller = Controller(inbox, hostname="127.0.0.1",
                            port=port or free_port(), **smtp_options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def self_signed(tmp_path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


def tls_options(tmp_path) -> tuple[dict, Path]:
    """aiosmtpd options for STARTTLS with AUTH (USER / PASSWORD only), and
    the CA file a client verifies the server with."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == USER.encode()
                          and auth_data.password == PASSWORD.encode(),
                          handled=False)  # False: aiosmtpd answers 535

    return {"tls_context": context, "require_starttls": True,
            "auth_required": True, "authenticator": authenticator}, cert


class Receiver:
    """An incoming-webhook receiver: answers the given statuses first (e.g.
    503), then 200; keeps every JSON post it accepted."""

    def __init__(self, statuses=(), echo_path=False):
        self.statuses = list(statuses)
        self.posts = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.posts.append((self.path, self.headers
                                           ["Content-Type"], json.loads(body)))
                said = f"no such hook {self.path}" if echo_path else "ok"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(said.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (f"http://127.0.0.1:{self.server.server_address[1]}"
                    f"/hooks/{TOKEN}")

    def __enter__(self):
        # shutdown() waits for the loop's next poll: 50 ms, not 0.5 s
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       args=(0.05,), daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


# --- fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def cab_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("delivery") / "cab.duckdb"
    with db.publish(path) as con:
        load_cab_data(con)
    return path


@pytest.fixture(scope="module")
def pdf(cab_db):
    """The pack's PDF, printed by Chromium once for the in-process tests."""
    return cab.pdf_bytes(cab.build_pack(cab_db, MEETING))


PACKS = {}  # (database, meeting, window end, filters) -> its pack


@pytest.fixture(autouse=True)
def packs_built_once(monkeypatch):
    """build_pack is a pure function of the published database: the sends
    of this module share each pack (the PDF is printed once, below)."""
    build = cab.build_pack

    def cached(path, meeting_at, *, window_end_at=None, filters=None,
               **more):  # as_of, decisions_until: passed on, in the key
        if not isinstance(path, (str, Path)):  # a connection: build it
            return build(path, meeting_at, window_end_at=window_end_at,
                         filters=filters, **more)
        key = (str(path), str(meeting_at), str(window_end_at),
               json.dumps(filters or {}, sort_keys=True),
               json.dumps(more, sort_keys=True, default=str))
        if key not in PACKS:
            PACKS[key] = build(path, meeting_at, window_end_at=window_end_at,
                               filters=filters, **more)
        return PACKS[key]

    monkeypatch.setattr(cab, "build_pack", cached)


@pytest.fixture(autouse=True)
def settings(monkeypatch, tmp_path):
    """No delivery setting from the machine; an app state of the test's
    own; retries without waiting."""
    for name in SEND_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(delivery, "_secret_files", lambda: [])
    monkeypatch.setattr(config, "APP_DB", str(tmp_path / "app.sqlite"))
    monkeypatch.setenv("CHANGEBOARD_SEND_RETRY_DELAY", "0.01")
    monkeypatch.setenv("CHANGEBOARD_SEND_ATTEMPTS", "3")
    monkeypatch.setenv("CHANGEBOARD_PUBLIC_URL", "https://cb.acme.test/")


def mail_to(monkeypatch, controller, **extra):
    monkeypatch.setenv("CHANGEBOARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHANGEBOARD_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("CHANGEBOARD_SMTP_SECURITY", "none")
    monkeypatch.setenv("CHANGEBOARD_SMTP_FROM", "Changeboard <cb@acme.test>")
    monkeypatch.setenv("CHANGEBOARD_CAB_RECIPIENTS", ", ".join(RECIPIENTS))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def send(cab_db, pdf, **kwargs):
    return delivery.send(cab_db, MEETING, pdf=pdf, **kwargs)


def pdf_text(pdf_bytes: bytes, tmp_path) -> tuple[int, str]:
    path = tmp_path / "attached.pdf"
    path.write_bytes(pdf_bytes)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True,
                          text=True, check=True).stdout
    pages = int(next(line.split()[1] for line in info.splitlines()
                     if line.startswith("Pages:")))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return pages, text


# --- e-mail ---------------------------------------------------------------------

@needs_pdf_tools
def test_cron_run_mails_the_pack_over_starttls_once(cab_db, tmp_path):
    """As cron runs it: the CLI in a subprocess, STARTTLS and AUTH, the PDF
    printed by Chromium; a second run for the meeting sends nothing."""
    options, ca_file = tls_options(tmp_path)
    app_db = tmp_path / "cron.app.sqlite"
    inbox = Inbox()
    with smtp_server(inbox, **options) as server:
        env = {k: v for k, v in os.environ.items() if k not in SEND_SETTINGS}
        env |= {"CHANGEBOARD_DB": str(cab_db), "CHANGEBOARD_APP_DB": str(app_db),
                "CHANGEBOARD_SMTP_HOST": "127.0.0.1",
                "CHANGEBOARD_SMTP_PORT": str(server.port),
                "CHANGEBOARD_SMTP_CA_FILE": str(ca_file),
                "CHANGEBOARD_SMTP_USER": USER, delivery.PASSWORD_ENV: PASSWORD,
                "CHANGEBOARD_SMTP_FROM": "cb@acme.test",
                "CHANGEBOARD_CAB_RECIPIENTS": ",".join(RECIPIENTS),
                "CHANGEBOARD_PUBLIC_URL": "https://cb.acme.test"}
        command = [sys.executable, "-m", "changeboard", "report", "cab",
                   "--send", "--meeting", MEETING.isoformat()]
        first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=120, check=False)
        with pytest.MonkeyPatch.context() as patch:  # the next cron run
            for name in ("CHANGEBOARD_SMTP_HOST", "CHANGEBOARD_SMTP_PORT",
                         "CHANGEBOARD_SMTP_CA_FILE", "CHANGEBOARD_SMTP_USER",
                         delivery.PASSWORD_ENV, "CHANGEBOARD_SMTP_FROM",
                         "CHANGEBOARD_CAB_RECIPIENTS"):
                patch.setenv(name, env[name])
            patch.setattr(config, "APP_DB", str(app_db))
            said = []
            assert delivery.send(cab_db, MEETING, say=said.append,
                                 warn=said.append) == 0
            rows = delivery.sends(cab_db)
    assert first.returncode == 0, first.stderr
    assert "e-mail of the CAB pack for Tue 20 Jan 2026 10:00 sent to 3 " \
        "recipients (2 changes for decision, 1 attempt)" in first.stdout
    assert len(said) == 1
    assert "already sent" in said[0] and "--force" in said[0]
    assert len(inbox.envelopes) == 1  # the second run sent nothing
    envelope = inbox.envelopes[0]
    assert envelope.rcpt_tos == RECIPIENTS
    assert envelope.mail_from == "cb@acme.test"
    message = inbox.messages()[0]
    assert message["Subject"] == ("CAB pack: Tue 20 Jan 2026 10:00 (UTC), "
                                  "2 changes for decision")
    body = message.get_body(("html",)).get_content()
    for change_id in AGENDA:
        assert f">{change_id}<" in body
    # the window's end too, the default one: replicas set to other CAB
    # weekdays opened their own window from a link without it
    assert "https://cb.acme.test/cab?meeting=2026-01-20&amp;until=2026-01-27" \
        in body
    assert "&lt;script&gt;" in body and "<script>" not in body  # C1's title
    attached = [part for part in message.iter_attachments()]
    assert [(a.get_content_type(), a.get_filename()) for a in attached] == [
        ("application/pdf", "cab-pack-2026-01-20.pdf")]
    pages, text = pdf_text(attached[0].get_content(), tmp_path)
    assert pages > 0
    for change_id in AGENDA:
        assert change_id in text
    for output in (first.stdout, first.stderr, *said):
        assert PASSWORD not in output
    assert PASSWORD.encode() not in app_db.read_bytes()
    assert [(r["channel"], r["n_recipients"], r["attempts"], r["outcome"],
             r["meeting_at"]) for r in rows] == [
        ("email", 3, 1, "sent", "2026-01-20T10:00:00+00:00")]
    assert rows[0]["sent_by"].startswith("cli:")


def test_a_refused_first_attempt_is_retried(cab_db, pdf, monkeypatch, capsys):
    inbox = Inbox(["451 4.3.0 try again later"])
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert send(cab_db, pdf) == 0
    assert inbox.attempts == 2 and len(inbox.envelopes) == 1
    err = capsys.readouterr().err
    assert "451 4.3.0 try again later; attempt 1 of 3 failed, retrying" in err
    [row] = delivery.sends(cab_db)
    assert (row["outcome"], row["attempts"], row["error"]) == ("sent", 2, None)


def test_a_server_that_always_refuses_fails_recorded_and_is_retried_next_run(
        cab_db, pdf, monkeypatch, capsys):
    inbox = Inbox(["451 4.3.0 mailbox busy"] * 3)
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert send(cab_db, pdf) == 1
        assert inbox.attempts == 3 and not inbox.envelopes
        err = capsys.readouterr().err
        assert "e-mail of the CAB pack for Tue 20 Jan 2026 10:00 failed: " \
            f"SMTP 127.0.0.1:{server.port}: 451 4.3.0 mailbox busy; gave up " \
            "after 3 attempts" in err
        assert send(cab_db, pdf) == 0  # a failure does not count as sent
    assert len(inbox.envelopes) == 1
    assert [(r["outcome"], r["attempts"], r["error"] is None)
            for r in delivery.sends(cab_db)] == [("failed", 3, False),
                                                 ("sent", 1, True)]


def test_a_port_that_opens_after_the_first_attempt(cab_db, pdf, monkeypatch,
                                                    capsys):
    port = free_port()
    inbox = Inbox()
    started = []

    def open_the_port(seconds):  # the backoff's wait: the server comes up
        started.append(smtp_server(inbox, port=port))
        started[-1].__enter__()

    monkeypatch.setenv("CHANGEBOARD_SMTP_HOST", "127.0.0.1")
    mail_to(monkeypatch, SimpleNamespace(port=port))  # nothing listens yet
    try:
        status = send(cab_db, pdf, retry=delivery.Retry(3, 0.01,
                                                        open_the_port))
    finally:
        for server in started:
            server.__exit__(None, None, None)
    assert status == 0 and len(inbox.envelopes) == 1
    assert "ConnectionRefusedError" in capsys.readouterr().err
    assert [r["attempts"] for r in delivery.sends(cab_db)] == [2]


def test_a_permanent_refusal_is_not_retried(cab_db, pdf, monkeypatch,
                                            capsys):
    inbox = Inbox(["554 5.7.1 message rejected"] * 3)
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert send(cab_db, pdf) == 1
    assert inbox.attempts == 1
    assert "554 5.7.1 message rejected (not retried: a retry" in capsys.readouterr().err
    assert [(r["outcome"], r["attempts"]) for r in delivery.sends(cab_db)] \
        == [("failed", 1)]


def test_a_refused_recipient_is_reported_and_the_rest_get_it(
        cab_db, pdf, monkeypatch, capsys):
    inbox = Inbox(unknown={"ops@acme.test"})
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert send(cab_db, pdf) == 0
    assert [e.rcpt_tos for e in inbox.envelopes] == [RECIPIENTS[:2]]
    assert "ops@acme.test refused: 550 5.1.1 no such user" in \
        capsys.readouterr().err
    [row] = delivery.sends(cab_db)
    assert (row["outcome"], row["error"]) == (
        "sent", "ops@acme.test refused: 550 5.1.1 no such user")


def test_a_meeting_is_sent_once_unless_forced(cab_db, pdf, monkeypatch,
                                              capsys):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert send(cab_db, pdf) == 0
        assert send(cab_db, pdf) == 0
        assert len(inbox.envelopes) == 1
        assert "already sent to 3 recipients" in capsys.readouterr().out
        assert send(cab_db, pdf, force=True) == 0
        assert len(inbox.envelopes) == 2
        # another meeting, and the same meeting with a filter, are their own
        assert delivery.send(cab_db, MEETING + dt.timedelta(days=7),
                             pdf=pdf) == 0
        assert send(cab_db, pdf, filters={"teams": ["Ops"]}) == 0
    assert len(inbox.envelopes) == 4
    subjects = [m["Subject"] for m in inbox.messages()]
    assert subjects[2].startswith("CAB pack: Tue 27 Jan 2026 10:00 (UTC)")
    assert subjects[3].endswith("1 change for decision")  # only C1 is Ops'


def test_a_pack_past_the_datas_end_says_so_in_the_mail_and_on_stderr(
        cab_db, monkeypatch, capsys):
    """`report cab --send` on BPIC 2014 (its changes end 31 Mar 2014)
    mailed 'CAB pack: Tue 08 Dec 2026 ..., 0 changes for decision' with
    nothing saying the data ends years before: a quiet week to the CAB, as
    a sync that stopped feeding a cron's sends would be. The subject names
    the day the data ends, the mail says why the pack is empty, and the run
    warns on stderr; the meeting the data covers says nothing of it."""
    later = MEETING + dt.timedelta(days=322)  # Tue 08 Dec 2026
    ends = cab.build_pack(cab_db, later).data_ends
    assert ends is not None and ends < MEETING
    assert cab.build_pack(cab_db, MEETING).data_ends is None
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert delivery.send(cab_db, later, pdf=b"%PDF-1.4 stand-in",
                             warn=lambda t: print(t, file=sys.stderr)) == 0
        assert send(cab_db, b"%PDF-1.4 stand-in") == 0
    stale, current = inbox.messages()
    said = (f"The changes' data ends on {ends:%d %b %Y}, before this pack's "
            "days (since the last CAB, from 01 Dec 2026)")
    assert stale["Subject"].endswith(
        f"0 changes for decision (the data ends {ends:%d %b %Y})")
    assert said in stale.get_body(("plain",)).get_content()
    assert said in html.unescape(stale.get_body(("html",)).get_content())
    assert f"warning: {said}" in capsys.readouterr().err
    assert "data ends" not in current["Subject"]
    assert "data ends" not in current.get_body(("plain",)).get_content()


def test_the_subject_stays_on_its_headers_line(cab_db, monkeypatch):
    """'CAB pack: Tue 08 Dec 2026 10:00 (Europe/London), 7 changes for
    decision' was folded at 78 characters straight after 'Subject:', on a
    line of its own, which some readers keep as a leading space."""
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/London")
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        # a window no other test builds: the module's packs are shared
        assert delivery.send(cab_db, MEETING, pdf=b"%PDF-1.4 stand-in",
                             window_end_at=dt.date(2026, 1, 24)) == 0
    [message] = inbox.messages()
    assert "(Europe/London)" in message["Subject"]
    raw = inbox.envelopes[0].content
    assert re.search(rb"^Subject: CAB pack: Tue 20 Jan 2026 10:00 "
                     rb"\(Europe/London\), \d+ changes? for decision\r?$",
                     raw, re.M), raw[:300]


def test_a_run_that_overlaps_another_waits_and_sends_nothing_twice(
        cab_db, pdf, monkeypatch):
    """While one run holds the send lock, a second waits; when the first
    has recorded its send, the second finds it and sends nothing."""
    import fcntl

    inbox = Inbox()
    waiting, said = threading.Event(), []

    def say(text):
        said.append(text)
        if text.startswith("waiting for another"):
            waiting.set()

    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        delivery.sends(cab_db)  # creates the app state beside the database
        lock_path = Path(config.APP_DB + ".send-lock")
        with open(lock_path, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # the first run, sending
            result = []
            second = threading.Thread(target=lambda: result.append(
                send(cab_db, pdf, say=say)))
            second.start()
            assert waiting.wait(60)
            delivery.record(cab_db, cab.meeting_on(MEETING), "{}", "email",
                            destination="3 recipients", n_recipients=3,
                            attempts=1, outcome="sent", error=None)
            fcntl.flock(held, fcntl.LOCK_UN)
        second.join(60)
    assert result == [0] and inbox.attempts == 0
    assert "already sent to 3 recipients" in said[-1]


def test_the_password_never_reaches_a_log_stderr_or_the_database(
        cab_db, pdf, monkeypatch, capsys, caplog, tmp_path):
    """A server that echoes the password in its refusal, a webhook that
    echoes its path (the token): both scrubbed everywhere."""
    caplog.set_level(logging.DEBUG)
    options, ca_file = tls_options(tmp_path)
    inbox = Inbox([f"451 4.7.0 greylisted {USER} {PASSWORD}"] * 3)
    with smtp_server(inbox, **options) as server, \
            Receiver([500] * 3, echo_path=True) as hook:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_SECURITY="starttls",
                CHANGEBOARD_SMTP_CA_FILE=str(ca_file),
                CHANGEBOARD_SMTP_USER=USER, **{delivery.PASSWORD_ENV:
                                               PASSWORD,
                                               delivery.WEBHOOK_ENV:
                                               hook.url})
        assert send(cab_db, pdf) == 1
    assert inbox.attempts == 3 and hook.attempts == 3  # logged in each time
    out, err = capsys.readouterr()
    assert "greylisted mailer ***" in err and "HTTP 500" in err
    assert "http://127.0.0.1:" in err  # the webhook's origin, not its path
    stored = Path(config.APP_DB).read_bytes()
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith("mail.log"))  # the server's
    assert "POST *** HTTP" in logged  # urllib3 logs the path: scrubbed
    for secret in (PASSWORD, TOKEN):
        for where in (out, err, logged, str(delivery.sends(cab_db)),
                      stored.decode("utf-8", "replace")):
            assert secret not in where
    # a wrong password: refused by the server, not retried, not shown
    monkeypatch.setenv(delivery.PASSWORD_ENV, "wrong-" + PASSWORD)
    monkeypatch.delenv(delivery.WEBHOOK_ENV)
    with smtp_server(Inbox(), **options) as server:
        monkeypatch.setenv("CHANGEBOARD_SMTP_PORT", str(server.port))
        assert send(cab_db, pdf, force=True) == 1
    err = capsys.readouterr().err
    assert f"authentication as {USER} refused (535" in err
    assert PASSWORD not in err
    assert PASSWORD not in "".join(r.getMessage() for r in caplog.records
                                   if not r.name.startswith("mail.log"))


def test_a_log_handler_that_fails_prints_no_password(cab_db, pdf,
                                                     monkeypatch, capsys,
                                                     tmp_path):
    """A handler that cannot write (a full disk, a closed stream) makes
    logging print '--- Logging error ---' and the exception in hand on
    stderr: the retry's log line was written while the server's refusal,
    echoing the password, was that exception, so the password reached
    stderr (seen when another test left such a handler behind)."""
    closed = (tmp_path / "gone.log").open("w")
    closed.close()  # a stream handler's stream, closed under it
    handler = logging.StreamHandler(closed)
    logger = logging.getLogger("changeboard.delivery")
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "level", logging.INFO)
    monkeypatch.setattr(logging, "raiseExceptions", True)
    options, ca_file = tls_options(tmp_path)
    try:
        inbox = Inbox([f"451 4.7.0 greylisted {USER} {PASSWORD}"] * 3)
        with smtp_server(inbox, **options) as server:
            mail_to(monkeypatch, server, CHANGEBOARD_SMTP_SECURITY="starttls",
                    CHANGEBOARD_SMTP_CA_FILE=str(ca_file),
                    CHANGEBOARD_SMTP_USER=USER,
                    **{delivery.PASSWORD_ENV: PASSWORD})
            assert send(cab_db, pdf) == 1
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert "--- Logging error ---" in err  # the handler did fail
    assert "greylisted mailer ***" in err and PASSWORD not in err


def test_the_password_may_come_from_secrets_toml(cab_db, pdf, monkeypatch,
                                                 tmp_path):
    options, ca_file = tls_options(tmp_path)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cab_delivery]\nsmtp_password = "{PASSWORD}"\n')
    monkeypatch.setattr(delivery, "_secret_files", lambda: [secrets])
    inbox = Inbox()
    with smtp_server(inbox, **options) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_SECURITY="starttls",
                CHANGEBOARD_SMTP_CA_FILE=str(ca_file),
                CHANGEBOARD_SMTP_USER=USER)
        assert send(cab_db, pdf) == 0
    assert len(inbox.envelopes) == 1


def test_a_security_mode_the_port_does_not_speak_is_said_not_retried(
        cab_db, pdf, monkeypatch, capsys, tmp_path):
    """CHANGEBOARD_SMTP_SECURITY=tls against a STARTTLS port was tried four
    times over 35 s, each 'SSLError: [SSL: WRONG_VERSION_NUMBER]', with no
    word of the setting: the same on every try."""
    import time

    options, ca_file = tls_options(tmp_path)
    inbox = Inbox()
    with smtp_server(inbox, **options) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_SECURITY="tls",
                CHANGEBOARD_SMTP_CA_FILE=str(ca_file))
        started = time.monotonic()
        assert send(cab_db, pdf) == 1
        assert time.monotonic() - started < 10  # no retry's wait
    err = capsys.readouterr().err
    assert "no TLS handshake (WRONG_VERSION_NUMBER): CHANGEBOARD_SMTP_SECURITY " \
        "is tls; a port that starts in plain text (often 587 or 25) takes " \
        "starttls" in err
    assert err.count("WRONG_VERSION_NUMBER") == 1
    assert inbox.envelopes == []


def test_implicit_tls_and_an_unverified_certificate(cab_db, pdf, monkeypatch,
                                                    capsys, tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=context) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_SECURITY="tls")
        assert send(cab_db, pdf) == 1  # the system CAs do not know it
        assert "certificate failed verification" in capsys.readouterr().err
        monkeypatch.setenv("CHANGEBOARD_SMTP_CA_FILE", str(cert))
        assert send(cab_db, pdf) == 0
    assert len(inbox.envelopes) == 1


@pytest.mark.parametrize(("name", "value", "said"), [
    ("CHANGEBOARD_CAB_RECIPIENTS", "", "CHANGEBOARD_CAB_RECIPIENTS: no address"),
    ("CHANGEBOARD_CAB_RECIPIENTS", "cab@acme.test, not an address",
     "CHANGEBOARD_CAB_RECIPIENTS: 'not an address' is not an e-mail address"),
    # separated as Outlook writes a list: the first alone was mailed, and
    # the run said 'sent to 1 recipients'
    ("CHANGEBOARD_CAB_RECIPIENTS", "cab@acme.test; chair@acme.test",
     "CHANGEBOARD_CAB_RECIPIENTS: 'cab@acme.test; chair@acme.test' holds 2 "
     "addresses; separate addresses with commas"),
    ("CHANGEBOARD_SMTP_FROM", "cb@acme.test; ops@acme.test",
     "CHANGEBOARD_SMTP_FROM: 'cb@acme.test; ops@acme.test' holds 2"),
    # a display name holding a comma must be quoted, as in a To header:
    # unquoted, 'Lee' is a piece of its own
    ("CHANGEBOARD_CAB_RECIPIENTS", "Lee, Ann <ann@acme.example>",
     "CHANGEBOARD_CAB_RECIPIENTS: 'Lee' is not an e-mail address"),
    # getaddresses reads it as 'ann@acme.exampleAnn'
    ("CHANGEBOARD_CAB_RECIPIENTS", "cab@acme.test, ann@acme.example Ann",
     "CHANGEBOARD_CAB_RECIPIENTS: 'ann@acme.example Ann' is not an e-mail"),
    ("CHANGEBOARD_CAB_RECIPIENTS", '"Lee, Ann <ann@acme.example>',
     "CHANGEBOARD_CAB_RECIPIENTS: '\"Lee, Ann <ann@acme.example>' is not"),
    ("CHANGEBOARD_SMTP_SECURITY", "ssl", "CHANGEBOARD_SMTP_SECURITY: 'ssl'"),
    ("CHANGEBOARD_SMTP_PORT", "smtp", "CHANGEBOARD_SMTP_PORT: 'smtp' is not"),
    ("CHANGEBOARD_SEND_ATTEMPTS", "0", "CHANGEBOARD_SEND_ATTEMPTS: must be"),
    ("CHANGEBOARD_SMTP_USER", "mailer", "no password: set "
     "CHANGEBOARD_SMTP_PASSWORD"),
])
def test_a_bad_setting_is_named_and_nothing_is_sent(cab_db, pdf, monkeypatch,
                                                    capsys, name, value, said):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server, **{name: value})
        assert send(cab_db, pdf) == 1
    assert said in capsys.readouterr().err
    assert inbox.attempts == 0 and delivery.sends(cab_db) == []


def test_a_password_is_not_sent_in_clear_to_another_host(monkeypatch):
    monkeypatch.setenv("CHANGEBOARD_SMTP_HOST", "mail.acme.test")
    monkeypatch.setenv("CHANGEBOARD_SMTP_SECURITY", "none")
    monkeypatch.setenv("CHANGEBOARD_SMTP_FROM", "cb@acme.test")
    monkeypatch.setenv("CHANGEBOARD_CAB_RECIPIENTS", "cab@acme.test")
    monkeypatch.setenv("CHANGEBOARD_SMTP_USER", USER)
    monkeypatch.setenv(delivery.PASSWORD_ENV, PASSWORD)
    with pytest.raises(delivery.SettingError, match="in clear to "
                       "mail.acme.test") as refused:
        delivery.Smtp.from_settings()
    assert PASSWORD not in str(refused.value)


def test_nothing_configured_says_what_to_set(cab_db, capsys):
    assert delivery.send(cab_db, MEETING) == 1
    assert "nothing to send to: set CHANGEBOARD_SMTP_HOST" in \
        capsys.readouterr().err


# --- chat webhook ---------------------------------------------------------------

def test_slack_post_carries_the_agenda_and_the_link(cab_db, monkeypatch):
    with Receiver() as hook:
        monkeypatch.setenv(delivery.WEBHOOK_ENV, hook.url)
        assert delivery.send(cab_db, MEETING) == 0
    [(path, content_type, post)] = hook.posts
    assert path == f"/hooks/{TOKEN}" and content_type == "application/json"
    assert post["text"] == ("CAB pack: Tue 20 Jan 2026 10:00 (UTC), 2 changes "
                            "for decision")
    header, counts, items, link = post["blocks"]
    assert header["text"]["text"] == "CAB pack — Tue 20 Jan 2026 10:00 (UTC)"
    assert counts["text"]["text"].startswith("*2* For decision · *1* Emergency")
    lines = items["text"]["text"].splitlines()
    assert [line.split("`")[1] for line in lines] == ["C2", "C1"]
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp;" in lines[1]
    assert link["text"]["text"] == ("<https://cb.acme.test/cab?meeting="
                                    "2026-01-20&until=2026-01-27|Open the "
                                    "CAB pack in Changeboard>")
    [row] = delivery.sends(cab_db)
    assert (row["channel"], row["outcome"], row["n_recipients"]) == (
        "webhook", "sent", None)
    assert TOKEN not in row["destination"]


def test_teams_post_is_an_adaptive_card_with_the_agenda(cab_db, monkeypatch):
    monkeypatch.setenv("CHANGEBOARD_CAB_WEBHOOK_FORM", "teams")
    with Receiver() as hook:
        assert delivery.send(cab_db, MEETING, webhook_url=hook.url) == 0
    [(_, _, post)] = hook.posts
    assert post["type"] == "message"
    [attachment] = post["attachments"]
    assert attachment["contentType"] == \
        "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, facts, *items = card["body"]
    assert "CAB pack — Tue 20 Jan 2026 10:00 \\(UTC\\)" == title["text"]
    assert {f["title"]: f["value"] for f in facts["facts"]}[
        "For decision"] == "2"
    assert [i["text"].split("**")[1] for i in items] == ["C2", "C1"]
    assert "\\<script\\>" in items[1]["text"]  # shown, not read as markup
    assert card["actions"] == [{
        "type": "Action.OpenUrl", "title": "Open the CAB pack in Changeboard",
        "url": "https://cb.acme.test/cab?meeting=2026-01-20&until=2026-01-27"
    }]


def test_a_long_agenda_is_bounded_in_the_post_and_whole_in_the_mail(
        con, monkeypatch):
    load_cab_data(con)  # C1, C2 and twelve low-risk changes N10..N21
    con.execute("insert into changes (change_id, change_type, state, "
                "is_cab_required, approval, risk, created_at, "
                "planned_start_at, planned_end_at) select 'N' || i, 'normal', "
                "'authorize', true, 'requested', 'low', "
                "timestamptz '2026-01-01 09:00Z', "
                "timestamptz '2026-01-23 00:00Z' + i * interval 1 hour, "
                "timestamptz '2026-01-23 00:30Z' + i * interval 1 hour "
                "from range(10, 22) t(i)")
    pack = cab.build_pack(con, MEETING)
    ids = list(pack.agenda["change_id"])
    assert len(ids) == 14
    slack = delivery.webhook_payload(pack, "slack", "")
    lines = slack["blocks"][2]["text"]["text"].splitlines()
    assert [line.split("`")[1] for line in lines[:-1]] == ids[:10]
    assert lines[-1] == "… and 4 more" and len(slack["blocks"]) == 3
    teams = delivery.webhook_payload(pack, "teams", "")["attachments"][0][
        "content"]
    assert "actions" not in teams  # no public URL, no link
    assert [b["text"] for b in teams["body"][-1:]] == ["… and 4 more"]
    body = delivery.email_html(pack, "")
    assert all(f">{cid}<" in body for cid in ids) and "<a href" not in body


def test_a_webhook_error_is_retried_and_channels_are_recorded_apart(
        cab_db, pdf, monkeypatch, capsys):
    """The post succeeds after a 503 while the mail fails; the next run
    sends only the mail."""
    failing = Inbox(["421 4.3.2 shutting down"] * 3)
    with smtp_server(failing) as server, Receiver([503]) as hook:
        mail_to(monkeypatch, server, **{delivery.WEBHOOK_ENV: hook.url})
        assert send(cab_db, pdf) == 1
        assert hook.attempts == 2 and len(hook.posts) == 1
        err = capsys.readouterr().err
        assert "HTTP 503 (ok); attempt 1 of 3 failed" in err
        assert "e-mail of the CAB pack for Tue 20 Jan 2026 10:00 failed" in err
        working = Inbox()
        with smtp_server(working) as fixed:
            monkeypatch.setenv("CHANGEBOARD_SMTP_PORT", str(fixed.port))
            assert send(cab_db, pdf) == 0
        assert len(working.envelopes) == 1 and len(hook.posts) == 1
        assert "chat post of the CAB pack for Tue 20 Jan 2026 10:00 already " \
            "sent to http://127.0.0.1:" in capsys.readouterr().out
    assert [(r["channel"], r["outcome"], r["attempts"])
            for r in delivery.sends(cab_db)] == [
        ("email", "failed", 3), ("webhook", "sent", 2), ("email", "sent", 1)]


def test_a_webhook_that_refuses_for_good_is_not_retried(cab_db, monkeypatch,
                                                        capsys):
    with Receiver([404] * 3) as hook:
        assert delivery.send(cab_db, MEETING, webhook_url=hook.url) == 1
    assert hook.attempts == 1
    assert "HTTP 404 (ok) (not retried" in capsys.readouterr().err


def test_a_webhook_over_plain_http_to_another_host_is_refused(cab_db,
                                                              capsys):
    url = f"http://chat.acme.test/hooks/{TOKEN}"
    assert delivery.send(cab_db, MEETING, webhook_url=url) == 1
    err = capsys.readouterr().err
    assert "must be https" in err and TOKEN not in err


def test_cli_options_go_with_send(cab_db, capsys):
    from reports import __main__ as cli

    for argv, said in (
            (["cab", "--date", "2026-01-20", "--force", "--format", "html",
              "--out", "x.html"], "--force goes with --send"),
            (["cab", "--date", "2026-01-20"], "--format, --out required"),
            (["cab", "--send", "--format", "pdf"], "--format does not go "
             "with --send")):
        with pytest.raises(SystemExit) as stop:
            cli.main([*argv, "--db", str(cab_db)])
        assert stop.value.code == 2
        assert said in capsys.readouterr().err


def test_a_password_outside_ascii_is_a_named_setting_error(monkeypatch):
    """SMTP AUTH (smtplib) sends only ASCII: 'Pässwort' raised
    UnicodeEncodeError out of the send, recording nothing and skipping the
    chat post after it."""
    monkeypatch.setenv("CHANGEBOARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHANGEBOARD_SMTP_SECURITY", "none")
    monkeypatch.setenv("CHANGEBOARD_SMTP_FROM", "cb@acme.test")
    monkeypatch.setenv("CHANGEBOARD_CAB_RECIPIENTS", "cab@acme.test")
    monkeypatch.setenv("CHANGEBOARD_SMTP_USER", USER)
    monkeypatch.setenv(delivery.PASSWORD_ENV, "Pässwort-2026")
    with pytest.raises(delivery.SettingError,
                       match=f"{delivery.PASSWORD_ENV}: .*outside ASCII") \
            as refused:
        delivery.Smtp.from_settings()
    assert "Pässwort" not in str(refused.value)


def test_a_server_offering_no_auth_is_said_so_not_starttls(
        cab_db, pdf, monkeypatch, capsys, tmp_path):
    """With security none (loopback) and a user, a server that offers AUTH
    only after STARTTLS was reported as not offering STARTTLS."""
    options, _ = tls_options(tmp_path)
    options.pop("require_starttls")
    inbox = Inbox()
    with smtp_server(inbox, **options) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_USER=USER,
                **{delivery.PASSWORD_ENV: PASSWORD})
        assert send(cab_db, pdf) == 1
    err = capsys.readouterr().err
    assert "the server offers no AUTH" in err and "STARTTLS" not in \
        err.split("offers no AUTH")[0]
    assert [s["outcome"] for s in delivery.sends(cab_db)] == ["failed"]


# --- the link opens the pack that was sent ---------------------------------------

@pytest.fixture(scope="module")
def early_db(tmp_path_factory):
    """load_cab_data and C5, for decision, planned on Fri 23 Jan before the
    CAB time (10:00 UTC): in a window ending at 23 Jan 10:00, not in one
    ending at 23 Jan 00:00."""
    path = tmp_path_factory.mktemp("early") / "cab.duckdb"
    with db.publish(path) as con:
        load_cab_data(con)
        insert(con, "changes", [planned(
            "C5", "2026-01-23 05:00Z", "2026-01-23 06:00Z", risk="high",
            application_id="A2", assignment_group="Core",
            title="Before the CAB time")])
    return path


def _page_agenda(path, params: dict, monkeypatch):
    """The CAB page opened at /cab?<params> on the database at path: the
    change ids of its agenda, its review window caption and its URL."""
    from tests.clicks import open_linked

    monkeypatch.setattr(config, "DB_PATH", path)
    app = open_linked("cab", **params)
    assert not [w.value for w in app.warning]
    headings = [m.value for m in app.markdown if m.value.startswith("### ")]
    window = next(c.value for c in app.caption
                  if c.value.startswith("Review window "))
    return [h.split()[2] for h in headings], window, app


@pytest.mark.parametrize("window_end, until, agenda", [
    # the window ends off the CAB time: the link carries the instant
    ("2026-01-23T00:00Z", "2026-01-23T00:00+00:00", ["C2", "C1"]),
    # at the CAB time: the day alone, read at the CAB time
    ("2026-01-23", "2026-01-23", ["C2", "C1", "C5"])])
def test_the_mailed_link_opens_the_agenda_of_the_mailed_pack(
        early_db, monkeypatch, window_end, until, agenda):
    """`report cab --send --window-end 2026-01-23T00:00Z`: the mail's link
    carried until=2026-01-23, which the page read as 23 Jan at the CAB time
    (10:00), so it opened a window with another change (C5) on its
    agenda. The link opens the pack's window exactly, and the page keeps
    it in its address."""
    from changeboard.cli.report import _instant

    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert delivery.send(early_db, MEETING, pdf=b"%PDF-1.4 stand-in",
                             window_end_at=_instant(window_end)) == 0
    [message] = inbox.messages()
    body = message.get_body(("html",)).get_content()
    mailed = re.findall(r">(C\d)<", body)  # the agenda's change cells
    assert mailed == agenda
    link = html.unescape(re.search(r'<a href="([^"]+)"', body).group(1))
    assert link.startswith("https://cb.acme.test/cab?")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert params == {"meeting": "2026-01-20", "until": until}
    shown, window, app = _page_agenda(early_db, params, monkeypatch)
    assert shown == mailed
    assert [t.label for t in app.tabs][0] == f"For decision ({len(mailed)})"
    ends = "23 Jan 2026 00:00" if "T" in until else "23 Jan 2026 10:00"
    assert f" to Fri {ends}, end exclusive" in window, window
    # written back as it came: the instant is not turned into its day
    assert app.query_params["until"] in (until, [until])
    app.run()  # a rerun (any widget) reads it again: the same window
    assert [m.value.split()[2] for m in app.markdown
            if m.value.startswith("### ")] == mailed
    assert app.query_params["until"] in (until, [until])


def test_the_plain_text_mail_says_what_the_html_says(cab_db, monkeypatch):
    """The plain-text part (what a text-only client, a mail-to-ticket
    bridge or a screen reader set to text shows) left out each agenda
    line's flags, a collision or a freeze among them, and the review
    window, filters and data as of that the HTML names. It now carries
    them, as the HTML does."""
    pack = cab.build_pack(cab_db, MEETING)
    lines = cab.agenda_lines(pack, cab.AGENDA_LINES, cab.AGENDA_TITLE_CHARS)
    flagged = lines[lines["Flags"] != ""]
    assert len(flagged), "the fixture flags a change for decision"
    text = delivery.email_text(pack, "https://cb.acme.test/cab")
    for row in flagged.to_dict("records"):
        line = next(t for t in text.splitlines()
                    if t.startswith(f"{row['#']}. {row['Change']} "))
        assert line.endswith(f"  [{row['Flags']}]")
    html_body = delivery.email_html(pack, "https://cb.acme.test/cab")
    for row in flagged.to_dict("records"):
        assert f">{html.escape(row['Flags'])}<" in html_body
    assert ("Review window Tue 20 Jan 2026 10:00 to Tue 27 Jan 2026 10:00, "
            "end exclusive · filters: none · data as of Mon 19 Jan 2026 07:40"
            " UTC") in text.splitlines()  # as the pack's page says it
    assert "· filters: none · data as of" in html_body


def test_one_recipient_is_said_in_the_singular(cab_db, pdf, monkeypatch,
                                               capsys):
    """A list of one read 'sent to 1 recipients', in the run's line and the
    record of the send ('already sent to 1 recipients')."""
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_CAB_RECIPIENTS="Chair "
                "<chair@acme.test>")
        assert send(cab_db, pdf) == 0
        assert send(cab_db, pdf) == 0
    out = capsys.readouterr().out
    assert "sent to 1 recipient (" in out
    assert "already sent to 1 recipient at " in out
    assert "recipients" not in out
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["chair@acme.test"]


def test_a_display_name_holding_a_comma_reaches_both_addresses(
        cab_db, pdf, monkeypatch, capsys):
    """The list was split at every comma: '"Lee, Ann" <ann@...>' broke into
    '"Lee' and 'Ann" <ann@...>', and the run refused '"Lee' or, with an
    unquoted address in the name, mailed a wrong one. It is read as a To
    header is: each address with its display name, kept in the To header."""
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_CAB_RECIPIENTS=(
            '"Lee, Ann" <ann@acme.example>, cab@acme.example,'
            " Zoë Ørsted <zoe@acme.example>, bo@acme.example (Bo, ops)"))
        assert send(cab_db, pdf) == 0
    assert "sent to 4 recipients (" in capsys.readouterr().out
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["ann@acme.example", "cab@acme.example",
                                 "zoe@acme.example", "bo@acme.example"]
    [message] = inbox.messages()
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] \
        == [("Lee, Ann", "ann@acme.example"), ("", "cab@acme.example"),
            ("Zoë Ørsted", "zoe@acme.example"), ("Bo, ops", "bo@acme.example")]
    raw = envelope.content.decode("ascii")  # non-ASCII names encoded-words
    assert '"Lee, Ann" <ann@acme.example>' in raw


def test_the_senders_display_name_reaches_the_from_header(
        cab_db, pdf, monkeypatch):
    """CHANGEBOARD_SMTP_FROM='Changeboard CAB <cb@...>' went out as a bare
    'From: cb@...': the name is kept in the From header; the envelope's
    sender is the address alone (a real SMTP server on 127.0.0.1)."""
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server,
                CHANGEBOARD_SMTP_FROM="Changeboard CAB <cb@acme.example>")
        assert send(cab_db, pdf) == 0
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "cb@acme.example"
    [message] = inbox.messages()
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Changeboard CAB", "cb@acme.example")
    assert "Message-ID" in message and "@acme.example>" in message[
        "Message-ID"]


def test_a_bad_recipient_is_named_alone_without_other_settings(
        cab_db, pdf, monkeypatch, capsys):
    """The error names the variable and the piece that is not an address:
    not the rest of the list, nor another setting or the password."""
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_USER=USER,
                **{delivery.PASSWORD_ENV: PASSWORD,
                   "CHANGEBOARD_CAB_RECIPIENTS":
                   '"Lee, Ann" <ann@acme.example>, Bo Smith'})
        assert send(cab_db, pdf) == 1
    captured = capsys.readouterr()
    assert captured.err == ("CHANGEBOARD_CAB_RECIPIENTS: 'Bo Smith' is not "
                            "an e-mail address\n")
    assert captured.out == ""
    assert inbox.attempts == 0 and delivery.sends(cab_db) == []


def test_already_sent_says_when_as_the_pack_writes_an_instant(
        cab_db, pdf, monkeypatch, capsys):
    """A run for a meeting whose pack was sent said when in the record's
    ISO form ('at 2026-12-03T21:05:33+00:00'), where the same line writes
    the meeting as the pack does ('Tue 20 Jan 2026 10:00'): it says when it
    was sent the pack's way, in the reporting zone, naming it."""
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert send(cab_db, pdf) == 0
        capsys.readouterr()
        assert send(cab_db, pdf) == 0
    out = capsys.readouterr().out
    [sent] = delivery.sends(cab_db)
    assert f"already sent to 3 recipients at {cab.when(sent['sent_at'])} " \
        "(UTC) by cli:" in out, out
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", out), out
    assert len(inbox.envelopes) == 1


# --- the minutes, after the meeting (report minutes --send) -----------------

CHAIR = auth.User(
    email="chair@acme.test", name="Chair", signed_in=True,
    roles=tuple(r for r in auth.ROLES if r.name in ("cab_member", "viewer")))


def decide(cab_db):
    """The meeting's decisions: C1 approved with conditions (its first
    decision replaced), C2 rejected; two attendees, one name with a comma."""
    decisions.record(cab_db, CHAIR, MEETING, "C1", "approved", "first go")
    decisions.record(cab_db, CHAIR, MEETING, "C2", "rejected",
                     "Backout plan untested <b>twice</b>")
    decisions.record(cab_db, CHAIR, MEETING, "C1",
                     "approved_with_conditions", "Only after 20:00 & DBA on call")
    decisions.record_attendees(cab_db, CHAIR, MEETING, "Ann Chair\nLee, Bo")


@needs_pdf_tools
def test_the_minutes_are_mailed_once_with_each_decision_and_its_note(
        cab_db, tmp_path):
    """As cron or the chair runs it after the meeting: the CLI mails the
    minutes over a real SMTP server with the PDF attached; the body names
    each decision with its conditions or reasons, who attended and the link;
    a second run sends nothing, and the pack's own record is apart."""
    app_db = tmp_path / "minutes.app.sqlite"
    inbox = Inbox()
    with smtp_server(inbox) as server, pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "APP_DB", str(app_db))
        decide(cab_db)
        env = {k: v for k, v in os.environ.items() if k not in SEND_SETTINGS}
        env |= {"CHANGEBOARD_DB": str(cab_db),
                "CHANGEBOARD_APP_DB": str(app_db),
                "CHANGEBOARD_SMTP_HOST": "127.0.0.1",
                "CHANGEBOARD_SMTP_PORT": str(server.port),
                "CHANGEBOARD_SMTP_SECURITY": "none",
                "CHANGEBOARD_SMTP_FROM": "cb@acme.test",
                "CHANGEBOARD_CAB_RECIPIENTS": ",".join(RECIPIENTS),
                "CHANGEBOARD_PUBLIC_URL": "https://cb.acme.test"}
        command = [sys.executable, "-m", "changeboard", "report", "minutes",
                   "--send", "--meeting", MEETING.isoformat()]
        runs = [subprocess.run(command, cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120,
                               check=False) for _ in range(2)]
        rows = delivery.minutes_sends(cab_db)
        packs = delivery.sends(cab_db)
    first, second = runs
    assert first.returncode == 0, first.stderr
    assert first.stdout == ("e-mail of the CAB minutes for Tue 20 Jan 2026 "
                            "10:00 sent to 3 recipients (2 changes decided, "
                            "1 attempt)\n")
    assert second.returncode == 0, second.stderr
    assert "already sent to 3 recipients at " in second.stdout
    assert "nothing to do (--force sends them again)" in second.stdout
    assert len(inbox.envelopes) == 1 and inbox.envelopes[0].rcpt_tos == \
        RECIPIENTS
    message = inbox.messages()[0]
    assert message["Subject"] == (
        "CAB minutes: Tue 20 Jan 2026 10:00 (UTC), 2 changes decided: "
        "1 approved with conditions, 1 rejected")
    body = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Only after 20:00 &amp; DBA on call" in body
    assert "Backout plan untested &lt;b&gt;twice&lt;/b&gt;" in body
    assert "first go" not in body  # replaced: in the PDF's earlier table
    assert "Ann Chair; Lee, Bo" in body and "Attendees (2)" in body
    assert "https://cb.acme.test/cab?meeting=2026-01-20" in body
    # in agenda order (C2 is very high risk, C1 high), each with its note
    assert "1. C2  =SUM(1,2): Rejected (Backout plan untested <b>twice</b>)" \
        ", by chair@acme.test" in text
    assert "2. C1  " in text and (
        ": Approved with conditions (Only after 20:00 & DBA on call), by "
        "chair@acme.test") in text
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "cab-minutes-2026-01-20.pdf"
    pages, pdf_words = pdf_text(attached.get_content(), tmp_path)
    assert pages > 0 and "CAB minutes" in pdf_words and "first go" in pdf_words
    assert [(r["meeting_at"], r["n_decisions"], r["n_recipients"],
             r["outcome"]) for r in rows] == [
        ("2026-01-20T10:00:00+00:00", 2, 3, "sent")]
    assert rows[0]["sent_by"].startswith("cli:")
    assert packs == []  # the pack of the meeting is still to send


def test_minutes_corrected_after_the_send_say_so_and_force_sends_them(
        cab_db, monkeypatch, capsys):
    """A decision corrected after the minutes went out: the next run says
    what was recorded since instead of 'nothing to do', and --force mails
    the minutes as they stand."""
    decide(cab_db)
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert delivery.send_minutes(cab_db, MEETING, pdf=b"%PDF-1.4") == 0
        decisions.record(cab_db, CHAIR, MEETING, "C2", "deferred",
                         "Wait for the rehearsal")
        capsys.readouterr()
        assert delivery.send_minutes(cab_db, MEETING, pdf=b"%PDF-1.4") == 0
        said = capsys.readouterr().out
        assert len(inbox.envelopes) == 1
        assert "1 decision recorded since; --force sends the minutes as " \
            "they stand now" in said, said
        assert delivery.send_minutes(cab_db, MEETING, pdf=b"%PDF-1.4",
                                     force=True) == 0
    assert len(inbox.envelopes) == 2
    latest = inbox.messages()[1]
    assert "1 approved with conditions, 1 deferred" in latest["Subject"]
    assert "Wait for the rehearsal" in \
        latest.get_body(("plain",)).get_content()
    assert [r["n_decisions"] for r in delivery.minutes_sends(cab_db)] == [2, 2]


def test_a_meeting_without_decisions_sends_no_minutes_and_names_another(
        cab_db, monkeypatch):
    """No decision recorded at the meeting asked for (a day mistyped):
    nothing is mailed or recorded, exit 1, and the meeting that has
    decisions is named."""
    decide(cab_db)
    said = []
    inbox = Inbox()
    with smtp_server(inbox) as server:
        mail_to(monkeypatch, server)
        assert delivery.send_minutes(cab_db, dt.date(2026, 1, 13),
                                     warn=said.append) == 1
    assert inbox.envelopes == [] and delivery.minutes_sends(cab_db) == []
    assert said == ["the minutes of Tue 13 Jan 2026 10:00: No decision was "
                    "recorded at this meeting. Decisions are recorded at the "
                    "meeting of Tue 20 Jan 2026 10:00 (UTC): run the minutes "
                    "for that day. Nothing sent."]


def test_a_refused_minutes_mail_is_recorded_failed_without_the_password(
        cab_db, monkeypatch, tmp_path):
    """A server that refuses for good, echoing the password: the failure
    is said and recorded, the password in neither; the next run tries
    again."""
    decide(cab_db)
    said = []
    options, ca_file = tls_options(tmp_path)
    inbox = Inbox(replies=[f"554 5.7.1 no thanks {USER} {PASSWORD}"])
    with smtp_server(inbox, **options) as server:
        mail_to(monkeypatch, server, CHANGEBOARD_SMTP_SECURITY="starttls",
                CHANGEBOARD_SMTP_CA_FILE=str(ca_file),
                CHANGEBOARD_SMTP_USER=USER,
                **{delivery.PASSWORD_ENV: PASSWORD})
        assert delivery.send_minutes(cab_db, MEETING, pdf=b"%PDF-1.4",
                                     warn=said.append) == 1
        assert delivery.send_minutes(cab_db, MEETING, pdf=b"%PDF-1.4",
                                     warn=said.append) == 0
    rows = delivery.minutes_sends(cab_db)
    assert [r["outcome"] for r in rows] == ["failed", "sent"]
    assert "554 5.7.1 no thanks mailer ***" in rows[0]["error"]
    assert said and all(PASSWORD not in line for line in said)
    assert PASSWORD not in Path(config.APP_DB).read_text("utf-8", "replace")
    assert len(inbox.envelopes) == 1


def test_minutes_send_takes_no_file_options(cab_db, capsys):
    from reports import __main__ as cli

    for extra, said in (
            (["--send", "--out", "m.pdf"], "--out does not go with --send"),
            (["--send", "--format", "pdf"], "--format does not go with "
             "--send"),
            (["--force", "--out", "m.pdf"], "--force goes with --send"),
            ([], "--out required (or --send)")):
        with pytest.raises(SystemExit) as stop:
            cli.main(["minutes", "--meeting", "2026-01-20", "--db",
                      str(cab_db), *extra])
        assert stop.value.code == 2
        assert said in capsys.readouterr().err


def test_minutes_send_of_an_unknown_snapshot_is_an_input_error(
        cab_db, monkeypatch, capsys):
    """`report minutes --send --as-of nosuch` printed a traceback and exited
    1, where `--out` says the snapshot is unknown and exits 2 (a review)."""
    from reports import __main__ as cli

    decide(cab_db)
    for name, value in (("HOST", "127.0.0.1"), ("PORT", "9"),
                        ("SECURITY", "none"), ("FROM", "cb@acme.test")):
        monkeypatch.setenv(f"CHANGEBOARD_SMTP_{name}", value)
    monkeypatch.setenv("CHANGEBOARD_CAB_RECIPIENTS", "cab@acme.test")
    assert cli.main(["minutes", "--meeting", "2026-01-20", "--db",
                     str(cab_db), "--send", "--as-of", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "Traceback" not in err, err
    assert delivery.minutes_sends(cab_db) == []
