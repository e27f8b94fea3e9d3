"""Fake ServiceNow Table API and Jira Cloud search servers for the API sync
tests: real HTTP servers on 127.0.0.1 in a thread, serving paged JSON in the
real shapes, with faults injected per request.

A fault is a callable `(request) -> action | None` tried in order; actions:
("status", code, headers, body), ("sleep", seconds) before answering,
("drop",) to close the connection mid-body, ("body", bytes) for a raw body.
A fault returning None passes the request on; `once(...)` wraps an action to
fire on the n-th matching request only.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse


@dataclass
class Request:
    path: str
    params: dict
    headers: dict


def once(action, *, path: str = "", nth: int = 1, when=None):
    """A fault firing `action` on the nth request whose path contains
    `path` (and that `when(request)` accepts)."""
    seen = {"n": 0}

    def fault(request: Request):
        if path not in request.path or (when and not when(request)):
            return None
        seen["n"] += 1
        return action if seen["n"] == nth else None
    return fault


def always(action, *, path: str = ""):
    return lambda request: action if path in request.path else None


class FakeServer:
    """The HTTP plumbing: faults, auth check, request log."""

    def __init__(self, *, token: str | None = None,
                 basic: tuple[str, str] | None = None):
        self.token, self.basic = token, basic
        self.faults: list = []
        self.log: list[Request] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                fake._serve(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # shutdown() waits for the loop's next poll: 50 ms, not 0.5 s
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _authorised(self, headers) -> bool:
        given = headers.get("Authorization", "")
        if self.token and given == f"Bearer {self.token}":
            return True
        if self.basic:
            expected = base64.b64encode(":".join(self.basic).encode()).decode()
            return given == f"Basic {expected}"
        return False

    def _serve(self, handler):
        parsed = urlparse(handler.path)
        params = {k: v[0] for k, v in parse_qs(parsed.query,
                                                keep_blank_values=True).items()}
        request = Request(parsed.path, params, dict(handler.headers))
        with self.lock:
            self.log.append(request)
            action = next((a for a in (f(request) for f in self.faults)
                           if a is not None), None)
        if action and action[0] == "sleep":
            time.sleep(action[1])
            action = None
        if not self._authorised(handler.headers):
            action = ("status", 401, {}, b'{"error": {"message": '
                      b'"User Not Authenticated"}}')
        if action is None:
            with self.lock:
                status, headers, body = self.answer(request)
        elif action[0] == "status":
            status, headers, body = action[1], action[2], action[3]
        elif action[0] == "body":
            status, headers, body = 200, {}, action[1]
        elif action[0] == "drop":
            with self.lock:
                _, headers, body = self.answer(request)
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[:len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        else:
            raise ValueError(action)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def answer(self, request: Request) -> tuple[int, dict, bytes]:
        raise NotImplementedError


# --- ServiceNow ----------------------------------------------------------------

REFERENCE = {"business_service", "cmdb_ci", "assignment_group", "requested_by",
             "caused_by"}
STATE_DISPLAY = {"-5": "New", "-4": "Assess", "-3": "Authorize",
                 "-2": "Scheduled", "-1": "Implement", "0": "Review",
                 "3": "Closed", "4": "Canceled"}


def sn_record(number: str, updated: str, **fields) -> dict:
    """A change_request in stored values (sys_updated_on UTC text)."""
    record = {"sys_id": f"id{number}", "number": number, "type": "normal",
              "state": "3", "risk": "4", "impact": "3", "priority": "4",
              "approval": "approved", "close_code": "successful",
              "short_description": f"Change {number}",
              "opened_at": "2026-01-05 09:00:00",
              "sys_updated_on": updated, "business_service": "Payments",
              "assignment_group": "Network"}
    record.update(fields)
    return record


def sn_incident(number: str, updated: str, **fields) -> dict:
    """An incident in stored values; caused_by holds the change's number
    (its display value; the stored value is a sys_id)."""
    record = {"sys_id": f"id{number}", "number": number,
              "short_description": f"Outage {number}", "priority": "2",
              "business_service": "Payments",
              "opened_at": "2026-03-01 08:00:00",
              "resolved_at": "2026-03-01 09:30:00", "caused_by": "",
              "sys_updated_on": updated}
    record.update(fields)
    return record


class FakeServiceNow(FakeServer):
    """/api/now/table/change_request with sysparm_query (sys_updated_on >=,
    <=, numberIN, ORDERBYsys_updated_on), fields, limit/offset, display
    values (false | all), Link rel=next and X-Total-Count."""

    def __init__(self, records: list[dict], table: str = "change_request",
                 **auth):
        super().__init__(**auth)
        self.records = records
        self.table = table
        self.after_page = None   # callable(offset) run after serving a page

    def answer(self, request: Request):
        if request.path != f"/api/now/table/{self.table}":
            return 404, {}, b'{"error": {"message": "No such table"}}'
        p = request.params
        rows = list(self.records)
        for part in p.get("sysparm_query", "").split("^"):
            if part.startswith("sys_updated_on>="):
                rows = [r for r in rows if r["sys_updated_on"] >= part[16:]]
            elif part.startswith("sys_updated_on<="):
                rows = [r for r in rows if r["sys_updated_on"] <= part[16:]]
            elif part.startswith("numberIN"):
                wanted = set(part[8:].split(","))
                rows = [r for r in rows if r["number"] in wanted]
            elif part.startswith("assignment_group="):
                rows = [r for r in rows if r.get("assignment_group") == part[17:]]
        rows.sort(key=lambda r: (r["sys_updated_on"], r["sys_id"]))
        limit = int(p.get("sysparm_limit", 10000))
        offset = int(p.get("sysparm_offset", 0))
        page = rows[offset:offset + limit]
        fields = [f for f in p.get("sysparm_fields", "").split(",") if f]
        shape = p.get("sysparm_display_value", "false")
        result = [self._shape(r, fields, shape) for r in page]
        headers = {"X-Total-Count": str(len(rows))}
        if offset + limit < len(rows):
            following = dict(p, sysparm_offset=str(offset + limit))
            headers["Link"] = (f'<{self.url}{request.path}?'
                               f'{urlencode(following)}>;rel="next"')
        if self.after_page:
            self.after_page(offset)
        return 200, headers, json.dumps({"result": result}).encode()

    @staticmethod
    def _shape(record: dict, fields: list[str], shape: str) -> dict:
        out = {}
        for name in fields or record:
            if name not in record:   # a field the table lacks is left out
                continue
            value = record[name]
            if shape == "all":
                shown = value
                if name == "state":
                    shown = STATE_DISPLAY.get(value, value)
                out[name] = {"display_value": shown, "value":
                             f"id-{value}" if name in REFERENCE else value}
            else:
                out[name] = value
        return out


# --- Jira ------------------------------------------------------------------

JIRA_FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False},
    {"id": "customfield_10010", "name": "Change type", "custom": True},
    {"id": "customfield_10011", "name": "Change risk", "custom": True},
    {"id": "customfield_10012", "name": "Change start date", "custom": True},
    {"id": "customfield_10013", "name": "Change completion date",
     "custom": True},
    {"id": "customfield_10014", "name": "Affected services", "custom": True},
]


def jira_issue(key: str, updated: str, status: str = "Completed",
               resolution: str | None = "Done", **fields) -> dict:
    """A change issue as /rest/api/3/search/jql returns it (updated: UTC
    `YYYY-MM-DD HH:MM:SS`, written with Jira's +0000 offset)."""
    stamp = updated.replace(" ", "T") + ".000+0000"
    body = {"summary": f"Change {key}", "issuetype": {"name": "Change"},
            "status": {"name": status},
            "resolution": {"name": resolution} if resolution else None,
            "created": "2026-01-05T09:00:00.000+0000", "updated": stamp,
            "resolutiondate": stamp if resolution else None,
            "priority": {"name": "Medium"},
            "reporter": {"displayName": "Ann Lee"},
            "fixVersions": [{"name": "2026.1"}],
            "customfield_10010": {"value": "Normal"},
            "customfield_10011": {"value": "Low"},
            "customfield_10014": [{"name": "Payments"}]}
    body.update(fields)
    return {"id": key.split("-")[-1], "key": key, "fields": body}


class FakeJira(FakeServer):
    """/rest/api/3/field and /rest/api/3/search/jql (Cloud, nextPageToken
    paging) and their /rest/api/2/ Data Center forms (startAt and total),
    with the JQL the sync writes (updated >= / < "yyyy-MM-dd HH:mm",
    key in (...)) and the fields parameter."""

    def __init__(self, issues: list[dict], versions: dict | None = None,
                 **auth):
        super().__init__(**auth)
        self.issues = issues
        self.versions = versions or {}   # project key -> version objects
        self.after_page = None

    def answer(self, request: Request):
        found = re.fullmatch(r"/rest/api/[23]/project/([^/]+)/versions",
                             request.path)
        if found:
            if found.group(1) not in self.versions:
                return 404, {}, b'{"errorMessages": ["No project could be ' \
                    b'found with key"]}'
            return 200, {}, json.dumps(self.versions[found.group(1)]).encode()
        if request.path in ("/rest/api/3/field", "/rest/api/2/field"):
            return 200, {}, json.dumps(JIRA_FIELDS).encode()
        cloud = request.path == "/rest/api/3/search/jql"
        if not cloud and request.path != "/rest/api/2/search":
            return 404, {}, b'{"errorMessages": ["Not found"]}'
        p = request.params
        jql = p.get("jql", "")
        rows = list(self.issues)

        def minute(issue):
            return issue["fields"]["updated"][:16].replace("T", " ")
        for op, value in re.findall(r'updated (>=|<) "([^"]+)"', jql):
            rows = [i for i in rows
                    if (minute(i) >= value if op == ">=" else minute(i) < value)]
        keys = re.search(r"key in \(([^)]*)\)", jql)
        if keys:
            wanted = set(re.findall(r'"([^"]+)"', keys.group(1)))
            rows = [i for i in rows if i["key"] in wanted]
        rows.sort(key=lambda i: (i["fields"]["updated"], i["key"]))
        size = int(p.get("maxResults", 50))
        start = int((p.get("nextPageToken", "0") if cloud
                     else p.get("startAt", "0")) or 0)
        page = rows[start:start + size]
        fields = [f for f in p.get("fields", "").split(",") if f]
        issues = [{**i, "fields": {k: v for k, v in i["fields"].items()
                                   if not fields or k in fields}}
                  for i in page]
        if "changelog" not in p.get("expand", ""):
            issues = [{k: v for k, v in i.items() if k != "changelog"}
                      for i in issues]
        body = {"issues": issues}
        if not cloud:   # Data Center: startAt, maxResults, total
            body.update(startAt=start, maxResults=size, total=len(rows))
        elif start + size < len(rows):
            body["nextPageToken"] = str(start + size)
        else:
            body["isLast"] = True
        if self.after_page:
            self.after_page(start)
        return 200, {}, json.dumps(body).encode()
