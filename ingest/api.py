"""What the API sources share: a retrying HTTP client and the incremental,
resumable sync that feeds API records through a file adapter into the loader.

A sync reads pages ordered by update time from just before the watermark,
commits them every `commit_every` records as ingest_batches (file_name = the
endpoint), then checks the ids the server holds in the range it read against
what is stored and fetches any that offset paging skipped. Only a sync that
gets through all of that moves the watermark (api_syncs.watermark_at). A sync
that fails keeps what it committed and the watermark; the next run resumes from
its last committed record (api_syncs.cursor_at). See docs/api.md.
"""
from __future__ import annotations

import base64
import contextlib
import csv
import email.utils
import fcntl
import hashlib
import html
import json
import logging
import os
import random
import re
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import requests

from changeboard import auth, config, db
from changeboard.words import many

from . import checks, frames, schema
from .checks import q
from .loader import Loaded, load_into

log = logging.getLogger("changeboard.ingest.api")

OVERLAP = timedelta(minutes=10)   # re-read before the watermark; upserts absorb it
COMMIT_EVERY = 10_000             # records per committed batch
STAMP = "%Y-%m-%d %H:%M:%S"       # UTC instants as the sync compares them


class ApiError(Exception):
    """A request or sync that failed; the message never holds a secret."""


# --- the client -------------------------------------------------------------

@dataclass
class Retry:
    """When and how long to retry (docs/sources.md section 3)."""

    backoff: tuple[float, ...] = (1, 2, 4, 8, 16)   # 5xx, timeouts, drops
    max_wait: float = 15 * 60          # seconds of waiting before giving up
    max_rate_limited: int = 30         # 429 answers in a row
    jitter: float = 0.25               # +- share of each backoff step
    timeout: tuple[float, float] = (10.0, 60.0)     # connect, read (seconds)
    sleep: Callable[[float], None] = time.sleep


def token_from(variable: str) -> str:
    """An API token from the environment, without white space around it:
    no token begins or ends with any, and one read from a file saved on
    Windows ends in CR LF."""
    return os.environ.get(variable, "").strip()


class SyncError(Exception):
    """A sync failed in a way no branch foresaw (a bug): raised with the
    original exception's type and message, scrubbed of credentials."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Answer:
    data: object
    headers: dict
    links: dict


class Client:
    """GET JSON from one API with retries; credentials go in headers only.

    `secrets` are scrubbed from every message as a last line of defence; the
    messages are built without them in the first place.
    """

    def __init__(self, base_url: str, *, name: str, auth=None,
                 headers: dict | None = None, retry: Retry | None = None,
                 secrets: Iterable[str] = (), credentials_hint: str = ""):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.retry = retry or Retry()
        self.session = requests.Session()
        self.session.auth = auth
        self.session.trust_env = False   # no .netrc credentials, no proxies
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": "changeboard-ingest"})
        self.session.headers.update(headers or {})
        # requests refuses such a header with the value in its message
        if any(_CONTROL.search(str(value))
               for value in self.session.headers.values()):
            raise ApiError(f"{name}: the credentials hold a line break or a "
                           f"control character; check {credentials_hint}")
        # the token, the password, user:password and the whole Authorization
        # header value, each in every encoding a server might echo it in
        given = [*secrets, self.session.headers.get("Authorization", "")]
        if isinstance(auth, tuple) and len(auth) == 2:
            given += [auth[1], f"{auth[0]}:{auth[1]}"]
        self.secrets = sorted({form for secret in given if secret
                               for form in _encodings(str(secret)) if form},
                              key=len, reverse=True)
        self.credentials_hint = credentials_hint
        self.requests = 0
        parts = urllib.parse.urlsplit(self.base_url)
        self.origin = _origin(parts)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def get(self, path_or_url: str, params: dict | None = None) -> Answer:
        """GET a path of the API, or a URL it named (a paging link) if that
        URL is on the configured scheme, host and port: credentials go
        nowhere else."""
        url = (path_or_url if "://" in path_or_url
               else self.base_url + path_or_url)
        shown = _shown(url)
        target = _origin(urllib.parse.urlsplit(url))
        if target != self.origin:
            raise ApiError(
                f"{self.name}: refused to follow a link to "
                f"{self.scrub(_shown_origin(target))}: not the configured "
                f"{_shown_origin(self.origin)} (credentials are sent only "
                "there)")
        retry = self.retry
        waited, failures, limited = 0.0, 0, 0
        while True:
            try:
                return self._once(url, params, shown)
            except ApiError as exc:  # the server's words are scrubbed too
                raise ApiError(self.scrub(str(exc))) from None
            except _Retryable as exc:
                error = self.scrub(str(exc))
                if exc.retry_after is not None and "429" in error:
                    limited += 1
                    wait = exc.retry_after
                    if limited > retry.max_rate_limited:
                        raise ApiError(
                            f"{error}; gave up after "
                            f"{many(limited, 'rate-limited answer')}") \
                            from None
                else:
                    if failures >= len(retry.backoff):
                        raise ApiError(f"{error}; gave up after "
                                       f"{many(failures + 1, 'attempt')}") \
                            from None
                    step = retry.backoff[failures]
                    wait = step * (1 + random.uniform(-retry.jitter,
                                                      retry.jitter))
                    if exc.retry_after is not None:
                        wait = max(wait, exc.retry_after)
                    failures += 1
                if waited + wait > retry.max_wait:
                    raise ApiError(f"{error}; gave up after waiting "
                                   f"{waited:.0f} s") from None
                log.warning("%s; retrying in %.1f s", error, wait)
                retry.sleep(wait)
                waited += wait

    def _once(self, url: str, params, shown: str) -> Answer:
        self.requests += 1
        what = f"{self.name} GET {shown}"
        try:
            response = self.session.get(url, params=params,
                                        timeout=self.retry.timeout)
            body = response.content   # a connection dropped mid-body raises here
        except requests.Timeout:
            raise _Retryable(f"{what}: no answer within "
                             f"{self.retry.timeout[1]:g} s") from None
        except (requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            raise _Retryable(f"{what}: connection failed "
                             f"({type(exc).__name__})") from None
        status = response.status_code
        log.info("%s -> %s (%d bytes)", what, status, len(body))
        if status == 429 or status >= 500:
            after = _retry_after(response.headers.get("Retry-After"))
            if status == 429 and after is None:
                after = self.retry.backoff[0]
            raise _Retryable(f"{what}: HTTP {status} "
                             f"{self.scrub(str(response.reason))}", after)
        if status in (401, 403):
            raise ApiError(f"{what}: HTTP {status} {response.reason}: the "
                           f"credentials were refused; check "
                           f"{self.credentials_hint}")
        if status >= 400:
            raise ApiError(f"{what}: HTTP {status} {response.reason}"
                           + _server_message(body, self.scrub))
        try:
            data = json.loads(body)
        except ValueError:
            # scrubbed before it is cut: no secret survives half-shown
            start = self.scrub(body[:4096].decode("utf-8", "replace"))[:60]
            raise _Retryable(f"{what}: the answer is not JSON "
                             f"(starts {start!r})") from None
        return Answer(data, dict(response.headers), response.links)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _encodings(secret: str) -> set[str]:
    """A secret as text, base64 (standard and URL-safe, with and without
    padding), percent-encoded, JSON- and HTML-escaped and hex."""
    data = secret.encode("utf-8")
    forms = {secret, urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1],
             html.escape(secret), data.hex(), data.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        coded = encode(data).decode("ascii")
        forms |= {coded, coded.rstrip("=")}
    return forms


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:   # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _shown_origin(origin: tuple[str, str, int | None]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}"


def _shown(url: str) -> str:
    """The URL without its query string (credentials never go in URLs)."""
    return url.split("?", 1)[0]


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds, from a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _server_message(body: bytes, scrub) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    found = []
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            found += [error.get("message"), error.get("detail")]
        found += list(data.get("errorMessages") or [])
        found += list((data.get("errors") or {}).values())
    text = "; ".join(str(f) for f in found if f)
    return f": {scrub(text)[:300]}" if text else ""


# --- the sync ---------------------------------------------------------------

@dataclass
class Synced:
    """What one sync run did (also its api_syncs row)."""

    source: str
    endpoint: str
    sync_id: int
    status: str = "running"          # running, succeeded, failed
    since_at: str | None = None
    cursor_at: str | None = None
    watermark_at: str | None = None
    pages: int = 0
    records_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    batches: list[Loaded] = field(default_factory=list)
    fetched_again: int = 0           # skipped by paging, found by the key check
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_by: str = field(default_factory=auth.cli_actor)  # api_syncs.run_by


class Api:
    """One API endpoint; ServiceNow and Jira implement these."""

    source: str          # rows' and batches' source, as for their files
    endpoint: str        # ingest_batches.file_name and api_syncs.endpoint
    options: dict        # the file adapter's options (site overrides)
    table: str = "changes"          # the canonical table loaded
    id_column: str = "change_id"    # its primary key
    client: Client
    total: int | None = None   # records the server says match, if it says

    def pages(self, since: str | None) -> Iterator[list[dict]]:
        raise NotImplementedError

    def keys(self, since: str | None, until: str) -> Iterator[tuple[str, str]]:
        """(key, updated) of every record updated in [since, until]."""
        raise NotImplementedError

    def fetch(self, keys: list[str]) -> list[dict]:
        raise NotImplementedError

    def key(self, record: dict) -> str:
        raise NotImplementedError

    def updated(self, record: dict) -> str | None:
        """The record's update time, UTC, as STAMP text."""
        raise NotImplementedError

    def row_id(self, key: str) -> str:
        """The stored primary key of a record's key (with any id prefix)."""
        prefix = self.options.get("id_prefix")
        return f"{prefix}{key}" if prefix else key

    def frame(self, records: list[dict], con) -> pd.DataFrame:
        """Canonical rows through the source's file adapter; `con` is the
        database being loaded, for an Api that reads what is stored."""
        raise NotImplementedError


def last_syncs(db_path, source: str, endpoint: str) -> tuple[
        dict | None, dict | None, int]:
    """The last succeeded run, a later unfinished or failed one, and the
    next sync id."""
    path = Path(db_path)
    if not path.exists():
        return None, None, 1
    with db.connect(path, read_only=True) as con:
        next_id = con.execute("select coalesce(max(sync_id), 0) + 1 "
                              "from api_syncs").fetchone()[0]
        found = con.execute(
            "select sync_id, status, strftime(since_at, $f) as since_at, "
            "strftime(cursor_at, $f) as cursor_at, "
            "strftime(watermark_at, $f) as watermark_at from api_syncs "
            "where source = $s and endpoint = $e order by sync_id desc",
            {"s": source, "e": endpoint, "f": STAMP})
        names = [d[0] for d in found.description]
        runs = [dict(zip(names, row, strict=True)) for row in found.fetchall()]
    last = next((r for r in runs if r["status"] == "succeeded"), None)
    later = [r for r in runs if r["sync_id"] > (last["sync_id"] if last else -1)]
    return last, (later[0] if later else None), next_id


def _minus_overlap(stamp: str | None) -> str | None:
    if not stamp:
        return None
    return (datetime.strptime(stamp, STAMP) - OVERLAP).strftime(STAMP)


def sync(api: Api, db_path=None, *, since: str | None = None,
         full: bool = False, commit_every: int = COMMIT_EVERY,
         progress: Callable[[Synced], None] | None = None) -> Synced:
    """Read what changed since the watermark and load it; never raises for
    an API failure (the result says `failed` and why). Syncs into one
    database run one at a time: a second waits for the first."""
    db_path = Path(db_path or config.DB_PATH)
    with _one_sync_at_a_time(db_path):
        return _sync(api, db_path, since=since, full=full,
                     commit_every=commit_every, progress=progress)


@contextlib.contextmanager
def _one_sync_at_a_time(db_path: Path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with open(db_path.with_name(db_path.name + ".sync.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _sync(api: Api, db_path: Path, *, since, full, commit_every,
          progress) -> Synced:
    last, unfinished, sync_id = last_syncs(db_path, api.source, api.endpoint)
    watermark = last["watermark_at"] if last else None
    # after a failed or interrupted run, resume where its last commit ended
    resume = (unfinished or {}).get("cursor_at") or watermark
    if full:
        start = check_from = None
    elif since is not None:
        start = check_from = since
    else:
        start = _minus_overlap(resume)
        check_from = _minus_overlap(watermark) if last else None
    run = Synced(api.source, api.endpoint, sync_id,
                 since_at=start, watermark_at=watermark)
    pending: dict[str, dict] = {}
    highest = None

    def take(records):
        nonlocal highest
        for record in records:
            key = api.key(record)
            stamp = api.updated(record)
            old = pending.get(key)
            if old is None or (api.updated(old) or "") <= (stamp or ""):
                pending[key] = record
            if stamp and (highest is None or stamp > highest):
                highest = stamp

    bug = None  # a failure no branch foresaw: its traceback, scrubbed
    try:
        for records in api.pages(start):
            run.pages += 1
            run.records_read += len(records)
            take(records)
            if len(pending) >= commit_every:
                _commit(api, db_path, run, pending)
            if progress:
                progress(run)
        if highest is not None:
            missing = _missing(api, db_path, check_from, highest, pending)
            for chunk in range(0, len(missing), 50):
                found = api.fetch(missing[chunk:chunk + 50])
                run.fetched_again += len(found)
                run.records_read += len(found)
                take(found)
        run.status = "succeeded"
        if highest is not None and (watermark is None or highest > watermark):
            run.watermark_at = highest
        _commit(api, db_path, run, pending)
    except ApiError as exc:
        run.status, run.error = "failed", api.client.scrub(str(exc))
    except Exception as exc:
        run.status = "failed"
        run.error = api.client.scrub(f"{type(exc).__name__}: {exc}")
        bug = api.client.scrub("".join(traceback.format_exception(exc)))
    # a failure is logged, stored and raised once its unscrubbed exception
    # is no longer being handled: a log handler that fails prints the
    # exception in hand on stderr, and an error raised here would carry it
    # as its context
    if run.status == "failed" and bug is None:
        log.error("%s sync %d failed: %s", api.source, run.sync_id, run.error)
        _commit(api, db_path, run, pending)
    elif run.status == "failed":
        _commit(api, db_path, run, pending)
        # a bug is raised again, not passed off as a failed sync; but its
        # message may hold a credential, so its traceback is logged
        # scrubbed and the error raised again without the original
        log.error("%s sync %d failed: %s", api.source, run.sync_id, bug)
        raise SyncError(run.error)
    if progress:
        progress(run)
    return run


def _missing(api: Api, db_path: Path, since, until, pending) -> list[str]:
    """Keys the server holds in [since, until] that neither this run read
    nor the database has at that update time (skipped by offset paging)."""
    server = dict(api.keys(since, until))
    todo = {k: u for k, u in server.items()
            if k not in pending or (api.updated(pending[k]) or "") < (u or "")}
    if not todo or not db_path.exists():
        return sorted(todo)
    ids = {api.row_id(k): k for k in todo}
    # a table without updated_at cannot say a stored row is current: fetch
    dated = "updated_at" in schema.describe(api.table).columns
    with db.connect(db_path, read_only=True) as con:
        # identifiers come from the Api class, never from input
        stored = con.execute(
            f"select {q(api.id_column)}, "  # noqa: S608
            + ("strftime(updated_at, $f)" if dated else "null::varchar")
            + f" from {q(api.table)} where source = $s and "
            f"{q(api.id_column)} in (select unnest($ids))",
            {"s": api.source, "ids": list(ids)} | (
                {"f": STAMP} if dated else {})).fetchall()
    for row_id, updated in stored:
        key = ids[row_id]
        if updated is not None and updated >= (todo[key] or ""):
            del todo[key]
    return sorted(todo)


def _commit(api: Api, db_path: Path, run: Synced, pending: dict) -> None:
    """Load the pending records as one batch and write the run's row, in one
    publish; the records are forgotten once committed. Should the batch's
    direct insert run out under its memory cap, the publish is made again
    without the cap (checks.CapTooSmall: nothing of the first was kept)."""
    try:
        _publish_batch(api, db_path, run, pending, capped=True)
    except checks.CapTooSmall:
        _publish_batch(api, db_path, run, pending, capped=False)


def _publish_batch(api: Api, db_path: Path, run: Synced, pending: dict, *,
                   capped: bool) -> None:
    records = list(pending.values())
    stamps = [s for s in map(api.updated, records) if s]
    with db.publish(db_path) as con:
        if records:
            frame = api.frame(records, con)
            frames.batch(frame).source = api.source
            text = json.dumps(records, sort_keys=True, default=str)
            loaded = load_into(con, frame, file_name=api.endpoint,
                               sha256=hashlib.sha256(text.encode()).hexdigest(),
                               loaded_by=run.run_by, capped=capped)
            run.batches.append(loaded)
            run.rows_loaded += loaded.rows_loaded
            run.rows_rejected += loaded.rows_rejected
            if stamps and (run.cursor_at is None or max(stamps) > run.cursor_at):
                run.cursor_at = max(stamps)
        _record(con, run)
    pending.clear()


def _record(con, run: Synced) -> None:
    values = {"id": run.sync_id, "source": run.source,
              "endpoint": run.endpoint, "started": run.started_at,
              "status": run.status, "since": _instant(run.since_at),
              "cursor": _instant(run.cursor_at),
              "watermark": _instant(run.watermark_at)
              if run.status == "succeeded" else None,
              "pages": run.pages, "read": run.records_read,
              "loaded": run.rows_loaded, "rejected": run.rows_rejected,
              "batches": len(run.batches), "error": run.error,
              "by": run.run_by,
              # now: current_timestamp is the publish's start, before the
              # run's own start on a first commit
              "finished": datetime.now(UTC)}
    con.execute("delete from api_syncs where sync_id = $id", {"id": run.sync_id})
    con.execute(
        "insert into api_syncs (sync_id, source, endpoint, started_at, "
        "finished_at, status, since_at, cursor_at, watermark_at, pages, "
        "records_read, rows_loaded, rows_rejected, batches, error, run_by) "
        "values ($id, $source, $endpoint, $started, case when $status = "
        "'running' then null else $finished end, $status, $since, "
        "$cursor, $watermark, $pages, $read, $loaded, $rejected, $batches, "
        "$error, $by)",
        values)


def _instant(stamp: str | None):
    return None if not stamp else datetime.strptime(stamp, STAMP).replace(
        tzinfo=UTC)


def read_through(read: Callable, header: list[str], rows: list[list[str]],
                 records: list[dict], options: dict) -> pd.DataFrame:
    """Write rows as a UTF-8 CSV export and read it with a file adapter's
    `read`, so API and file loads map the same way; row_number becomes the
    record's position in the batch and raw_record the API record."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "api.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        frame = read(path, options={**options, "encoding": ["utf-8"]})
    if len(frame) == len(records):
        frame["row_number"] = range(1, len(records) + 1)
        frame["raw_record"] = [json.dumps(r, ensure_ascii=False, default=str)
                               for r in records]
    frames.batch(frame).rows_read = len(records)
    return frame


def text(value) -> str:
    """A JSON scalar as export text: 3, "3" and 3.0 all give "3"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
