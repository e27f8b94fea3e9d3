"""The app's "as of" selector: every page from a dated snapshot instead of
the live data (changeboard/snapshots.py), kept in the URL (?as_of=NAME) and
across the pages of a session, with a banner saying the view is historical.

app.py calls choose() before a page runs (the pick, and the banner on top
of the page) and selector() after it (the widget, at the foot of the
sidebar, below the page's own filters); ui.query() reads chosen().
"""
from __future__ import annotations

import streamlit as st

from changeboard import config, db, snapshots

KEY = "as-of"  # the widget; its value is a snapshot name or LIVE
CHOSEN = "as-of-chosen"  # what this run's pages read (set by choose())
PARAM = "as_of"  # the URL's query parameter


def chosen() -> str | None:
    """The snapshot this run's pages read, None for the live data."""
    name = st.session_state.get(CHOSEN)
    return None if name in (None, snapshots.LIVE) else name


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
                from_url = snapshots.find(config.DB_PATH, from_url).name
            except snapshots.SnapshotError:
                st.warning(f"Ignored {PARAM}={ui.plain(from_url)} in the "
                           "address: no such snapshot is kept. Showing the "
                           "live data.")
                from_url = None
        name = ui.kept(PARAM, from_url, snapshots.LIVE)
        if name not in options:
            name = snapshots.LIVE
    ui.keep(PARAM, name)
    st.session_state[CHOSEN] = name
    if name == snapshots.LIVE:
        return None
    st.warning(
        f"**Historical view — not the live data.** Every page shows the data "
        f"as published on {kept[name].label} (snapshot `{name}`), read-only. "
        "Choose *Live data* under **As of**, at the foot of the sidebar, for "
        "today's.",
        icon=":material/history:")
    return name


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
    st.sidebar.selectbox(
        "As of", options, key=KEY,
        format_func=lambda n: "Live data (latest)" if n == snapshots.LIVE
        else kept[n].label,
        help="Show every page as the data stood when a past database file "
        "was published (a snapshot kept for audit: `changeboard snapshots "
        "list`), or the live data.")
    if name == snapshots.LIVE:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
    else:
        st.query_params[PARAM] = name
