"""CAB pack: the pre-read of a Change Advisory Board meeting, on screen and
as HTML, PDF and XLSX downloads of exactly the same pack."""
import re
from datetime import date, timedelta

import streamlit as st

from changeboard import asof, config, db, ui
from reports import cab

st.title("CAB pack")
status = ui.data_banner()
filters = ui.global_filters()
if status is None:
    st.stop()


@st.cache_data(ttl=config.CACHE_TTL, show_spinner="Building the CAB pack…")
def _pack(version, path, meeting: date, window_end: date | None,
          filters: dict, as_of: str | None = None) -> cab.Pack:
    return cab.build_pack(path, meeting, window_end_at=window_end,
                          filters=filters, as_of=as_of)


def _md(text: str) -> str:
    """User text shown literally in Markdown (no links, emphasis or emoji)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~:$])", r"\\\1", text)


MAX_WINDOW_DAYS = 366  # the review window: at most a year after the meeting


def _until(meeting: date) -> date | None:
    """?until= from the URL if it is after the meeting and within
    MAX_WINDOW_DAYS of it; otherwise None, saying so."""
    until = ui.url_date("until")
    if until is not None and not (
            meeting < until <= meeting + timedelta(days=MAX_WINDOW_DAYS)):
        st.warning(f"Ignored until={until.isoformat()} in the address: the "
                   "review window must end after the meeting and within "
                   f"{MAX_WINDOW_DAYS} days of it.")
        return None
    return until


BLOCKS_PER_PAGE = 20  # change blocks drawn at a time
upcoming = cab.next_meeting().date()
left, right = st.columns(2)
meeting = left.date_input(
    "Meeting date", ui.url_date("meeting") or upcoming, key="cab-meeting",
    min_value=ui.DATE_MIN, max_value=ui.date_max(),
    help="Default: the next meeting of the cadence (CHANGEBOARD_CAB_WEEKDAYS"
    f" at {config.CAB_TIME}, {config.REPORTING_TZ}).")
default_end = cab.following_meeting(cab.meeting_on(meeting)).date()
first_end = meeting + timedelta(days=1)
last_end = max(default_end, meeting + timedelta(days=MAX_WINDOW_DAYS))
kept = st.session_state.get("cab-until")
if isinstance(kept, date) and not first_end <= kept <= last_end:
    del st.session_state["cab-until"]  # picked for another meeting
picked_end = right.date_input(
    "Review window ends on", _until(meeting) or default_end,
    min_value=first_end, max_value=last_end, key="cab-until",
    help="Default: the next meeting. The window runs from this meeting to "
    f"{config.CAB_TIME} on this day.")
st.query_params["meeting"] = meeting.isoformat()
if picked_end != default_end:
    st.query_params["until"] = picked_end.isoformat()
elif "until" in st.query_params:
    del st.query_params["until"]
window_end = None if picked_end == default_end else picked_end

pack = _pack(db.version(config.DB_PATH), str(config.DB_PATH), meeting,
             window_end, filters, asof.chosen())
meta = dict(cab.provenance(pack))
st.caption(f"Review window {meta['Review window']} · filters: "
           f"{meta['Filters']} · data as of {meta['Data as of']}")

stem = f"cab-pack-{meeting:%Y-%m-%d}"
downloads = st.columns([1, 1, 1, 5])
# each file is built when its button is clicked, not on every rerun
downloads[0].download_button(
    "HTML", lambda: cab.to_html(pack), f"{stem}.html", "text/html",
    key="cab-html", on_click="ignore")
downloads[1].download_button(
    "PDF", lambda: cab.pdf_bytes(pack), f"{stem}.pdf", "application/pdf",
    key="cab-pdf", on_click="ignore")
downloads[2].download_button(
    "XLSX", lambda: cab.to_xlsx(pack), f"{stem}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="cab-xlsx", on_click="ignore")

counts = cab.headline(pack)
for first in range(0, len(counts), 3):  # two rows of three: labels fit
    for card, (label, n) in zip(st.columns(3), counts[first:first + 3],
                                strict=False):
        card.metric(label, f"{n:,}", border=True)

decide, since, going = st.tabs([
    f"For decision ({len(pack.agenda)})", "Since last CAB",
    f"Releases going live ({len(pack.releases)})"])
with decide:
    st.caption(
        "Normal and emergency changes that need CAB, planned in the review "
        "window and awaiting approval; very high risk first, then by planned "
        "start. Evidence counts implemented changes (n) before the meeting.")
    if pack.agenda.empty:
        st.info("No change needs a CAB decision in this window — pick "
                "another meeting date or widen the review window.")
        first = 0
    else:
        note = cab.size_note(pack, on_page=True)
        if note:
            st.warning(note, icon=":material/filter_alt:")
        ui.table(cab.agenda_lines(pack), f"{stem}-agenda", max_rows=None,
                 height=min(
            420, 38 + 35 * len(pack.agenda)))
        starts = list(range(0, len(pack.agenda), BLOCKS_PER_PAGE))
        first = st.selectbox(
            "Changes in detail", starts, key="cab-detail",
            format_func=lambda s: f"{s + 1:,}–"
            f"{min(s + BLOCKS_PER_PAGE, len(pack.agenda)):,} of "
            f"{len(pack.agenda):,}", disabled=len(starts) == 1,
            help=f"{BLOCKS_PER_PAGE} changes at a time, in agenda order.")
    shown = cab.blocks(pack, BLOCKS_PER_PAGE, start=first) \
        if len(pack.agenda) else []
    for block in shown:
        with st.container(border=True):
            st.markdown(f"#### {block.rank}. {_md(block.change_id)} — "
                        f"{_md(block.title)}")
            st.markdown(" · ".join(f"**{label}** {_md(value)}"
                                   for label, value in block.facts))
            if block.flags:
                st.markdown(" ".join(f":orange-badge[{_md(flag)}]"
                                     for flag in block.flags))
            with st.expander("Description, justification and plans"):
                for label, text in block.reading:
                    st.markdown(f"**{label}**")
                    if text:
                        st.text(text)
                    else:
                        st.caption("Not recorded.")
            for title, frame, empty in (
                    ("Collisions", block.collisions, "No collision."),
                    ("Freeze, blackout and maintenance windows",
                     block.window_hits, "No window hit."),
                    ("Environment bookings of its release", block.bookings,
                     "No booking of its release overlaps the plan."),
                    ("Evidence", block.evidence, ""),
                    (f"Team's last failures ({cab.TEAM_LOOKBACK_DAYS} days)",
                     block.last_failures, "No failed change.")):
                if frame.empty:
                    st.caption(f"{title}: {empty}")
                else:
                    st.markdown(f"**{title}**")
                    st.dataframe(frame, hide_index=True)
    for name in ("cab_agenda", "change_collisions", "similar_change_history"):
        ui.definition(name, f"How is {name.replace('_', ' ')} computed?")

with since:
    st.caption(meta["Since last CAB"])
    kpis = pack.kpis
    columns = st.columns(len(kpis))
    for column, (_, kpi) in zip(columns, kpis.iterrows(), strict=True):
        column.metric(
            kpi["KPI"], ui.pct(kpi["since_rate"]),
            ui.delta_points(kpi["since_rate"], kpi["before_rate"]),
            delta_color="normal" if kpi["KPI"] == "Change success rate"
            else "inverse", border=True)
        column.caption(f"n = {kpi['since_n']:,} {kpi['Counts']} · "
                       f"{kpi['since_count']:,} {kpi['Count is']} · before: "
                       f"{ui.pct(kpi['before_rate'])} of {kpi['before_n']:,}")
    for reason, title in cab.REASONS.items():
        frame = cab.since_last(pack, reason)
        st.subheader(f"{title} ({len(frame)})")
        if frame.empty:
            st.caption("None since the last meeting.")
        else:
            ui.table(frame, f"{stem}-{reason}")
    ui.definition("cab_since_last", "How is this list computed?")

with going:
    st.caption(cab.RELEASES_INTRO)
    if pack.releases.empty:
        st.info("No release is planned to go live before the next meeting.")
    else:
        lines = cab.release_lines(pack)
        ui.table(lines, f"{stem}-releases", max_rows=None,
                 height=min(420, 38 + 35 * len(lines)),
                 column_config={"Reasons": st.column_config.TextColumn(
                     width="large")})
    ui.definition("release_readiness", "How is readiness computed?")

with st.expander("Produced by (for an audit)"):
    st.markdown("\n".join(f"- **{key}**: {_md(value)}"
                          for key, value in meta.items()))
ui.as_of_caption(status)
