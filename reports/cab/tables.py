"""The pack's sections as tables, in human columns: the agenda, the
releases going live, since last CAB, the For decision sheet; the notes on
what a long pack leaves out of print; sections() gives the XLSX's sheets."""
from __future__ import annotations

import pandas as pd

from changeboard import db
from changeboard.words import (
    FILTERS,
    OUTSIDE_MAINTENANCE,
    SMALL_N,
    unapplied_filters,
)
from reports import decided
from reports.cab.blocks import blocks, no_rows, why_failed
from reports.cab.evidence import NO_RISK, READING, app_label, assessments
from reports.cab.pack import Pack, with_since
from reports.cab.provenance import provenance, since_cut
from reports.text import (
    Times,
    as_text,
    is_yes,
    many,
    pct,
    readiness_chip,
    reasons_line,
    records,
    records_columns,
    shorten,
    when,
    words,
)

DETAIL_LIMIT = 50  # changes shown with their evidence blocks, in agenda order
AGENDA_LINES = 300  # one-line agenda entries in the HTML and PDF
AGENDA_TITLE_CHARS = 46  # agenda titles are shortened to stay on one line
RELEASE_LINES = 100  # releases going live, listed in the HTML and PDF
RELEASE_CHANGES_SHOWN = 8  # agenda changes named per release there
REASONS = {  # cab_since_last review_reason -> section title
    "failed": "Failed or backed out: post-implementation review",
    # reviewed after the event whether or not approved before the start
    # (each row says its approval): 'retrospective approval' read as
    # unapproved beside a change approved before it started
    "emergency": "Emergency changes started: retrospective review",
    "unauthorized": "Implemented without the required approval",
}
# a since-last-CAB list -> the KPI whose unrated changes it cannot list:
# empty there, it is no news of none (the CAB page and the pack say so)
UNRATED_BY = {"failed": "Change success rate",
              "unauthorized": "Unauthorised changes"}
NOT_KNOWN = "not known"  # a KPI's count where the source rates no change
RELEASES_INTRO = (
    "Releases planned to go live in the review window, soonest first, with "
    "their readiness as the data stands (blocked, at risk or ready, and "
    "why, as the Release readiness page judges it) and the changes for "
    "decision they carry.")
# the For decision sheet's columns: the block's facts, its plan as two
# instants (their titles name the pack's zone) and its hours
DECISION_COLUMNS = [
    "Rank", "Change", "Title", "Type", "Risk", "Application", "Team",
    "Environment", "Release", "Planned start", "Planned end",
    "Planned hours", "State / approval", "Requested by",
    "Affected CI", "Similar n", "Similar result", "Team n", "Team result",
    "Team score", "Incidents 30 d", "Collisions", "Window hits",
    "Booking hits", "Plan flags", "Evidence flags",
    *(label for label, _ in READING)]


def since_last(pack: Pack, reason: str, *,
               sheet: bool = False) -> pd.DataFrame:
    """One "since last CAB" list with human columns (`sheet`: its instants
    as a spreadsheet's cells, reports.text.Times)."""
    since = with_since(pack).since_last
    rows = since[since["review_reason"] == reason]
    times = Times(pack.reporting_tz, sheet)
    frame = pd.DataFrame({
        "Change": list(rows["change_id"]),
        "Title": [as_text(t) for t in rows["title"]],
        "Type": [words(t) for t in rows["change_type"]],
        "Risk": [words(r) for r in rows["risk"]],
        "Application": [app_label(pack, a) for a in rows["application_id"]],
        "Team": [as_text(t) for t in rows["assignment_group"]],
        times.title("Started"): [times.at(v) for v in rows["actual_start_at"]],
        times.title("Ended"): [times.at(v) for v in rows["outcome_at"]],
        "Close code": [words(c) for c in rows["close_code"]],
        "Approval": [words(a) for a in rows["approval"]],
        times.title("Approved"): [times.at(v) for v in rows["approved_at"]],
    })
    if reason == "failed":
        frame["Why failed"] = why_failed(rows)
    else:
        frame["Approval issue"] = [
            "Not approved" if is_yes(n) else
            "Approved after it started" if is_yes(a) else ""
            for n, a in zip(rows["is_not_approved"],
                            rows["is_approved_after_start"], strict=True)]
    return frame


def kpi_table(pack: Pack, *, sheet: bool = False) -> pd.DataFrame:
    """The headline KPIs since the last CAB and before. `sheet`: as a
    spreadsheet's cells, numbers shown as the pack shows them (NUMBER_FORMATS):
    a rate 0.125 as 12.5%, a count 3 as '3 failed', a change in percentage
    points 1.5 as '+1.5 pp'; a missing rate or change stays 'n/a'. A KPI
    the source leaves unrated since the last CAB (kpi_unknown: no approval
    or close code recorded) counts 'not known', not '0 unauthorised'; the
    HTML says why under the table (kpi_notes), the sheet in its Note
    column."""
    k = with_since(pack).kpis
    since = f"{pack.since_start_date:%d %b} – {pack.since_end_date:%d %b}"
    before = f"{pack.before_start_date:%d %b} – {pack.since_start_date:%d %b}"
    since_title, before_title = (f"Since last CAB ({since})",
                                 f"Before ({before})")
    unknown = [kpi_unknown(kpi) is not None for _, kpi in k.iterrows()]
    counts = [NOT_KNOWN if u else int(c)
              for c, u in zip(k["since_count"], unknown, strict=True)]
    frame = pd.DataFrame({
        "KPI": k["KPI"],
        since_title: [_rate(v) if sheet else pct(v) for v in k["since_rate"]],
        "n": k["since_n"],
        "Count": counts if sheet else [
            c if u else f"{c} {w}" for c, w, u in zip(
                counts, k["Count is"], unknown, strict=True)],
        before_title: [_rate(v) if sheet else pct(v)
                       for v in k["before_rate"]],
        "n before": k["before_n"],
        "Change": [_delta(a, b, sheet) for a, b in zip(
            k["since_rate"], k["before_rate"], strict=True)],
        "n counts": k["Counts"],
    })
    if sheet:
        frame["Note"] = [kpi_note(kpi) or "" for _, kpi in k.iterrows()]
        frame.attrs[NUMBER_FORMATS] = {
            since_title: "0.0%", before_title: "0.0%",
            "Count": [f'0" {_quoted(w)}"' for w in k["Count is"]],
            "Change": '+0.0" pp";-0.0" pp";0.0" pp"'}
    return frame


def kpi_n(n, kpi) -> str:
    """A KPI's n before what it counts (`kpi`: a row of the pack's kpis,
    reports/cab/pack.py KPI_SPECS): '1 implemented change', '2
    implemented changes', '1 CAB-required change started'."""
    return many(n, kpi["Counts one"], kpi["Counts"])


def kpi_unknown(kpi, key: str = "since") -> str | None:
    """Why a KPI has no n in a period (`key`: since or before) when the
    source leaves its changes unrated: '14 CAB-required changes started
    with no approval recorded, so authorisation cannot be measured: map
    ...'. None when it has an n, or nothing was left
    unrated (then no change was there to count)."""
    said = kpi[f"{key}_unknown_said"]
    if kpi[f"{key}_n"] or not int(kpi[f"{key}_unknown"]) or not said:
        return None
    return said


def kpi_left_out(kpi, key: str = "since") -> str | None:
    """The changes a KPI's n leaves out in a period (`key`: since or
    before) because the source leaves them unrated, when it has an n: '12
    changes completed without a close code, not in n' (the Overview's card
    says them too); None when none is left out, or the KPI has no n
    (kpi_unknown says why)."""
    unknown = int(kpi[f"{key}_unknown"])
    if not kpi[f"{key}_n"] or not unknown or not kpi["Unknown is"]:
        return None
    return f"{many(unknown, 'change')} {kpi['Unknown is']}, not in n"


def kpi_small(kpi) -> str | None:
    """What a KPI's change says of its samples when either period's n is
    under SMALL_N: 'small sample: n = 2 since the last CAB (under 30)'
    (a change of +9.1 pp from 2 changes read as news); None when both are
    larger, or the change is not shown (a period without a rate)."""
    if pd.isna(kpi["since_rate"]) or pd.isna(kpi["before_rate"]):
        return None
    small = [f"n = {int(kpi[f'{key}_n']):,} {when}" for key, when in (
        ("since", "since the last CAB"), ("before", "before"))
        if 0 < int(kpi[f"{key}_n"]) < SMALL_N]
    if not small:
        return None
    return (f"small sample{'s' if len(small) > 1 else ''}: "
            f"{' and '.join(small)} (under {SMALL_N}), so the change "
            "may be chance")


def kpi_since_unknown(kpi) -> str | None:
    """Why a KPI has no n since the last CAB, as its card and the files
    say it: 'n = 0 CAB-required changes started · 14 changes started with
    no approval recorded, so authorisation cannot be measured: map ...',
    and how many the period before left so ('; before: 703 changes
    likewise'); None when the period has an n or left nothing unrated."""
    since = kpi_unknown(kpi, "since")
    if not since:
        return None
    return f"n = {kpi_n(0, kpi)} · {since}" + (
        f"; before: {many(kpi['before_unknown'], 'change')} likewise"
        if kpi_unknown(kpi, "before") else "")


def kpi_before(kpi) -> str:
    """The period before as a card says it beside a rated period: 'before:
    12.5% of 8'; when the source left its changes unrated, why it has no n
    ('before: n = 0 CAB-required changes started · 9 CAB-required changes
    started with no approval recorded, so ...'), as the files say it;
    else 'none before'."""
    if kpi["before_n"]:
        return f"before: {pct(kpi['before_rate'])} of {kpi['before_n']:,}"
    unknown = kpi_unknown(kpi, "before")
    return (f"before: n = {kpi_n(0, kpi)} · {unknown}" if unknown
            else "none before")


def kpi_note(kpi) -> str | None:
    """Why a KPI reads n/a when the source leaves its changes unrated, as
    the CAB page's card says it (in plain text, no Markdown): 'n = 0
    CAB-required changes started · 14 changes started with the CAB flag
    or approval missing, so authorisation cannot be measured: map
    is_cab_required and approval (docs/sources.md, section 7)', and how
    many the period before left so; None when both periods are rated."""
    note = kpi_since_unknown(kpi) or (
        kpi_before(kpi) if kpi_unknown(kpi, "before") else None)
    # an n that leaves some out says how many, in either period
    left = [f"{when}{said}" for when, said in (
        ("", kpi_left_out(kpi, "since")),
        ("before: ", kpi_left_out(kpi, "before")),
        ("", kpi_small(kpi))) if said]
    note = "; ".join([note, *left] if note else left)
    return note.replace("`", "") or None


def kpi_notes(pack: Pack) -> list[tuple[str, str]]:
    """(KPI, kpi_note) of each KPI the source leaves unrated, wholly or in
    part, or whose change rests on a small sample."""
    notes = [(kpi["KPI"], kpi_note(kpi))
             for _, kpi in with_since(pack).kpis.iterrows()]
    return [(label, note) for label, note in notes if note]


def since_empty(pack: Pack, reason: str) -> str | None:
    """What an empty since-last-CAB list says when it cannot be listed:
    the KPI it feeds is unrated (no close code, no approval recorded), so
    an empty list is no news of none; None when it is (then: 'None.')."""
    kpi = UNRATED_BY.get(reason)
    kpis = with_since(pack).kpis
    rows = kpis[kpis["KPI"] == kpi]
    if rows.empty or kpi_unknown(rows.iloc[0]) is None:
        return None
    return (f"None can be listed: the data does not say, as {kpi} "
            "above explains.")


def since_none(pack: Pack, none: str) -> str:
    """What an empty since-last-CAB list says: `none`, or, when the data
    was loaded before those days end (since_cut), that it holds none so
    far: not news that none happened."""
    if since_cut(pack) is None:
        return none
    return f"None in the data so far (loaded {when(pack.as_of, 'UTC')} UTC)."


# a sheet frame's attrs[NUMBER_FORMATS]: column -> the Excel number format
# its numbers are shown with, or a list of one per row (reports/cab/xlsx.py)
NUMBER_FORMATS = "number_formats"


def _rate(value):
    """A rate as a sheet's cell: the number, or 'n/a' as the pack says."""
    return "n/a" if value is None or pd.isna(value) else float(value)


def _quoted(word: str) -> str:
    """Text for inside an Excel number format's double quotes."""
    return str(word).replace('"', "")


def _delta(now, before, sheet: bool = False):
    """The change of a rate in percentage points, to one decimal; one that
    rounds to none is 0.0 pp, not -0.0 (0.289% after 0.299%)."""
    if pd.isna(now) or pd.isna(before):
        return "n/a"
    points = float(100 * (now - before))
    if round(points, 1) == 0:
        return 0.0 if sheet else "0.0 pp"
    if sheet:  # the percentage points the text rounds, less the float
        # error of the subtraction: 100 x (0.5 - 0.4) is 9.999999999999998
        return round(points, 10)
    return f"{points:+.1f} pp"


# what each headline count counts, as the CAB page's cards explain it
HEADLINE_HELP = {
    "For decision": "Changes on the agenda: normal and emergency changes "
    "that need CAB, planned in the review window and not yet approved.",
    "Emergency": "Agenda changes of type emergency.",
    "Very high risk": "Agenda changes whose risk is very high.",
    "Collision or window hit": "Agenda changes that collide with another "
    "change, meet a freeze or blackout window, or are planned outside "
    "every maintenance window that applies to them.",
    "Left off: CAB flag missing": "Changes that would be on the agenda, "
    "but whose CAB flag (is_cab_required) or approval the source leaves "
    "empty: map them for these changes to be judged.",
    "Left off: no plan": "Open normal or emergency changes that need CAB "
    "and await approval, with no valid planned start and end (whatever "
    "their dates): no window can place them on an agenda."}


def headline(pack: Pack) -> list[tuple[str, int]]:
    s = pack.summary.iloc[0]
    return [("For decision", int(s["n"])),
            ("Emergency", int(s["n_emergency"])),
            ("Very high risk", int(s["n_very_high_risk"])),
            ("Collision or window hit", int(
                ((pack.agenda["n_collisions"] > 0)
                 | (pack.agenda["n_freeze_hits"] > 0)
                 | (pack.agenda["n_blackout_hits"] > 0)
                 | pack.agenda["is_outside_maintenance"].astype(bool)).sum())),
            ("Left off: CAB flag missing", int(s["n_unclassified"])),
            ("Left off: no plan", int(s["n_unplanned"]))]


LINE_COLUMNS = ["agenda_rank", "change_id", "title", "risk", "change_type",
                "approval", "n_collisions", "n_freeze_hits", "n_blackout_hits",
                "is_outside_maintenance", "planned_start_at"]
NOT_SUBMITTED = "Not yet submitted"  # for approval: an agenda line's flag
LINE_HEADINGS = ["#", "Change", "Title", "Risk", "Planned start", "Flags"]


def agenda_lines(pack: Pack, limit: int | None = None,
                 title_chars: int | None = None) -> pd.DataFrame:
    """The agenda, one line per change for decision (the first `limit`),
    titles shortened to `title_chars` when given."""
    agenda = pack.agenda if limit is None else pack.agenda.head(limit)
    if agenda.empty:
        return pd.DataFrame(columns=LINE_HEADINGS)
    booked = assessments(pack).index.bookings  # change id -> booking hits
    zone = pack.reporting_tz
    # the window's last instant: one ending at midnight on 1 January is
    # within the year it started in
    years = pd.Timestamp(pack.window_start_at).tz_convert(zone).year != (
        pd.Timestamp(pack.window_end_at) - pd.Timedelta(microseconds=1)
    ).tz_convert(zone).year
    # column by column (the columns a line shows, each read once), each
    # risk and planned start worded once: a 3,000-change agenda's lines
    # made row by row took 25 ms, most of it wording the same values again
    c = records_columns(agenda[LINE_COLUMNS])
    risks = {risk: words(risk) or NO_RISK for risk in set(c["risk"])}
    starts: dict[int, str] = {}  # by the instant's nanoseconds

    def start_of(at) -> str:
        key = at.value
        if key not in starts:
            # the review window gives the year: 'Wed 21 Jan 20:00', unless
            # the window runs into another year ('Tue 05 Jan 2027 09:00')
            shown = when(at, zone).split()
            if not years:
                del shown[3]
            starts[key] = " ".join(shown)
        return starts[key]

    flags = [", ".join(word for word, on in (
        ("Emergency", change_type == "emergency"),
        # on the agenda awaiting approval, or not yet submitted for it
        (NOT_SUBMITTED, approval == "not_yet_requested"),
        (f"Collides with {many(collisions, 'other change')}"
         if collisions else "", collisions),
        ("Freeze window", freezes),
        ("Blackout window", blackouts),
        (OUTSIDE_MAINTENANCE, outside),
        ("Release bookings", change_id in booked))
        if on)
        # the change's plan flags (evidence._plan_flags, the block's first)
        # in shorter words; the block adds what the evidence raises
        for change_id, change_type, approval, collisions, freezes,
        blackouts, outside in zip(
            c["change_id"], c["change_type"], c["approval"],
            c["n_collisions"], c["n_freeze_hits"], c["n_blackout_hits"],
            c["is_outside_maintenance"], strict=True)]
    return pd.DataFrame({
        "#": [int(rank) for rank in c["agenda_rank"]],
        "Change": c["change_id"],
        "Title": [shorten(as_text(title), title_chars)
                  for title in c["title"]],
        "Risk": [risks[risk] for risk in c["risk"]],
        "Planned start": [start_of(at) for at in c["planned_start_at"]],
        "Flags": flags}, columns=LINE_HEADINGS)


def release_lines(pack: Pack, limit: int | None = None,
                  changes_shown: int | None = None, *,
                  sheet: bool = False) -> pd.DataFrame:
    """The releases going live before the next meeting (the first `limit`),
    soonest first, each with its readiness and the agenda changes it
    carries: '#rank id' in agenda order, the first `changes_shown` named
    and the rest counted. `sheet`: the go-live as a spreadsheet's cell
    (reports.text.Times)."""
    t = Times(pack.reporting_tz, sheet)
    carried: dict[str, list[str]] = {}
    for rank, cid, rid in zip(pack.agenda["agenda_rank"],
                              pack.agenda["change_id"],
                              pack.agenda["release_id"], strict=True):
        if as_text(rid):
            carried.setdefault(rid, []).append(f"#{int(rank)} {cid}")
    releases = pack.releases if limit is None else pack.releases.head(limit)
    rows = []
    for row in records(releases):
        mine = carried.get(row["release_id"], [])
        named = mine if changes_shown is None else mine[:changes_shown]
        more = len(mine) - len(named)
        rows.append({
            "Release": row["release_id"], "Release name": as_text(row["name"]),
            "Application": app_label(pack, row["application_id"]),
            t.title("Go-live"): t.at(row["planned_release_at"]),
            "Status": readiness_chip(row["status"]),
            "Reasons": reasons_line(row["reasons"]),
            "For decision": len(mine),
            "Agenda changes it carries": ", ".join(named)
            + (f" and {more:,} more" if more else "")})
    return pd.DataFrame(rows, columns=[
        "Release", "Release name", "Application", t.title("Go-live"), "Status",
        "Reasons", "For decision", "Agenda changes it carries"])


def releases_unfiltered(pack: Pack) -> str:
    """What the releases going live say of the pack's filters they do not
    take (a release's readiness is judged over all its changes): 'Not
    filtered by team.'; '' when every filter chosen applies."""
    skipped = unapplied_filters(db.params("release_readiness"),
                                pack.filters or {})
    return f"Not filtered by {', '.join(skipped)}." if skipped else ""


def no_release_going_live(pack: Pack) -> str:
    """What the releases going live say when there is none: that none is
    planned to go live in the review window (up to the next meeting
    unless widened: 'before the next meeting' was wrong then, and the page
    said the window), or, when no release of any
    date is loaded (change data alone, such as BPIC 2014), that none is
    loaded and which file to load."""
    if pack.n_releases_loaded == 0:
        return ("No releases are loaded, so none can be shown going live: "
                "load releases.csv (canonical CSV, columns in "
                "docs/data-model.md) on the Data page or with changeboard "
                "load csv releases.csv.")
    return "No release is planned to go live in the review window."


def releases_note(pack: Pack) -> str:
    """What the HTML and PDF leave out of a long list of releases; ''."""
    n = len(pack.releases)
    if n <= RELEASE_LINES:
        return ""
    return (f"{n:,} releases go live in the review window: the first "
            f"{RELEASE_LINES} are listed, soonest first; the XLSX lists all "
            "of them. Narrow the pack with an application filter.")


def empty_agenda(pack: Pack) -> str:
    """What an empty agenda says: that nothing was planned in the window
    (another date or a wider window may hold some), or how many changes
    planned in it were left off and why none is for decision (BPIC 2014:
    1,088 planned in a week, every one closed; another date would not
    fill it)."""
    if pack.n_changes_loaded == 0:
        return ("No changes are loaded, so none can be for decision: load "
                "changes.csv (canonical CSV, columns in docs/data-model.md), "
                "or a ServiceNow or Jira change export (docs/sources.md), on "
                "the Data page or with changeboard load.")
    if pack.filtered_out:
        chosen = ", ".join(FILTERS[k].lower()
                           for k, v in pack.filters.items() if v)
        return (f"No change needs a CAB decision in this window under the "
                f"filters ({chosen}): they leave out "
                f"{many(pack.filtered_out, 'change')} for decision in it. "
                "Clear or widen the filters to see "
                + ("it." if pack.filtered_out == 1 else "them."))
    s = pack.summary.iloc[0]
    left_off = int(s["n_excluded"])
    if not left_off:
        return ("No change needs a CAB decision in this window: none is "
                "planned in it. Pick another meeting date or widen the "
                "review window.")
    return (f"No change needs a CAB decision in this window: "
            f"{many(left_off, 'change')} planned in it "
            f"{'is' if left_off == 1 else 'are'} left off, as closed or "
            "cancelled, already approved or rejected, standard, or not "
            "needing CAB (the agenda takes the open normal and emergency "
            "changes that need CAB and are not yet approved: awaiting its "
            "approval, or not yet submitted for it).")


def size_note(pack: Pack, *, on_page: bool = False) -> str:
    """What a large agenda leaves out of the detail, and how to narrow it;
    '' when every change is shown in full. on_page: said of the CAB page
    (every agenda line, the detail a page at a time) rather than the files."""
    n = len(pack.agenda)
    if n <= DETAIL_LIMIT:
        return ""
    listed = min(n, AGENDA_LINES)
    shown = ("the agenda below lists all of them and the detail shows them "
             "a page at a time; the HTML and PDF "
             + (f"list the first {listed:,} and " if listed < n else "")
             + f"detail the first {DETAIL_LIMIT}" if on_page else
             "the agenda lists " + ("all of them" if listed == n else
                                    f"the first {listed:,}")
             + f" and the detail covers the first {DETAIL_LIMIT}")
    return (f"{n:,} changes are for decision: {shown}, in agenda order "
            "(highest risk first, then by planned start); the XLSX's For "
            f"decision sheet lists all {n:,} with their evidence counts and "
            f"flags, and its evidence sheets the first {DETAIL_LIMIT}. Narrow "
            "the pack with a team or application filter, or a shorter review "
            "window.")


def decision_table(pack: Pack) -> pd.DataFrame:
    """One row per change for decision, the whole agenda: the For decision
    sheet (the same facts, evidence and flags as the detail blocks; its
    cells a spreadsheet's, reports.text.Times: the plan's start and end in
    the pack's zone, its hours a number)."""
    found, rows = assessments(pack), []
    t = Times(pack.reporting_tz, sheet=True)
    for row in records(pack.agenda):
        assessed, cid = found.of(row), row["change_id"]
        hours = row["planned_hours"]
        rows.append({
            "Rank": int(row["agenda_rank"]), "Change": cid,
            "Title": as_text(row["title"]), **dict(assessed.fact_pairs),
            t.title("Planned start"): t.at(row["planned_start_at"]),
            t.title("Planned end"): t.at(row["planned_end_at"]),
            "Planned hours": None if hours is None or pd.isna(hours)
            else float(hours),
            "Similar n": assessed.same_app["n"],
            "Similar result": assessed.same_app["Result"],
            "Team n": assessed.same_team["n"],
            "Team result": assessed.same_team["Result"],
            "Team score": assessed.team_score["Result"],
            "Incidents 30 d": assessed.incidents["n"],
            # other changes, as the page, the flag and the Collisions
            # sheet count them
            "Collisions": int(row["n_collisions"]),
            "Window hits": len(found.index.window_hits.get(cid, [])),
            "Booking hits": len(found.index.bookings.get(cid, [])),
            # the plan's flags are the agenda's (agenda_lines), in the
            # block's words; the evidence's are the block's alone
            "Plan flags": "; ".join(assessed.plan_flags),
            "Evidence flags": "; ".join(assessed.evidence_flags),
            **dict(assessed.reading),
        })
    frame = pd.DataFrame(rows, columns=[
        t.title(c) if c in ("Planned start", "Planned end") else c
        for c in DECISION_COLUMNS])
    for column in ("Similar n", "Team n", "Incidents 30 d"):
        frame[column] = frame[column].astype("Int64")
    # two places: 3.25 as written, where 0.0 showed 3.3 beside the block's
    # '3 h 15 min'
    frame.attrs[NUMBER_FORMATS] = {"Planned hours": "0.00"}
    return frame


def _each(detailed: list, attr: str, empty: pd.DataFrame) -> pd.DataFrame:
    """One kind of the blocks' tables, stacked, with the change it is for;
    none (no block has a row): the `empty` table's columns, as a sheet of
    rows has them."""
    parts = [getattr(b, attr).assign(**{"For change": b.change_id})
             for b in detailed]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["For change", *empty.columns])
    frame = pd.concat(parts, ignore_index=True)
    return frame[["For change", *frame.columns.drop("For change")]]


# the sheets of the blocks' tables: title, ChangeBlock field
BLOCK_SHEETS = (("Collisions", "collisions"), ("Window hits", "window_hits"),
                ("Booking hits", "bookings"), ("Evidence", "evidence"),
                ("Team last failures", "last_failures"))


def sections(pack: Pack) -> dict[str, pd.DataFrame]:
    """Every section as a table, in pack order: the XLSX's sheets, their
    cells a spreadsheet's (reports.text.Times: instants as the wall time in
    the pack's zone, which their titles name; counts, hours and rates as
    numbers). The last CAB's decisions have a sheet only when a decision
    was recorded before the meeting, as the HTML and PDF leave the section
    out then."""
    pack = with_since(pack)
    detailed = blocks(pack, DETAIL_LIMIT, sheet=True)
    empty = no_rows(pack, sheet=True)
    return {
        "Summary": pd.DataFrame(
            [*headline(pack),
             # the sheets of the blocks' tables cover the detail's changes
             ("Detailed in the evidence sheets (first in agenda order)",
              min(len(pack.agenda), DETAIL_LIMIT))],
            columns=["Agenda", "Changes"]),
        "For decision": decision_table(pack),
        **{title: _each(detailed, attr, empty[attr])
           for title, attr in BLOCK_SHEETS},
        "Releases going live": release_lines(pack, sheet=True),
        "Since last CAB - KPIs": kpi_table(pack, sheet=True),
        "Failed - review": since_last(pack, "failed", sheet=True),
        "Emergency - retro approval": since_last(pack, "emergency",
                                                 sheet=True),
        "Unauthorised": since_last(pack, "unauthorized", sheet=True),
        **({} if pack.decided_meeting_at is None else {
            "Since last CAB - decisions": decided.table(pack, sheet=True)}),
        "Produced by": pd.DataFrame(provenance(pack, "cab-pack.xlsx"),
                                    columns=["Item", "Value"]),
    }
