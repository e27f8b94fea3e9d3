"""The app's "as of" selector: every page from a dated snapshot instead of
the live data (changeboard/snapshots.py), kept in the URL (?as_of=NAME) and
across the pages of a session, with a banner saying the view is historical.

app.py calls choose() before a page runs (the pick, and the banner on top
of the page) and selector() after it (the widget, at the foot of the
sidebar, below the page's own filters); ui.query() reads chosen().
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from changeboard import config, db, decisions, snapshots

KEY = "as-of"  # the widget; its value is a snapshot name or LIVE
CHOSEN = "as-of-chosen"  # what this run's pages read (set by choose())
PARAM = "as_of"  # the URL's query parameter
VIEWED = "as-of-viewed"  # the view the last run showed
# the dates pages open on counting from the view's day (ui.today): the CAB
# meeting and its window's end, the calendar's day, the impact matrix's
# go-live dates. Opened in one view they stayed in the other (the live CAB
# page on a meeting of the snapshot's, past), so a change of view drops
# them, from the session and the address, and each page opens on its own.
RELATIVE_STATE = ("cab-meeting", "kept-cab-meeting", "cab-until",
                  "kept-cab-until", "cab-until-for", "cal_day",
                  "kept-cal_day", "go_live")
RELATIVE_PARAMS = ("meeting", "until", "cal_day", "go_live")


def chosen() -> str | None:
    """The snapshot this run's pages read, None for the live data."""
    name = st.session_state.get(CHOSEN)
    return None if name in (None, snapshots.LIVE) else name


def published() -> datetime | None:
    """When the data every page reads this run was published: None for the
    live data (the pages' clock is the wall clock's), the snapshot's
    publish time (its name, UTC) in a historical view, a snapshot pruned
    since it was chosen read as the live data (source())."""
    name = chosen()
    if name is None or source()[0] == str(config.DB_PATH):
        return None
    return snapshots.published_at(name)


def decisions_until() -> str | None:
    """The position of the CAB decision log this run's pages read: None
    (all of it) for the live data; in a historical view, the decisions
    recorded while the snapshot shown was the live data, none after it was
    replaced, as its agenda is (an auditor's walkthrough: a view as of the
    data before any decision showed the decisions, amended ones too,
    recorded on later data)."""
    name = chosen()
    if name is None or published() is None:
        return None
    return decisions.until_key(
        snapshots.replaced_at(config.DB_PATH, name).isoformat())


def file_suffix() -> str:
    """What a download's file name ends with in a historical view,
    '-as-of-2026-12-08T14-03-27.512031Z' (the snapshot's name), so its
    files do not take the live files' names, and the name reads back as
    the one version `--as-of` takes (to the second, it named every version
    a load of several files published in that second): '' for the live
    data."""
    return "" if published() is None else f"-as-of-{chosen()}"


def source() -> tuple[str, tuple[int, int, int] | None]:
    """(file, version) every page reads this run: the live database, or the
    chosen snapshot (read-only; an upgraded copy when it is older than this
    Changeboard). A snapshot pruned since it was chosen: the live data."""
    name = chosen()
    if name is not None:
        try:
            path = snapshots.read_path(config.DB_PATH, name)
        except snapshots.SnapshotError:
            pass
        else:
            return str(path), db.version(path)
    return str(config.DB_PATH), db.version(config.DB_PATH)


def _kept() -> dict[str, snapshots.Snapshot]:
    """The kept snapshots by name, newest first."""
    return {s.name: s for s in reversed(snapshots.listing(config.DB_PATH))}


def choose() -> str | None:
    """Before a page runs: the snapshot its queries read (the sidebar's
    pick, else the URL's ?as_of=, else the one kept for this session, else
    live) and, for a snapshot, the banner saying the view is historical.
    Returns the snapshot's name (None: live)."""
    from changeboard import ui  # ui reads chosen(): imported late

    st.session_state[CHOSEN] = snapshots.LIVE
    if db.version(config.DB_PATH) is None:
        return None
    kept = _kept()
    options = [snapshots.LIVE, *kept]
    name = st.session_state.get(KEY)  # picked in the sidebar
    if name not in options:
        st.session_state.pop(KEY, None)  # pruned since it was picked
        from_url = st.query_params.get(PARAM)
        if from_url is not None and from_url not in options:
            try:
                from_url = _named(from_url, list(kept))
            except snapshots.SnapshotError as why:
                st.warning(f"Ignored {PARAM}={ui.literal(from_url)} in the "
                           f"address: {why}. Showing the live data.")
                from_url = None
        name = ui.kept(PARAM, from_url, snapshots.LIVE)
        if name not in options:
            name = snapshots.LIVE
    ui.keep(PARAM, name)
    if st.session_state.get(VIEWED, name) != name:
        for key in RELATIVE_STATE:
            st.session_state.pop(key, None)
        for param in RELATIVE_PARAMS:
            if param in st.query_params:
                del st.query_params[param]
    st.session_state[VIEWED] = name
    st.session_state[CHOSEN] = name
    if name == snapshots.LIVE:
        return None
    st.warning(
        f"**Historical view — not the live data.** Every page shows the data "
        f"as published on {snapshots.labels(list(kept.values()))[name]} "
        f"(snapshot `{name}`), read-only. "
        "Choose *Live data* under **As of**, at the foot of the sidebar, for "
        "today's.",
        icon=":material/history:")
    return name


def _named(given: str, kept: list[str]) -> str:
    """The version ?as_of= names: a kept snapshot (`kept`, newest first),
    or LIVE for the live file's own name (a CAB pack prints it as its data
    version); a unique start of a name will do. SnapshotError saying why
    not, in words for the page (no server path)."""
    live = snapshots.version_name(config.DB_PATH)
    if given == live:
        return snapshots.LIVE
    starting = [n for n in [live, *kept] if n and n.startswith(given)]
    if len(starting) == 1:
        return snapshots.LIVE if starting[0] == live else starting[0]
    if not starting:
        raise snapshots.SnapshotError("no such snapshot is kept")
    raise snapshots.SnapshotError(
        f"it names {len(starting)} versions ("
        + ", ".join(f"{n} (live)" if n == live else n for n in starting[:3])
        + (", …" if len(starting) > 3 else "") + "): give more of the name")


def selector() -> None:
    """After a page ran: the sidebar's "As of" selector, below the page's
    own filters, showing choose()'s pick; kept in the URL."""
    if db.version(config.DB_PATH) is None:
        return
    kept = _kept()
    options = [snapshots.LIVE, *kept]
    name = st.session_state.get(CHOSEN, snapshots.LIVE)
    if name not in options:
        name = snapshots.LIVE
    if st.session_state.get(KEY) != name:
        st.session_state[KEY] = name
    shown = snapshots.labels(list(kept.values()))
    st.sidebar.selectbox(
        "As of", options, key=KEY,
        format_func=lambda n: "Live data (latest)" if n == snapshots.LIVE
        else shown[n],
        help="Show every page as the data stood when a past database file "
        "was published (a snapshot kept for audit: `changeboard snapshots "
        "list`), or the live data.")
    if name == snapshots.LIVE:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
    else:
        st.query_params[PARAM] = name
