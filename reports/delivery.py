"""The CAB pack delivered before the meeting: `changeboard report cab --send`;
the minutes after it: `changeboard report minutes --send` (e-mail only, once
per meeting unless forced, recorded in `cab_minutes_sends`).

E-mail: an HTML body with the agenda and a link to the pack in the app, the
PDF attached, to the distribution list over SMTP (STARTTLS, implicit TLS or
plain; AUTH with a user and a password). Chat: the one-page agenda posted to
an incoming webhook in Slack or Teams form.

A failed attempt that may succeed later (no connection, a timeout, an SMTP 4xx
reply, HTTP 408, 429 or 5xx) is retried with exponential backoff; a
permanent refusal (SMTP 5xx, another HTTP 4xx, a certificate that fails
verification) is not. Every outcome is recorded per channel in the
application state (`cab_sends`, changeboard/appstate.py); a meeting's pack is
sent once per channel unless forced, so a cron re-run does not spam the list
and a channel that failed is tried again by the next run.

Secrets (the SMTP password, the webhook URL, which embeds a token) come from
the environment or secrets.toml, are sent only to their server, and never
reach a message, a log line or the database: messages are built without them
and scrubbed of them as a last line of defence.
"""
from __future__ import annotations

import base64
import fcntl
import html
import json
import logging
import os
import smtplib
import ssl
import sys
import time
import tomllib
import urllib.parse
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from changeboard import appstate, auth, config, db, decisions
from reports import cab, minutes
from reports.text import many

log = logging.getLogger("changeboard.delivery")

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_ITEMS = 10  # agenda lines in a chat post; the e-mail lists AGENDA_LINES
SECURITIES = ("starttls", "tls", "none")
FORMS = ("slack", "teams")
PASSWORD_ENV = "CHANGEBOARD_SMTP_PASSWORD"
WEBHOOK_ENV = "CHANGEBOARD_CAB_WEBHOOK_URL"
SECRETS_SECTION = "cab_delivery"  # [cab_delivery] in secrets.toml
# how a send went: the columns every record of sends ends with
SENT = """
    attempts integer not null,
    outcome text not null check (outcome in ('sent', 'failed')),
    error text,                    -- without secrets
    sent_at text not null,         -- UTC, ISO 8601
    sent_by text not null          -- auth.cli_actor()
);"""
SCHEMA = """
create table if not exists cab_sends (
    send_id integer primary key,
    meeting_at text not null,      -- the meeting instant, ISO 8601
    scope text not null,           -- filters and window end, JSON ('{}')
    channel text not null check (channel in ('email', 'webhook')),
    destination text not null,     -- 'N recipients' or the webhook's origin
    n_recipients integer,""" + SENT + """
create index if not exists cab_sends_meeting
    on cab_sends (meeting_at, scope, channel);
"""


class SettingError(ValueError):
    """A delivery setting that cannot work; the message names it."""


class _Transient(Exception):
    """An attempt that failed and may succeed later."""


class _Permanent(Exception):
    """An attempt refused in a way a retry would not change."""


class SendFailed(Exception):
    def __init__(self, message: str, attempts: int):
        super().__init__(message)
        self.attempts = attempts


# --- settings and credentials ---------------------------------------------

def _secret_files() -> list[Path]:
    """secrets.toml files in Streamlit's places: ~/.streamlit, the clone's."""
    return [p for p in (Path.home() / ".streamlit" / "secrets.toml",
                        ROOT / ".streamlit" / "secrets.toml") if p.is_file()]


def credential(env_name: str, key: str) -> str:
    """A credential from the environment, else [cab_delivery] `key` of a
    secrets.toml; '' when neither has it."""
    value = os.environ.get(env_name, "")
    if value:
        return value
    for path in _secret_files():
        try:
            section = tomllib.loads(path.read_text()).get(SECRETS_SECTION, {})
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise SettingError(f"{path}: cannot read it "
                               f"({type(exc).__name__})") from None
        if section.get(key):
            return str(section[key])
    return ""


def _number(name: str, kind=int, minimum=0):
    text = config.env(name).strip()
    try:
        value = kind(text)
    except ValueError:
        raise SettingError(f"{name}: {text!r} is not a number") from None
    if value < minimum:
        raise SettingError(f"{name}: must be at least {minimum}, got {text}")
    return value


def _address(name: str, text: str) -> str:
    """The address of `ann@acme.com` or `Ann <ann@acme.com>`; an error for
    several (`ann@acme.com; bo@acme.com`, as Outlook separates them), of
    which the first alone would be read and the others dropped unsaid."""
    several = [a for _, a in getaddresses([text]) if a]
    if len(several) > 1:
        raise SettingError(
            f"{name}: {text.strip()!r} holds {len(several)} addresses; "
            "separate addresses with commas")
    found = parseaddr(text)[1]
    if "@" not in found or any(c.isspace() or ord(c) < 32 for c in found):
        raise SettingError(f"{name}: {text.strip()!r} is not an e-mail "
                           "address")
    return found


def _named(name: str, address: str) -> Address | None:
    """The header address of a display name and an address ('Changeboard
    <cb@acme.example>'); None without a name."""
    if not name.strip():
        return None
    user, domain = address.rsplit("@", 1)
    return Address(display_name=name.strip(), username=user, domain=domain)


def _pieces(text: str) -> list[str]:
    """`text` cut at the commas that separate an RFC 5322 address list: not
    those in a "quoted, display name", a (comment) or an <address>."""
    pieces, start, quoted, escaped, depth, angle = [], 0, False, False, 0, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = c != '"'
        elif c == '"' and not depth:
            quoted = True
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif depth:
            continue
        elif c in "<>":
            angle = c == "<"
        elif c == "," and not angle:
            pieces.append(text[start:i])
            start = i + 1
    return [*pieces, text[start:]]


def _recipients(name: str, text: str) -> tuple[Address, ...]:
    """The addresses of an address list as a To header holds one, each with
    its display name: `ann@acme.com, "Lee, Ann" <ann.lee@acme.com>`. Each
    piece is parsed as email.utils.getaddresses parses it, and must be one
    address: an error names the variable and that piece alone."""
    found = []
    for piece in _pieces(text):
        if not piece.strip():
            continue
        shown = piece.strip()
        if any(ord(c) < 32 or ord(c) == 127 for c in piece):
            raise SettingError(f"{name}: {shown!r} holds a control character")
        address = _address(name, piece)
        display = next((n for n, a in getaddresses([piece]) if a == address),
                       "")
        local, _, domain = address.rpartition("@")
        if not local or not domain or address not in piece:
            # getaddresses reads 'ann@acme.com Ann' as 'ann@acme.comAnn'
            raise SettingError(f"{name}: {shown!r} is not an e-mail address")
        try:
            found.append(Address(display_name=display, addr_spec=address))
        except (ValueError, IndexError):  # HeaderParseError is a ValueError
            raise SettingError(f"{name}: {shown!r} is not an e-mail "
                               "address") from None
    return tuple(found)


@dataclass(frozen=True)
class Retry:
    attempts: int = 4
    base_delay: float = 5.0  # seconds; doubled after each failed attempt
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls) -> Retry:
        return cls(attempts=_number("CHANGEBOARD_SEND_ATTEMPTS", int, 1),
                   base_delay=_number("CHANGEBOARD_SEND_RETRY_DELAY", float))

    def delay(self, failed: int) -> float:
        """The wait after the `failed`-th failed attempt: base, 2x, 4x, ..."""
        return self.base_delay * 2 ** (failed - 1)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str
    user: str
    password: str = field(repr=False)
    sender: str
    recipients: tuple[str, ...]  # the envelope's: addresses alone
    ca_file: str
    timeout: float
    to: tuple[Address, ...] = ()  # the To header's: with display names
    # the From header's, with its display name ('Changeboard <cb@…>');
    # None: the sender address alone
    from_header: Address | None = None

    @classmethod
    def from_settings(cls) -> Smtp | None:
        """The SMTP settings, None when CHANGEBOARD_SMTP_HOST is not set."""
        host = config.env("CHANGEBOARD_SMTP_HOST").strip()
        if not host:
            return None
        security = config.env("CHANGEBOARD_SMTP_SECURITY").strip().lower()
        if security not in SECURITIES:
            raise SettingError("CHANGEBOARD_SMTP_SECURITY: "
                               f"{security!r} is not one of "
                               f"{', '.join(SECURITIES)}")
        to = _recipients("CHANGEBOARD_CAB_RECIPIENTS",
                         config.env("CHANGEBOARD_CAB_RECIPIENTS"))
        if not to:
            raise SettingError("CHANGEBOARD_CAB_RECIPIENTS: no address to send "
                               "the CAB pack to (comma-separated e-mails)")
        sender = config.env("CHANGEBOARD_SMTP_FROM")
        if not sender.strip():
            raise SettingError("CHANGEBOARD_SMTP_FROM: the sender address is "
                               "not set")
        user = config.env("CHANGEBOARD_SMTP_USER").strip()
        password = credential(PASSWORD_ENV, "smtp_password") if user else ""
        if user and not password:
            raise SettingError(f"CHANGEBOARD_SMTP_USER is set but no password: "
                               f"set {PASSWORD_ENV} (or smtp_password in "
                               f"[{SECRETS_SECTION}] of secrets.toml)")
        for name, value in (("CHANGEBOARD_SMTP_USER", user),
                            (PASSWORD_ENV, password)):
            if not value.isascii():  # smtplib's AUTH sends ASCII only
                raise SettingError(
                    f"{name}: holds a character outside ASCII, which SMTP "
                    "authentication cannot send; use an ASCII user name and "
                    "password (an app password, for instance)")
        if user and security == "none" and not auth.is_loopback(host):
            raise SettingError(
                "CHANGEBOARD_SMTP_SECURITY is none with a user: the password "
                f"would cross the network in clear to {host}; use starttls "
                "or tls")
        ca_file = config.env("CHANGEBOARD_SMTP_CA_FILE").strip()
        if ca_file and not Path(ca_file).is_file():
            raise SettingError(f"CHANGEBOARD_SMTP_CA_FILE: no file {ca_file}")
        return cls(host=host, port=_number("CHANGEBOARD_SMTP_PORT", int, 1),
                   security=security, user=user, password=password,
                   sender=(address := _address("CHANGEBOARD_SMTP_FROM",
                                               sender)),
                   from_header=_named(parseaddr(sender)[0], address),
                   recipients=tuple(a.addr_spec for a in to), to=to,
                   ca_file=ca_file,
                   timeout=_number("CHANGEBOARD_SEND_TIMEOUT", float, 1))

    def secrets(self) -> list[str]:
        if not self.password:
            return []
        plain = f"\0{self.user}\0{self.password}".encode()
        return [self.password, base64.b64encode(plain).decode(),
                base64.b64encode(self.password.encode()).decode()]


@dataclass(frozen=True)
class Webhook:
    url: str = field(repr=False)
    form: str
    timeout: float

    @classmethod
    def from_settings(cls, url: str | None = None) -> Webhook | None:
        """The chat webhook: `url` (--webhook) or the credential; None if
        neither is given."""
        url = (url or credential(WEBHOOK_ENV, "webhook_url")).strip()
        if not url:
            return None
        form = config.env("CHANGEBOARD_CAB_WEBHOOK_FORM").strip().lower()
        if form not in FORMS:
            raise SettingError(f"CHANGEBOARD_CAB_WEBHOOK_FORM: {form!r} is not "
                               f"one of {', '.join(FORMS)}")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise SettingError("the webhook URL is not an http(s) URL")
        if parts.scheme == "http" and not auth.is_loopback(parts.hostname):
            raise SettingError(
                f"the webhook URL for {parts.hostname} is http: it carries a "
                "token, so it must be https")
        return cls(url=url, form=form,
                   timeout=_number("CHANGEBOARD_SEND_TIMEOUT", float, 1))

    @property
    def shown(self) -> str:
        """The URL's origin only: its path and query hold the token."""
        parts = urllib.parse.urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}/…"

    def secrets(self) -> list[str]:
        parts = urllib.parse.urlsplit(self.url)
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        pieces = [p for p in parts.path.split("/") if len(p) >= 12]
        return [self.url, tail, urllib.parse.quote(self.url, safe=""),
                parts.query, *pieces]


class Scrubber:
    def __init__(self, secrets):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3},
                              key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


# --- what is sent ------------------------------------------------------------

def app_link(pack: cab.Pack) -> str:
    """The pack's page in the app, '' when CHANGEBOARD_PUBLIC_URL is not set:
    its meeting and its window's end, the default (the next meeting) too:
    the replicas may be set to other CAB weekdays than this job, and a
    link without `until` opened their window, not the one mailed."""
    base = config.env("CHANGEBOARD_PUBLIC_URL").strip().rstrip("/")
    if not base:
        return ""
    tz = ZoneInfo(pack.reporting_tz)
    # the day when the window ends at its CAB time, else the instant: the
    # page reads a day at the CAB time, and must open this window
    query = {"meeting": f"{pack.meeting_at.astimezone(tz):%Y-%m-%d}",
             "until": cab.window_end_text(pack.window_end_at)}
    return f"{base}/cab?{urllib.parse.urlencode(query)}"


def meeting_label(pack: cab.Pack) -> str:
    return f"{cab.when(pack.meeting_at, pack.reporting_tz)} ({pack.reporting_tz})"


def subject(pack: cab.Pack) -> str:
    """'CAB pack: Tue 20 Jan 2026 10:00 (UTC), 3 changes for decision',
    naming the day the data ends when that is before the pack's days (a
    pack of 0 changes read as a quiet week)."""
    n = len(pack.agenda)
    return (f"CAB pack: {meeting_label(pack)}, {n} change"
            f"{'' if n == 1 else 's'} for decision" + (
                f" (the data ends {pack.data_ends:%d %b %Y})"
                if pack.data_ends else ""))


def _top(pack: cab.Pack, limit: int) -> list[dict]:
    return cab.agenda_lines(pack, limit, cab.AGENDA_TITLE_CHARS).to_dict(
        "records")


TD = 'style="border:1px solid #ccc;padding:2px 6px;text-align:left"'


def email_html(pack: cab.Pack, link: str) -> str:
    """The e-mail body: counts, the agenda (the pack's first AGENDA_LINES
    lines) and the link; inline styles only (mail clients drop the rest)."""
    e = html.escape
    counts = " · ".join(f"<b>{n}</b> {e(label)}"
                        for label, n in cab.headline(pack))
    lines = cab.agenda_lines(pack, cab.AGENDA_LINES, cab.AGENDA_TITLE_CHARS)
    if lines.empty:
        agenda = "<p><i>No change needs a CAB decision in this window.</i></p>"
    else:
        head = "".join(f'<th scope="col" {TD}>{e(c)}</th>'
                       for c in lines.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td {TD}>{e(str(v))}</td>" for v in row)
            + "</tr>" for row in lines.itertuples(index=False))
        agenda = ('<table style="border-collapse:collapse;font-size:10pt">'
                  f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody>"
                  "</table>")
        if len(pack.agenda) > len(lines):
            agenda += (f"<p>The first {len(lines):,} of {len(pack.agenda):,} "
                       "changes for decision; the attached PDF details the "
                       f"first {cab.DETAIL_LIMIT}.</p>")
    open_link = (f'<p><a href="{e(link, quote=True)}">Open the CAB pack in '
                 "Changeboard</a></p>" if link else "")
    meta = dict(cab.provenance(pack))
    stale = cab.stale_note(pack)
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:10.5pt">'
        f"<h2>CAB pack — {e(meeting_label(pack))}</h2>"
        + (f'<p style="background:#B34700;color:#fff;padding:4px 8px">'
           f"<b>{e(stale)}</b></p>" if stale else "")
        + f"<p>Review window {e(meta['Review window'])} · filters: "
        f"{e(meta['Filters'])} · data as of {e(meta['Data as of'])}</p>"
        f"<p>{counts}</p>{open_link}<h3>Agenda</h3>{agenda}"
        "<p>The full pack (evidence, releases going live, since last CAB) is "
        "attached as a PDF.</p></body></html>\n")


def email_text(pack: cab.Pack, link: str) -> str:
    """The plain-text alternative of the body: what the HTML says (the
    window, filters and data as of; each agenda line's flags), in text."""
    meta = dict(cab.provenance(pack))
    lines = [f"CAB pack — {meeting_label(pack)}",
             f"Review window {meta['Review window']} · filters: "
             f"{meta['Filters']} · data as of {meta['Data as of']}", ""]
    stale = cab.stale_note(pack)
    lines += [stale, ""] if stale else []
    lines += [f"{n} {label}" for label, n in cab.headline(pack)]
    lines += ["", f"Open the CAB pack: {link}"] if link else []
    lines += ["", "Agenda:"]
    top = _top(pack, cab.AGENDA_LINES)
    lines += [f"{r['#']}. {r['Change']}  {r['Risk']}  {r['Planned start']}  "
              f"{r['Title']}" + (f"  [{r['Flags']}]" if r["Flags"] else "")
              for r in top] or [
        "No change needs a CAB decision in this window."]
    if len(pack.agenda) > len(top):
        lines += [f"The first {len(top):,} of {len(pack.agenda):,} changes "
                  "for decision; the attached PDF details the first "
                  f"{cab.DETAIL_LIMIT}."]
    return "\n".join(lines + ["", "The full pack is attached as a PDF."]) + "\n"


def email_message(pack: cab.Pack, smtp: Smtp, pdf: bytes,
                  link: str) -> EmailMessage:
    return message(smtp, subject(pack), email_text(pack, link),
                   email_html(pack, link), pdf,
                   f"cab-pack-{meeting_day(pack)}.pdf")


def meeting_day(pack: cab.Pack) -> str:
    """The meeting's day in the pack's zone, as a file name holds it."""
    return f"{pack.meeting_at.astimezone(ZoneInfo(pack.reporting_tz)):%Y-%m-%d}"


def message(smtp: Smtp, title: str, text: str, body: str, pdf: bytes,
            filename: str) -> EmailMessage:
    """An e-mail to the distribution list: a plain-text and an HTML body,
    and the PDF attached as `filename`."""
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = smtp.from_header or smtp.sender
    msg["To"] = smtp.to or ", ".join(smtp.recipients)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[1])
    msg.set_content(text)
    msg.add_alternative(body, subtype="html")
    msg.add_attachment(pdf, maintype="application", subtype="pdf",
                       filename=filename)
    # its own headers folded only past RFC 5322's 998 characters (its parts,
    # encoded as they were made, stay 7-bit): folded at 78, the subject
    # went on a line of its own after 'Subject:', which some readers keep
    # as a leading space
    msg.policy = policy.default.clone(max_line_length=998)
    return msg


def _slack_text(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams_text(text: str) -> str:
    """Adaptive Card TextBlocks read Markdown: data is shown, not run."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~" else c
                   for c in text)


def webhook_payload(pack: cab.Pack, form: str, link: str) -> dict:
    """The one-page agenda: meeting, counts, the first WEBHOOK_ITEMS changes
    for decision and the link, as a Slack or a Teams (Adaptive Card) post."""
    title = f"CAB pack — {meeting_label(pack)}"
    stale = cab.stale_note(pack)
    counts = cab.headline(pack)
    top = _top(pack, WEBHOOK_ITEMS)
    more = len(pack.agenda) - len(top)
    if form == "slack":
        esc = _slack_text
        items = "\n".join(
            f"{r['#']}. `{esc(r['Change'])}` {esc(r['Title'])} "
            f"({esc(r['Risk'])}, {esc(r['Planned start'])})" for r in top) \
            or "No change needs a CAB decision in this window."
        if more > 0:
            items += f"\n… and {more:,} more"
        blocks = [
            {"type": "header", "text": {"type": "plain_text",
                                        "text": cab.shorten(title, 150)}},
            *([{"type": "section", "text": {"type": "mrkdwn",
                                            "text": f"*{esc(stale)}*"}}]
              if stale else []),
            {"type": "section", "text": {"type": "mrkdwn", "text": " · ".join(
                f"*{n}* {esc(label)}" for label, n in counts)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": items}},
        ]
        if link:
            blocks.append({"type": "section", "text": {
                "type": "mrkdwn",
                "text": f"<{link}|Open the CAB pack in Changeboard>"}})
        return {"text": esc(subject(pack)), "blocks": blocks}
    esc = _teams_text
    body = [
        {"type": "TextBlock", "text": esc(title), "size": "Large",
         "weight": "Bolder", "wrap": True},
        *([{"type": "TextBlock", "text": esc(stale), "wrap": True,
            "color": "Attention", "weight": "Bolder"}] if stale else []),
        {"type": "FactSet", "facts": [{"title": label, "value": str(n)}
                                      for label, n in counts]},
    ]
    body += [{"type": "TextBlock", "wrap": True, "spacing": "Small",
              "text": f"{r['#']}\\. **{esc(r['Change'])}** {esc(r['Title'])} "
                      f"({esc(r['Risk'])}, {esc(r['Planned start'])})"}
             for r in top] or [{"type": "TextBlock", "wrap": True,
                                "text": "No change needs a CAB decision in "
                                        "this window\\."}]
    if more > 0:
        body.append({"type": "TextBlock", "text": f"… and {more:,} more",
                     "wrap": True, "isSubtle": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body}
    if link:
        card["actions"] = [{"type": "Action.OpenUrl",
                            "title": "Open the CAB pack in Changeboard",
                            "url": link}]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None, "content": card}]}


# --- sending, with retries -----------------------------------------------------

def _reply(code: int, message) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{code} {' '.join(str(message).split())}"


def _smtp_once(msg: EmailMessage, smtp: Smtp) -> dict:
    """One attempt: connect, secure, log in, send; the refused recipients."""
    where = f"SMTP {smtp.host}:{smtp.port}"
    try:
        context = ssl.create_default_context(cafile=smtp.ca_file or None)
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port,
                                      timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        try:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if smtp.user and not client.has_extn("auth"):
                raise _Permanent(
                    f"{where}: the server offers no AUTH"
                    + (" before STARTTLS: set CHANGEBOARD_SMTP_SECURITY to "
                       "starttls or tls" if smtp.security == "none" else "")
                    + ", or unset CHANGEBOARD_SMTP_USER if it takes mail "
                    "without signing in")
            if smtp.user:
                client.login(smtp.user, smtp.password)
            refused = client.send_message(msg, from_addr=smtp.sender,
                                          to_addrs=list(smtp.recipients))
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        return refused
    except smtplib.SMTPNotSupportedError:
        raise _Permanent(f"{where}: the server does not offer STARTTLS "
                         "(set CHANGEBOARD_SMTP_SECURITY)") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise _Permanent(f"{where}: authentication as {smtp.user} refused "
                         f"({_reply(exc.smtp_code, exc.smtp_error)})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{who}: {_reply(code, why)}"
                         for who, (code, why) in exc.recipients.items())
        error = _Transient if all(400 <= c < 500 for c in codes) else \
            _Permanent
        raise error(f"{where}: every recipient refused ({text})") from None
    except smtplib.SMTPResponseException as exc:
        error = _Transient if 400 <= exc.smtp_code < 500 else _Permanent
        raise error(f"{where}: {_reply(exc.smtp_code, exc.smtp_error)}"
                    ) from None
    except ssl.SSLCertVerificationError as exc:
        raise _Permanent(f"{where}: the server's certificate failed "
                         f"verification ({exc.verify_message}; "
                         "CHANGEBOARD_SMTP_CA_FILE names a CA)") from None
    except ssl.SSLError as exc:
        # TLS spoken to a port that awaits plain text, or the reverse: the
        # same on every try (WRONG_VERSION_NUMBER, a wrong security mode)
        if exc.reason in ("WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING",
                          "HTTP_REQUEST", "UNKNOWN_PROTOCOL"):
            raise _Permanent(
                f"{where}: no TLS handshake ({exc.reason}): "
                f"CHANGEBOARD_SMTP_SECURITY is {smtp.security}; a port "
                "that starts in plain text (often 587 or 25) takes starttls, "
                "one that starts in TLS (often 465) takes tls") from None
        raise _Transient(f"{where}: SSLError: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        detail = str(exc).strip() or type(exc).__name__
        raise _Transient(f"{where}: {type(exc).__name__}: {detail}") from None


class _ScrubRecords(logging.Filter):
    """Scrubs secrets from a library's log records (urllib3 logs each
    request's path at DEBUG: a webhook's path is its token)."""

    def __init__(self, scrub: Scrubber):
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        return True


def _post_once(payload: dict, hook: Webhook) -> None:
    where = f"webhook {hook.shown}"
    session = requests.Session()
    session.trust_env = False  # no .netrc credentials or proxies
    urllib3_log = logging.getLogger("urllib3.connectionpool")
    scrub = _ScrubRecords(Scrubber(hook.secrets()))
    urllib3_log.addFilter(scrub)
    try:
        response = session.post(hook.url, json=payload, timeout=hook.timeout,
                                 allow_redirects=False)
    except requests.Timeout:
        raise _Transient(f"{where}: no answer within {hook.timeout:g} s"
                         ) from None
    except requests.RequestException as exc:  # its text holds the URL
        raise _Transient(f"{where}: connection failed "
                         f"({type(exc).__name__})") from None
    finally:
        session.close()
        urllib3_log.removeFilter(scrub)
    status = response.status_code
    if 200 <= status < 300:
        return
    said = " ".join(response.text.split())[:200]
    text = f"{where}: HTTP {status}" + (f" ({said})" if said else "")
    if status in (408, 429) or status >= 500:
        raise _Transient(text)
    raise _Permanent(text)


def with_retries(attempt: Callable[[], object], retry: Retry,
                 scrub: Scrubber, note: Callable[[str], None]):
    """attempt() until it succeeds, a permanent error, or retry.attempts;
    returns (its result, attempts made) or raises SendFailed."""
    for n in range(1, retry.attempts + 1):
        try:
            return attempt(), n
        except _Permanent as exc:
            raise SendFailed(scrub(f"{exc} (not retried: a retry would "
                                   "fail the same way)"), n) from None
        except _Transient as exc:
            error = scrub(str(exc))
        # said and logged once the unscrubbed error is no longer being
        # handled: a log handler that fails prints the exception in hand
        # ('--- Logging error ---' and its traceback, on stderr), which
        # showed a server's echo of the password
        if n == retry.attempts:
            raise SendFailed(f"{error}; gave up after {n} attempt"
                             f"{'' if n == 1 else 's'}", n)
        wait = retry.delay(n)
        note(f"{error}; attempt {n} of {retry.attempts} failed, retrying "
             f"in {wait:g} s")
        log.info("%s; retrying in %g s", error, wait)
        retry.sleep(wait)
    raise AssertionError("unreachable")


def mail(msg: EmailMessage, smtp: Smtp, retry: Retry, scrub: Scrubber,
         warn: Callable[[str], None]) -> tuple[int, str]:
    """Send msg with retries: (attempts made, the recipients refused as
    text, '' for none, said on warn); raises SendFailed."""
    refused, attempts = with_retries(lambda: _smtp_once(msg, smtp), retry,
                                     scrub, warn)
    error = "; ".join(f"{who} refused: {_reply(code, why)}"
                      for who, (code, why) in refused.items())
    if refused:
        warn(f"e-mail: {scrub(error)}")
    return attempts, error


# --- the record of sends -----------------------------------------------------

def scope_of(pack_filters: dict, window_end_at) -> str:
    scope = {k: sorted(v) for k, v in sorted(pack_filters.items()) if v}
    if window_end_at is not None:
        scope["window_end"] = str(window_end_at)
    return json.dumps(scope, sort_keys=True)


def last_sent(db_path, meeting_at: datetime, scope: str,
              channel: str) -> tuple | None:
    """(sent_at, sent_by, destination) of this meeting's successful send on
    the channel, None if there is none."""
    with appstate.connect(db_path, SCHEMA, write=False) as con:
        return con.execute(
            "select sent_at, sent_by, destination from cab_sends where "
            "meeting_at = ? and scope = ? and channel = ? and outcome = "
            "'sent' order by send_id desc limit 1",
            (meeting_at.isoformat(), scope, channel)).fetchone()


def record(db_path, meeting_at: datetime, scope: str, channel: str, *,
           destination: str, n_recipients: int | None, attempts: int,
           outcome: str, error: str | None) -> None:
    _insert(db_path, SCHEMA, "cab_sends", {
        "meeting_at": meeting_at.isoformat(), "scope": scope,
        "channel": channel, "destination": destination,
        "n_recipients": n_recipients, "attempts": attempts,
        "outcome": outcome, "error": error})


def _insert(db_path, schema: str, table: str, row: dict) -> None:
    """Record a send in `table` (one of this module's, named here: no
    identifier comes from outside; the values are bound), with when and by
    whom."""
    row = {**row, "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "sent_by": auth.cli_actor()}
    with appstate.connect(db_path, schema) as con:
        con.execute(f"insert into {table} ({', '.join(row)}) values "  # noqa: S608
                    f"({', '.join('?' * len(row))})", tuple(row.values()))


def _rows(db_path, schema: str, table: str) -> list[dict]:
    with appstate.connect(db_path, schema, write=False) as con:
        cursor = con.execute(f"select * from {table} order by send_id")  # noqa: S608
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def sends(db_path) -> list[dict]:
    """Every recorded send, oldest first."""
    return _rows(db_path, SCHEMA, "cab_sends")


# --- the run -------------------------------------------------------------------

CHANNEL_NAMES = {"email": "e-mail", "webhook": "chat post"}


def _say(text: str) -> None:
    print(text, flush=True)


def _warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def send(db_path, meeting_at: datetime, *, filters: dict | None = None,
         window_end_at=None, webhook_url: str | None = None,
         force: bool = False, retry: Retry | None = None,
         pdf: bytes | None = None, say=_say, warn=_warn) -> int:
    """Send the pack of the meeting by e-mail and/or to the chat webhook,
    each once; the exit status (0 sent or already sent, 1 a failure, 2 no
    database at db_path)."""
    scrub = Scrubber([])
    try:
        smtp = Smtp.from_settings()
        hook = Webhook.from_settings(webhook_url)
        scrub = Scrubber([*(smtp.secrets() if smtp else []),
                          *(hook.secrets() if hook else [])])
        retry = retry or Retry.from_settings()
    except SettingError as exc:
        warn(scrub(str(exc)))
        return 1
    channels = {"email": smtp, "webhook": hook}
    channels = {k: v for k, v in channels.items() if v is not None}
    if not channels:
        warn("nothing to send to: set CHANGEBOARD_SMTP_HOST, "
             "CHANGEBOARD_SMTP_FROM and CHANGEBOARD_CAB_RECIPIENTS for "
             f"e-mail, and/or {WEBHOOK_ENV} (or --webhook URL) for a chat "
             "post")
        return 1
    if db.version(db_path) is None:  # an input error, as for every command
        warn(f"no database at {db_path}")
        return 2
    meeting_at = cab.instant(meeting_at)
    with _one_run(db_path, say):
        return _send(db_path, meeting_at, channels, scope_of(
            filters or {}, window_end_at), filters=filters,
            window_end_at=window_end_at, force=force, retry=retry,
            scrub=scrub, pdf=pdf, say=say, warn=warn)


@contextmanager
def _one_run(db_path, say):
    """One send at a time per database, the pack's or the minutes': a run
    that overlaps another (two cron lines, a manual run) waits for it,
    then finds what it sent."""
    state = appstate.path_for(db_path)
    path = state.with_name(state.name + ".send-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("waiting for another send (`report cab --send` or `report "
                "minutes --send`) to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _send(db_path, meeting_at, channels, scope, *, filters, window_end_at,
          force, retry, scrub, pdf, say, warn) -> int:
    when = cab.when(meeting_at)
    pending = {}
    for channel, target in channels.items():
        done = None if force else last_sent(db_path, meeting_at, scope,
                                            channel)
        if done:
            # when it was sent as the pack writes an instant, in its zone
            # ('Mon 19 Jan 2026 16:00 (UTC)'), not the record's ISO text
            say(f"{CHANNEL_NAMES[channel]} of the CAB pack for {when} already "
                f"sent to {done[2]} at {cab.when(done[0])} "
                f"({config.REPORTING_TZ}) by {done[1]}: nothing to do "
                "(--force sends it again)")
        else:
            pending[channel] = target
    if not pending:
        return 0
    pack = cab.build_pack(db_path, meeting_at, window_end_at=window_end_at,
                          filters=filters)
    stale = cab.stale_note(pack)
    if stale:  # sent as it is, saying so first: a cron's log shows it too
        warn(f"warning: {stale}")
    link = app_link(pack)
    status = 0
    for channel, target in pending.items():
        if channel == "email":
            destination = many(len(target.recipients), "recipient")
            n_recipients = len(target.recipients)
        else:
            destination, n_recipients = target.shown, None
        try:
            if channel == "email":
                if pdf is None:
                    pdf = cab.pdf_bytes(pack)
                attempts, error = mail(email_message(pack, target, pdf, link),
                                       target, retry, scrub, warn)
            else:
                payload = webhook_payload(pack, target.form, link)
                _, attempts = with_retries(
                    lambda p=payload, t=target: _post_once(p, t), retry,
                    scrub, warn)
                error = ""
        except SendFailed as exc:
            record(db_path, meeting_at, scope, channel,
                   destination=destination, n_recipients=n_recipients,
                   attempts=exc.attempts, outcome="failed", error=str(exc))
            warn(f"{CHANNEL_NAMES[channel]} of the CAB pack for {when} "
                 f"failed: {exc}")
            status = 1
            continue
        except Exception as exc:  # noqa: BLE001 -- recorded, not lost
            # Chromium could not print the PDF (RuntimeError), or a failure
            # nothing foresaw: recorded as failed, and the next channel tried
            text = scrub(str(exc) if isinstance(exc, RuntimeError)
                         else f"{type(exc).__name__}: {exc}")
            record(db_path, meeting_at, scope, channel,
                   destination=destination, n_recipients=n_recipients,
                   attempts=0, outcome="failed", error=text)
            warn(f"{CHANNEL_NAMES[channel]} of the CAB pack for {when} "
                 f"failed: {text}")
            status = 1
            continue
        record(db_path, meeting_at, scope, channel, destination=destination,
               n_recipients=n_recipients, attempts=attempts, outcome="sent",
               error=scrub(error) or None)
        say(f"{CHANNEL_NAMES[channel]} of the CAB pack for {when} sent to "
            f"{destination} ({many(len(pack.agenda), 'change')} for decision, "
            f"{attempts} attempt{'' if attempts == 1 else 's'})")
    return status


# --- the minutes, after the meeting ------------------------------------------

MINUTES_SCHEMA = """
create table if not exists cab_minutes_sends (
    send_id integer primary key,
    meeting_at text not null,      -- the meeting instant, ISO 8601
    decisions_until text not null, -- the decision log's position mailed
    n_decisions integer not null,  -- changes decided in the minutes mailed
    destination text not null,     -- 'N recipients'
    n_recipients integer not null,""" + SENT + """
create index if not exists cab_minutes_sends_meeting
    on cab_minutes_sends (meeting_at, send_id);
"""
MINUTES_COLUMNS = ["#", "Change", "Title", "Decision", "Note", "Decided by"]


def minutes_subject(found) -> str:
    """'CAB minutes: Tue 20 Jan 2026 10:00 (UTC), 3 changes decided:
    2 approved, 1 rejected' (the decisions in the form's order)."""
    tally = found.decisions["Decision"].value_counts()
    said = ", ".join(f"{tally[label]} {label.lower()}"
                     for label in decisions.DECISIONS.values()
                     if label in tally)
    return (f"CAB minutes: {meeting_label(found.pack)}, "
            f"{many(len(found.decisions), 'change')} decided: {said}")


def _minutes_rows(found) -> list[dict]:
    return minutes.dashed(found.decisions)[MINUTES_COLUMNS].to_dict("records")


def minutes_html(found, link: str) -> str:
    """The minutes' e-mail body: who attended, every decision with its
    conditions or reasons (what each change's owner acts on) and the
    link; the PDF holds the rest (earlier decisions, the changes not
    decided, the provenance)."""
    e = html.escape
    head = "".join(f'<th scope="col" {TD}>{e(c)}</th>'
                   for c in MINUTES_COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td {TD}>{e(str(r[c]))}</td>"
                                    for c in MINUTES_COLUMNS) + "</tr>"
                   for r in _minutes_rows(found))
    people = "; ".join(found.attendees) or "not recorded"
    open_link = (f'<p><a href="{e(link, quote=True)}">Open the meeting in '
                 "Changeboard</a></p>" if link else "")
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:10.5pt">'
        f"<h2>CAB minutes — {e(meeting_label(found.pack))}</h2>"
        f"<p>{e(minutes.counted(found))} · data as of "
        f"{e(dict(cab.provenance(found.pack))['Data as of'])}</p>"
        f"<p><b>Attendees ({len(found.attendees)}):</b> {e(people)}</p>"
        f"{open_link}<h3>Decisions</h3>"
        '<table style="border-collapse:collapse;font-size:10pt">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        "<p>The minutes are attached as a PDF, with the decisions replaced "
        "since first recorded, the agenda changes not decided and how the "
        "minutes were made.</p></body></html>\n")


def minutes_text(found, link: str) -> str:
    """The plain-text alternative: what the HTML says, in text."""
    lines = [f"CAB minutes — {meeting_label(found.pack)}",
             f"{minutes.counted(found)} · data as of "
             f"{dict(cab.provenance(found.pack))['Data as of']}", "",
             f"Attendees ({len(found.attendees)}): "
             + ("; ".join(found.attendees) or "not recorded")]
    lines += ["", f"Open the meeting: {link}"] if link else []
    lines += ["", "Decisions:"]
    lines += [f"{r['#']}. {r['Change']}  {r['Title']}: {r['Decision']}"
              + (f" ({r['Note']})" if r["Note"] else "")
              + f", by {r['Decided by']}" for r in _minutes_rows(found)]
    return "\n".join(lines + ["", "The minutes are attached as a PDF."]) \
        + "\n"


def last_minutes_sent(db_path, meeting_at: datetime) -> tuple | None:
    """(sent_at, sent_by, destination, decisions_until) of the meeting's
    minutes mailed last, None if they never were."""
    with appstate.connect(db_path, MINUTES_SCHEMA, write=False) as con:
        return con.execute(
            "select sent_at, sent_by, destination, decisions_until from "
            "cab_minutes_sends where meeting_at = ? and outcome = 'sent' "
            "order by send_id desc limit 1",
            (meeting_at.isoformat(),)).fetchone()


def minutes_sends(db_path) -> list[dict]:
    """Every recorded send of minutes, oldest first."""
    return _rows(db_path, MINUTES_SCHEMA, "cab_minutes_sends")


def _record_minutes(db_path, found, smtp: Smtp, *, attempts: int,
                    outcome: str, error: str | None) -> None:
    _insert(db_path, MINUTES_SCHEMA, "cab_minutes_sends", {
        "meeting_at": found.meeting_at.isoformat(),
        "decisions_until": found.until, "n_decisions": len(found.decisions),
        "destination": many(len(smtp.recipients), "recipient"),
        "n_recipients": len(smtp.recipients), "attempts": attempts,
        "outcome": outcome, "error": error})


def _since(db_path, meeting_at: datetime, until: str) -> str:
    """What was recorded at the meeting after the log position `until`:
    '2 decisions and the attendees', '' for nothing."""
    n = len(decisions.history(db_path, meeting_at)) - len(
        decisions.history(db_path, meeting_at, until=until))
    moved = decisions.attendance(db_path, meeting_at) != \
        decisions.attendance(db_path, meeting_at, until=until)
    said = [many(n, "decision")] if n else []
    return " and ".join(said + (["the attendees"] if moved else []))


def send_minutes(db_path, meeting, *, as_of: str | None = None,
                 until: str | None = None, force: bool = False,
                 retry: Retry | None = None, pdf: bytes | None = None,
                 say=_say, warn=_warn) -> int:
    """E-mail the minutes of the meeting (the PDF attached) to the CAB's
    distribution list, once unless forced; the exit status (0 sent or
    already sent, 1 a failure or no decision to send, 2 no database)."""
    scrub = Scrubber([])
    try:
        smtp = Smtp.from_settings()
        scrub = Scrubber(smtp.secrets() if smtp else [])
        retry = retry or Retry.from_settings()
    except SettingError as exc:
        warn(scrub(str(exc)))
        return 1
    if smtp is None:
        warn("nothing to send to: set CHANGEBOARD_SMTP_HOST, "
             "CHANGEBOARD_SMTP_FROM and CHANGEBOARD_CAB_RECIPIENTS")
        return 1
    if db.version(db_path) is None:
        warn(f"no database at {db_path}")
        return 2
    meeting_at = cab.instant(meeting)
    when = cab.when(meeting_at)
    with _one_run(db_path, say):
        done = None if force else last_minutes_sent(db_path, meeting_at)
        if done:
            since = _since(db_path, meeting_at, done[3])
            say(f"e-mail of the CAB minutes for {when} already sent to "
                f"{done[2]} at {cab.when(done[0])} ({config.REPORTING_TZ}) "
                f"by {done[1]}: " + (
                    f"{since} recorded since; --force sends the minutes as "
                    "they stand now" if since else
                    "nothing to do (--force sends them again)"))
            return 0
        found = minutes.build_for(db_path, meeting_at, as_of=as_of,
                                  until=until)
        if found.decisions.empty:
            warn(f"the minutes of {when}: {minutes.no_decision(found)} "
                 "Nothing sent.")
            return 1
        try:
            attempts, error = mail(message(
                smtp, minutes_subject(found),
                minutes_text(found, app_link(found.pack)),
                minutes_html(found, app_link(found.pack)),
                pdf if pdf is not None else minutes.pdf_bytes(found),
                f"cab-minutes-{meeting_day(found.pack)}.pdf"),
                smtp, retry, scrub, warn)
        except Exception as exc:  # noqa: BLE001 -- recorded, not lost
            failed = isinstance(exc, SendFailed)
            text = str(exc) if failed else scrub(
                str(exc) if isinstance(exc, RuntimeError)
                else f"{type(exc).__name__}: {exc}")
            _record_minutes(db_path, found, smtp, outcome="failed",
                            error=text,
                            attempts=exc.attempts if failed else 0)
            warn(f"e-mail of the CAB minutes for {when} failed: {text}")
            return 1
        _record_minutes(db_path, found, smtp, attempts=attempts,
                        outcome="sent", error=scrub(error) or None)
        say(f"e-mail of the CAB minutes for {when} sent to "
            f"{many(len(smtp.recipients), 'recipient')} "
            f"({many(len(found.decisions), 'change')} decided, {attempts} "
            f"attempt{'' if attempts == 1 else 's'})")
        return 0
