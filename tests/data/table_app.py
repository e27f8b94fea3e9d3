"""A page with one ui.table of st.session_state["rows"] rows (for tests)."""
import pandas as pd
import streamlit as st

from changeboard import ui

rows = st.session_state.get("rows", 10)
ui.table(pd.DataFrame({"n": range(rows)}), "numbers")
