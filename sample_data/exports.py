"""Source-shaped copies of the sample changes: a ServiceNow list export and a
Jira Service Management CSV export, written from the canonical `changes.csv`.

Read back with `ingest.servicenow` / `ingest.jira` and the options returned by
`write_exports`, they give the canonical `changes` rows again, except the
fields the source cannot carry (`NOT_CARRIED`).
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

SERVICENOW_FILE = "servicenow_change_request"
JIRA_FILE = "jira_changes.csv"
SERVICENOW_ROWS = 9_999      # per file: exactly 10,000 reads as a truncated export
SERVICENOW_DATE = "%Y-%m-%d %H:%M:%S"
JIRA_DATE = "%d/%b/%y %I:%M:%S %p"   # an exporter profile with seconds
# "Backed Out" is a site close code: written as a code it is `backed_out`,
# so it needs no override
SERVICENOW_OPTIONS: dict = {}
JIRA_OPTIONS = {"date_format": JIRA_DATE}
NOT_CARRIED = {
    "servicenow": ("release_id", "environment_id"),
    "jira": ("ci_name", "assignment_group", "environment_id",
             "is_cab_required", "cab_date", "approval", "approved_at",
             "actual_start_at", "actual_end_at"),
}
"""Columns each export cannot carry; Jira's approval is kept only where the
status implies it (Awaiting approval -> requested, Declined -> rejected)."""

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
    "short_description": "title", "type": "change_type", "state": "state",
    "risk": "risk", "impact": "impact", "priority": "priority",
    "category": "category", "business_service": "application_id",
    "cmdb_ci": "ci_name", "assignment_group": "assignment_group",
    "requested_by": "requested_by", "cab_required": "is_cab_required",
    "cab_date": "cab_date", "approval": "approval",
    "approval_set": "approved_at", "start_date": "planned_start_at",
    "end_date": "planned_end_at", "work_start": "actual_start_at",
    "work_end": "actual_end_at", "closed_at": "closed_at",
    "close_code": "close_code", "sys_updated_on": "updated_at",
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


def write_exports(canonical_dir, out_dir) -> list[dict]:
    """Write the ServiceNow and Jira exports of `<canonical_dir>/changes.csv`
    into out_dir; returns one {"path", "source", "options"} per file, the
    options to read it back with."""
    changes = pd.read_csv(Path(canonical_dir) / "changes.csv", dtype=str,
                          keep_default_na=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    parts = max(1, -(-len(changes) // SERVICENOW_ROWS))
    for part in range(parts):
        chunk = changes.iloc[part * SERVICENOW_ROWS:(part + 1) * SERVICENOW_ROWS]
        name = (f"{SERVICENOW_FILE}.csv" if parts == 1
                else f"{SERVICENOW_FILE}-{part + 1}.csv")
        write_servicenow(chunk, out / name)
        written.append({"path": out / name, "source": "servicenow",
                        "options": SERVICENOW_OPTIONS})
    write_jira(changes, out / JIRA_FILE)
    written.append({"path": out / JIRA_FILE, "source": "jira",
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


def jira_frame(changes: pd.DataFrame) -> list[list[str]]:
    """Rows of the JSM export (header first), repeated multi-value headers."""
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
    rows = [JIRA_HEADER]
    for i, (_, change) in enumerate(changes.iterrows()):
        rows.append([
            change["title"], change["change_id"], str(10000 + i), "Change",
            status.iloc[i], JIRA_PRIORITY.get(change["priority"],
                                              change["priority"]),
            resolution.iloc[i], change["requested_by"],
            dates["created_at"].iloc[i], dates["updated_at"].iloc[i],
            dates["closed_at"].iloc[i], change["release_id"], "",
            change["change_type"].capitalize(),
            JIRA_RISK.get(change["risk"], change["risk"]), change["category"],
            dates["planned_start_at"].iloc[i], dates["planned_end_at"].iloc[i],
            JIRA_IMPACT.get(change["impact"], change["impact"]),
            change["application_id"], "", "change-management",
        ])
    return rows


def write_jira(changes: pd.DataFrame, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(jira_frame(changes))
