"""Source-shaped copies of the sample changes: a ServiceNow list export and a
Jira Service Management CSV export, written from the canonical `changes.csv`.

Read back with `ingest.servicenow` / `ingest.jira` and the options returned by
`write_exports`, they give the canonical `changes` rows again, except the
fields the source cannot carry (`NOT_CARRIED`).

`write_sample` splits the sample for `sample_data.database.publish`: the changes of
the applications `JIRA_TEAM` owns go to a Jira export, every other change to
a ServiceNow export (read with the shipped overrides file
`servicenow-overrides.toml`, which maps the site fields u_release and
u_environment), the other tables stay canonical CSV.
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

SERVICENOW_FILE = "servicenow_change_request"
JIRA_FILE = "jira_changes"
SERVICENOW_ROWS = 9_999      # per file: exactly 10,000 reads as a truncated export
JIRA_ROWS = 999              # per file: exactly 1,000 reads as a capped export
SERVICENOW_DATE = "%Y-%m-%d %H:%M:%S"
JIRA_DATE = "%d/%b/%y %I:%M:%S %p"   # an exporter profile with seconds
SERVICENOW_OVERRIDES = Path(__file__).resolve().with_name(
    "servicenow-overrides.toml")
# options for exports without the site fields (the committed 19-row sample);
# "Backed Out" is a site close code: written as a code it is `backed_out`,
# so it needs no override
SERVICENOW_OPTIONS: dict = {}
JIRA_OPTIONS = {"date_format": JIRA_DATE}
# the team whose applications' changes are raised in Jira in the sample
JIRA_TEAM = "Customer Comms"
NOT_CARRIED = {
    "servicenow": (),   # release_id, environment_id: u_release, u_environment
    "jira": ("ci_name", "assignment_group", "environment_id",
             "is_cab_required", "cab_date", "approval", "approved_at",
             "actual_start_at", "actual_end_at", "description",
             "justification", "implementation_plan", "backout_plan",
             "test_plan"),
}
"""Columns each export cannot carry; Jira's approval is kept only where the
status implies it (Awaiting approval -> requested, Declined -> rejected).
ServiceNow carries release_id and environment_id only through the site
fields u_release and u_environment (SERVICENOW_OVERRIDES)."""

SN_TYPE = {"standard": "Standard", "normal": "Normal", "emergency": "Emergency"}
SN_STATE = {"new": "New", "assess": "Assess", "authorize": "Authorize",
            "scheduled": "Scheduled", "implement": "Implement",
            "review": "Review", "closed": "Closed", "cancelled": "Canceled"}
SN_RISK = {"very_high": "Very High", "high": "High", "moderate": "Moderate",
           "low": "Low"}
SN_IMPACT = {"high": "1 - High", "medium": "2 - Medium", "low": "3 - Low"}
SN_PRIORITY = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate",
               "4": "4 - Low", "5": "5 - Planning"}
SN_APPROVAL = {"not_yet_requested": "Not Yet Requested",
               "requested": "Requested", "approved": "Approved",
               "rejected": "Rejected", "not_required": "No Longer Required"}
SN_CLOSE_CODE = {"successful": "Successful",
                 "successful_with_issues": "Successful with issues",
                 "unsuccessful": "Unsuccessful", "backed_out": "Backed Out",
                 "cancelled": "", "rejected": ""}   # cancelled: empty close code
# export header -> canonical column (or a function of the row)
SERVICENOW = {
    "number": "change_id", "opened_at": "created_at",
    "short_description": "title", "description": "description",
    "justification": "justification",
    "implementation_plan": "implementation_plan",
    "backout_plan": "backout_plan", "test_plan": "test_plan",
    "type": "change_type", "state": "state",
    "risk": "risk", "impact": "impact", "priority": "priority",
    "category": "category", "business_service": "application_id",
    "cmdb_ci": "ci_name", "assignment_group": "assignment_group",
    "requested_by": "requested_by", "cab_required": "is_cab_required",
    "cab_date": "cab_date", "approval": "approval",
    "approval_set": "approved_at", "start_date": "planned_start_at",
    "end_date": "planned_end_at", "work_start": "actual_start_at",
    "work_end": "actual_end_at", "closed_at": "closed_at",
    "close_code": "close_code", "sys_updated_on": "updated_at",
    # site fields (custom u_* columns), mapped by SERVICENOW_OVERRIDES
    "u_release": "release_id", "u_environment": "environment_id",
}
SN_CODES = {"change_type": SN_TYPE, "state": SN_STATE, "risk": SN_RISK,
            "impact": SN_IMPACT, "priority": SN_PRIORITY,
            "approval": SN_APPROVAL, "close_code": SN_CLOSE_CODE}

JIRA_RISK = {"low": "Low", "moderate": "Medium", "high": "High",
             "very_high": "Critical"}
JIRA_IMPACT = {"high": "Extensive / Widespread", "medium": "Moderate / Limited",
               "low": "Minor / Localized"}
JIRA_PRIORITY = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low",
                 "5": "Lowest"}
JIRA_STATUS = {"new": "Open", "assess": "Planning",
               "authorize": "Awaiting approval",
               "scheduled": "Awaiting implementation",
               "implement": "Implementing", "review": "Review",
               "closed": "Done", "cancelled": "Canceled"}
JIRA_RESOLUTION = {"successful": "Done",
                   "successful_with_issues": "Successful with issues",
                   "backed_out": "Backed out", "unsuccessful": "Failed"}
JIRA_HEADER = [
    "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Priority",
    "Resolution", "Reporter", "Created", "Updated", "Resolved",
    "Fix versions", "Fix versions", "Custom field (Change type)",
    "Custom field (Change risk)", "Custom field (Change reason)",
    "Custom field (Change start date)", "Custom field (Change completion date)",
    "Custom field (Impact)", "Custom field (Affected services)",
    "Custom field (Affected services)", "Labels",
]


def servicenow_options() -> dict:
    """Adapter options of the ServiceNow exports written here: the shipped
    overrides file, checked by ingest.overrides."""
    from ingest import overrides

    return overrides.options("servicenow", SERVICENOW_OVERRIDES)


def write_exports(canonical_dir, out_dir) -> list[dict]:
    """Write the ServiceNow and Jira exports of `<canonical_dir>/changes.csv`
    (every change in each) into out_dir; returns one {"path", "source",
    "options"} per file, the options to read it back with."""
    changes = _read(Path(canonical_dir) / "changes.csv")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return (_servicenow_files(changes, out) + _jira_files(changes, out))


def write_sample(canonical_dir, out_dir) -> list[dict]:
    """The files the sample database is built from, one {"path", "source",
    "options"} each: canonical CSVs for every table but changes, the
    changes of JIRA_TEAM's applications as a Jira export, every other change
    as a ServiceNow export. Each change is in exactly one file."""
    canonical = Path(canonical_dir)
    changes = _read(canonical / "changes.csv")
    applications = _read(canonical / "applications.csv")
    jira_apps = applications.loc[applications["owner_team"] == JIRA_TEAM,
                                 "application_id"]
    in_jira = changes["application_id"].isin(set(jira_apps))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [{"path": path, "source": "csv", "options": None}
             for path in sorted(canonical.glob("*.csv"))
             if path.name != "changes.csv"]
    return (files + _servicenow_files(changes[~in_jira], out)
            + _jira_files(changes[in_jira], out))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _parts(changes: pd.DataFrame, rows: int, stem: str):
    """(file name, chunk, first row) per file of at most `rows` rows:
    `<stem>.csv` alone, else `<stem>-1.csv`, `<stem>-2.csv`, ..."""
    parts = max(1, -(-len(changes) // rows))
    for part in range(parts):
        name = f"{stem}.csv" if parts == 1 else f"{stem}-{part + 1}.csv"
        yield name, changes.iloc[part * rows:(part + 1) * rows], part * rows


def _servicenow_files(changes: pd.DataFrame, out: Path) -> list[dict]:
    options = servicenow_options()
    written = []
    for name, chunk, _ in _parts(changes, SERVICENOW_ROWS, SERVICENOW_FILE):
        write_servicenow(chunk, out / name)
        written.append({"path": out / name, "source": "servicenow",
                        "options": options})
    return written


def _jira_files(changes: pd.DataFrame, out: Path) -> list[dict]:
    written = []
    for name, chunk, first in _parts(changes, JIRA_ROWS, JIRA_FILE):
        write_jira(chunk, out / name, first_issue=first)
        written.append({"path": out / name, "source": "jira",
                        "options": JIRA_OPTIONS})
    return written


def _instants(values: pd.Series, fmt: str) -> pd.Series:
    stamps = pd.to_datetime(values.replace("", None), utc=True, format="ISO8601")
    text = stamps.dt.strftime(fmt)
    return text.where(stamps.notna(), "")


def servicenow_frame(changes: pd.DataFrame) -> pd.DataFrame:
    """Display values, field-name headers, dates in UTC `YYYY-MM-DD HH:MM:SS`."""
    data = {"sys_id": changes["change_id"].map(
        lambda v: hashlib.md5(v.encode(), usedforsecurity=False).hexdigest())}
    for header, column in SERVICENOW.items():
        values = changes[column]
        if column in SN_CODES:
            values = values.map(lambda v, m=SN_CODES[column]: m.get(v, v))
        elif column.endswith("_at"):
            values = _instants(values, SERVICENOW_DATE)
        data[header] = values
    data["watch_list"] = ""
    return pd.DataFrame(data)


def write_servicenow(changes: pd.DataFrame, path: Path) -> None:
    servicenow_frame(changes).to_csv(path, index=False, encoding="cp1252",
                                     quoting=csv.QUOTE_ALL, lineterminator="\r\n")


def jira_frame(changes: pd.DataFrame, first_issue: int = 0) -> list[list[str]]:
    """Rows of the JSM export (header first), repeated multi-value headers;
    issue ids count from 10000 + first_issue."""
    status = changes["state"].map(JIRA_STATUS)
    close = changes["close_code"]
    status = status.mask((changes["state"] == "closed")
                         & (close == "unsuccessful"), "Failed")
    status = status.mask(close == "rejected", "Declined")
    resolution = close.map(JIRA_RESOLUTION).fillna("")
    resolution = resolution.where(changes["state"] == "closed", "")
    dates = {c: _instants(changes[c], JIRA_DATE) for c in (
        "created_at", "updated_at", "closed_at", "planned_start_at",
        "planned_end_at")}
    def coded(column, mapping):
        return changes[column].map(lambda v: mapping.get(v, v))

    columns = [
        changes["title"], changes["change_id"],
        pd.Series([str(10000 + first_issue + i) for i in range(len(changes))],
                  index=changes.index), "Change", status,
        coded("priority", JIRA_PRIORITY), resolution, changes["requested_by"],
        dates["created_at"], dates["updated_at"], dates["closed_at"],
        changes["release_id"], "", changes["change_type"].str.capitalize(),
        coded("risk", JIRA_RISK), changes["category"],
        dates["planned_start_at"], dates["planned_end_at"],
        coded("impact", JIRA_IMPACT), changes["application_id"], "",
        "change-management",
    ]
    table = pd.DataFrame({i: c for i, c in enumerate(columns)},
                         index=changes.index)
    return [JIRA_HEADER, *table.to_numpy(dtype=object).tolist()]


def write_jira(changes: pd.DataFrame, path: Path, first_issue: int = 0) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(
            jira_frame(changes, first_issue))
