"""A page with one ui.table of changes (st.session_state["rows"] of them),
with codes, an application id and linked change ids (for tests)."""
import pandas as pd
import streamlit as st

from changeboard import ui

rows = st.session_state.get("rows", 3)
ui.table(pd.DataFrame({
    "change_id": [f"CHG {i}" for i in range(rows)],
    "risk": (["very_high", "low", None] * rows)[:rows],
    "application_id": (["APP-001", "APP-404", None] * rows)[:rows],
    "n": range(rows)}), "changes")
