"""What Streamlit's sign-in callback writes into the log from the request.

Streamlit logs a callback's `?error=` and `?error_description=` before it
checks the callback's state, so anyone can send it any text, and the nginx
site logs no callback (its query holds the one-time code):
`?error=access_denied 2026-12-06 ... changeboard.signin: signed in
mallory@... as Data admin` put a sign-in that never happened in the log.
install() sets a filter on that logger when the server process starts
(changeboard.launch), before any request: installed with the first page's
run, a replica that had served no page yet logged the forged line.

Nothing here touches Streamlit's runtime, so the launcher may import it
before the server starts.
"""
from __future__ import annotations

import logging
import re
import urllib.parse

# the logger of Streamlit's sign-in routes (/oauth2callback among them)
STREAMLIT_AUTH_LOG = "streamlit.web.server.starlette.starlette_auth_routes"
# an OAuth error code (RFC 6749: access_denied, invalid_request, ...)
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
DESCRIPTION_LOGGED = 200  # characters of the provider's error_description


class UntrustedCallback(logging.Filter):
    """The callback's error line keeps an error that is an OAuth error code
    (other text is withheld, counted) and its description URL-encoded and
    cut short: its words stay readable (`AADSTS50105%3A%20The%20signed`)
    but no text sent there can read as a line of the log, or as the words
    of one (`changeboard.signin: signed in`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error during authentication") and \
                isinstance(record.args, tuple) and len(record.args) == 2:
            error, description = str(record.args[0] or ""), record.args[1]
            if description is not None:
                description = str(description)
                description = urllib.parse.quote(
                    description[:DESCRIPTION_LOGGED], safe="") + (
                    "…" if len(description) > DESCRIPTION_LOGGED else "")
            record.args = (
                error if _ERROR_CODE.fullmatch(error) else
                f"(not an OAuth error code: {len(error)} characters, "
                "withheld)", description)
        return True


def install() -> None:
    """The filter on Streamlit's sign-in routes' logger, once."""
    watched = logging.getLogger(STREAMLIT_AUTH_LOG)
    if not any(isinstance(f, UntrustedCallback) for f in watched.filters):
        watched.addFilter(UntrustedCallback())
