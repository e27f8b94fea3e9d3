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

import sys
from pathlib import Path


def warm() -> None:
    """Import what every page draws with (changeboard.charts also loads
    what plotly loads on its first figure, 0.1-0.2 s), set the filter on
    what the sign-in callback logs (changeboard.callbacklog), open the
    process's
    read-only view of the published file (0.05 s), skip Streamlit's
    check on its first element of whether it runs in a Python prompt, and
    set what was loaded aside from the garbage collector (_frozen), and
    never ask the internet for this machine's address (_no_external_ip)."""
    import reports.cab  # noqa: F401 - imported for the first visitor
    from changeboard import (  # noqa: F401
        callbacklog,
        charts,
        env_charts,
        uploadgate,
    )

    callbacklog.install()  # before any request reaches the sign-in routes
    uploadgate.install()  # before the server makes its upload routes

    _no_prompt_check()
    _no_external_ip()
    _open_published()
    _frozen()


def _frozen() -> None:
    """Move the objects loaded so far (about 125,000: the modules of
    pandas, plotly, Streamlit and the reports) out of the collector's
    generations: they live as long as the server, yet every full
    collection walked them all. A page that makes many objects (the CAB
    pack's evidence for 3,000 changes, a month of 9,500 planned changes)
    set off collections that took 64 ms of the CAB page's cold run and
    112 ms of the Calendar's at a million changes; with them set aside,
    8 and 14 ms. Garbage is collected first, so none is kept. Reference
    counting still frees every object; only the cycle search skips them."""
    import gc

    gc.collect()
    gc.freeze()


def _no_prompt_check() -> None:
    """Streamlit asks, when a process draws its first element, whether it
    runs in a Python prompt, to print a hint to use `streamlit run`: it
    walks the stack, looking each frame's module up among every module
    loaded (80 ms with a page's 1,300 modules). This process is the server
    `streamlit run` starts: the hint is never due, so mark it given."""
    from streamlit import delta_generator

    if hasattr(delta_generator, "_use_warning_has_been_displayed"):
        delta_generator._use_warning_has_been_displayed = True


def _no_external_ip() -> None:
    """Streamlit asks checkip.amazonaws.com for this machine's address on
    the internet, blocking for up to 2 s, for its start banner and on each
    WebSocket from an origin it does not allow (as one more to allow), and
    asks again the next time when nothing answers: any visitor could make
    the server reach out to the internet (a security review). The hosts
    browsers may use are given (--allowed-hosts, CHANGEBOARD_ALLOWED_HOSTS);
    the address another service sees is never one of them, so it is not
    asked for."""
    from streamlit import net_util

    net_util.get_external_ip = lambda: None


def _open_published() -> None:
    """The shared read-only view of the published file, if there is one
    (db.reading reopens it when a publish replaces the file)."""
    from changeboard import config, db

    if db.version(config.DB_PATH) is None:
        return  # no data yet: the Data page loads some
    try:
        with db.reading(config.DB_PATH):
            pass
    except Exception:  # noqa: BLE001 - the first page opens it and says why
        return


def unreadable() -> None:
    """Mark this server process not dumpable (prctl PR_SET_DUMPABLE 0): its
    /proc files, its environment among them, are then readable only with
    CAP_SYS_PTRACE, not by any process of the same user. An upload is read
    in a child whose environment holds no credential (ingest/uploads.py),
    yet the child could read the server's sign-in client secret at
    /proc/<server>/environ (a security review). Also no core dump holds the
    server's memory. Where prctl is not there (not Linux), nothing is
    done."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


FRAMING = [(b"x-frame-options", b"SAMEORIGIN"),
           (b"content-security-policy", b"frame-ancestors 'self'")]
FRAMED = {name for name, _ in FRAMING}  # a response's own copies go


class FrameGuard:
    """ASGI middleware: every HTTP answer says only the app's own pages may
    show it in a frame (a signed-in CAB member's page framed under another
    site's buttons: clickjacking). nginx says the same in front of the
    replicas (make serve); `make run` serves the network without it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def framed(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [
                    *((k, v) for k, v in message.get("headers", ())
                      if k.lower() not in FRAMED), *FRAMING]}
            await send(message)

        await self.app(scope, receive, framed)


def frame_guard() -> None:
    """FrameGuard first among the middleware Streamlit's server is built
    with (Streamlit has no setting for response headers)."""
    from starlette.middleware import Middleware
    from streamlit.web.server.starlette import starlette_app

    built = starlette_app.create_streamlit_middleware
    if getattr(built, "guarded", False):
        return

    def guarded() -> list:
        return [Middleware(FrameGuard), *built()]

    guarded.guarded = True
    starlette_app.create_streamlit_middleware = guarded


def allocator_in_use(maps: str | None = None) -> str:
    """The memory allocator this process runs on, from its own mappings
    (`maps`: /proc/self/maps): jemalloc when `changeboard.serve` preloaded
    it (serve.app_env), else the C library's."""
    if maps is None:
        try:
            maps = Path("/proc/self/maps").read_text()
        except OSError:
            return "not known (no /proc/self/maps)"
    return "jemalloc" if "/libjemalloc." in maps else "the C library's"


def main() -> None:
    unreadable()
    print(f"changeboard: memory allocator: {allocator_in_use()}",
          file=sys.stderr, flush=True)
    warm()
    frame_guard()
    from streamlit.web.cli import main as streamlit_main

    # the server then sees the command line `python -m streamlit` gives
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
