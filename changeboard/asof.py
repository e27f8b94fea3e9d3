"""The app's "as of" selector: every page from a dated snapshot instead of
the live data (changeboard/snapshots.py), kept in the URL (?as_of=NAME) and
across the pages of a session, with a banner saying the view is historical.

app.py calls selector() before a page runs; ui.query() reads chosen().
"""
from __future__ import annotations

import streamlit as st

from changeboard import config, db, snapshots

KEY = "as-of"  # the widget; its value is a snapshot name or LIVE
PARAM = "as_of"  # the URL's query parameter


def chosen() -> str | None:
    """The snapshot this run's pages read, None for the live data."""
    name = st.session_state.get(KEY)
    return None if name in (None, snapshots.LIVE) else name


def source() -> tuple[str, tuple[int, int] | None]:
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


def _label(kept: dict, name: str) -> str:
    if name == snapshots.LIVE:
        return "Live data (latest)"
    return f"{kept[name].label}"


def selector() -> str | None:
    """The sidebar selector and, when a snapshot is chosen, the banner;
    returns the chosen snapshot's name (None: live)."""
    from changeboard import ui  # ui reads chosen(): imported late

    if db.version(config.DB_PATH) is None:
        return None
    kept = {s.name: s for s in reversed(snapshots.listing(config.DB_PATH))}
    options = [snapshots.LIVE, *kept]
    from_url = st.query_params.get(PARAM)
    if from_url is not None and from_url not in options:
        try:
            from_url = snapshots.find(config.DB_PATH, from_url).name
        except snapshots.SnapshotError:
            st.warning(f"Ignored {PARAM}={ui.plain(from_url)} in the address: "
                       "no such snapshot is kept. Showing the live data.")
            from_url = None
    start = ui._start(PARAM, from_url, snapshots.LIVE)
    if start not in options:  # pruned since it was chosen
        start = snapshots.LIVE
    if st.session_state.get(KEY) not in options:  # pruned since chosen
        st.session_state.pop(KEY, None)
    if KEY not in st.session_state:  # the first run of the session
        st.session_state[KEY] = start
    name = st.sidebar.selectbox(
        "As of", options, key=KEY, format_func=lambda n: _label(kept, n),
        help="Show every page as the data stood when a past database file "
        "was published (a snapshot kept for audit), or the live data.")
    ui._keep(PARAM, name)
    if name == snapshots.LIVE:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
        return None
    st.query_params[PARAM] = name
    st.warning(
        f"**Historical view — not the live data.** Every page shows the data "
        f"as published on {kept[name].label} (snapshot `{name}`), read-only. "
        "Choose *Live data* under **As of** in the sidebar for today's.",
        icon=":material/history:")
    return name
