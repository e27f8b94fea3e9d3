"""Jira REST search for change issues, incrementally (docs/sources.md section 5),
mapped by the CSV export adapter (ingest/jira.py).

Cloud: `/rest/api/3/search/jql`, paged by nextPageToken. Data Center:
`/rest/api/2/search`, paged by startAt/total. Credentials come from the
environment and go only into request headers: CHANGEBOARD_JIRA_EMAIL +
CHANGEBOARD_JIRA_TOKEN (Cloud API token, basic auth), or
CHANGEBOARD_JIRA_TOKEN alone (a Data Center personal access token, bearer).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from changeboard import config

from . import canonical, jira
from .api import (
    STAMP,
    Api,
    ApiError,
    Client,
    Retry,
    read_through,
    text,
    token_from,
)

SOURCE = "jira"
SEARCH_PATH = "/rest/api/3/search/jql"
FIELD_PATH = "/rest/api/3/field"
DC_SEARCH_PATH = "/rest/api/2/search"   # Data Center: offset paging
DC_FIELD_PATH = "/rest/api/2/field"
PAGE_SIZE = 100
FETCH_CHUNK = 50
CREDENTIALS = "CHANGEBOARD_JIRA_EMAIL + CHANGEBOARD_JIRA_TOKEN"
# the export's column -> the REST field (standard fields by id)
STANDARD = {
    "Issue key": "key", "Summary": "summary", "Issue Type": "issuetype",
    "Status": "status", "Resolution": "resolution", "Created": "created",
    "Updated": "updated", "Resolved": "resolutiondate",
    "Priority": "priority", "Reporter": "reporter",
    "Fix versions": "fixVersions",
}
# custom fields, resolved by name through GET /rest/api/3/field
CUSTOM = ("Change type", "Change risk", "Change reason", "Change start date",
          "Planned start", "Change completion date", "Planned end", "Impact",
          "Affected services")
INSTANT_COLUMNS = {"Created", "Updated", "Resolved",
                   "Custom field (Change start date)",
                   "Custom field (Planned start)",
                   "Custom field (Change completion date)",
                   "Custom field (Planned end)"}
# status transitions in the changelog that give approval and actual times
APPROVAL_STATUS, IMPLEMENTING_STATUS = "awaiting approval", "implementing"


def is_cloud() -> bool:
    """Cloud when an account email is given; a token alone is Data Center's."""
    return bool(os.environ.get("CHANGEBOARD_JIRA_EMAIL", ""))


def client(url: str | None = None, retry: Retry | None = None) -> Client:
    base = (url if url is not None else config.env("CHANGEBOARD_JIRA_URL"))
    base = base.strip().rstrip("/")
    if not base:
        raise ApiError("no Jira URL: set CHANGEBOARD_JIRA_URL (e.g. "
                       "https://acme.atlassian.net)")
    if "://" not in base:
        base = "https://" + base
    email = os.environ.get("CHANGEBOARD_JIRA_EMAIL", "")
    token = token_from("CHANGEBOARD_JIRA_TOKEN")
    if not token:
        raise ApiError(f"no Jira credentials: set {CREDENTIALS} (or "
                       "CHANGEBOARD_JIRA_TOKEN alone for a Data Center token)")
    if email:
        auth, headers = (email, token), {}
    else:
        auth, headers = None, {"Authorization": f"Bearer {token}"}
    return Client(base, name="Jira", auth=auth, headers=headers, retry=retry,
                  secrets=(token,), credentials_hint=CREDENTIALS)


def check_jql(jql: str) -> str:
    jql = jql.strip()
    if not jql:
        raise ApiError("empty JQL: set CHANGEBOARD_JIRA_JQL or --jql")
    if re.search(r"\border\s+by\b", jql, re.I):
        raise ApiError("JQL: leave out ORDER BY: the sync orders by updated")
    return jql


class JiraApi(Api):
    source = SOURCE

    def __init__(self, client: Client, *, jql: str | None = None,
                 options: dict | None = None, page_size: int = PAGE_SIZE,
                 cloud: bool = True):
        self.client = client
        self.jql = check_jql(jql if jql is not None
                             else config.env("CHANGEBOARD_JIRA_JQL"))
        self.options = dict(options or {})
        self.page_size = page_size
        self.cloud = cloud
        self.search_path = SEARCH_PATH if cloud else DC_SEARCH_PATH
        self.field_path = FIELD_PATH if cloud else DC_FIELD_PATH
        self.endpoint = client.base_url + self.search_path
        self._custom: dict[str, str] | None = None
        self.last_total: int | None = None

    def custom_fields(self) -> dict[str, str]:
        """Custom field name -> id (`customfield_10005`), for CUSTOM names."""
        if self._custom is None:
            answer = self.client.get(self.field_path)
            if not isinstance(answer.data, list):
                raise ApiError(f"Jira GET {self.client.base_url}"
                               f"{self.field_path}: "
                               "the answer is not a list of fields")
            wanted = {name.casefold(): name for name in CUSTOM}
            self._custom = {}
            for item in answer.data:
                name = str(item.get("name", ""))
                if item.get("custom") and name.casefold() in wanted:
                    self._custom.setdefault(wanted[name.casefold()],
                                            str(item.get("id")))
        return self._custom

    def _fields(self) -> str:
        ids = [f for f in STANDARD.values() if f != "key"]
        return ",".join([*ids, *self.custom_fields().values()])

    def _search(self, jql: str, fields: str, expand: bool) -> Iterator[
            list[dict]]:
        params = {"jql": jql, "fields": fields, "maxResults": self.page_size}
        if expand:
            params["expand"] = "changelog"
        if not self.cloud:
            params["startAt"] = 0
        total = None
        while True:
            answer = self.client.get(self.search_path, params)
            data = answer.data if isinstance(answer.data, dict) else {}
            issues = data.get("issues")
            if not isinstance(issues, list):
                raise ApiError(f"Jira GET {self.endpoint}: the answer has no "
                               "`issues` list")
            if not self.cloud and isinstance(data.get("total"), int):
                total = self.last_total = data["total"]
            yield issues
            if self.cloud:
                token = data.get("nextPageToken")
                if not token or data.get("isLast"):
                    return
                params = {**params, "nextPageToken": token}
            else:
                # advance by the page asked for: a page can come back short
                following = params["startAt"] + self.page_size
                if following >= (total or 0):
                    return
                params = {**params, "startAt": following}

    def _jql(self, *bounds: str) -> str:
        where = " AND ".join(b for b in bounds if b)
        return (f"({self.jql})" + (f" AND {where}" if where else "")
                + " ORDER BY updated ASC, key ASC")

    def pages(self, since: str | None) -> Iterator[list[dict]]:
        for page in self._search(self._jql(_bound(">=", since)),
                                 self._fields(), expand=True):
            self.total = self.last_total   # Data Center says; Cloud does not
            yield page

    def keys(self, since: str | None, until: str) -> Iterator[tuple[str, str]]:
        # JQL compares minutes: the upper bound is the next minute
        after = datetime.strptime(until, STAMP) + timedelta(minutes=1)
        jql = self._jql(_bound(">=", since),
                        _bound("<", after.strftime(STAMP)))
        for page in self._search(jql, "updated", expand=False):
            for issue in page:
                yield self.key(issue), self.updated(issue)

    def fetch(self, keys: list[str]) -> list[dict]:
        quoted = ", ".join('"' + k.replace('"', "") + '"' for k in keys)
        found = []
        for page in self._search(f"key in ({quoted})", self._fields(),
                                 expand=True):
            found += page
        return found

    def key(self, record: dict) -> str:
        return str(record.get("key", "")).strip()

    def updated(self, record: dict) -> str | None:
        return _utc((record.get("fields") or {}).get("updated"))

    def frame(self, records: list[dict], con=None):
        custom = self.custom_fields()
        single = [(c, f) for c, f in STANDARD.items() if c != "Fix versions"]
        single += [(f"Custom field ({n})", custom[n]) for n in CUSTOM
                   if n in custom and n != "Affected services"]
        # multi-valued fields repeat their header, as in the CSV export
        multi = [("Fix versions", "fixVersions")]
        if "Affected services" in custom:
            multi.append(("Custom field (Affected services)",
                          custom["Affected services"]))
        lists = [[_values((r.get("fields") or {}).get(f)) for r in records]
                 for _, f in multi]
        widths = [max([1, *map(len, values)]) for values in lists]
        header = [c for c, _ in single] + [
            c for (c, _), w in zip(multi, widths, strict=True) for _ in range(w)]
        rows = []
        for n, record in enumerate(records):
            fields = record.get("fields") or {}
            row = []
            for column, field_id in single:
                shown = _one(record.get("key") if field_id == "key"
                             else fields.get(field_id))
                if column in INSTANT_COLUMNS:
                    shown = _utc(shown) or shown
                row.append(shown)
            for values, width in zip(lists, widths, strict=True):
                row += (values[n] + [""] * width)[:width]
            rows.append(row)
        options = {**self.options, "date_format": STAMP, "timezone": "UTC"}
        frame = read_through(jira.read, header, rows, records, options)
        if len(frame) == len(records):
            times = [_changelog_times(r) for r in records]
            for column in ("approved_at", "actual_start_at", "actual_end_at"):
                found = [t.get(column) for t in times]
                if any(found):
                    frame[column] = found
        return frame


def _bound(operator: str, stamp: str | None) -> str:
    if not stamp:
        return ""
    minute = datetime.strptime(stamp, STAMP).strftime("%Y-%m-%d %H:%M")
    return f'updated {operator} "{minute}"'


def _one(value) -> str:
    """A field's text: selects {"value"}, users {"displayName"}, named
    objects {"name"}; a list gives its first."""
    if isinstance(value, list):
        return _one(value[0]) if value else ""
    if isinstance(value, dict):
        for key in ("value", "name", "displayName", "key"):
            if key in value:
                return text(value[key]).strip()
        return ""
    return text(value).strip()


def _values(value) -> list[str]:
    if isinstance(value, list):
        return [v for v in (_one(item) for item in value) if v]
    one = _one(value)
    return [one] if one else []


def _utc(value) -> str | None:
    """Jira's `2024-03-12T15:15:00.000+0000` as UTC STAMP text; None if it
    is not such a time (the adapter then rejects the text as found)."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.astimezone(UTC).strftime(STAMP)
    return None


def _changelog_times(record: dict) -> dict[str, str]:
    """approved_at (leaving Awaiting approval, unless declined),
    actual_start_at / actual_end_at (entering / leaving Implementing) from
    the issue's status history (the first such transition)."""
    histories = ((record.get("changelog") or {}).get("histories")) or []
    out: dict[str, str] = {}
    for history in sorted(histories, key=lambda h: str(h.get("created", ""))):
        when = _iso(_utc(history.get("created")))
        if when is None:
            continue
        for item in history.get("items") or []:
            if item.get("field") != "status":
                continue
            before = str(item.get("fromString") or "").casefold()
            after = str(item.get("toString") or "").casefold()
            if before == APPROVAL_STATUS and after not in ("declined",
                                                           "canceled",
                                                           "cancelled"):
                out.setdefault("approved_at", when)
            if after == IMPLEMENTING_STATUS:
                out.setdefault("actual_start_at", when)
            if before == IMPLEMENTING_STATUS:
                out.setdefault("actual_end_at", when)
    return out


def _iso(stamp: str | None) -> str | None:
    return None if stamp is None else stamp.replace(" ", "T") + "Z"


class JiraVersionsApi(Api):
    """Fix versions of Jira projects as releases (docs/sources.md section 6).

    Versions carry no update time, so every run reads them all (there is no
    watermark) and upserts. release_id = `<project key>:<version name>`, as
    the issues' Fix versions give it; status released, cancelled (archived)
    or planned; `releaseDate` at 00:00 in `timezone` is the planned release
    and, once released, the actual one. Jira overwrites the date when a
    release slips, so a plan stored by an earlier sync, before the version
    was released, is kept as the planned date: sync regularly to keep slip.
    """

    source = SOURCE
    table, id_column = "releases", "release_id"

    def __init__(self, client: Client, projects: list[str], *,
                 timezone: str = "UTC", cloud: bool = True,
                 options: dict | None = None):
        if not projects:
            raise ApiError("no Jira projects: give --project KEY")
        self.client = client
        self.projects = [p.strip() for p in projects if p.strip()]
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(f"unknown time zone {timezone!r}") from None
        self.options = dict(options or {})
        self.path = "/rest/api/3/project/{}/versions" if cloud else \
            "/rest/api/2/project/{}/versions"
        self.endpoint = client.base_url + self.path.format("*")

    def pages(self, since: str | None) -> Iterator[list[dict]]:
        for project in self.projects:
            answer = self.client.get(self.path.format(quote(project, safe="")))
            if not isinstance(answer.data, list):
                raise ApiError(f"Jira GET {self.client.base_url}"
                               f"{self.path.format(project)}: the answer is "
                               "not a list of versions")
            yield [{**v, "projectKey": project} for v in answer.data
                   if isinstance(v, dict)]

    def keys(self, since, until):
        return iter(())

    def key(self, record: dict) -> str:
        return f"{record.get('projectKey')}:{_one(record.get('name'))}"

    def updated(self, record: dict) -> str | None:
        return None

    def frame(self, records: list[dict], con=None):
        earlier = self._stored_plans(con, [self.row_id(self.key(r))
                                           for r in records])
        header = ["release_id", "name", "version", "release_type", "status",
                  "planned_start_at", "planned_release_at",
                  "actual_release_at"]
        rows = []
        for record in records:
            release_id = self.row_id(self.key(record))
            released = record.get("released") is True
            status = ("released" if released else "cancelled"
                      if record.get("archived") is True else "planned")
            day = self._midnight(record.get("releaseDate"))
            planned = earlier.get(release_id) if released else None
            rows.append([release_id, _one(record.get("name")),
                         _one(record.get("name")), "independent", status,
                         self._midnight(record.get("startDate")),
                         planned or day, day if released else ""])
        return read_through(
            lambda path, options: canonical.read(path, table="releases",
                                                 options=options),
            header, rows, records, {})

    def _midnight(self, value) -> str:
        """`2024-03-12` -> 00:00 that day in the zone, ISO with offset;
        anything else stays as found (the loader rejects it, naming it)."""
        text_value = _one(value)
        try:
            day = datetime.strptime(text_value, "%Y-%m-%d")
        except ValueError:
            return text_value
        return day.replace(tzinfo=self.zone).isoformat()

    def _stored_plans(self, con, release_ids: list[str]) -> dict[str, str]:
        """Planned dates stored by earlier syncs: once a version is
        released, its plan is the one stored before (or at) its release."""
        if con is None:
            return {}
        found = con.execute(
            "select release_id, strftime(planned_release_at, "
            "'%Y-%m-%dT%H:%M:%SZ') from releases where source = $s and "
            "planned_release_at is not null and "
            "release_id in (select unnest($ids))",
            {"s": self.source, "ids": release_ids}).fetchall()
        return dict(found)


def issues(options: dict | None = None, *, jql: str | None = None) -> JiraApi:
    """The change issues sync (`changeboard sync jira`)."""
    return JiraApi(client(), jql=jql, options=options, cloud=is_cloud())


def versions(options: dict | None = None, *, projects=(),
             timezone: str | None = None) -> JiraVersionsApi:
    """The fix versions sync (`changeboard sync jira-versions`): the versions'
    days are read at 00:00 in `timezone`, else the site file's time zone,
    else UTC."""
    options = dict(options or {})
    zone = timezone or options.pop("timezone", None) or "UTC"
    return JiraVersionsApi(client(), list(projects), timezone=zone,
                           cloud=is_cloud(), options=options)
