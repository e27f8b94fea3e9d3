"""Site overrides for the built-in ServiceNow and Jira adapters.

An overrides file is a TOML file of the mapping-file form (docs/sources.md
section 7) that only says what differs at a site: `[source]` (time zone,
date formats, id prefix, encodings, ...), `[columns]` (site fields such as
`u_release`, ServiceNow only), `[values.<canonical column>]` (extra source
values -> codes, ServiceNow only) and, for Jira, `[status]` and
`[resolution]`. `options(source, spec)` checks it and returns the adapter's
`options` dict; every problem is a FileError naming the file and the key,
raised before any row is read. docs/sources.md section 7 has the form and
examples.
"""
from __future__ import annotations

import tomllib
import zoneinfo
from pathlib import Path

from . import codes, schema, sources
from .errors import FileError, closest
from .jira import CLOSED as FROM_RESOLUTION  # close code from Resolution

TABLE = "changes"
# the [source] keys of each kind and the adapter option each sets are declared
# with the source that owns the kind (ingest/sources.py: site_keys)
SECTIONS = {"servicenow": ("source", "columns", "values"),
            "jira": ("source", "status", "resolution")}
LISTS = ("date_formats", "encoding", "issue_types")   # str or list of str
STATUS_KEYS = ("state", "close_code", "approval")


def options(source: str, spec) -> dict:
    """The adapter options an overrides file (path or dict) gives `source`.

    The result may hold `name`: the source name to record instead of the
    adapter's (ingest_batches.source and the rows' `source`).
    """
    sources.site_keys(source)   # FileError for a kind no source owns
    if isinstance(spec, dict):
        data, file = spec, "<overrides>"
    else:
        path = Path(spec)
        file = path.name
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FileError(f"{file}: invalid overrides file: {exc}") from exc
    return _Check(source, file).run(data)


class _Check:
    def __init__(self, source: str, file: str):
        self.source, self.file = source, file
        self.table = schema.describe(TABLE)

    def fail(self, message: str):
        raise FileError(f"{self.file}: invalid {self.source} overrides: "
                        f"{message}")

    def run(self, data: dict) -> dict:
        for section in data:
            if section not in SECTIONS[self.source]:
                others = [s for s in ("columns", "values", "status",
                                      "resolution") if s not in
                          SECTIONS[self.source]]
                hint = (f" ({self.source} overrides take no [{section}])"
                        if section in others else
                        closest(section, SECTIONS[self.source]))
                self.fail(f"unknown section [{section}]{hint}")
        out = (self.source_keys(self._table(data, "source"))
               if "source" in data else {})   # every section is optional
        if "columns" in data:
            out["columns"] = self.site_columns(self._table(data, "columns"))
        if "values" in data:
            out["values"] = self.values(self._table(data, "values"))
        if "status" in data:
            out["status"] = self.status(self._table(data, "status"))
        if "resolution" in data:
            out["resolution"] = self.resolution(
                self._table(data, "resolution"))
        return out

    def _table(self, data: dict, name: str) -> dict:
        table = data[name]
        if not isinstance(table, dict):
            self.fail(f"{name} must be a table [{name}], not {table!r}")
        return table

    def source_keys(self, source: dict) -> dict:
        known = sources.site_keys(self.source)
        out = {}
        for key, value in source.items():
            if key not in known:
                self.fail(f"[source] unknown key {key!r}"
                          f"{closest(key, known)}")
            if key in LISTS:
                value = [value] if isinstance(value, str) else value
                if (not isinstance(value, list) or not value
                        or not all(isinstance(v, str) and v for v in value)):
                    self.fail(f"[source] {key} must be a text or a list of "
                              f"texts, not {value!r}")
            elif not isinstance(value, str) or not value:
                self.fail(f"[source] {key} must be a non-empty text, "
                          f"not {value!r}")
            if key == "table":
                if value != TABLE:
                    self.fail(f"[source] table {value!r}: {self.source} "
                              f"exports are for table {TABLE}")
                continue
            if key == "timezone":
                try:
                    zoneinfo.ZoneInfo(value)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    self.fail(f"[source] timezone {value!r} is not an IANA "
                              "time zone (e.g. Europe/Amsterdam)")
            out[known[key]] = value
        return out

    def site_columns(self, columns: dict) -> dict:
        out = {}
        for name, headers in columns.items():
            self._column(f"[columns] {name}", name)
            if isinstance(headers, str):
                headers = [headers]
            if (not isinstance(headers, list) or not headers
                    or not all(isinstance(h, str) and h for h in headers)):
                self.fail(f"[columns] {name}: give a header or a list of "
                          f"headers, not {headers!r}")
            out[name] = headers
        return out

    def values(self, values: dict) -> dict:
        out = {}
        for name, mapping in values.items():
            allowed = self._column(f"[values.{name}]", name)
            if not allowed:
                self.fail(f"[values.{name}]: column {name} has no codes to "
                          "map to")
            if not isinstance(mapping, dict):
                self.fail(f"[values.{name}] must be a table of source value "
                          f"= code, not {mapping!r}")
            out[name] = {str(k): self._code(f"[values.{name}] {k!r}", name,
                                            v, allowed, empty=True)
                         for k, v in mapping.items()}
        return out

    def status(self, status: dict) -> dict:
        out = {}
        for name, target in status.items():
            where = f"[status] {name!r}"
            if isinstance(target, str):
                target = {"state": target}
            if not isinstance(target, dict):
                self.fail(f"{where}: give a state or a table of state, "
                          f"close_code and approval, not {target!r}")
            for key in target:
                if key not in STATUS_KEYS:
                    self.fail(f"{where}: unknown key {key!r}"
                              f"{closest(key, STATUS_KEYS)}")
            if "state" not in target:
                self.fail(f"{where}: state is required")
            state = self._code(where, "state", target["state"],
                               codes.allowed(TABLE, "state"))
            close = target.get("close_code")
            if close is None:
                close = FROM_RESOLUTION if state == "closed" else None
            elif close != FROM_RESOLUTION:
                close = self._code(where, "close_code", close,
                                   codes.allowed(TABLE, "close_code"))
            approval = target.get("approval")
            if approval is not None:
                approval = self._code(where, "approval", approval,
                                      codes.allowed(TABLE, "approval"))
            out[name] = [state, close, approval]
        return out

    def resolution(self, resolution: dict) -> dict:
        allowed = codes.allowed(TABLE, "close_code")
        return {name: self._code(f"[resolution] {name!r}", "close_code", code,
                                 allowed, empty=True)
                for name, code in resolution.items()}

    def _column(self, where: str, name: str) -> tuple[str, ...]:
        if name not in self.table.columns:
            self.fail(f"{where}: unknown {TABLE} column {name!r}"
                      f"{closest(name, self.table.columns)}")
        return tuple(self.table.codes.get(name, ()))

    def _code(self, where: str, column: str, code, allowed,
              empty: bool = False):
        if empty and code == "":
            return None   # "" maps the source value to NULL
        if not isinstance(code, str) or code not in allowed:
            self.fail(f"{where} = {code!r}: not a {column} code (allowed: "
                      f"{', '.join(allowed)}{', or empty' if empty else ''})")
        return code
