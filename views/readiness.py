"""Release readiness: which releases going live soon are not ready, and why
— their changes' CAB authorisation, the bookings of their remaining phases
and the freezes around their go-live."""
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from changeboard import asof, config, decisions, ui, words
from reports import cab

# a status as a chip: a shape (a text symbol every font has: emoji may draw
# as empty boxes), a colour (Okabe-Ito's, darkened) and the word, so it
# reads without colour too. The table draws its chips' words in white: on
# Okabe-Ito's own orange, vermilion and green they were 2.25, 3.87 and
# 3.42:1 (an accessibility review); on these 5.07, 5.50 and 5.34:1
COLOURS = {"blocked": "#B34700", "at_risk": "#996300", "ready": "#007A5A"}
CHIPS = {k: (symbol, COLOURS[k], word)
         for k, (symbol, word) in cab.READINESS.items()}
HORIZONS = (7, 14, 28, 56, 91)
# the table's "Show" choice -> the status it keeps (None: every release)
SHOWN = {"All": None, "Blocked": "blocked", "At risk": "at_risk",
         "Ready": "ready"}
# a horizon of at most this many releases is shown whole, the page
# scrolling (at 1440 x 900 a box of 600 pixels showed 6 of the sample's 14,
# rows of four lines of reasons); a longer one (515 at a million changes)
# scrolls in its box
WHOLE_ROWS = 30
# the reasons beside the release's name: the page's answer to "why", in
# view at 1280 px wide (after the go-live they started off the right edge)
# the go-live beside the id, pinned with it: after the reasons it was cut
# at the table's edge ('Tue 08 Dec 20…'), though the rows are in its order
# The release as 'Name (id)' in one pinned column, its name wrapping: a
# release id and a name beside it left the reasons 420 pixels wide cut at
# the table's edge at 1400 px and more so at 1280, and scrolled sideways the
# rows read as bare ids (a release manager's walkthrough). Pinned, the
# status, the release and the go-live with the reasons beside them fit the
# table's ui.TABLE_WIDTH at 1280 px (tests add up the widths).
TABLE_COLUMNS = ["readiness", "release", "go_live", "reasons",
                 "days_to_go_live", "application_name", "changes",
                 "n_phases_remaining", "n_phases_uncovered",
                 "n_bookings_pending", "n_bookings_rejected", "slip",
                 "n_failed_recently", "release_status"]
STATUS_WIDTH, GO_LIVE_WIDTH = 105, 150


def chip(status: str) -> str:
    """'✖ Blocked': shape and word (the chip's text)."""
    return cab.readiness_chip(status)


def badge(status: str) -> str:
    """The status as a Markdown badge: shape, colour and word."""
    symbol, _, word = CHIPS[status]
    colour = {"blocked": "red", "at_risk": "orange"}.get(status, "green")
    return f":{colour}-badge[{symbol} {word}]"


# the columns that say which release a row is stay in view when the table
# is scrolled sideways (to its bookings, slip and status, off the right
# edge at 1440 px wide, no row could be told from another)
COLUMN_CONFIG = {
    "readiness": st.column_config.MultiselectColumn(
        "Status", options=list(CHIPS), color=[c for _, c, _ in CHIPS.values()],
        format_func=chip, width=STATUS_WIDTH, pinned=True),
    "application_name": st.column_config.Column("Application"),
    "go_live": st.column_config.Column(
        f"Planned go-live ({config.REPORTING_TZ})", width=GO_LIVE_WIDTH,
        pinned=True),
    "days_to_go_live": st.column_config.NumberColumn(
        "Days to go-live", format="%.1f"),
    "changes": st.column_config.Column("Changes approved"),
    "n_phases_remaining": st.column_config.NumberColumn("Phases ahead (n)"),
    "n_phases_uncovered": st.column_config.NumberColumn(
        "Phases not booked (n)"),
    # as the reasons say it: '11 min' read 0.0 days
    "slip": st.column_config.TextColumn("Slip so far"),
    "n_failed_recently": st.column_config.NumberColumn(
        "Failed changes of its application, 30 days (n)"),
}


# a change's column the CAB pack's filter of the same name reads (every
# filter it takes: cab.FILTER_NAMES); a change without the value is left
# out, as the pack's SQL leaves out a NULL
FILTERED_BY = {"teams": "assignment_group", "change_types": "change_type",
               "application_ids": "application_id",
               "portfolios": "portfolio", "tiers": "environment_tier"}


def filtered_out(waiting: pd.DataFrame, filters: dict) -> str:
    """What the linked CAB pack, opened with the filters in use, leaves out
    of the changes still waiting ('' when none): a Payments Platform pack
    listed 1 of the release's 2, said nowhere."""
    out = pd.Series(False, index=waiting.index)
    for key, column in FILTERED_BY.items():
        if filters.get(key):
            out |= ~waiting[column].isin(filters[key])
    if not out.any():
        return ""
    named = ", ".join(
        f"{c} ({ui.label_of(g)})"
        for c, g in zip(waiting.loc[out, "change_id"],
                        waiting.loc[out, "assignment_group"], strict=True))
    return (f"The pack opens with the filters in use "
            f"({', '.join(words.unapplied_filters((), filters))}), so it "
            f"leaves out {int(out.sum()):,} of them: {named}. Clear the "
            "filters there to see every change of this release.")


def until(days) -> str:
    """The time to a go-live as people say it: 'in 14 min', 'in 5.2 h',
    'in 13.1 days' ('in 0.0 days' was 14 minutes)."""
    hours = float(days) * 24
    return (f"in {round(hours * 60):,} min" if hours < 1
            else f"in {ui.duration(hours)}")


def local(value) -> str:
    """An instant as 'Wed 09 Dec 2026 20:00' in the reporting time zone."""
    return cab.when(value)


def horizon_days(summary) -> dict[str, date]:
    """The days the horizon meets, in the reporting time zone, as a window
    (end exclusive) for its files' names: from the as-of instant's day to
    the day of its end's last instant (the end itself is left out), so
    28 days from 06 Dec 2026 12:29 are 2026-12-06-to-2027-01-03."""
    first, end = (pd.Timestamp(summary[k]).tz_convert(config.REPORTING_TZ)
                  for k in ("as_of", "horizon_end_at"))
    last = (end - pd.Timedelta(microseconds=1)).date()
    return {"start_date": first.date(),
            "end_date": max(last, first.date()) + timedelta(days=1)}


def empty_horizon(summary, horizon: int, filters: dict) -> str:
    """What an empty horizon says: how far the next open release's go-live
    is and the horizon that reaches it, or that no open release is planned
    later (a data set whose releases are all released, endoflife.date: a
    longer horizon could not help)."""
    scope = " of the chosen applications" if filters.get(
        "application_ids") or filters.get("portfolios") else ""
    later = summary["next_go_live_at"]
    if pd.isna(later):
        return (f"No open release{scope} is planned to go live from "
                f"{local(summary['as_of'])} on (every later one is released "
                "or cancelled), so a longer horizon would not find one.")
    days = (pd.Timestamp(later) - pd.Timestamp(summary["as_of"])) \
        / pd.Timedelta(days=1)
    reach = next((h for h in HORIZONS if h > days), None)
    return (f"No release{scope} is planned to go live in the next {horizon} "
            f"days; the next is planned for {local(later)} ("
            f"{days:,.0f} days ahead)"
            + (f": choose {reach} days." if reach else "."))


status, _, filters = ui.page("Release readiness", period=False)

# --- no releases loaded ---------------------------------------------------------
if not status["n_releases"]:
    # no horizon would find one: cards of zeros and "no open release is
    # planned ... a longer horizon would not find one" read as all clear
    st.info("No releases are loaded, so no release can be judged ready: "
            + ui.load_hint("releases") + ", with their planned go-live; "
            "their phases (`release_phases.csv`) and bookings "
            "(`environment_bookings.csv`) tell whether each phase has an "
            "environment, and changes join a release by their release_id.")
    ui.as_of_caption(status)
    st.stop()

# ?horizon_days= holds the number (a bound widget would put its label there);
# a page link has none: the horizon chosen last in the session, as the
# sidebar's filters (a walkthrough's 56 days came back as 28 from another
# page, where its Show choice stayed)
from_url = st.query_params.get("horizon_days", "")
if "horizon_days" not in st.session_state:
    st.session_state["horizon_days"] = ui.kept(
        "horizon_days", int(from_url) if from_url.isdigit() and
        int(from_url) in HORIZONS else None, 28)
# no default beside the value set above: Streamlit warns of both
horizon = st.columns([1, 3])[0].selectbox(
    "Going live in the next", HORIZONS,
    format_func=lambda d: f"{d} days", key="horizon_days")
st.query_params["horizon_days"] = str(horizon)
ui.keep("horizon_days", horizon)
# judged as the data stands, at its last load, as the CAB pack judges the
# releases going live and the calendar "not started on time": judged at
# the wall clock, a phase not yet ended grew later than the pack said
# (1.3 against 1.1 days behind, the same release at the same moment); now
# (to the minute) only when no load is recorded
now = datetime.now(UTC).replace(second=0, microsecond=0)
judged = pd.Timestamp(status["as_of"]).to_pydatetime() if pd.notna(
    status["as_of"]) else now
horizon_said = (f"releases going live in the {int(horizon)} days from "
                f"{ui.instant(judged)}, judged then")
ui.page_dates(horizon_said)
params = {"as_of": judged.isoformat(sep=" "), "horizon_days": int(horizon),
          **{k: v for k, v in filters.items()
             if k in ("application_ids", "portfolios")}}
ui.prefetch([(name, {}, params) for name in (
    "release_readiness_summary", "release_readiness")], {})  # both at once
summary = ui.query("release_readiness_summary", **params).iloc[0]
releases = ui.query("release_readiness", **params)
n = int(summary["n"])
# the longer labels wider: 'Overdue, not live' and its help read
# 'Overdue, not l…' in a fifth of the page at 1280 pixels
cards = st.columns([0.85, 0.85, 0.85, 1.1, 1.35])
for card, (key, label) in zip(cards[:3], (("blocked", "Blocked"),
                                          ("at_risk", "At risk"),
                                          ("ready", "Ready")), strict=True):
    card.metric(f"{CHIPS[key][0]} {label}", f"{int(summary[f'n_{key}']):,}",
                border=True)
cards[3].metric("Not scheduled", f"{int(summary['n_unscheduled']):,}",
                border=True, help="Open releases without a planned go-live: "
                "they cannot be judged.")
# a release past its planned go-live and not live is out of the horizon,
# so not judged; it went unsaid (the Releases page's Overdue, not live)
cards[4].metric("Overdue, not live", f"{int(summary['n_overdue']):,}",
                border=True, help="Open releases (not released or "
                "cancelled, not live) whose planned go-live has passed, "
                "whenever: not judged here. Counted as the Releases page "
                "counts those of its period (Overdue, not live): enterprise "
                "releases, which group others, apart.")
st.caption(
    f"n = {ui.many(n, 'release')} not released or cancelled, planned to go "
    "live from "
    f"{local(summary['as_of'])} to {local(summary['horizon_end_at'])} "
    f"({config.REPORTING_TZ}) · "
    f"{ui.many(summary['n_unscheduled'], 'open release')} "
    f"{'has' if int(summary['n_unscheduled']) == 1 else 'have'} no planned "
    "go-live · "
    f"{int(summary['n_excluded']):,} released or cancelled left out · "
    f"{ui.many(summary['n_overdue'], 'open release')} past "
    f"{'its' if int(summary['n_overdue']) == 1 else 'their'} planned "
    "go-live, not live, not judged"
    # enterprise releases group others: out, as the Releases page has it
    + (f" (and {ui.many(summary['n_overdue_enterprise'], 'enterprise release')}"
       " left out, as on the Releases page)"
       if summary["n_overdue_enterprise"] else "")
    + " · "
    "judged as the data stands at its last load"
    + ui.unapplied("release_readiness", filters))

if releases.empty:
    st.info(empty_horizon(summary, horizon, filters))
else:
    shown = releases.assign(
        readiness=[[s] for s in releases["status"]],
        release=[cab.named({"release_id": r, "release_name": n}, "release")
                 for r, n in zip(releases["release_id"], releases["name"],
                                 strict=True)],
        go_live=[local(t) for t in releases["planned_release_at"]],
        slip=[cab.lateness(d) for d in releases["slip_days"]],
        changes=[f"{a:,} of {c:,}" if c else "none linked" for a, c in zip(
            releases["n_approved"], releases["n_changes"], strict=True)],
        reasons=[cab.reasons_line(r) for r in releases["reasons"]],
        # the file's: empty where no rule fired, as the query's reasons and
        # the CLI's CSV (the table shows '—' there)
        reasons_in_words=["; ".join(cab.reasons_said(r))
                          for r in releases["reasons"]])
    ui.url_option("readiness_show", SHOWN)
    show = st.segmented_control(
        "Show", list(SHOWN), default="All", required=True,
        key="readiness_show", bind="query-params")
    kept = (releases["status"] == SHOWN[show]).to_numpy() \
        if SHOWN[show] else slice(None)
    shown, listed = shown[kept], releases[kept]
    # the file says the reasons as the table does ('(Production)', not the
    # query's '(prod)'), beside the query's own text that the CLI gives;
    # none is empty there, not the table's '—' (a ready release's cell)
    listed = listed.copy()
    listed.insert(listed.columns.get_loc("reasons") + 1, "reasons_in_words",
                  shown["reasons_in_words"].to_numpy())
    if SHOWN[show]:
        st.caption(f"{len(listed):,} of n = {ui.many(n, 'release')}: "
                   f"the {show.lower()} ones.")
    ids = list(listed["release_id"])
    if listed.empty:
        st.info(f"No release going live in the next {horizon} days is "
                f"{show.lower()}.")
    else:
        # every reason whole, wrapped: why a release is blocked is what
        # the table is read for; its files named with the horizon's days
        # (the 7 and the 28 days' were both named with the day looked)
        beside = ui.beside_reasons(shown["release"],
                                   STATUS_WIDTH + GO_LIVE_WIDTH)
        widths = {"release": beside["named"], "reasons": beside["reasons"]}
        with ui.files_cover(horizon_days(summary), horizon_said):
            ui.table(shown[TABLE_COLUMNS], "release-readiness"
                     + ("" if SHOWN[show] is None else f"-{SHOWN[show]}"),
                     download=listed, key="readiness-table",
                     on_select=ui.picking("readiness-table",
                                       "release", ids),
                     selection_mode="single-row",
                     **max((ui.wrapped_table(
                         shown[column], len(shown), most=600, width=width,
                         whole_rows=WHOLE_ROWS, most_lines=ui.READ_LINES)
                         for column, width in widths.items()),
                         key=lambda sized: sized["row_height"]),
                     column_config=COLUMN_CONFIG | {
                         column: st.column_config.TextColumn(
                             label, width=widths[column],
                             pinned=column == "release")
                         for column, label in (("release", "Release"),
                                               ("reasons", "Reasons"))})
    st.caption("One row per release, soonest go-live first; the reasons are "
               "every rule that fired, blocking ones first. Select a row to "
               "see its changes, phases and bookings. Changes approved: "
               "approved or needing no approval, of the changes it carries.")
    labels = {r: f"{chip(s)} · {nm} ({r}) · {local(g)}" for r, s, nm, g in zip(
        releases["release_id"], releases["status"], releases["name"],
        releases["planned_release_at"], strict=True)}
    pick = ui.drill_id("Release in detail", labels, "release",
                       "Select a row above, or pick here")
    if pick:
        row = releases.set_index("release_id").loc[pick]
        go_live = pd.Timestamp(row["planned_release_at"])
        st.header(f"{ui.plain(row['name'])} ({ui.plain(pick)})")
        st.markdown(
            f"{badge(row['status'])} · goes live {local(go_live)} "
            # its zone, as the sidebar's dates say theirs (a walkthrough)
            f"{ui.zone_name(config.REPORTING_TZ)} "
            f"({until(row['days_to_go_live'])}) · "
            f"{ui.plain(row['application_name'] or 'no application')} · "
            f"release {ui.word(row['release_status']).lower()}")
        if said := cab.reasons_said(row["reasons"]):
            st.markdown("\n".join(f"- {ui.plain(r)}" for r in said))
        if row["freeze_hit"]:
            st.error(
                f"The go-live falls in the {row['freeze_window_kind']} window "
                + (f"**{ui.plain(row['freeze_window_name'])}** "
                   f"({ui.plain(row['freeze_window_id'])}), "
                   if pd.notna(row["freeze_window_name"]) else
                   f"**{ui.plain(row['freeze_window_id'])}**, ")
                + cab.span(row["freeze_start_at"], row["freeze_end_at"])
                + (f"; {int(row['n_freeze_windows'])} windows apply in all"
                   if row["n_freeze_windows"] > 1 else "") + ".",
                icon=":material/block:")
        detail = {**params, "release_ids": [pick]}

        # --- changes ---------------------------------------------------------
        changes = ui.query("release_readiness_changes", **detail)
        meeting = cab.next_meeting(now)
        before = meeting < go_live
        waiting = changes["authorisation"].isin(["awaiting", "not_requested"])
        # a decision recorded on the CAB page: the authorisation above is
        # the source's, which the CAB's decision reaches when it is entered
        # there (and loaded again)
        decided = decisions.latest(config.DB_PATH, changes["change_id"],
                                   asof.decisions_until())
        decided_said = {
            c: f"{decisions.label(d)} ({cab.when(m)})" for c, m, d in zip(
                decided["change_id"], decided["meeting_at"],
                decided["decision"], strict=True)}
        # the conditions of an approval, the reason of a deferral: what the
        # release manager acts on (a CAB chair's walkthrough found them
        # nowhere on the page)
        noted = {c: n for c, n in zip(decided["change_id"], decided["note"],
                                      strict=True) if n}
        n_decided = sum(c in decided_said for c in
                        changes.loc[waiting, "change_id"])
        # the status and its reasons count the source's approval: said, or
        # 'awaiting CAB approval' read as a contradiction of a recorded
        # rejection
        # the count of changes still needing a decision leaves out those
        # decided here ('2 of n = 2 still need their decision' beside two
        # approvals read as a contradiction)
        undecided = int(waiting.sum()) - n_decided
        decided_note = (
            f" The CAB's decision on {ui.many(n_decided, 'change')} awaiting "
            "approval in the source is recorded on the CAB page (CAB "
            "decision column), "
            "not yet in the source: the status and its reasons count the "
            "source's approval until a load brings the decision."
            if n_decided else "")
        st.markdown(f"**Changes it carries ({len(changes):,})**")
        if before and waiting.any():
            st.caption(
                f"Next CAB meeting before go-live: {local(meeting)} · "
                + (f"{undecided:,} of n = {ui.many(len(changes), 'change')} "
                   f"still {'needs its' if undecided == 1 else 'need their'}"
                   " decision." if undecided else
                   "every change awaiting approval has a decision recorded "
                   "on the CAB page.") + decided_note)
            ui.page_link("views/cab.py", "Open the CAB pack of that meeting",
                         {"meeting": f"{meeting:%Y-%m-%d}"}, filters)
            if hidden := filtered_out(changes[waiting], filters):
                st.caption(hidden)
        elif waiting.any():
            st.caption(f"No CAB meeting before go-live (next: "
                       f"{local(meeting)}): "
                       + (f"{ui.many(undecided, 'change')} still "
                          f"{'needs' if undecided == 1 else 'need'} a "
                          "decision." if undecided else
                          "every change awaiting approval has a decision "
                          "recorded on the CAB page.") + decided_note)
        if changes.empty:
            st.caption("No change is linked to this release (changes name it "
                       "in release_id).")
        else:
            table = changes.assign(
                cab_decision=[decided_said.get(c, "")
                              for c in changes["change_id"]],
                cab_note=[noted.get(c, "") for c in changes["change_id"]],
                # not awaiting: no value, '–' as every empty cell reads
                # (an empty text beside the CAB date's '–')
                next_cab=[local(meeting) if w and before else
                          "none before go-live" if w else None
                          for w in waiting],
                planned_start=[local(t) for t in changes["planned_start_at"]],
                planned_end=[local(t) for t in changes["planned_end_at"]])
            shown_columns = [
                "change_id", "title", "authorisation", "approval",
                *(["cab_decision"] if decided_said else []),
                *(["cab_note"] if noted else []),
                "cab_date", "next_cab", "change_type", "risk", "state",
                "assignment_group", "planned_start", "planned_end",
                "is_planned_after_go_live"]
            # the files: the plan as instants (in UTC, as every page's
            # files write them), where they held the table's 'Wed 09 Dec 2026 16:00' as
            # text beside an as_of in ISO (a CAB chair's walkthrough)
            ui.table(table[shown_columns], f"release-{pick}-changes",
                     download=table[[
                         {"planned_start": "planned_start_at",
                          "planned_end": "planned_end_at"}.get(c, c)
                         for c in shown_columns]],
                     column_config={
                         "cab_date": st.column_config.DateColumn(
                             "CAB date", format="DD MMM YYYY"),
                         "next_cab": st.column_config.Column(
                             "Next CAB before go-live"),
                         # whole: 'Approved with conditions (Tue 08 Dec
                         # 2026 10:' was cut (a CAB chair's walkthrough)
                         "cab_decision": st.column_config.TextColumn(
                             # 'here' read as unclear (a CAB chair)
                             "CAB decision (CAB page)",
                             width=ui.text_width(table["cab_decision"], 120,
                                                 ui.REASONS_WIDTH)),
                         "cab_note": st.column_config.Column(
                             "CAB's conditions or note")})
        failed = int(row["n_failed_recently"])
        if failed:
            st.caption(f"Context: {failed:,} change{'s' * (failed != 1)} of "
                       "its application failed in the 30 days before "
                       f"{local(summary['as_of'])}.")

        # --- phases and bookings ---------------------------------------------
        listed = ui.query("release_readiness_phases", **detail)
        late = listed[listed["is_late"].astype(bool)]
        phases = listed[~listed["is_late"].astype(bool)]
        if not late.empty:
            # the phases the slip is the largest of: ended late, or past
            # their planned end and not ended (not remaining)
            st.markdown(f"**Behind plan ({len(late)}): ended late, or past "
                        "their planned end and not ended**")
            ui.table(late.assign(
                planned=[cab.span(s, e) for s, e in zip(
                    late["planned_start_at"], late["planned_end_at"],
                    strict=True)],
                ended=[local(e) if pd.notna(e) else "not ended"
                       for e in late["actual_end_at"]])[[
                    "phase", "planned", "ended", "late_by"]],
                f"release-{pick}-late-phases",
                column_config={"late_by": "Late by"})
        st.markdown(f"**Remaining phases ({int(row['n_phases_remaining'])})"
                    " and their bookings**")
        if phases.empty:
            st.caption("No phase is still ahead (planned to end after "
                       f"{local(summary['as_of'])} and not ended).")
        else:
            table = phases.assign(
                covered=["Yes" if c else "Rejected only" if r else "No"
                         for c, r in zip(phases["is_covered"],
                                         phases["is_rejected_only"],
                                         strict=True)],
                phase_plan=[cab.span(s, e) for s, e in zip(
                    phases["planned_start_at"], phases["planned_end_at"],
                    strict=True)],
                booked=[cab.span(s, e) if pd.notna(s) else "" for s, e in zip(
                    phases["start_at"], phases["end_at"], strict=True)],
                environment=[f"{n} ({e})" if isinstance(n, str) else e
                             for n, e in zip(phases["environment_name"],
                                             phases["environment_id"],
                                             strict=True)])
            ui.table(table[["phase", "phase_plan", "covered", "booking_id",
                            "environment", "tier", "team", "booking_status",
                            "booked", "is_overlapping"]].rename(columns={
                                "phase_plan": "planned",
                                "booking_status": "status"}),
                     f"release-{pick}-phases")
            st.caption("A phase is covered by an approved or pending booking "
                       "of the release for a phase of the same name that "
                       "overlaps its planned dates; bookings of that name on "
                       "other dates are listed, not overlapping.")
ui.definition("release_readiness", params=params)
ui.as_of_caption(status)
