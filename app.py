"""Changeboard: page config and navigation; each page lives in views/."""
import streamlit as st

from changeboard import asof, signin

st.set_page_config(page_title="Changeboard", page_icon="📋", layout="wide")
PAGES = [
    st.Page("views/overview.py", title="Overview",
            icon=":material/dashboard:", default=True),
    st.Page("views/changes.py", title="Changes",
            icon=":material/published_with_changes:"),
    st.Page("views/releases.py", title="Releases",
            icon=":material/rocket_launch:"),
    st.Page("views/readiness.py", title="Release readiness", icon=":material/fact_check:"),
    st.Page("views/environments.py", title="Environments",
            icon=":material/dns:"),
    st.Page("views/calendar.py", title="Change calendar", icon=":material/calendar_month:"),
    st.Page("views/cab.py", title="CAB pack", icon=":material/event:"),
    st.Page("views/backlog.py", title="Change backlog", icon=":material/pending_actions:"),
    st.Page("views/data.py", title="Data", icon=":material/database:"),
]
# the sign-in page until signed in (the pages' list hidden); user and role
# in the sidebar
signin.gate(PAGES)
asof.choose()  # "as of": every page reads that snapshot, under a banner
page = st.navigation(PAGES)
# each page its own title, which a screen reader says on a page change
# (every tab read "Changeboard": an accessibility review)
st.set_page_config(page_title=f"{page.title} · Changeboard")
page.run()
asof.selector()  # the sidebar's "As of", below the page's filters
