"""CAB pack: the pre-read of a Change Advisory Board meeting, on screen and
as HTML, PDF and XLSX downloads of exactly the same pack."""
import json
import re
from datetime import date, datetime, timedelta
from functools import partial

import pandas as pd
import streamlit as st

from changeboard import asof, auth, config, db, decisions, signin, ui
from reports import cab, decided, minutes
from reports.text import zone_name

# the meeting sets the dates: no period picker
status, _, filters = ui.page("CAB pack", period=False)
# an address naming a meeting (a link, a mailed pack, this page's own
# reruns) opens the tab it names, the first without ?tab; the navigation's
# (none of these) the tab open last in the session
LINKED = any(key in st.query_params for key in ("meeting", "until", "tab"))
# the CAB decisions this run reads (None: all; as of a snapshot, those
# recorded while it was live), worked out once: each read takes it
CUT = asof.decisions_until()


# one pack object per meeting, filters and data version, shared by every
# rerun and session (st.cache_data would hand each rerun an unpickled copy,
# losing the assessments worked out on it: 1.4 s a rerun at 3,000 agenda
# changes); nothing changes a pack once built, apart from that memo
@st.cache_resource(ttl=config.CACHE_TTL, max_entries=8,
                   show_spinner="Building the CAB pack…")
def _pack(version, path, meeting: date, window_end: date | datetime | None,
          filters: dict, decisions_revision: int,
          as_of: str | None = None,
          decisions_until: str | None = None) -> cab.Pack:
    # its "since last CAB" section is read when first shown or downloaded
    # (cab.with_since): a fifth of a cold run, and the page opens on the
    # agenda. `decisions_until`, part of the key (the cache is every
    # session's): as of a snapshot, the decisions recorded while it was
    # live; a live session's pack of the same data read them all
    return cab.build_pack(path, meeting, window_end_at=window_end,
                          filters=filters, as_of=as_of, since_last=False,
                          decisions_until=decisions_until)


def _kept(pack: cab.Pack, build, *args):
    """`build(pack, *args)` (the agenda and release lines, a page of change
    blocks), worked out once per shared pack; nothing changes what it
    returns."""
    kept = pack.__dict__.setdefault("_page_parts", {})
    key = (build.__name__, *args)
    if key not in kept:
        kept[key] = build(pack, *args)
    return kept[key]


def _md(text: str) -> str:
    """User text shown literally in Markdown (no links, emphasis or emoji)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~:$])", r"\\\1", text)


MAX_WINDOW_DAYS = cab.MAX_WINDOW_DAYS  # as `report cab --window-end` takes


def _until(meeting: date) -> date | datetime | None:
    """?until= from the URL if it is after the meeting and within
    MAX_WINDOW_DAYS of it; otherwise None, saying so. A day means its CAB
    time; an instant (a pack's window ending at another time: the link of
    `report cab --send --window-end`, cab.window_end_text) is kept as it
    is, unless it is its day's CAB time, which is that day."""
    until = ui.url_date_or_instant("until")
    if isinstance(until, datetime):
        day = until.astimezone(cab.reporting_zone()).date()
        if until == cab.meeting_on(day):
            until = day
    if until is None:
        return None
    start = cab.meeting_on(meeting)
    if not start < cab.instant(until) <= start + timedelta(
            days=MAX_WINDOW_DAYS):
        st.warning(f"Ignored until={until.isoformat()} in the address:"
                   " the review window must end after the meeting and within"
                   f" {MAX_WINDOW_DAYS} days of it.")
        return None
    return until


BLOCKS_PER_PAGE = 20  # change blocks drawn at a time


def _page_of_blocks(pack: cab.Pack, first: int) -> list[tuple]:
    """A page of change blocks, each with its tables (title, rows, what an
    empty one says); the rows as Arrow tables, built once per pack:
    st.dataframe converts a pandas frame again on every rerun (up to 100
    tables a page, a third of a warm rerun)."""
    return [(block, [
        ("Collisions", block.collisions, "No collision."),
        ("Freeze, blackout and maintenance windows", block.window_hits,
         "No window hit."),
        ("Environment bookings of its release", block.bookings,
         "No booking of its release overlaps the plan." if block.in_release
         else "The change belongs to no release."),  # as the files say
        ("Evidence", block.evidence, ""),
        (f"Team's last failures ({cab.TEAM_LOOKBACK_DAYS} days)",
         block.last_failures, "No failed change.")])
        for block in cab.blocks(pack, BLOCKS_PER_PAGE, start=first,
                                arrow=True)]


LABELS = list(decisions.DECISIONS.values())
# what a decision's note holds, as a block under the decision says it
NOTE_WORD = {decisions.label(code): word for code, word in (
    ("approved_with_conditions", "Conditions"), ("rejected", "Reasons"),
    ("deferred", "Reasons"))}
CODES = dict(zip(LABELS, decisions.DECISIONS, strict=True))


# what the decisions tab says in a historical view (asof.chosen())
HISTORICAL = ("This is a historical view: decisions and attendees are "
              "recorded in the live data's view. Pick *Live data* under "
              "**As of** in the sidebar to record them.")


def _save_decision(path, meeting_at) -> None:
    """Save's callback: decisions.record checks the role again, here on the
    server, whatever the page showed."""
    state = st.session_state
    state[FOCUS] = "cab-decide-save"
    change_id = state.get("cab-decide-change")
    if state.get("cab-decide-choice") is None:
        # no decision is preselected: a click on Save never records an
        # approval nobody chose
        state["cab-decide-said"] = ("error", f"Pick a decision for "
                                    f"{change_id} before saving it.")
        return
    try:
        decisions.record(path, signin.current(), meeting_at, change_id,
                         CODES.get(state.get("cab-decide-choice"), ""),
                         state.get("cab-decide-note", ""),
                         seen=state.get("cab-decide-seen"))
    except decisions.Superseded as newer:
        # another member's (or tab's) decision since the form showed the
        # change: said, and this one kept in the form for a second save
        row = newer.row
        state["cab-decide-said"] = (
            "warning", f"Not recorded: {row['decided_by']} recorded "
            f"{decisions.label(row['decision'])} for {change_id} at "
            f"{cab.when(row['decided_at'])} ({config.REPORTING_TZ}) after "
            "this form showed it"
            + (f" (note: {row['note']})" if row["note"] else "")
            + ". Your decision is still in the form: save again to record "
            "it in place of that one.")
        state["cab-decide-seen"] = newer.recorded
        return
    except (PermissionError, ValueError) as error:
        state["cab-decide-said"] = ("error", str(error))
        return
    said = f"Recorded {state['cab-decide-choice'].lower()} for {change_id}."
    state.pop(SHOWN, None)  # saved: nothing of it is a draft
    # its history shown below, where the box kept another change's (an
    # auditor amended one and read another's history)
    state["cab-history"] = change_id
    options = state.get("cab-decide-options") or []
    following = _undecided_after(path, meeting_at, options, change_id)
    if following is None:
        said += " Every change in this list has a decision."
    else:
        state["cab-decide-change"] = following
    state["cab-decide-said"] = ("success", said)
    _show_current(path, meeting_at)


def _agenda_file(pack: cab.Pack, decided_now: dict) -> pd.DataFrame:
    """The agenda's downloads: the For decision sheet of the pack's XLSX,
    with the meeting's decisions so far beside each change as the table
    shows them."""
    frame = cab.decision_table(pack)
    if decided_now:
        frame.insert(frame.columns.get_loc("Change") + 1, "Decision",
                     [decided_now.get(c, "") for c in frame["Change"]])
    return frame


def _undecided_after(path, meeting_at, options: list[str],
                     change_id: str | None) -> str | None:
    """The form's next change: the first of `options` after change_id
    with no decision at this meeting, else the first before it; None when
    every one has a decision. (The next in agenda order, decided or not,
    showed a decision already made, one click on Save from recording it
    again.)"""
    decided = set(decisions.current(path, meeting_at,
                                    CUT)["change_id"])
    at = options.index(change_id) + 1 if change_id in options else 0
    return next((c for c in options[at:] + options[:at]
                 if c not in decided), None)


def _before_the_meeting(meeting_at, decided: bool) -> str:
    """What recording before the meeting does, said while it is ahead: the
    minutes read the agenda as it stood at the meeting's first decision,
    so a change a load adds after it is not on it (a new user recorded
    decisions the evening before, then loaded two changes the form listed
    and the minutes did not)."""
    if pd.Timestamp(meeting_at) <= pd.Timestamp.now(tz="UTC"):
        return ""
    return (f" The meeting is on {cab.when(meeting_at)}: its minutes read "
            "the agenda as it stood when its first decision was recorded"
            + (" (one is)" if decided else ", so the first one recorded "
               "now fixes it") + ": a change a later load adds is not on "
            "it.")


def _choice_changed() -> None:
    """Another decision than the one recorded takes that decision's note
    out of the form, said with its words: a Deferred change approved with
    one click kept 'Wait for DBA sign-off' and the minutes printed
    'Approved · Wait for DBA sign-off' (a new user's walkthrough). A note
    written since stays; going back to the decision recorded puts its note
    back in an empty box."""
    state = st.session_state
    shown = state.get(SHOWN)
    if shown is None or not shown[2][1]:
        return
    recorded, note = shown[2]
    choice, written = state.get("cab-decide-choice"), \
        state.get("cab-decide-note", "")
    if choice != recorded and written == note:
        state["cab-decide-note"] = ""
        state["cab-decide-said"] = (
            "info", f"The note recorded with {recorded} is out of the form: "
            f"it was that decision's. It read: {note}")
    elif choice == recorded and not written.strip():
        state["cab-decide-note"] = note


def _show_current(path, meeting_at) -> None:
    """The form starts from the picked change's current decision and note
    (a new decision: none picked, no note; Approved preselected was one
    click from an approval nobody chose), or from what was written for it
    and not saved: a note typed for one change was lost when another was
    picked, and is kept until it is saved or the change shown again."""
    state = st.session_state
    change_id = state.get("cab-decide-change")
    drafts = state.setdefault(DRAFTS, {})
    form = (state.get("cab-decide-choice"), state.get("cab-decide-note", ""))
    shown = state.get(SHOWN)  # (meeting, change, what it was loaded with)
    if shown is not None and shown[:2] != (meeting_at, change_id) and \
            form != shown[2] and (form[0] is not None or form[1].strip()):
        drafts[shown[:2]] = form
    now = decisions.history(path, meeting_at, change_id) \
        if change_id else pd.DataFrame()
    last = now.iloc[-1] if len(now) else None
    loaded = (None if last is None else decisions.label(last["decision"]),
              "" if last is None else last["note"])
    draft = drafts.pop((meeting_at, change_id), None)
    state["cab-decide-choice"], state["cab-decide-note"] = draft or loaded
    if draft:
        state["cab-decide-said"] = (
            "info", f"What was written for {change_id} and not saved is "
            "back in the form.")
    state[SHOWN] = (meeting_at, change_id, loaded)
    # what the form shows: a decision recorded since is not replaced unsaid
    state["cab-decide-seen"] = len(now)


def _save_attendees(path, meeting_at, key) -> None:
    st.session_state[FOCUS] = "cab-attendees-save"
    try:
        names = decisions.record_attendees(path, signin.current(), meeting_at,
                                           st.session_state.get(key, ""))
    except (PermissionError, ValueError) as error:
        st.session_state["cab-decide-said"] = ("error", str(error))
        return
    st.session_state[key] = "\n".join(names)  # as recorded: the box said
    # what was typed, repeats and blank lines among it
    st.session_state["cab-decide-said"] = (
        "success", f"Recorded {ui.many(len(names), 'attendee')}.")


def _last_cab_decisions() -> None:
    """The last CAB's decisions beside what happened: first on the tab, the
    changes rejected and implemented anyway in red."""
    st.header("Decisions of the last CAB")
    st.caption(decided.heading(pack))
    if pack.decided_meeting_at is not None:
        flag = decided.flag_note(pack)
        if flag:
            st.error(ui.plain(flag), icon=":material/gpp_bad:")
        for key, title in decided.FINDINGS.items():
            frame = decided.table(pack, key).drop(columns="Finding")
            st.markdown(f"**{title} ({len(frame):,})**")
            if frame.empty:  # as far as the data goes, as the lists say
                st.caption(cab.since_none(pack, "None."))
            else:
                ui.table(frame, f"{stem}-{key}")
        rest = decided.table(pack, "").drop(columns="Finding")
        with st.expander(f"Other decisions of that meeting ({len(rest):,})"):
            ui.table(rest, f"{stem}-other-decisions")
    # the command names the decided changes it looks up; with none
    # decided before this meeting there is nothing to look up
    ui.definition("cab_decided_changes", "How is what happened computed?",
                  params={"change_ids": list(dict.fromkeys(
                      pack.decided["change_id"])), **pack.filters}
                  if pack.decided_meeting_at is not None else None)


def _agenda_options(pack: cab.Pack) -> dict[str, str]:
    """Each agenda change's label in the decision form, in agenda order
    ('#3 CHG0042 — its title'), worked out once per pack (thousands of
    agenda changes)."""
    agenda = pack.agenda
    return {change: f"#{int(rank)} {change} — "
            f"{cab.shorten(cab.as_text(title), 60)}"
            for change, rank, title in zip(
                agenda["change_id"].tolist(), agenda["agenda_rank"].tolist(),
                agenda["title"].tolist(), strict=True)}


def _decisions_tab() -> None:
    """Record a decision per agenda change (one form, whatever the agenda's
    length), the attendees, the decisions with who and when, each change's
    history, and the minutes."""
    user = signin.current()
    may = user is not None and user.can(auth.DECIDE)
    said = st.session_state.pop("cab-decide-said", None)
    # what a save said, and the script putting the focus back on its
    # button, in a slot drawn on every run: shown in an element of their
    # own, the form's elements moved down one when it came and went, and
    # the browser drew them anew, losing a keyboard's focus
    slot = st.empty()
    focus = st.session_state.pop(FOCUS, None)
    if said or focus:
        with slot.container():
            if said:
                getattr(st, said[0])(ui.plain(said[1]))
            if focus:
                _focus_again(focus)
    if may and asof.chosen() is not None:
        # a decision goes into the live log, whatever snapshot is shown: from
        # a historical view one was saved under a "read-only" banner, on a
        # past agenda (a change approved since still offered)
        may = False
        st.info(HISTORICAL)
    agenda = pack.agenda
    named = _kept(pack, _agenda_options)
    now = dict(zip(recorded["change_id"].tolist(),
                   recorded["decision"].tolist(), strict=True))
    # the minutes are the meeting's whole agenda in its default window
    # (their Regenerate command's), whatever the filters or window here
    narrowed = bool(filters) or window_end is not None
    # the meeting's whole agenda in its default window (the minutes')
    whole = _meeting_pack(None, {}) if narrowed else pack
    if may:
        # the address in a code span, as the sidebar shows it: not a link
        actor = user.actor.replace("`", "'")
        st.caption(f"Recording as `{actor}`. A change of "
                   "decision is kept as history; the latest is current."
                   + (" The filters or the window chosen narrow this list "
                      "to this pack's changes, numbered as in it; the "
                      "decisions and minutes below are the meeting's "
                      "whole agenda, numbered as the minutes number it."
                      if narrowed and not agenda.empty else "")
                   + _before_the_meeting(meeting_at, bool(now)))
        # changes decided here that have left the meeting's agenda since (a
        # load approved one in the source): still in the form, to amend
        left_agenda = [c for c in now if c not in set(
            whole.agenda["change_id"].tolist())]
        if agenda.empty and not left_agenda:
            st.info("No change is on this meeting's agenda.")
        else:
            options = [*named, *left_agenda]
            st.session_state["cab-decide-options"] = options
            if st.session_state.get("cab-decide-change") not in options:
                # the first change without a decision (after a reload too)
                st.session_state["cab-decide-change"] = next(
                    (c for c in options if c not in now), options[0])
                _show_current(path, meeting_at)
            elif st.session_state.get(FORM_MEETING) != meeting_at:
                # another meeting picked, the same change on its agenda (a
                # plan across two review windows): the form shows this
                # meeting's decision, never the last one's to save here
                _show_current(path, meeting_at)
            st.session_state[FORM_MEETING] = meeting_at
            left, right = st.columns([3, 2])
            left.selectbox(
                "Agenda change", options, key="cab-decide-change",
                format_func=lambda c: named.get(
                    c, f"{c} — no longer on the agenda")
                + (f" · {decisions.label(now[c])}" if c in now else ""),
                help="Every change for decision, in agenda order; the "
                "current decision follows the title. Last, the changes "
                "decided at this meeting that have left its agenda since.",
                on_change=_show_current, args=(path, meeting_at))
            right.radio("Decision", LABELS, key="cab-decide-choice",
                        horizontal=True, index=None,
                        on_change=_choice_changed)
            st.text_area("Note (conditions, reasons)", key="cab-decide-note",
                         height=80, max_chars=decisions.NOTE_CHARS,
                         help="Approved with conditions is saved with its "
                         "conditions written here, Rejected and Deferred "
                         "with their reasons; the minutes print them.")
            st.button("Save decision", type="primary", key="cab-decide-save",
                      on_click=_save_decision, args=(path, meeting_at))
    elif asof.chosen() is None:
        who = "not signed in" if user is None else user.role_label
        st.info(f"Decisions are shown read-only: recording them needs the "
                f"CAB member role (you are {ui.plain(who)}).")

    st.header("Attendees")
    people = decisions.attendees(path, meeting_at, CUT)
    if may:
        key = f"{ATTENDEES}{meeting_at:%Y%m%d%H%M}"
        if key not in st.session_state:  # as recorded, until edited
            st.session_state[key] = "\n".join(people)
        st.text_area("One per line", key=key,
                     height=min(300, 60 + 24 * len(people)))
        st.button("Save attendees", key="cab-attendees-save",
                  on_click=_save_attendees, args=(path, meeting_at, key))
    elif people:
        st.markdown("\n".join(f"- {ui.plain(n)}" for n in people))
    else:
        st.caption("No attendee recorded.")

    st.header(f"Decisions ({len(recorded):,})")
    if recorded.empty:
        st.caption("No decision recorded at this meeting yet.")
        _per_meeting()
        return
    # the meeting's minutes, as their Regenerate command writes them:
    # the whole agenda of its default window, whatever this page's filters
    built = _minutes_of(whole)
    decided_in = f"Decided ({zone_name(whole.reporting_tz)})"
    zoned = {"Decided": decided_in}
    shown_decisions = built.decisions[minutes.ON_PAGE].rename(columns=zoned)
    # the note (an approval's conditions) whole, wrapped beside the title
    # within the table's width at 1280 px: it was cut after a few words
    # (a CAB chair's walkthrough)
    widths = {"Title": ui.text_width(shown_decisions["Title"], 100, 180),
              "Decision": ui.text_width(shown_decisions["Decision"], 80, 180)}
    widths["Note"] = max(ui.TABLE_WIDTH - RANK_WIDTH - CHANGE_WIDTH - sum(
        widths.values()), 200)
    sized = max((ui.wrapped_table(shown_decisions[c], len(shown_decisions),
                                  most=420, width=widths[c],
                                  most_lines=ui.READ_LINES)
                 for c in ("Title", "Note")),
                key=lambda found: found["row_height"])
    ui.table(shown_decisions, f"{stem}-decisions", max_rows=None,
             download=built.decisions.rename(columns=zoned), **sized,
             column_config={"#": st.column_config.NumberColumn(
                                width=RANK_WIDTH),
                            "Change": st.column_config.TextColumn(
                                width=CHANGE_WIDTH),
                            **{c: st.column_config.TextColumn(width=w)
                               for c, w in widths.items()}})
    if built.pack.data_version != whole.data_version:
        # a load replaced the meeting's version: the form above numbers
        # today's agenda, as the pack's files do
        st.caption(f"Numbered as in the minutes, which read {built.read}. "
                   "The form above and the pack's files read today's "
                   "agenda.")  # our words: no Markdown to escape
    if built.undecided:
        st.caption(f"{ui.many(len(built.undecided), 'agenda change')} not "
                   "decided yet" + (
                       f", of the meeting's {len(built.pack.agenda):,}, "
                       "whatever "
                       "the filters" if narrowed else "") + ".")
    decided_ids = list(recorded["change_id"])
    titles = dict(zip(built.decisions["Change"], built.decisions["Title"],
                      strict=True))
    shown = st.selectbox("History of", decided_ids, key="cab-history",
                         format_func=lambda c: f"{c} — {titles[c]}"
                         if titles.get(c) else c,
                         help="Every decision recorded on the change at this "
                         "meeting, oldest first.")
    past = decisions.history(path, meeting_at, shown,
                             CUT)
    st.dataframe(pd.DataFrame({
        "Decision": past["decision"].map(decisions.label),
        "Note": past["note"], "Decided by": past["decided_by"],
        decided_in: [cab.when(t, whole.reporting_tz)
                     for t in past["decided_at"]],
        "Current": past["is_current"]}), hide_index=True)
    stem_m = f"cab-minutes-{meeting:%Y-%m-%d}{asof.file_suffix()}"
    st.caption("Minutes: every decision with its note, who and when, and "
               "the attendees.")
    # side by side, each as wide as its label: in an eighth of the page
    # each read 'Minutes …', three buttons alike
    files = st.container(horizontal=True)
    # each file is built when its button is clicked, not on every rerun
    # (in this session: ui.deferred)
    files.download_button(
        "Minutes HTML", ui.deferred(lambda: minutes.to_html(built)),
        f"{stem_m}.html", "text/html", key="cab-minutes-html",
        on_click="ignore")
    files.download_button(
        "Minutes PDF", ui.deferred(lambda: minutes.pdf_bytes(built)),
        f"{stem_m}.pdf", "application/pdf", key="cab-minutes-pdf",
        on_click="ignore")
    files.download_button(
        "Minutes XLSX", ui.deferred(lambda: minutes.to_xlsx(built)),
        f"{stem_m}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="cab-minutes-xlsx", on_click="ignore")
    _per_meeting()


def _per_meeting() -> None:
    """The CAB's throughput, meeting by meeting (a process owner reported
    it by hand): how many changes it decided, and how, from the decisions
    recorded here."""
    rows = decisions.per_meeting(path, CUT)
    if rows.empty:
        return
    tz = pack.reporting_tz
    labels = {"meeting_at": f"Meeting ({zone_name(tz)})",
              "n_decided": "Changes decided",
              **{f"n_{d}": said for d, said in decisions.DECISIONS.items()},
              "n_changed_since": "Decisions replaced"}
    with st.expander(f"Decisions per meeting ({ui.many(len(rows), 'meeting')}"
                     ")"):
        ui.table(rows.assign(meeting_at=[cab.when(t, tz)
                                         for t in rows["meeting_at"]]),
                 "cab-decisions-per-meeting", labels=labels, download=rows)
        st.caption("Each change counts once at a meeting, by its latest "
                   "decision there; Decisions replaced counts those recorded "
                   "there and replaced by a later one (a change of mind). "
                   "From the decisions recorded on this page, latest meeting "
                   "first.")


def _minutes_of(whole: cab.Pack) -> minutes.Minutes:
    """The meeting's minutes as `report minutes` writes them: from the data
    as it stood when its first decision was recorded (minutes.read_version),
    a snapshot once a load has replaced it; in a historical view, from the
    snapshot shown."""
    version, read = minutes.chosen_version(config.DB_PATH, meeting,
                                           asof.chosen(), CUT)
    if asof.chosen() is None and version:
        whole = _pack(db.version(config.DB_PATH), str(config.DB_PATH),
                      meeting, None, {},
                      decisions.revision(config.DB_PATH, before=meeting),
                      version, CUT)
    return minutes.build(whole, CUT, read=read)


def _position(ids: list[str]) -> tuple[str, int | None] | None:
    """The id typed in Find (trimmed, any case, or the number it ends in)
    and its position on the agenda `ids` (None: not on it); None when
    nothing is typed."""
    wanted = str(st.session_state.get(FIND) or "").strip()
    if not wanted:
        return None
    at = {c.casefold(): i for i, c in enumerate(ids)}.get(wanted.casefold())
    if at is None and wanted.isdigit():
        # its number alone, as it is said aloud ('3949' for CHG0003949):
        # the one agenda id ending in that number, leading zeros aside
        ending = [i for i, c in enumerate(ids)
                  if (digits := re.search(r"(\d+)$", c))
                  and int(digits.group(1)) == int(wanted)]
        at = ending[0] if len(ending) == 1 else None
    return (wanted, None) if at is None else (ids[at], at)


def _not_on_agenda(wanted: str) -> str:
    """Why a change typed in Find is not on the agenda, as the data says
    (a made-up id read as a change closed or approved): not in the data,
    outside the filters, or what keeps it off (its state, approval, type,
    plan), else the rules in general."""
    row = ui.query("cab_decided_changes", change_ids=[wanted],
                   **pack.filters).iloc[0]
    said = ui.plain(wanted)
    if not row["is_known"] and wanted.isdigit():
        # a number alone names an agenda change's id ending in it; off the
        # agenda it said 'no change has this id' of CHG0000804's 804
        return (f"No change on this agenda has an id ending in {said}: "
                "type the whole id to see why a change is not on it.")
    if not row["is_known"]:
        return f"{said} is not in the data: no change has this id."
    if not row["is_in_filters"]:
        return f"{said} is not on this agenda: it is outside the filters."
    why = [text for text, holds in (
        (f"it is {ui.word(row['state'])}",
         row["state"] in ("closed", "cancelled", "implement", "review")),
        (f"its approval is {ui.word(row['approval'])}",
         row["approval"] in ("approved", "rejected", "not_required")),
        ("it is a standard change", row["change_type"] == "standard"),
        ("it has no plan", pd.isna(row["planned_start_at"])),
        ("it is planned " + cab.span(row["planned_start_at"],
                                     row["planned_end_at"])
         + ", outside the review window", pd.notna(row["planned_start_at"])
         and (pd.Timestamp(row["planned_start_at"]) >= pack.window_end_at
              or pd.Timestamp(row["planned_end_at"])
              <= pack.window_start_at)),
    ) if holds]
    return (f"{said} is not on this agenda: " + (
        "; ".join(why) if why else "it may not need the CAB (the agenda's "
        "rules are under How is the agenda computed?)") + ".")


def _find(ids: list[str]) -> None:
    """Open the page of blocks holding the id typed in Find, and scroll to
    its block as the page draws it (once)."""
    found = _position(ids)
    if found and found[1] is not None:
        st.session_state["cab-detail"] = found[1] - found[1] % BLOCKS_PER_PAGE
        st.session_state[SCROLL_TO] = found[0]


# scrolls the page to an element once it is drawn (it may be drawn after
# the script that asks for it): the block of a change found by its id,
# which was "below", a screen or ten down
SCROLL = """<div id=%s></div><script>
(function go(tries) {
  var block = document.getElementById(%s);
  if (block) { block.scrollIntoView({behavior: "smooth", block: "start"}); }
  else if (tries < 50) { setTimeout(function () { go(tries + 1); }, 100); }
})(0);
</script>"""


# a save changes the tabs' labels (their counts), so the browser draws the
# tab anew and the focus of a keyboard's Save went to the page's body (an
# accessibility review): it is put back on the button, once drawn. Each
# script is its own (its count): the browser runs a script again only when
# its element changes
FOCUS_AGAIN = """<script>/* %d */
(function go(tries) {
  var button = document.querySelector(%s);
  if (button) { button.focus(); }
  else if (tries < 50) { setTimeout(function () { go(tries + 1); }, 100); }
})(0);
</script>"""


def _focus_again(key: str, within: str = "button") -> None:
    """The focus back on the element `within` the widget of this key (its
    element's class st-key-<key>: its button), once it is drawn."""
    sent = st.session_state[FOCUS + ":n"] = \
        st.session_state.get(FOCUS + ":n", 0) + 1
    st.html(FOCUS_AGAIN % (sent, json.dumps(f".st-key-{key} {within}")),
            unsafe_allow_javascript=True)


def _scroll_here(change_id: str) -> None:
    """Scroll to where this is drawn: the block of the change found."""
    anchor = json.dumps("cab-block-" + re.sub(r"[^A-Za-z0-9_-]", "-",
                                              change_id))
    st.html(SCROLL % (anchor, anchor), unsafe_allow_javascript=True)


def _decide_tab() -> None:
    st.caption(
        "Normal and emergency changes that need CAB, planned in the review "
        "window and not yet approved: awaiting approval, or not yet "
        f"submitted for it (flagged {cab.NOT_SUBMITTED}); by risk, highest "
        "first, then by planned start. Each change's block below weighs its "
        "evidence over implemented changes before the meeting (its n).")
    if pack.agenda.empty:
        st.info(cab.empty_agenda(pack))
        first = 0
    else:
        note = cab.size_note(pack, on_page=True)
        if note:
            st.warning(note, icon=":material/filter_alt:")
        lines = _kept(pack, cab.agenda_lines)
        if decided_now:  # the meeting's decisions so far, beside its agenda
            # next to the id: at the table's end a wide screen cut
            # "Approved with conditions" to "Approved"
            # (a copy: the lines are the shared pack's)
            lines = lines.copy()
            lines.insert(lines.columns.get_loc("Change") + 1, "Decision",
                         [decided_now.get(c, "") for c in lines["Change"]])
        # Flags as wide as its longest line (Streamlit sized it by the
        # first rows: "Collides with 2 other changes, Blac…" further down),
        # the title narrower than its longest: at 1280 pixels the flags
        # began at the table's right edge (each title is whole in its
        # block below, and on hovering)
        ui.table(lines, f"{stem}-agenda",
                 max_rows=None, height=ui.table_height(len(pack.agenda), most=420),
                 # the files: the pack XLSX's For decision sheet, its plan
                 # as date cells under headings naming the zone, built on
                 # the click; the agenda's 'Tue 08 Dec 17:30' had no year
                 # or zone and sorted Fri < Mon as text (a CAB chair's
                 # walkthrough)
                 download=partial(_agenda_file, pack, decided_now),
                 download_rows=len(pack.agenda),
                 column_config={
                     # narrower beside a Decision column, itself the
                     # width of 'Approved' ('Approved with conditions'
                     # whole on hovering): the flags began beyond the
                     # table's edge at 1280
                     "Title": st.column_config.TextColumn(
                         width=ui.text_width(lines["Title"], 120,
                                             180 if decided_now else 300)),
                     "Decision": st.column_config.TextColumn(width=110),
                     "Flags": st.column_config.TextColumn(
                         width=ui.text_width(lines["Flags"], 80, 640))})
        starts = list(range(0, len(pack.agenda), BLOCKS_PER_PAGE))
        # the blocks' h2, each block's title an h3 under it (they were h4
        # straight under the page's h1: an accessibility review)
        st.header("Changes in detail")
        pick, find = st.columns([1, 1], vertical_alignment="bottom")
        first = pick.selectbox(
            "Changes shown", starts, key="cab-detail",
            format_func=lambda s: f"{s + 1:,}–"
            f"{min(s + BLOCKS_PER_PAGE, len(pack.agenda)):,} of "
            f"{len(pack.agenda):,}", disabled=len(starts) == 1,
            help=f"{BLOCKS_PER_PAGE} changes at a time, in agenda order.")
        # one change by its id: its page of blocks opens (the agenda's grid
        # searches only the rows it has drawn)
        ids = list(pack.agenda["change_id"])
        find.text_input("Find a change by its id", key=FIND,
                        placeholder="CHG0012345", on_change=_find,
                        args=(ids,))
        if found := _position(ids):
            wanted, at = found
            find.caption(_not_on_agenda(wanted) if at is None else
                         f"{ui.plain(wanted)} is #{at + 1:,} on the agenda: "
                         "its block is below.")
    shown = _kept(pack, _page_of_blocks, first) if len(pack.agenda) else []
    for block, tables in shown:
        if st.session_state.get(SCROLL_TO) == block.change_id:
            _scroll_here(st.session_state.pop(SCROLL_TO))
        with st.container(border=True):
            st.markdown(f"### {block.rank}. {_md(block.change_id)} — "
                        f"{_md(block.title)}")
            if block.change_id in decided_now:
                st.markdown(":blue-badge[Decided at this meeting: "
                            f"{decided_now[block.change_id]}]")
                note = noted_now.get(block.change_id)
                if note:  # its conditions or reasons, as the minutes say
                    word = NOTE_WORD.get(decided_now[block.change_id], "Note")
                    st.caption(f"{word}: {_md(note)}")
            st.markdown(" · ".join(f"**{label}** {_md(value)}"
                                   for label, value in block.facts))
            if block.flags:
                st.markdown(" ".join(f":orange-badge[{_md(flag)}]"
                                     for flag in block.flags))
            # drawn when opened: ten elements a block, a fifth of a rerun
            reading = st.expander("Description, justification and plans",
                                  key=f"cab-reading-{block.change_id}",
                                  on_change="rerun")
            if reading.open:
                with reading:
                    for label, text in block.reading:
                        st.markdown(f"**{label}**")
                        if text:
                            st.text(text)
                        else:
                            st.caption("Not recorded.")
            for title, frame, empty in tables:
                if len(frame) == 0:
                    st.caption(f"{title}: {empty}")
                else:
                    st.markdown(f"**{title}**")
                    # a count with its thousands separator, as the pack
                    st.dataframe(frame, hide_index=True, column_config={
                        "n": st.column_config.NumberColumn(
                            format="localized")})
    ran = cab.queries_of(pack)
    for name, what in (("cab_agenda", "the agenda"),
                       ("change_collisions", "a collision"),
                       ("similar_change_history", "the similar-change history")):
        ui.definition(name, f"How is {what} computed?", params=ran[name])


def _since_tab() -> None:
    try:
        kpis = cab.with_since(pack).kpis
    except cab.PackOutdated:
        # a load replaced the file version the pack read, keeping no
        # snapshot of it: the next run builds the new version's pack
        st.rerun()
    st.caption(meta["Since last CAB"])
    cut = meta.get("Since last CAB, counted")
    if cut:
        st.warning(ui.plain(cut), icon=":material/schedule:")
    _last_cab_decisions()
    st.header("What happened since the last CAB")
    columns = st.columns(len(kpis))
    for column, (_, kpi) in zip(columns, kpis.iterrows(), strict=True):
        delta = ui.delta_points(kpi["since_rate"], kpi["before_rate"])
        column.metric(
            kpi["KPI"], ui.pct(kpi["since_rate"]), delta, border=True,
            **ui.delta_style(delta, "normal" if kpi["KPI"] ==
                             "Change success rate" else "inverse"))
        unknown = cab.kpi_since_unknown(kpi)
        if unknown:
            # n = 0 only because the source leaves its changes unrated
            # (BPIC 2014 records no approval): say so, not '0 unauthorised',
            # and of the period before, as the files say it
            column.caption(unknown)
            continue
        left_out, small = cab.kpi_left_out(kpi), cab.kpi_small(kpi)
        column.caption(f"n = {cab.kpi_n(kpi['since_n'], kpi)} · "
                       f"{kpi['since_count']:,} {kpi['Count is']} · "
                       f"{cab.kpi_before(kpi)}"
                       + (f" · {left_out}" if left_out else "")
                       + (f" · {small}" if small else ""))
    since = {"start_date": pack.since_start_date,
             "end_date": pack.since_end_date}
    since_said = f"{cab.since_days(pack)} (times in {pack.reporting_tz})"
    for reason, title in cab.REASONS.items():
        frame = _kept(pack, cab.since_last, reason)  # shared: not changed
        # an empty list where the data cannot say (no close codes, no
        # approvals) is no news of none; the pack says the same
        unrated = cab.since_empty(pack, reason) if frame.empty else None
        st.subheader(f"{title} ({'not known' if unrated else len(frame)})")
        if unrated:
            st.caption(unrated)
        elif frame.empty:
            st.caption(cab.since_none(pack, "None since the last meeting."))
        else:
            # its files cover the days since the last CAB, not the review
            # window ahead (their About sheet said the review window), and
            # hold its instants as a spreadsheet's cells with their zone,
            # as the pack's XLSX does (they held the page's text)
            with ui.files_cover(since, f"the meeting of {meta['Meeting']}: "
                                f"since the last CAB, {since_said}"):
                ui.table(frame, f"{stem}-{reason}",
                         download=partial(cab.since_last, pack, reason,
                                          sheet=True),
                         download_rows=len(frame))
    ui.definition("cab_since_last", "How is this list computed?",
                  params=cab.queries_of(pack)["cab_since_last"])


GO_LIVE_WIDTH, STATUS_WIDTH = 150, 95  # the releases going live's
RANK_WIDTH, CHANGE_WIDTH = 40, 110  # the decisions table's '#' and Change


def _releases_tab() -> None:
    unfiltered = cab.releases_unfiltered(pack)
    st.caption(cab.RELEASES_INTRO + (f" {unfiltered}" if unfiltered else ""))
    if pack.releases.empty:
        st.info(cab.no_release_going_live(pack))
    else:
        filed = _kept(pack, cab.release_lines)  # as the pack's XLSX
        # on a screen, what the CAB acts on first: at 1440 px the reasons
        # were cut and the agenda changes a release carries off to the
        # right, behind its name and its application's (which mostly
        # repeat each other); the printed page keeps the pack's order. The
        # release as 'Name (id)', as the pages name one: its id alone
        # ('REL-00064'), with the name off to the right, told a member
        # nothing (a new copy: the kept lines are shared). The downloads
        # keep the pack's columns, the id apart, as scripts read it
        lines = filed.assign(Release=[
            cab.named({"release_id": rid, "release_name": name}, "release")
            for rid, name in zip(filed["Release"], filed["Release name"],
                                 strict=True)]).drop(columns="Release name")
        go_live = next(c for c in lines.columns if c.startswith("Go-live"))
        first = ["Release", go_live, "Status", "Reasons",
                 "For decision", "Agenda changes it carries"]
        lines = lines[[*first, *(c for c in lines.columns
                                 if c not in first)]]
        # the release, its go-live and status narrow enough that the
        # reasons show whole beside them in a 1280-pixel window (a release
        # 363 pixels wide cut them at 330 of their 420 at 1440), the count
        # for decision after them at 1400; a long name wraps in rows as
        # tall as either column needs
        beside = ui.beside_reasons(lines["Release"],
                                   GO_LIVE_WIDTH + STATUS_WIDTH)
        rows = max((ui.wrapped_table(texts, len(lines), most=640,
                                     width=width, most_lines=ui.READ_LINES)
                    for texts, width in ((lines["Reasons"], beside["reasons"]),
                                         (lines["Release"], beside["named"]))),
                   key=lambda sized: sized["row_height"])
        # the files: the go-live as a date cell under a heading naming
        # the zone, as the pack's XLSX ('Tue 08 Dec 2026 20:00' said none:
        # a CAB chair's walkthrough)
        ui.table(lines, f"{stem}-releases", max_rows=None,
                 download=partial(cab.release_lines, pack, sheet=True),
                 download_rows=len(filed), **rows,
                 column_config={"Reasons": st.column_config.TextColumn(
                     width=beside["reasons"]), "Release": st.column_config.
                     TextColumn(width=beside["named"]),
                     go_live: st.column_config.TextColumn(width=GO_LIVE_WIDTH),
                     "Status": st.column_config.TextColumn(
                         width=STATUS_WIDTH)})
    ui.definition("release_readiness", "How is readiness computed?",
                  params=cab.queries_of(pack)["release_readiness"])


TABS = ("decide", "since", "releases", "decisions")  # ?tab= of each tab
ATTENDEES = "cab-attendees-"  # the attendees' box of a meeting: + its time
# what is typed or picked in the tabs: a decision being written, the
# attendees, the page of change blocks, the history shown
INPUTS = ("cab-decide-change", "cab-decide-choice", "cab-decide-note",
          "cab-detail", "cab-history", "cab-find")
FORM_MEETING = "cab-decide-meeting"  # the meeting the decision form is for
SHOWN = "cab-decide-shown"  # the change the form shows, as it was loaded
DRAFTS = "cab-decide-drafts"  # what was written for a change, not saved
UNTIL_FOR = "cab-until-for"  # the meeting the window's end was set for
FIND = "cab-find"  # an agenda change looked up by its id
SCROLL_TO = "cab-scroll-to"  # the change found, whose block to scroll to
FOCUS = "cab-focus-again"  # the key of the button a save was clicked on


def _keep_inputs() -> None:
    """Keep what was typed or picked in a tab while another is open:
    Streamlit forgets the state of a widget that a run does not draw, and
    only the open tab is drawn (a half-written decision would be lost on a
    look at another tab). Set anew, the state is the page's own. Kept too
    while another page is open (ui.keep): a decision picked and a note
    typed came back empty after a look at Release readiness (a CAB chair's
    walkthrough); the form's own checks still reset them for another
    meeting or a change no longer listed."""
    state = st.session_state
    attendees = [k for k in [*state, *(ui.kept_key(k) for k in state)]
                 if isinstance(k, str) and k.startswith(ATTENDEES)
                 and k[len(ATTENDEES):].isdigit()]
    for key in dict.fromkeys([*INPUTS, *attendees]):
        if key in state:
            state[key] = state[key]
            ui.keep(key, state[key])
        elif ui.kept(key, None, None) is not None:
            state[key] = ui.kept(key, None, None)


def _since_label(pack: cab.Pack) -> str:
    """'Since last CAB', with a warning sign and how many when changes the
    last CAB rejected were implemented anyway (seen from every tab)."""
    flagged = decided.flagged(pack)
    return "Since last CAB" + (f" (⚠ {flagged} rejected, implemented)"
                               if flagged else "")


def _tabs(labels: list[str]):
    """The page's tabs, drawn lazily (only the open one runs: a 3,000-change
    pack's four tabs are a third of a cold rerun). The open one is kept in
    the URL as ?tab=<name>, a link to it; a label's count may change (a
    decision recorded) and the same tab stays open; the navigation (an
    address naming no meeting: LINKED) opens the tab open last in this
    session."""
    wanted = st.query_params.get("tab")
    if not LINKED:  # the navigation: the tab open last in this session
        wanted = ui.kept("cab-tab", None, TABS[0])
    elif wanted is not None and wanted not in TABS[1:]:  # the first: no ?tab
        del st.query_params["tab"]
    at = TABS.index(wanted) if wanted in TABS else 0
    ui.keep("cab-tab", TABS[at])
    if at:
        st.query_params["tab"] = TABS[at]
    tabs = st.tabs(labels, key="cab-tab", default=labels[at],
                   on_change=_tab_picked, args=(labels,))
    if st.session_state.pop("cab-tab-picked", False):
        # the focus back on the tab picked: the rerun left it on the page's
        # body, and the arrow keys moved no further (a keyboard walkthrough)
        _focus_again("cab-tab", '[role="tab"][aria-selected="true"]')
    return tabs


def _tab_picked(labels: list[str]) -> None:
    st.session_state["cab-tab-picked"] = True
    picked = st.session_state.get("cab-tab")
    at = labels.index(picked) if picked in labels else 0
    ui.keep("cab-tab", TABS[at])
    if at:
        st.query_params["tab"] = TABS[at]
    elif "tab" in st.query_params:
        del st.query_params["tab"]


def _upcoming() -> tuple[date, date | None]:
    """The meeting the page opens on: the next of the cadence, unless the
    changes' data is older than its "since last CAB" days and no change is
    planned after them (a 2014 data set: an empty pack, whatever is picked
    near it; an export some weeks old still holds the next meeting's
    agenda); then the meeting after that data ends, as the calendar opens
    on the day the changes end. With that day when it moved."""
    upcoming = cab.next_meeting(ui.now())
    # the end of the changes and what is linked to them: a release history
    # or an incident log loaded beside them (endoflife.date to 2026, the
    # UCI log to 2016, beside BPIC 2014) holds nothing for a CAB; the
    # pack's files say the same of a pack past it (cab.stale_note)
    since = cab.previous_meeting(upcoming).astimezone(cab.reporting_zone())
    latest = cab.data_ends(ui.query, since)
    if latest is None:
        return upcoming.date(), None
    after = datetime.combine(latest + timedelta(days=1), datetime.min.time(),
                             cab.reporting_zone())
    return cab.next_meeting(after).date(), latest


_keep_inputs()
upcoming, data_ends = _upcoming()
left, right = st.columns(2)
# the meeting picked last in this session when the address names none (a
# page link carries no query string), as the sidebar's period
opened = ui.kept("cab-meeting", ui.url_date("meeting"), upcoming)
if st.session_state.get("cab-meeting") is None:
    # set, not only defaulted: the box shows it. A date typed and left by
    # a click on another page is applied as that page opens; back here,
    # the box showed the date it opened with, the pack the one typed
    st.session_state["cab-meeting"] = opened
meeting = left.date_input(
    "Meeting date", key="cab-meeting",
    min_value=ui.DATE_MIN, max_value=ui.date_max(), format=ui.DAY_INPUT,
    help="Default: the next meeting of the cadence (CHANGEBOARD_CAB_WEEKDAYS"
    f" at {config.CAB_TIME}, {config.REPORTING_TZ}); when the changes' data"
    " (their records, deployments and incidents) is older, the meeting "
    "after it ends.")
if data_ends is not None and meeting == upcoming:
    left.caption(f"The changes' data ends on {ui.day(data_ends)}: the pack "
                 "opens on the meeting after it.")
if off := cab.off_cadence(meeting):
    st.warning(off, icon=":material/event_busy:")
ui.keep("cab-meeting", meeting)
default_end = cab.following_meeting(cab.meeting_on(meeting)).date()
state = st.session_state
# the meeting the window's end was set for: another picked since, the end
# is the new meeting's (the address's ?until= was the old one's)
moved = state.get(UNTIL_FOR, meeting) != meeting
until = None if moved else _until(meeting)
# an instant from the address (a mailed pack's window ending off the CAB
# time) holds while its day stays picked
end_at = until if isinstance(until, datetime) else None
end_day = end_at.astimezone(cab.reporting_zone()).date() if end_at else until
first_end = meeting + timedelta(days=1)
if end_at is not None:  # it may end on the meeting's day, after the meeting
    first_end = min(first_end, end_day)
last_end = max(default_end, meeting + timedelta(days=MAX_WINDOW_DAYS))
kept = state.get("cab-until")
if moved or not isinstance(kept, date) or not first_end <= kept <= last_end:
    # set, not only defaulted: the box shows it (a default given to a box
    # showing another meeting's end was used, and the old day still shown);
    # back from another page, the end kept for this meeting
    back = ui.kept("cab-until", None, None)
    state["cab-until"] = back[1] if not moved and until is None and \
        isinstance(back, tuple) and back[0] == meeting and \
        first_end <= back[1] <= last_end else end_day or default_end
state[UNTIL_FOR] = meeting
picked_end = right.date_input(
    "Review window ends on", min_value=first_end, max_value=last_end,
    key="cab-until",
    format=ui.DAY_INPUT,
    help="Default: the next meeting. The window runs from this meeting to "
    f"{config.CAB_TIME} on this day.")
st.query_params["meeting"] = meeting.isoformat()
ui.keep("cab-until", (meeting, picked_end))
if end_at is not None and picked_end == end_day:
    window_end = end_at  # never the CAB time (that is a day: _until)
    st.query_params["until"] = cab.window_end_text(end_at)
    right.caption(f"The address ends the window at {cab.when(end_at)} "
                  f"({config.REPORTING_TZ}), not at {config.CAB_TIME}; "
                  f"pick another day to end it at {config.CAB_TIME}.")
elif picked_end != default_end:
    window_end = picked_end
    st.query_params["until"] = picked_end.isoformat()
else:
    window_end = None
    if "until" in st.query_params:
        del st.query_params["until"]


def _meeting_pack(window_end: date | datetime | None,
                  filters: dict) -> cab.Pack:
    """The picked meeting's pack, shared (_pack), for a window end and
    filters: the page's, or none (the minutes read the whole agenda)."""
    return _pack(db.version(config.DB_PATH), str(config.DB_PATH), meeting,
                 window_end, filters,
                 # the last CAB's decisions are in the pack: a new one
                 # rebuilds it
                 decisions.revision(config.DB_PATH, before=meeting),
                 asof.chosen(), CUT)


pack = _meeting_pack(window_end, filters)
meta = dict(cab.provenance(pack))
ui.page_dates(f"the meeting of {meta['Meeting']}: review window "
              f"{meta['Review window']} (times in {pack.reporting_tz})")
# the window, the agenda's and the blocks' times are in the pack's zone
st.caption(f"Review window {meta['Review window']} · times in "
           f"{pack.reporting_tz} · filters: "
           f"{ui.plain(meta['Filters'])} · data as of {meta['Data as of']}")
if meta.get("Data ends"):  # a meeting picked past the data, as files say
    st.warning(meta["Data ends"], icon=":material/event_busy:")

stem = f"cab-pack-{meeting:%Y-%m-%d}"
downloads = st.columns([1, 1, 1, 5])
# the files name the decision log as it stands: a decision recorded for
# this meeting since the pack was built is not in it (an earlier meeting's
# rebuilds it), and the CLI run now writes the same file
until = CUT or decisions.recorded_until(config.DB_PATH)


def _filed() -> cab.Pack:
    """The pack the files hold: whole (its "since last CAB" section read
    on the first download) and naming the log as it stands."""
    # a load replaced the version shown, keeping no snapshot of it: the
    # file as it is now, which the pack's provenance names
    return cab.logged_until(cab.whole(pack, window_end_at=window_end,
                                      filters=filters, as_of=asof.chosen()),
                            until)


# each file is built when its button is clicked, not on every rerun (in
# this session, as of the snapshot shown: ui.deferred), and named as of it
named = asof.file_suffix()
downloads[0].download_button(
    "HTML", ui.deferred(lambda: cab.to_html(_filed())), f"{stem}{named}.html",
    "text/html", key="cab-html", on_click="ignore")
downloads[1].download_button(
    "PDF", ui.deferred(lambda: cab.pdf_bytes(_filed())), f"{stem}{named}.pdf",
    "application/pdf", key="cab-pdf", on_click="ignore")
downloads[2].download_button(
    "XLSX", ui.deferred(lambda: cab.to_xlsx(_filed())), f"{stem}{named}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="cab-xlsx", on_click="ignore")

counts = cab.headline(pack)
for first in range(0, len(counts), 3):  # two rows of three: labels fit
    for card, (label, n) in zip(st.columns(3), counts[first:first + 3],
                                strict=False):
        card.metric(label, f"{n:,}", border=True,
                    help=cab.tables.HEADLINE_HELP.get(label))

path = str(config.DB_PATH)
meeting_at = pack.meeting_at
recorded = decisions.current(path, meeting_at, CUT)
if len(recorded):
    # beside the pack's files, which hold no decision: a member
    # looked for the decision just recorded in the HTML pack
    downloads[3].caption(
        f"The pack is the agenda as the data stands, without the "
        f"decisions: this meeting's {ui.many(len(recorded), 'decision')} "
        f"{'is' if len(recorded) == 1 else 'are'} in its minutes "
        "(Decisions and minutes).")
# change id -> its current decision at this meeting, in words
decided_now = dict(zip(recorded["change_id"],
                       map(decisions.label, recorded["decision"]), strict=True))
noted_now = dict(zip(recorded["change_id"], recorded["note"], strict=True))
for tab, render in zip(_tabs([
        f"For decision ({len(pack.agenda):,})", _since_label(pack),
        f"Releases going live ({len(pack.releases):,})",
        f"Decisions and minutes ({len(recorded):,})"]),
        (_decide_tab, _since_tab, _releases_tab, _decisions_tab), strict=True):
    with tab:
        if tab.open:  # only the open tab runs
            render()

with st.expander("Produced by (for an audit)"):
    st.markdown("\n".join(f"- **{key}**: {_md(value)}"
                          for key, value in meta.items()))
ui.as_of_caption(status)
