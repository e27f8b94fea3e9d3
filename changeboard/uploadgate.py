"""Uploads only from a session whose user may load data.

Streamlit stores a file sent to `PUT /_stcore/upload_file/<session>/<id>`
in the server's memory for as long as its session lives, for any session
the server holds, whether or not its page draws a file uploader. A visitor
who had not signed in opened a session (the sign-in page), then sent six
190 MB files to it through nginx: the replica grew by 950 MB and held it
until the session ended (a security review). The Data page's uploader is
drawn only for a data admin, and a load is refused on the server to anyone
else (signin.refusal), but the bytes were already held.

install() puts a check before Streamlit's upload handler, when the server
starts (changeboard.launch): a session whose user may not load data (not
signed in, a sign-in ended, or signed in without the data admin role) is
answered 403 before its body is read, and nothing is stored. Without
sign-in configured (this machine only), every session may load, as the
Data page lets it.

Nothing here touches Streamlit's runtime at import, so the launcher may
import it before the server starts.
"""
from __future__ import annotations

import logging

log = logging.getLogger("changeboard.uploadgate")
REFUSED = ("Uploading a file needs the data admin role; this session's "
           "user does not have it. Nothing was stored.")


def install() -> None:
    """Wrap the upload routes Streamlit's server makes, once."""
    from streamlit.web.server.starlette import starlette_app

    made = starlette_app.create_upload_routes
    if getattr(made, "gated", False):
        return

    def gated(runtime, upload_mgr, base_url):
        return [_checked(route, runtime) if "PUT" in (route.methods or ())
                else route for route in made(runtime, upload_mgr, base_url)]

    gated.gated = True
    starlette_app.create_upload_routes = gated


def _checked(route, runtime):
    """The PUT route, answering 403 for a session that may not load."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    upload = route.endpoint

    async def put(request):
        # in a worker thread: the check may read the sign-outs (SQLite),
        # which the server's event loop should not wait on
        why = await run_in_threadpool(
            refusal, runtime, request.path_params.get("session_id", ""))
        if why is not None:
            log.warning("refused an upload: %s", why)
            return PlainTextResponse(REFUSED, status_code=403)
        return await upload(request)

    return Route(route.path, put, methods=["PUT"], name=route.name)


def refusal(runtime, session_id: str) -> str | None:
    """Why this session may not upload (None: it may, or it is not a
    session this server holds, which Streamlit's handler refuses itself)."""
    from changeboard import auth, signin  # the server's runtime is up

    signin.install_logging()  # a refusal may come before any page's run
    if not signin.configured():
        return None
    active = runtime._session_mgr.get_active_session_info(session_id)
    if active is None:
        return None
    user = signin.user_of(active.session._user_info.copy())
    if user is None:
        return "not signed in"
    if not user.can(auth.LOAD):
        return f"signed in as {user.email} ({user.role_label})"
    return None
