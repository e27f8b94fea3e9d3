"""`python -m changeboard.launch run app.py [options]`: Streamlit's command
line (the same arguments as `python -m streamlit`), with the modules every
page uses imported, plotly's figure machinery with them, before the server
starts. Streamlit imports a page's modules on the first run that needs
them, so without this the first visitor to a new server (or replica) waits
for plotly, the charts and the reports to import and for plotly's first
figure: about 0.7 s of a first visit's 3 s at a million changes.

Only modules that do nothing with Streamlit at import are loaded here
(changeboard.ui declares its caches at import, which wants the server's
runtime): see warm().
"""
from __future__ import annotations


def warm() -> None:
    """Import what every page draws with (changeboard.charts also loads
    what plotly loads on its first figure, 0.1-0.2 s)."""
    import reports.cab  # noqa: F401 - imported for the first visitor
    from changeboard import charts, env_charts  # noqa: F401


def main() -> None:
    warm()
    from streamlit.web.cli import main as streamlit_main

    # the server then sees the command line `python -m streamlit` gives
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
