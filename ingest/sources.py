"""Every source Changeboard reads, declared once: its name, the canonical
table it fills, the module that reads its files, the function that builds
its API sync and the site file (`--overrides`) it takes.

`changeboard load`, `changeboard sync`, `ingest.load_path`, the overrides
checker and the Data page all read this table; docs/sources.md describes
each source's format. Modules are named, not imported: an adapter is imported
when first used.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from .errors import FileError

# the options a ServiceNow site file gives every reader of the same instance
# (servicenow-incidents takes only these from the changes' site file)
INSTANCE = ("name", "timezone", "date_format", "id_prefix", "encoding",
            "sheet")


@dataclass(frozen=True)
class Source:
    name: str
    help: str
    table: str | None = None    # None: from the file name (csv) or mapping
    reader: str | None = None   # module with read(path, *, table, options)
    api: str | None = None      # "module:function" -> its API sync
    # the kind of overrides file --overrides takes ("servicenow", "jira"):
    # a site file of the form of docs/sources.md section 7
    overrides: str | None = None
    # only the source that owns an overrides kind: [source] key -> option
    site_keys: dict[str, str] = field(default_factory=dict)
    # which of the overrides file's options apply (None: all of them)
    site_options: tuple[str, ...] | None = None
    # the sync's own options (changeboard sync SOURCE --help); since and
    # full move or ignore a watermark, which only incremental syncs have
    sync_flags: tuple[str, ...] = ()
    # read with a mapping file (--mapping NAME_OR_FILE, required)
    mapping: bool = False

    def adapter(self) -> ModuleType:
        """The reader module (SOURCE, TABLE, read(path, *, table, options));
        FileError if this source has no file reader or it is not installed."""
        if self.reader is None:
            raise FileError(f"source {self.name!r} has no file reader: sync "
                            f"it with `changeboard sync {self.name}`")
        return _module(self.name, self.reader)

    def sync(self) -> Callable:
        """The function that builds this source's API sync (an ingest.api.Api)
        from (options, **its sync flags)."""
        if self.api is None:
            raise FileError(f"source {self.name!r} has no API sync")
        name, function = self.api.split(":")
        return getattr(_module(self.name, name), function)


REGISTRY = (
    Source("csv", "canonical CSV: one file per table, named after it "
           "(changes.csv, environment_bookings-prod.csv)",
           reader="ingest.canonical"),
    Source("servicenow", "ServiceNow change_request list export (CSV or "
           "XLSX); sync: the Table API", table="changes",
           reader="ingest.servicenow", api="ingest.servicenow_api:changes",
           overrides="servicenow",
           site_keys={"name": "name", "table": "table",
                      "timezone": "timezone", "date_formats": "date_format",
                      "id_prefix": "id_prefix", "encoding": "encoding",
                      "sheet": "sheet"},
           sync_flags=("since", "full", "query")),
    Source("servicenow-incidents", "ServiceNow incident list export; "
           "caused_by links each to its change; sync: the Table API",
           table="incidents", reader="ingest.servicenow_incidents",
           api="ingest.servicenow_api:incidents", overrides="servicenow",
           site_options=INSTANCE, sync_flags=("since", "full", "query")),
    Source("jira", "Jira Service Management CSV export of change issues; "
           "sync: the REST search", table="changes", reader="ingest.jira",
           api="ingest.jira_api:issues", overrides="jira",
           site_keys={"name": "name", "table": "table",
                      "timezone": "timezone", "date_formats": "date_format",
                      "id_prefix": "id_prefix", "encoding": "encoding",
                      "issue_types": "issue_types",
                      "project_key": "project_key"},
           sync_flags=("since", "full", "jql")),
    # a Jira site file's name and time zone (its versions' dates are days,
    # read at 00:00 there); its id_prefix is for change ids, not the release
    # ids the changes point at, so it does not apply
    Source("jira-versions", "Jira fix versions as releases (sync only)",
           table="releases", api="ingest.jira_api:versions",
           overrides="jira", site_options=("name", "timezone"),
           sync_flags=("project", "timezone")),
    Source("mapping", "any delimited file, read with a mapping file "
           "(--mapping: a shipped name or a path)", reader="ingest.mapping",
           mapping=True),
)
SOURCES = {s.name: s for s in REGISTRY}
# the sources with a file reader, in the order the Data page lists them
FILES = {s.name: s for s in REGISTRY if s.reader}
# the sources with an API sync
SYNCS = {s.name: s for s in REGISTRY if s.api}


def get(name: str) -> Source:
    """The source called `name`; FileError naming the known ones if none."""
    try:
        return SOURCES[name]
    except KeyError:
        raise FileError(f"unknown source {name!r} "
                        f"(sources: {', '.join(SOURCES)})") from None


def site_keys(kind: str) -> dict[str, str]:
    """The [source] keys of an overrides file of `kind` and the adapter
    option each sets; FileError for a kind no source owns."""
    owner = SOURCES.get(kind)
    if owner is None or not owner.site_keys:
        kinds = " or ".join(s.name for s in REGISTRY if s.site_keys)
        raise FileError(f"overrides are for {kinds}, not {kind!r}")
    return owner.site_keys


def _module(source: str, name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise FileError(f"source {source!r} is not available: {exc}") from exc
