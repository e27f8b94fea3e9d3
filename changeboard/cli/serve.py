"""changeboard serve: the dashboard on this machine, as `make run` serves it
(the sample database is built first when the database file does not exist),
with the production options of deploy/streamlit.toml and the upload limit
CHANGEBOARD_MAX_UPLOAD_MB, and with sign-in when the CHANGEBOARD_OIDC_*
settings configure it."""
from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path

from changeboard import config

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
ALLOWED_HOSTS = ("localhost", "127.0.0.1")


def app_path() -> Path:
    """app.py of a clone (or an editable install), else the copy a wheel
    installs with views/ and .streamlit/ as the changeboard_app package."""
    if (ROOT / "app.py").is_file():
        return ROOT / "app.py"
    return Path(str(resources.files("changeboard_app") / "app.py"))


def command(app: Path, port: int) -> list[str]:
    """The streamlit command line make run gives (changeboard.serve's
    streamlit_command: the production options of deploy/streamlit.toml, the
    upload limit CHANGEBOARD_MAX_UPLOAD_MB), listening on this machine only;
    the rest of the server's settings are in .streamlit/config.toml beside
    app.py."""
    from changeboard import serve as launcher

    return launcher.streamlit_command(HOST, port, list(ALLOWED_HOSTS), [],
                                      app=app)


def secrets_options(app: Path, port: int) -> list[str]:
    """--secrets.files for sign-in from the CHANGEBOARD_OIDC_* settings, as
    make run hands them (changeboard.serve.signin writes the owner-only
    file); none (only) when sign-in is not configured (Streamlit then reads
    its default secrets files). Refused: a half or wrongly configured
    sign-in."""
    from changeboard import serve as launcher

    signed_in, files = launcher.signin(f"cli-{port}", list(ALLOWED_HOSTS))
    if not signed_in:
        return []
    beside = app.parent / ".streamlit" / "secrets.toml"
    if beside.is_file() and beside.resolve() not in {f.resolve()
                                                     for f in files}:
        files = [beside, *files]
    return [w for f in files for w in ("--secrets.files", str(f))]


def serve(args, parser) -> int:
    from changeboard.serve import (
        Refused,
        app_env,
        check_allocator,
        check_app_state,
    )

    db_path = Path(args.db or config.DB_PATH)
    app = app_path()
    try:
        secrets = secrets_options(app, args.port)
        # as make run: an application state it cannot write stops a
        # signed-in start (nobody could sign out); else a warning
        warnings = [check_app_state(bool(secrets), db_path),
                    check_allocator()]
    except Refused as exc:
        print(f"changeboard: {exc}", file=sys.stderr)
        return 2
    for warning in filter(None, warnings):
        print(warning, file=sys.stderr, flush=True)
    if not db_path.exists():
        print(f"First run: building the sample database {db_path}",
              file=sys.stderr, flush=True)
        from sample_data import database

        database.publish(db_path)
    os.chdir(app.parent)   # .streamlit/config.toml and views/ beside app.py
    os.execve(sys.executable, [*command(app, args.port), *secrets],
              app_env({**os.environ,
                       "CHANGEBOARD_DB": str(db_path.resolve())}))
    return 0   # not reached: streamlit replaced this process
