"""ServiceNow Table API: change_request (and incident) records,
incrementally (docs/sources.md section 3), mapped by the CSV export adapters
(ingest/servicenow.py, ingest/servicenow_incidents.py).

Credentials come from the environment and go only into request headers:
CHANGEBOARD_SERVICENOW_USER + CHANGEBOARD_SERVICENOW_PASSWORD (basic auth) or
CHANGEBOARD_SERVICENOW_TOKEN (OAuth bearer).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator

from changeboard import config

from . import servicenow, servicenow_incidents
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

SOURCE = "servicenow"
TABLE_PATH = "/api/now/table/{table}"
PAGE_SIZE = 1000
KEYS_PAGE_SIZE = 10_000
FETCH_CHUNK = 50
CREDENTIALS = ("CHANGEBOARD_SERVICENOW_USER + CHANGEBOARD_SERVICENOW_PASSWORD "
               "or CHANGEBOARD_SERVICENOW_TOKEN")
# the export's field names: codes and instants are read from `value`, the rest
# (references, names, text) from `display_value`, so API rows equal CSV rows
VALUE_FIELDS = {"number", "type", "state", "risk", "impact", "priority",
                "approval", "close_code", "cab_required", "cab_date",
                "cab_date_time", "opened_at", "sys_created_on", "approval_set",
                "start_date", "end_date", "work_start", "work_end",
                "closed_at", "sys_updated_on", "resolved_at"}
# ServiceNow table -> its export adapter and the fields beyond the adapter's
# first header per column
TABLES = {"change_request": (servicenow, ("sys_created_on", "cab_date_time")),
          "incident": (servicenow_incidents, ())}
# an encoded query condition: field, operator, value (validated because
# ServiceNow silently ignores a condition it cannot parse)
_CONDITION = re.compile(
    r"^[a-z_][a-z0-9_.]*(=|!=|>=|<=|>|<|IN|NOT IN|STARTSWITH|ENDSWITH|LIKE|"
    r"NOT LIKE|ISEMPTY|ISNOTEMPTY|ANYTHING|SAMEAS|NSAMEAS|BETWEEN|"
    r"DATEPART|RELATIVEGT|RELATIVELT|ON|NOTON)", re.I)


def instance_url(instance: str) -> str:
    """`acme` -> https://acme.service-now.com; a URL stays as given."""
    instance = instance.strip().rstrip("/")
    if not instance:
        raise ApiError("no ServiceNow instance: set "
                       "CHANGEBOARD_SERVICENOW_INSTANCE (a name such as "
                       "`acme` or a base URL)")
    return instance if "://" in instance else f"https://{instance}.service-now.com"


def client(instance: str | None = None, retry: Retry | None = None) -> Client:
    base = instance_url(instance if instance is not None
                        else config.env("CHANGEBOARD_SERVICENOW_INSTANCE"))
    user = os.environ.get("CHANGEBOARD_SERVICENOW_USER", "")
    password = os.environ.get("CHANGEBOARD_SERVICENOW_PASSWORD", "")
    token = token_from("CHANGEBOARD_SERVICENOW_TOKEN")
    if token:
        auth, headers = None, {"Authorization": f"Bearer {token}"}
    elif user and password:
        auth, headers = (user, password), {}
    else:
        raise ApiError(f"no ServiceNow credentials: set {CREDENTIALS}")
    return Client(base, name="ServiceNow", auth=auth, headers=headers,
                  retry=retry, secrets=(password, token),
                  credentials_hint=CREDENTIALS)


def check_query(query: str) -> str:
    """A site filter (encoded query) with every condition well-formed."""
    query = query.strip().strip("^")
    if not query:
        return ""
    for part in re.split(r"\^NQ|\^OR|\^", query):
        if part.upper().startswith("ORDERBY"):
            raise ApiError(f"site query: leave out {part!r}: the sync orders "
                           "by sys_updated_on")
        if not _CONDITION.match(part):
            raise ApiError(f"site query: cannot read condition {part!r} "
                           "(expected field, operator, value, e.g. "
                           "assignment_group.name=Network)")
    return query


class ServiceNowApi(Api):
    source = SOURCE

    def __init__(self, client: Client, *, table: str = "change_request",
                 query: str = "", options: dict | None = None,
                 page_size: int = PAGE_SIZE):
        if table not in TABLES:
            raise ApiError(f"ServiceNow table {table!r} is not synced "
                           f"(tables: {', '.join(TABLES)})")
        self.adapter, extra = TABLES[table]
        self.table, self.id_column = self.adapter.TABLE, next(iter(
            self.adapter.COLUMNS))
        self.client = client
        self.query = check_query(query)
        self.options = dict(options or {})
        self.page_size = page_size
        self.path = TABLE_PATH.format(table=table)
        self.endpoint = client.base_url + self.path
        site = [h for hs in (self.options.get("columns") or {}).values()
                for h in ([hs] if isinstance(hs, str) else hs)]
        first = [headers[0] for headers in self.adapter.COLUMNS.values()]
        self.fields = list(dict.fromkeys([*first, *extra, *site,
                                          "sys_updated_on", "sys_id"]))

    def _query(self, *conditions: str) -> str:
        parts = [c for c in (*conditions, self.query) if c]
        return "^".join([*parts, "ORDERBYsys_updated_on"])

    def _pages(self, params: dict) -> Iterator[list[dict]]:
        answer = self.client.get(self.path, params)
        while True:
            total = answer.headers.get("X-Total-Count")
            if total and total.isdigit():
                self.total = int(total)
            result = (answer.data or {}).get("result") if isinstance(
                answer.data, dict) else None
            if not isinstance(result, list):
                raise ApiError(f"ServiceNow GET {self.endpoint}: the answer "
                               "has no `result` list")
            yield result   # a short or empty page is not the end: Link is
            following = answer.links.get("next", {}).get("url")
            if not following:
                return
            answer = self.client.get(following)

    def pages(self, since: str | None) -> Iterator[list[dict]]:
        condition = f"sys_updated_on>={since}" if since else ""
        yield from self._pages({
            "sysparm_query": self._query(condition),
            "sysparm_fields": ",".join(self.fields),
            "sysparm_limit": self.page_size, "sysparm_offset": 0,
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true"})

    def keys(self, since: str | None, until: str) -> Iterator[tuple[str, str]]:
        conditions = [f"sys_updated_on>={since}" if since else "",
                      f"sys_updated_on<={until}"]
        for page in self._pages({
                "sysparm_query": self._query(*conditions),
                "sysparm_fields": "number,sys_updated_on",
                "sysparm_limit": KEYS_PAGE_SIZE, "sysparm_offset": 0,
                "sysparm_display_value": "false"}):
            for record in page:
                yield self.key(record), self.updated(record)

    def fetch(self, keys: list[str]) -> list[dict]:
        found = []
        for page in self._pages({
                "sysparm_query": self._query("numberIN" + ",".join(keys)),
                "sysparm_fields": ",".join(self.fields),
                "sysparm_limit": self.page_size, "sysparm_offset": 0,
                "sysparm_display_value": "all",
                "sysparm_exclude_reference_link": "true"}):
            found += page
        return found

    def key(self, record: dict) -> str:
        return _field(record, "number")

    def updated(self, record: dict) -> str | None:
        stamp = _field(record, "sys_updated_on")
        return stamp if _is_stamp(stamp) else None

    def frame(self, records: list[dict], con=None):
        # a field the instance lacks is left out of its answers, as it is
        # of its exports
        header = [f for f in self.fields if f != "sys_id"
                  and any(f in r for r in records)]
        rows = [[_field(r, f) for f in header] for r in records]
        options = {**self.options, "date_format": STAMP, "timezone": "UTC"}
        return read_through(self.adapter.read, header, rows, records, options)


def _field(record: dict, name: str) -> str:
    """The export text of a field in any sysparm_display_value shape."""
    value = record.get(name)
    if isinstance(value, dict):
        side = "value" if name in VALUE_FIELDS else "display_value"
        value = value.get(side, value.get("value"))
    return text(value).strip()


def _is_stamp(value: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value or ""))


def changes(options: dict | None = None, *, query: str = "") -> ServiceNowApi:
    """The change_request sync (`changeboard sync servicenow`)."""
    return ServiceNowApi(client(), table="change_request", query=query or "",
                         options=options)


def incidents(options: dict | None = None, *, query: str = "") -> ServiceNowApi:
    """The incident sync (`changeboard sync servicenow-incidents`)."""
    return ServiceNowApi(client(), table="incident", query=query or "",
                         options=options)
