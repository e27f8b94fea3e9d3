"""changeboard.launch: Streamlit's command line with the pages' modules
loaded before the server starts."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import uploads

ROOT = Path(__file__).resolve().parents[1]


def _probed(code: str, tmp_path=None) -> subprocess.CompletedProcess:
    """`python -c code` from the clone's root, its exit checked (with no
    database when given a folder for one)."""
    env = {**os.environ, **({"CHANGEBOARD_DB": str(tmp_path / "none.duckdb")}
                            if tmp_path is not None else {})}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          check=True, env=env)


def test_warm_loads_the_pages_modules_without_streamlits_runtime():
    # changeboard.ui declares st.cache_data caches at import, which would
    # log "No runtime found" before the server made one: warm() leaves it
    # to the first page, and loads what does not need the runtime
    probe = ("import sys; from changeboard import launch; launch.warm(); "
             "print(sorted(m for m in ('changeboard.ui', 'changeboard.charts',"
             " 'reports.cab', 'plotly.graph_objects') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stdout.split("\n")[0] == str(
        ["changeboard.charts", "plotly.graph_objects", "reports.cab"])
    assert "No runtime found" not in done.stderr


def test_the_launcher_takes_streamlits_command_line():
    done = subprocess.run([sys.executable, "-m", "changeboard.launch",
                           "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.startswith("Streamlit, version ")


def _warmed(db_path) -> list[str]:
    probe = ("from changeboard import db, launch; launch.warm(); "
             "from streamlit import delta_generator as d; "
             "print(sorted(db._readers), d._use_warning_has_been_displayed)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          check=True,
                          env={**os.environ, "CHANGEBOARD_DB": str(db_path)})
    return done.stdout.split("\n")[0]


def test_warm_opens_the_published_file_for_the_first_visitor(sample_db):
    # the process's shared read-only view, and no prompt check to come
    assert _warmed(sample_db) == f"{[str(Path(sample_db).resolve())]} True"


def test_warm_without_data_opens_nothing(tmp_path):
    assert _warmed(tmp_path / "none.duckdb") == "[] True"
    assert not (tmp_path / "none.duckdb").exists()


def test_warm_sets_what_it_loaded_aside_from_the_garbage_collector(sample_db):
    # the modules' objects go to the permanent generation: a full collection
    # no longer walks them, and they are far more than the collector keeps
    probe = ("import gc; from changeboard import launch; launch.warm(); "
             "print(gc.get_freeze_count(), len(gc.get_objects()))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          check=True,
                          env={**os.environ, "CHANGEBOARD_DB": str(sample_db)})
    frozen, tracked = map(int, done.stdout.split())
    assert frozen > 50_000 and tracked < frozen / 10, (frozen, tracked)


def test_warm_filters_what_the_sign_in_callback_logs_before_any_request(
        tmp_path):
    """The filter on the text a callback's ?error= puts in the log was set
    by the first page's run: a replica that had served no page yet logged
    a forged 'changeboard.signin: signed in mallory ... as Data admin'. The
    launcher sets it before the server starts."""
    probe = (
        "import logging; from changeboard import callbacklog, launch; "
        "launch.warm(); "
        "from streamlit.web.server.starlette import starlette_auth_routes "
        "as routes; "
        "print([type(f).__name__ for f in logging.getLogger("
        "callbacklog.STREAMLIT_AUTH_LOG).filters], "
        "routes._LOGGER.name == callbacklog.STREAMLIT_AUTH_LOG)")
    done = _probed(probe, tmp_path)
    assert done.stdout.split("\n")[0] == "['UntrustedCallback'] True"



def test_the_launched_server_is_not_dumpable(tmp_path):
    """A security review read the sign-in client secret from the upload
    child at /proc/<server>/environ (same user; the child's own environment
    is an allow-list without it). The launcher marks the server process
    not dumpable before anything else (Streamlit's server here stands in
    for a wait), as the next test shows that protects it."""
    server = ("import ctypes, streamlit.web.cli as cli, sys\n"
              "cli.main = lambda **_: print(ctypes.CDLL(None).prctl("
              "3, 0, 0, 0, 0))\n"  # PR_GET_DUMPABLE
              "sys.argv = ['changeboard.launch', 'run', 'app.py']\n"
              "from changeboard import launch\nlaunch.main()")
    assert _probed(server, tmp_path).stdout.split("\n")[0] == "0"


def test_changeboard_serve_is_not_dumpable_either():
    """`changeboard serve` (make serve) holds the sign-in secrets in its
    environment too, and starts the replicas: it marks itself before
    anything else (a review)."""
    probe = ("import ctypes\nfrom changeboard import serve\n"
             "serve.run = lambda args: print(ctypes.CDLL(None).prctl("
             "3, 0, 0, 0, 0)) or 0\n"  # PR_GET_DUMPABLE, in place of run
             "serve.main(['run'])")
    assert _probed(probe).stdout.split("\n")[0] == "0"


# a process of an unprivileged user, holding a planted secret in its
# environment, marked as the launcher marks the server or not
HOLDER = ("import sys, time\nsys.path.insert(0, sys.argv[1])\n"
          "from changeboard import launch\n"
          "if sys.argv[2] == 'marked':\n    launch.unreadable()\n"
          "print('holding', flush=True)\ntime.sleep(120)")
# another process of that user (as the upload child is): what it reads
READER = ("import sys\ntry:\n    said = open(f'/proc/{sys.argv[1]}/environ', "
          "'rb').read()\n    print('read' if b'PLANTED' in said else 'absent')"
          "\nexcept PermissionError:\n    print('refused')")
SYSTEM_PYTHON = "/usr/bin/python3"  # one an unprivileged user may run


@pytest.mark.skipif(os.geteuid() != 0 or not os.access(SYSTEM_PYTHON,
                                                       os.X_OK),
                    reason="runs processes as nobody, which needs root")
def test_a_process_of_the_same_user_cannot_read_a_marked_ones_environment():
    """What marking the server buys, for processes of one unprivileged
    user (root reads any process's environment): the environment of an
    unmarked process is read, a marked one's is refused."""
    as_nobody = {"user": "nobody", "group": "nogroup", "extra_groups": []}
    env = {**uploads.child_env(), "CHANGEBOARD_OIDC_CLIENT_SECRET":
           "PLANTED-secret"}
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; sys.path."
                            "insert(0, sys.argv[1]); import changeboard."
                            "launch", str(ROOT)], capture_output=True,
                           timeout=60, check=False, **as_nobody)
    if probe.returncode:
        pytest.skip(f"nobody cannot import {ROOT}: {probe.stderr[-200:]}")
    for mark, expected in (("unmarked", "read"), ("marked", "refused")):
        holder = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", HOLDER, str(ROOT), mark], env=env,
            stdout=subprocess.PIPE, text=True, **as_nobody)
        try:
            assert holder.stdout.readline().strip() == "holding"
            child = subprocess.run(  # as ingest/uploads.py starts the child
                [SYSTEM_PYTHON, "-c", READER, str(holder.pid)],
                env=uploads.child_env(env), capture_output=True, text=True,
                timeout=60, check=True, **as_nobody)
            assert child.stdout.strip() == expected
        finally:
            holder.kill()
            holder.wait()


def test_a_foreign_origin_makes_the_server_ask_the_internet_nothing():
    """A WebSocket from an origin Streamlit does not allow made the server
    ask checkip.amazonaws.com for its own address, blocking, each time
    (a security review saw its DNS lookup and "Did not auto detect external
    IP" in the log): after warm() the origin is refused without asking."""
    # what Streamlit would ask the internet is recorded, not sent (with a
    # network, the old code asked and logged nothing)
    probe = ("from streamlit import config, net_util\n"
             "asked = []\n"
             "net_util._make_blocking_http_get = lambda url, **_: "
             "asked.append(url)\n"
             "from changeboard import launch; launch.warm()\n"
             "from streamlit.web.server import server_util\n"
             "config.set_option('server.enableCORS', True)\n"
             "print(server_util.is_url_from_allowed_origins("
             "'http://evil.example'), server_util.is_url_from_allowed_origins("
             "'http://localhost:8501'), asked)")
    done = _probed(probe)
    assert done.stdout.split("\n")[0] == "False True []"
    assert "external IP" not in done.stderr


def _dry_run(**env) -> subprocess.CompletedProcess:
    """`changeboard.serve run --dry-run` (what make run starts) with `env`
    over this process's environment, sign-in settings left out."""
    given = {k: v for k, v in os.environ.items()
             if not k.startswith(("CHANGEBOARD_OIDC_", "CHANGEBOARD_ALLOC",
                                  "LD_PRELOAD"))}
    return subprocess.run([sys.executable, "-m", "changeboard.serve", "run",
                           "--dry-run"], cwd=ROOT, env={**given, **env},
                          capture_output=True, text=True, timeout=60)


def test_the_app_process_is_started_on_jemalloc_unless_told_otherwise():
    """make test installs Debian's libjemalloc2 (make jemalloc): the app
    process make run starts preloads it, after any library already
    preloaded; CHANGEBOARD_ALLOCATOR=system starts it on the C library's
    allocator, and any other value is refused, naming the two."""
    from changeboard import serve

    assert _dry_run().stdout.startswith(
        "LD_PRELOAD=libjemalloc.so.2 " + sys.executable)
    kept = _dry_run(LD_PRELOAD="/opt/trace.so").stdout
    assert kept.startswith("LD_PRELOAD='/opt/trace.so libjemalloc.so.2' ")
    system = _dry_run(CHANGEBOARD_ALLOCATOR="system")
    assert system.stdout.startswith(sys.executable)
    assert "LD_PRELOAD" not in system.stdout and not system.stderr
    refused = _dry_run(CHANGEBOARD_ALLOCATOR="tcmalloc")
    assert refused.returncode == 2 and not refused.stdout
    assert ("CHANGEBOARD_ALLOCATOR='tcmalloc' is not an allocator: jemalloc "
            "(the default; Debian's libjemalloc2) or system") in refused.stderr
    # preloaded once, however often the environment is made
    twice = serve.app_env(serve.app_env({"LD_PRELOAD": "a.so:b.so"}))
    assert twice["LD_PRELOAD"] == "a.so b.so libjemalloc.so.2"


def test_the_apps_children_start_without_the_apps_allocator():
    """An upload's reader (which limits its address space) and Chromium
    printing a PDF are given environments of their own: LD_PRELOAD is not
    in them."""
    from reports.cab import pdf

    preloaded = {"LD_PRELOAD": "libjemalloc.so.2", "PATH": "/usr/bin"}
    assert "LD_PRELOAD" not in uploads.child_env(preloaded)
    assert uploads.child_env(preloaded)["PATH"] == "/usr/bin"
    saved = os.environ.get("LD_PRELOAD")
    os.environ["LD_PRELOAD"] = "libjemalloc.so.2"
    try:
        assert "LD_PRELOAD" not in pdf.chromium_env("/tmp/x")
    finally:
        if saved is None:
            del os.environ["LD_PRELOAD"]
        else:
            os.environ["LD_PRELOAD"] = saved


def test_the_allocator_in_use_is_read_from_the_process_mappings():
    from changeboard import launch

    assert launch.allocator_in_use(
        "7f1-7f2 r-xp 0 08:01 5 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    ) == "jemalloc"
    assert launch.allocator_in_use(
        "7f1-7f2 r-xp 0 08:01 5 /usr/lib/x86_64-linux-gnu/libc.so.6"
    ) == "the C library's"


def test_the_tests_children_start_on_the_allocator_they_would_outside(
        pytestconfig):
    """make test runs pytest with jemalloc preloaded (the Makefile); a
    process a test starts gets an environment without it (conftest), as
    the CLI and Chromium would outside the tests; a server started through
    changeboard.serve preloads it again."""
    from changeboard import launch, serve

    assert "libjemalloc" not in os.environ.get("LD_PRELOAD", "")
    child = subprocess.run(
        [sys.executable, "-c", "from changeboard import launch; "
         "print(launch.allocator_in_use())"], cwd=ROOT, capture_output=True,
        text=True, timeout=60, check=True)
    assert child.stdout.strip() == "the C library's"
    assert serve.app_env()["LD_PRELOAD"].split()[-1] == "libjemalloc.so.2"
    made = subprocess.run(["make", "-n", "test"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    assert "LD_PRELOAD=libjemalloc.so.2 " in made
    if getattr(pytestconfig, "preloaded", None):  # as make test starts it
        assert launch.allocator_in_use() == "jemalloc"
