"""Changeboard: page config and navigation; each page lives in pages/."""
import streamlit as st

st.set_page_config(page_title="Changeboard", page_icon="📋", layout="wide")
page = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon="📊", default=True),
])
page.run()
