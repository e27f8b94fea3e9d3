"""Every Changeboard setting, read from the environment (see README's Settings)."""
import os
from pathlib import Path

SETTINGS: dict[str, tuple[str, str]] = {}  # env var -> (default, help)


def _setting(name: str, default: str, help: str) -> str:
    SETTINGS[name] = (default, help)
    return os.environ.get(name, default)


DB_PATH = Path(_setting(
    "CHANGEBOARD_DB", "changeboard.duckdb",
    "DuckDB file the app reads and ingest publishes"))
REPORTING_TZ = _setting(
    "CHANGEBOARD_REPORTING_TZ", "UTC",
    "IANA time zone for days, weeks and months in metrics and charts")
CACHE_TTL = int(_setting(
    "CHANGEBOARD_CACHE_TTL", "600",
    "seconds the app keeps a query result; a new load is seen at once"))
SAMPLE_SEED = int(_setting(
    "CHANGEBOARD_SAMPLE_SEED", "7",
    "seed of the sample data built on first `make run`"))
CAB_WEEKDAYS = _setting(
    "CHANGEBOARD_CAB_WEEKDAYS", "1",
    "days the CAB meets, 0 = Monday ... 6 = Sunday, comma-separated")
CAB_TIME = _setting(
    "CHANGEBOARD_CAB_TIME", "10:00",
    "time the CAB meets, HH:MM in the reporting time zone")
SERVICENOW_INSTANCE = _setting(
    "CHANGEBOARD_SERVICENOW_INSTANCE", "",
    "ServiceNow instance for `python -m ingest servicenow-api`: a name "
    "(`acme` = https://acme.service-now.com) or a base URL")
JIRA_URL = _setting(
    "CHANGEBOARD_JIRA_URL", "",
    "Jira base URL for `python -m ingest jira-api`, e.g. "
    "https://acme.atlassian.net")
RECORD_URLS = {  # id column -> the template of a link to its source record
    "change_id": _setting(
        "CHANGEBOARD_CHANGE_URL", "",
        "link from a change id to its record, {id} replaced: e.g. "
        "https://acme.service-now.com/change_request.do?sysparm_query="
        "number={id} (default: from CHANGEBOARD_SERVICENOW_INSTANCE)"),
    "incident_id": _setting(
        "CHANGEBOARD_INCIDENT_URL", "",
        "link from an incident id to its record, {id} replaced (default: "
        "from CHANGEBOARD_SERVICENOW_INSTANCE)"),
    "release_id": _setting(
        "CHANGEBOARD_RELEASE_URL", "",
        "link from a release id to its record, {id} replaced: e.g. "
        "https://acme.atlassian.net/projects/CHG/versions/{id}"),
}
JIRA_JQL = _setting(
    "CHANGEBOARD_JIRA_JQL", "project = CHG AND issuetype = Change",
    "JQL selecting change issues; the sync adds the `updated` bound and order")


def record_url(column: str) -> str:
    """The link template of an id column ('' = no link): its setting, else a
    ServiceNow instance's record page for changes and incidents."""
    template = RECORD_URLS.get(column, "")
    if template or column not in ("change_id", "incident_id"):
        return template
    instance = env("CHANGEBOARD_SERVICENOW_INSTANCE")
    if not instance:
        return ""
    base = instance if "://" in instance else \
        f"https://{instance}.service-now.com"
    table = "change_request" if column == "change_id" else "incident"
    return f"{base.rstrip('/')}/{table}.do?sysparm_query=number={{id}}"


def env(name: str) -> str:
    """A setting's value now (tests and long-lived processes may change it)."""
    return os.environ.get(name, SETTINGS[name][0])
