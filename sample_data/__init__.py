"""Seeded sample data: three years of a bank's changes and releases, as CSV.

`python -m sample_data generate --out DIR --seed 7 --scale 1` (or `generate()`)
writes one canonical CSV file per table. Everything is drawn from one
`numpy.random.default_rng(seed)` in a fixed order (the upcoming releases'
booking plan from a stream spawned from it, so it changes no other table; a
few upcoming releases laid out by hand to show every release readiness status
are appended last, with no draw), so
a seed, scale and end date always give byte-identical files. Instants are int64 UTC epoch seconds until
written. The end date's 00:00 UTC is "now": nothing is created after it, and
states are as of it. Scale 1 is ~8,000 changes; applications and environments
grow with sqrt(scale) (copies of the estate per region), the rest linearly.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import changes, operations, readiness, reference, releases
from .clock import NEVER, epoch

# canonical CSV columns, in schema order (source and ingested_batch_id omitted)
COLUMNS = {
    "applications": ["application_id", "name", "portfolio", "owner_team",
                     "criticality"],
    "environments": ["environment_id", "name", "tier", "application_id",
                     "environment_group", "is_shared", "capacity", "timezone",
                     "availability"],
    "blackout_windows": ["window_id", "name", "kind", "application_id",
                         "environment_id", "start_at", "end_at"],
    "releases": ["release_id", "name", "version", "release_type", "parent_release_id",
                 "application_id", "status", "risk", "created_at", "planned_start_at",
                 "planned_release_at", "actual_release_at"],
    "release_phases": ["release_id", "phase", "planned_start_at", "planned_end_at",
                       "actual_start_at", "actual_end_at"],
    "changes": ["change_id", "title", "description", "justification",
                "implementation_plan", "backout_plan", "test_plan",
                "change_type", "state", "risk", "impact",
                "priority", "category", "application_id", "ci_name",
                "assignment_group", "requested_by", "release_id", "environment_id",
                "is_cab_required", "cab_date", "approval", "created_at", "approved_at",
                "planned_start_at", "planned_end_at", "actual_start_at",
                "actual_end_at", "closed_at", "close_code", "updated_at"],
    "deployments": ["deployment_id", "application_id", "environment_id", "release_id",
                    "change_id", "version", "status", "is_rollback", "started_at",
                    "finished_at"],
    "environment_bookings": ["booking_id", "environment_id", "release_id", "phase",
                             "team", "status", "start_at", "end_at"],
    "incidents": ["incident_id", "title", "application_id", "priority", "opened_at",
                  "resolved_at", "caused_by_change_id", "caused_by_deployment_id"],
}
# id column -> (prefix, minimum digits, table it keys)
IDS = {
    "application_id": ("APP-", 3, "applications"),
    "environment_id": ("ENV-", 4, "environments"),
    "window_id": ("BW-", 4, "blackout_windows"),
    "release_id": ("REL-", 5, "releases"),
    "parent_release_id": ("REL-", 5, "releases"),
    "change_id": ("CHG", 7, "changes"),
    "caused_by_change_id": ("CHG", 7, "changes"),
    "deployment_id": ("DEP-", 7, "deployments"),
    "caused_by_deployment_id": ("DEP-", 7, "deployments"),
    "booking_id": ("BKG-", 6, "environment_bookings"),
    "incident_id": ("INC", 7, "incidents"),
}


def build(seed: int = 7, scale: float = 1.0, end_date=None) -> dict[str, dict]:
    """All tables as {table: {column: numpy array}}: ids are 0-based row numbers
    (-1 = NULL), instants epoch seconds (NEVER = NULL)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    end = _end_date(end_date)
    t_end = epoch(end.year, end.month, end.day)
    start = end.replace(year=end.year - 3, day=min(end.day, 28)
                        if end.month == 2 else end.day)
    t_start = epoch(start.year, start.month, start.day)
    rng = np.random.default_rng(seed)
    ref = reference.build(rng, scale, t_start, t_end)
    rel = releases.build(rng, ref, scale, t_start, t_end)
    rel_specs = rel.changes
    n_total = int(round(changes.CHANGES_PER_SCALE * scale))
    n_background = max(0, n_total - len(rel_specs["app"]))
    wanted = changes.TYPE_SHARE * n_total - np.bincount(rel_specs["type"], minlength=3)
    type_share = np.maximum(wanted, .02 * n_background) / max(n_background, 1)
    background = changes.background(rng, ref, n_background, t_start, t_end, type_share)
    specs = {k: np.concatenate([rel_specs[k], background[k]]) for k in background}
    change_table, eventual = changes.derive(rng, ref, specs, t_start, t_end)
    deployments, culprit, rollback_end = operations.deployments(rng, ref, rel,
                                                                eventual, t_end)
    bookings = operations.bookings(rng, ref, rel, scale, t_start, t_end)
    incidents = operations.incidents(rng, ref, eventual, deployments, culprit,
                                     rollback_end, scale, t_start, t_end)
    tables = dict(ref.tables)
    tables.update(rel.tables)
    tables.update({"changes": change_table, "deployments": deployments,
                   "environment_bookings": bookings, "incidents": incidents})
    # upcoming releases laid out to show every readiness status, appended
    # last: every row above stays as it was (sample_data/readiness.py)
    tables = readiness.showcase(ref, tables, t_end)
    return {name: tables[name] for name in COLUMNS}


def generate(out_dir, seed: int = 7, scale: float = 1.0, end_date=None) -> dict[str, int]:
    """Write `<table>.csv` for every table into out_dir; returns rows per table.

    end_date (date or "YYYY-MM-DD", default today in UTC) ends the three years.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = build(seed, scale, end_date)
    counts = {name: len(next(iter(t.values()))) for name, t in tables.items()}
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute("set preserve_insertion_order = true")
        for name, table in tables.items():
            write(con, name, table, counts, out / f"{name}.csv")
    finally:
        con.close()
    return counts


def write(con, name: str, table: dict, counts: dict, path: Path) -> None:
    """One canonical CSV: ids formatted, instants as ...Z, NULL as an empty cell.

    Rows are written in the table's order: insertion order is preserved.
    """
    frame, select = {}, []
    for column in COLUMNS[name]:
        values = table[column]
        quoted = f'"{column}"'
        if column in IDS:
            prefix, digits, keyed = IDS[column]
            digits = max(digits, len(str(counts[keyed])))
            frame[column] = values
            select.append(f"case when {quoted} >= 0 then '{prefix}' || "
                          f"lpad(cast({quoted} + 1 as varchar), {digits}, '0') "
                          f"end as {quoted}")
        elif column.endswith(("_at", "_date")):
            frame[column] = _instants(values)
            kind = "timestamp" if column.endswith("_at") else "date"
            select.append(f"cast({quoted} as {kind}) as {quoted}")
        else:
            frame[column] = values
            select.append(quoted)
    con.register("sample_rows", pd.DataFrame(frame))
    target = str(path).replace("'", "''")
    # column names come from COLUMNS and the path from the caller, not from data
    con.execute(f"copy (select {', '.join(select)} from sample_rows) "  # noqa: S608
                f"to '{target}' (format csv, header true, delimiter ',', "
                "timestampformat '%Y-%m-%dT%H:%M:%SZ', dateformat '%Y-%m-%d')")
    con.unregister("sample_rows")


def _instants(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    out = values.astype("datetime64[s]")
    out[values >= NEVER // 2] = np.datetime64("NaT")
    return out


def _end_date(end_date) -> dt.date:
    if end_date is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(end_date, dt.datetime):
        return end_date.date()
    if isinstance(end_date, dt.date):
        return end_date
    return dt.date.fromisoformat(str(end_date))
