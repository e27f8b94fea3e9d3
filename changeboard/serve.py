"""Start Changeboard: `python -m changeboard.serve run|serve|replica|nginx`.

run      one app process (`make run`): this machine only unless told.
serve    a team service (`make serve`): N app replicas on loopback ports
         behind nginx (sticky sessions, WebSocket upgrade), until stopped.
replica  one of those replicas (deploy/systemd/changeboard@.service).
nginx    print the nginx site configuration for N replicas (deploy/).

Sign-in is configured by an [auth] section in .streamlit/secrets.toml or by
the CHANGEBOARD_OIDC_* settings; from those this writes a private (0600)
secrets file outside the repository and hands Streamlit its path. A
service that faces the network refuses to start without sign-in, unless
CHANGEBOARD_OPEN_DEPLOYMENT=1. No secret is ever printed or logged.
"""
from __future__ import annotations

import argparse
import ctypes.util
import errno
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from changeboard import auth, config, launch

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PRODUCTION = DEPLOY / "streamlit.toml"
NGINX_SITE = DEPLOY / "nginx" / "changeboard.conf.template"
# setting -> [auth] key; the two secrets are credentials, not SETTINGS
ENV_AUTH = {
    "CHANGEBOARD_OIDC_REDIRECT_URI": "redirect_uri",
    "CHANGEBOARD_OIDC_COOKIE_SECRET": "cookie_secret",
    "CHANGEBOARD_OIDC_METADATA_URL": "server_metadata_url",
    "CHANGEBOARD_OIDC_CLIENT_ID": "client_id",
    "CHANGEBOARD_OIDC_CLIENT_SECRET": "client_secret",
}
FIRST_REPLICA_PORT = 8601
# the memory allocator app processes preload (docs/deploy.md, Memory
# allocator): DuckDB plans each query as many small objects, made and freed
# through malloc, and the C library's allocator spent about a fifth of that
# time in malloc and free
ALLOCATOR = "jemalloc"


class Refused(Exception):
    """A configuration this will not start with; the message says why."""


def _secret_files() -> list[Path]:
    """The secrets.toml files Streamlit reads by default, existing ones."""
    return [p for p in (Path.home() / ".streamlit" / "secrets.toml",
                        ROOT / ".streamlit" / "secrets.toml") if p.is_file()]


def _env_auth() -> dict[str, str]:
    given = {key: os.environ.get(name, "") for name, key in ENV_AUTH.items()}
    return {k: v for k, v in given.items() if v}


def _toml_string(value: str) -> str:
    """A TOML basic string (secrets may hold any character)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " else f"\\u{ord(c):04x}"
                         for c in escaped) + '"'


def _private_path() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    return (Path(base) / "changeboard" if base else
            Path(tempfile.gettempdir()) / f"changeboard-{os.getuid()}")


def private_dir() -> Path:
    """An owner-only directory for this user's runtime files, outside the
    repository: $XDG_RUNTIME_DIR/changeboard or <tmp>/changeboard-<uid>."""
    folder = _private_path()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.is_symlink():
        raise Refused(f"{folder} is not this user's own directory")
    os.chmod(folder, 0o700)
    return folder


def written_secrets(name: str, *, create: bool = True) -> Path:
    """Where write_secrets(..., name) writes (its folder made unless not
    `create`: a dry run writes nothing)."""
    folder = private_dir() if create else _private_path()
    return folder / f"secrets-{name}.toml"


def write_secrets(section: dict[str, str], name: str) -> Path:
    """The [auth] section as a 0600 secrets file in private_dir()."""
    path = written_secrets(name)
    folder = path.parent
    tmp = folder / f".secrets-{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w") as out:
        out.write("# written by changeboard.serve from CHANGEBOARD_OIDC_*; "
                  "do not edit\n[auth]\n")
        for key, value in section.items():
            out.write(f"{key} = {_toml_string(value)}\n")
    os.replace(tmp, path)
    return path


def signin(name: str, hosts: list[str] | None = None, *,
           write: bool = True, port: int | None = None
           ) -> tuple[bool, list[Path]]:
    """Whether sign-in is configured, and the secrets files to hand
    Streamlit; a half-configured sign-in is refused, naming what is missing,
    as is a redirect URI Streamlit would not answer (check_redirect) or, when
    `hosts` (the allowed Host names) are given, whose host it would refuse
    (check_hosts), and a CHANGEBOARD_SESSION_HOURS that is not a number of
    hours above 0; so is a CHANGEBOARD_* name that is no setting (a
    misspelt one would do nothing: CHANGEBOARD_VIEWER would leave the
    viewers at `*`, anyone the identity provider signs in). Unless
    `write`, the secrets file the settings make is named, not written.
    `port`: where browsers reach this start (make run's port, make serve's
    LISTEN), which a plain-http redirect URI is checked against."""
    unknown = config.unknown_settings()
    if unknown:
        raise Refused(
            "not a Changeboard setting, so it would do nothing: "
            + "; ".join(unknown) + ". Correct the name or remove it "
            "(README, Settings, lists every setting)")
    try:  # every page would stop on it
        config.failure_min_priority()
    except ValueError as exc:
        raise Refused(str(exc)) from None
    files = _secret_files()
    section: dict = {}
    for path in files:
        try:
            section |= tomllib.loads(path.read_text()).get("auth", {})
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise Refused(f"{path}: cannot read it ({type(exc).__name__})"
                          ) from None
    from_env = _env_auth()
    section |= from_env
    if not section:
        return False, files
    missing = auth.missing_settings(section)
    if missing:
        names = {v: k for k, v in ENV_AUTH.items()}
        raise Refused("sign-in is half configured: missing " + ", ".join(
            f"{names[k]} ([auth] {k})" for k in missing))
    check_redirect(section)
    warning = check_provider(section)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if hosts is not None:
        check_hosts(section, hosts)
    warning = redirect_port_warning(section, port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    fault = auth.rule_fault()
    if fault:
        raise Refused(fault)
    if "CHANGEBOARD_VIEWERS" not in os.environ:
        print("warning: CHANGEBOARD_VIEWERS is not set: anyone the identity "
              "provider signs in may read every page (its default, *); "
              "name who may (@acme.com, group:NAME), or set it to * to say "
              "so", file=sys.stderr, flush=True)
    try:  # the app would refuse every sign-in
        auth.session_hours()
    except ValueError as exc:
        raise Refused(str(exc)) from None
    if from_env:
        files = [*files, write_secrets(from_env, name) if write
                 else written_secrets(name, create=False)]
    return True, files


def _setting(key: str) -> str:
    """How an operator names an [auth] key: its setting and the key."""
    names = {v: k for k, v in ENV_AUTH.items()}
    return f"{names[key]} ([auth] {key})"


def _url(value, key: str) -> urllib.parse.SplitResult:
    """An absolute http(s) URL, else Refused naming the setting (never its
    value: a misplaced secret must not reach the log)."""
    url = urllib.parse.urlsplit(str(value).strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise Refused(f"{_setting(key)} is not an http(s) URL")
    return url


def _merged(section: dict) -> dict:
    """[auth] with its one named provider's keys ([auth.entra]) merged."""
    provider = [v for v in section.values() if isinstance(v, dict)]
    return {**section, **(provider[0] if len(provider) == 1 else {})}


def redirect_port_warning(section: dict, port: int | None) -> str | None:
    """A plain-http redirect URI whose port is not where browsers reach
    this start: every sign-in would come back to a port nothing answers
    (http://localhost:8500/oauth2callback beside LISTEN=127.0.0.1:8613),
    unless something forwards it. An https one has a TLS proxy in front,
    whose port may differ: not checked."""
    url = urllib.parse.urlsplit(
        str(_merged(section)["redirect_uri"]).strip())
    if port is None or url.scheme != "http":
        return None
    try:
        back = url.port or 80
    except ValueError:  # not a port: check_redirect's to refuse
        return None
    if back == port:
        return None
    return (f"WARNING: {_setting('redirect_uri')} sends a signed-in browser "
            f"back to port {back}, but this start serves port {port}: "
            "unless a proxy forwards that port here, every sign-in returns "
            "to a port nothing answers. Make them the same")


def check_redirect(section: dict) -> None:
    """The redirect URI is where the identity provider sends a browser
    back: Streamlit answers it at /oauth2callback only (the app is served
    at the root of its host), and a browser that lands on another path
    finds a blank page (and nginx's access log kept the one-time code, in
    the Referer of every file that page asks for); the metadata URL must
    be a URL too. Checked here, at start, naming the setting."""
    merged = _merged(section)
    _url(merged["server_metadata_url"], "server_metadata_url")
    redirect = _url(merged["redirect_uri"], "redirect_uri")
    if redirect.path != "/oauth2callback" or redirect.query:
        under = ("; the app is served at the root of its host name, not "
                 "under a path" if redirect.path.endswith("/oauth2callback")
                 else "")
        raise Refused(f"{_setting('redirect_uri')} must be the app's public "
                      "URL followed by /oauth2callback (Streamlit answers "
                      f"the identity provider there only{under})")


METADATA_KEYS = ("issuer", "authorization_endpoint", "token_endpoint",
                 "jwks_uri")


def check_provider(section: dict) -> str | None:
    """Read the provider's metadata as the app will on the first sign-in.
    A metadata URL that answers with something else (a wrong path, tenant
    or realm: 404, an HTML page) or names a multi-tenant issuer template
    ({tenantid}, Entra's /common) is refused, naming the setting, since
    the browser would get a bare "Authentication error" and the log a
    traceback; an unreachable one, or one failing (HTTP 5xx), is a warning
    returned (a provider briefly down must not stop a replica). The URL's
    value is never said."""
    import json

    url = str(_merged(section)["server_metadata_url"]).strip()
    setting = _setting("server_metadata_url")
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310
            body = answer.read(1_000_000)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:  # the provider is there but failing: for now
            return (f"WARNING: the identity provider's metadata ({setting}) "
                    f"answered HTTP {exc.code}: nobody can sign in until it "
                    "answers with its metadata")
        raise Refused(
            f"{setting} answered HTTP {exc.code}: it is not the identity "
            "provider's OpenID Connect metadata (its address ends in "
            "/.well-known/openid-configuration; check the tenant or realm "
            "in it)") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, OSError) and reason.strerror:
            reason = reason.strerror
        return (f"WARNING: the identity provider's metadata ({setting}) "
                f"cannot be read now ({reason}): nobody can sign in until "
                "this machine reaches it")
    try:
        metadata = json.loads(body)
    except ValueError:
        metadata = None
    missing = [k for k in METADATA_KEYS
               if not isinstance(metadata, dict) or not metadata.get(k)]
    if missing:
        raise Refused(
            f"{setting} does not answer with OpenID Connect metadata (no "
            f"{', '.join(missing)}): use the provider's address ending in "
            "/.well-known/openid-configuration")
    if "{" in str(metadata["issuer"]):
        raise Refused(
            f"{setting} is a multi-tenant endpoint (its issuer is a "
            "template, such as Entra's /common or /organizations): no ID "
            "token would match it. Use your tenant's own metadata URL")
    return None


def _streamlit_hosts(hosts: list[str]) -> list[str]:
    """The Host names Streamlit will accept: these, or when none are given,
    .streamlit/config.toml's server.allowedHosts."""
    if hosts:
        return hosts
    try:
        shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml")
                                .read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return []
    return list(shipped.get("server", {}).get("allowedHosts", []))


def check_hosts(section: dict, hosts: list[str]) -> None:
    """Streamlit refuses the WebSocket of a browser whose Host is not
    allowed: the redirect URI's host (where signed-in browsers are) must
    be, or every page stays blank. Refused at start, naming both settings."""
    allowed = [h.strip().lower().rstrip(".")
               for h in _streamlit_hosts(hosts)]
    host = (urllib.parse.urlsplit(str(_merged(section)["redirect_uri"])
                                  .strip()).hostname or "").rstrip(".")
    if allowed and not any(  # Streamlit's own matching: name, *, *.domain
            pattern == "*" or host == pattern or (
                pattern.startswith("*.") and host.endswith(pattern[1:]))
            for pattern in allowed):
        raise Refused(
            f"the host {host} of {_setting('redirect_uri')} is not among the "
            f"allowed hosts ({', '.join(allowed)}): Streamlit would refuse "
            "every signed-in browser's connection. Add it to --allowed-hosts "
            "(ALLOWED_HOSTS for make, CHANGEBOARD_ALLOWED_HOSTS for the "
            "systemd unit)")


def check_exposure(facing: str, signed_in: bool) -> str | None:
    """Refuse a network-facing service without sign-in unless opted in;
    returns the warning to print for an open deployment."""
    if signed_in or auth.is_loopback(facing):
        return None
    if not auth.open_deployment():
        raise Refused(
            f"refusing to serve {facing or 'every address'} without sign-in: "
            "anyone who reaches it could replace the data. Configure sign-in "
            "(README, Sign-in), serve this machine only (HOST=127.0.0.1 for "
            "make run, LISTEN=127.0.0.1:8500 for make serve), or set "
            "CHANGEBOARD_OPEN_DEPLOYMENT=1 to serve openly anyway")
    return (f"WARNING: serving {facing or 'every address'} WITHOUT sign-in "
            "(CHANGEBOARD_OPEN_DEPLOYMENT=1): anyone who reaches it can load "
            "data")


def production_file() -> Path:
    """deploy/streamlit.toml: the clone's, else the copy a wheel installs
    with the app (changeboard_app/deploy/, pyproject.toml's package data)."""
    if PRODUCTION.is_file():
        return PRODUCTION
    from importlib import resources

    return Path(str(resources.files("changeboard_app") / "deploy"
                    / "streamlit.toml"))


def production_options() -> list[str]:
    """deploy/streamlit.toml as Streamlit command-line options."""
    options = []
    for section, values in tomllib.loads(production_file().read_text()
                                        ).items():
        for key, value in values.items():
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            options += [f"--{section}.{key}", shown]
    return options


def streamlit_command(host: str, port: int, allowed_hosts: list[str],
                      secrets: list[Path], app: Path | None = None
                      ) -> list[str]:
    """Streamlit's own command line, with the pages' modules loaded first:
    the production options and the upload limit for every way Changeboard
    is served (make run, make serve, a replica, changeboard serve); `app`
    is app.py, the clone's unless given (an installed wheel's)."""
    command = [sys.executable, "-m", "changeboard.launch", "run",
               str(app or ROOT / "app.py"), "--server.address", host,
               "--server.port", str(port), *production_options(),
               "--server.maxUploadSize", str(config.MAX_UPLOAD_MB)]
    for name in allowed_hosts:
        command += ["--server.allowedHosts", name]
    for path in secrets:
        command += ["--secrets.files", str(path)]
    return command


def _unwritable(path: Path) -> str | None:
    """Why this process could not write the SQLite file `path` (its
    directory too, for the -wal and -shm files beside it), or None."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # appstate creates the missing folders
    if not folder.is_dir():
        return f"{folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the directory {folder} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    return None


def check_app_state(signed_in: bool, database: Path | None = None
                    ) -> str | None:
    """Sign-outs, CAB decisions and attendees are written to the
    application-state file (<database>.app.sqlite, CHANGEBOARD_APP_DB) by
    the app itself. Where it cannot write it, Sign out failed with a
    generic error and left the user signed in: refused at start when
    sign-in is configured, else the warning to print. `database` is the
    one served, CHANGEBOARD_DB unless given."""
    from changeboard import appstate

    path = appstate.path_for(database or config.DB_PATH)
    why = _unwritable(path)
    if why is None:
        return None
    said = (f"cannot write {path}, where sign-outs and CAB decisions are "
            f"recorded ({why}): make it writable by the user the app runs "
            f"as ({auth._os_user()}), or set CHANGEBOARD_APP_DB to a file "
            "that is")
    if signed_in:
        raise Refused(said + "; nobody could sign out")
    return f"WARNING: {said}; CAB decisions cannot be recorded"


def allocator() -> str | None:
    """The library app processes preload as their allocator: jemalloc's
    (Debian's libjemalloc2) when CHANGEBOARD_ALLOCATOR is `jemalloc`, its
    default, and it is installed (Linux); None for the C library's own
    (CHANGEBOARD_ALLOCATOR=system, or none installed). Any other value is
    a ValueError that names the two."""
    return ctypes.util.find_library(ALLOCATOR) if _preloading() else None


def _preloading() -> bool:
    """Whether app processes are to preload jemalloc: CHANGEBOARD_ALLOCATOR
    is `jemalloc` (not `system`; any other value a ValueError) and this is
    Linux."""
    chosen = config.env("CHANGEBOARD_ALLOCATOR").strip()
    if chosen not in (ALLOCATOR, "system"):
        raise ValueError(
            f"CHANGEBOARD_ALLOCATOR={chosen!r} is not an allocator: "
            f"{ALLOCATOR} (the default; Debian's libjemalloc2) or system "
            "(the C library's own)")
    return chosen == ALLOCATOR and sys.platform.startswith("linux")


def app_env(environ=None) -> dict[str, str]:
    """An app process's environment: `environ` (default: this process's)
    with allocator() preloaded after any library LD_PRELOAD names (the
    first one preloaded that has malloc is used). The app's own children
    (an upload's reader, Chromium printing a PDF) are given environments
    of their own, without it."""
    env = dict(os.environ if environ is None else environ)
    library = allocator()
    preload = env.get("LD_PRELOAD", "").replace(":", " ").split()
    if library and library not in preload:
        env["LD_PRELOAD"] = " ".join([*preload, library])
    return env


def check_allocator() -> str | None:
    """A notice when jemalloc is asked for (the default) and not installed;
    a CHANGEBOARD_ALLOCATOR that names no allocator is refused."""
    try:
        if not _preloading() or allocator():
            return None
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return ("notice: jemalloc is not installed, so the app runs on the C "
            "library's allocator and its queries take longer (`make "
            "jemalloc` installs Debian's libjemalloc2; "
            "CHANGEBOARD_ALLOCATOR=system says to use the C library's "
            "and silences this)")


def _prepare(facing: str, name: str, hosts: list[str], *,
             dry_run: bool = False, port: int | None = None) -> list[Path]:
    """Check what the process would serve with, and (unless `dry_run`,
    which writes nothing) write its secrets file and build a missing
    sample: the secrets files to hand Streamlit."""
    signed_in, secrets = signin(name, hosts, write=not dry_run, port=port)
    warning = check_exposure(facing, signed_in)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    for warning in (check_app_state(signed_in), check_allocator()):
        if warning:
            print(warning, file=sys.stderr, flush=True)
    if not dry_run and not config.DB_PATH.exists():
        build_sample(config.DB_PATH)
    return secrets


def build_sample(path: Path) -> None:
    """Build the sample database at `path` unless another process (the
    replicas of a service start together) has by the time this holds the
    first-run lock, `.<db>.sample.lock` beside it: the sample is built
    once, the other replicas wait for it. (The build takes `<db>.lock`
    itself, so it cannot be held here.)"""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.sample.lock"),
                 os.O_RDWR | os.O_CREAT, 0o600)
    with open(fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return
        print(f"First run: building the sample database {path}",
              file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "ingest", "--sample"],
                       cwd=ROOT, check=True)


def _hosts(text: str) -> list[str]:
    return [h.strip() for h in text.split(",") if h.strip()]


def run(args) -> int:
    secrets = _prepare(args.host, f"run-{args.port}",
                       _hosts(args.allowed_hosts), dry_run=args.dry_run,
                       port=args.port)
    command = streamlit_command(args.host, args.port,
                                _hosts(args.allowed_hosts), secrets)
    env = app_env()
    if args.dry_run:
        preload = env.get("LD_PRELOAD")
        print(" ".join([f"LD_PRELOAD={shlex.quote(preload)}"] * bool(preload)
                       + command))
        return 0
    os.chdir(ROOT)
    os.execve(command[0], command, env)  # noqa: S606 - our interpreter


def replica(args) -> int:
    """One replica behind nginx: loopback only, but faces the network."""
    secrets = _prepare(args.facing, f"replica-{args.port}",
                       _hosts(args.allowed_hosts))
    command = streamlit_command("127.0.0.1", args.port,
                                _hosts(args.allowed_hosts), secrets)
    os.chdir(ROOT)
    os.execve(command[0], command, app_env())  # noqa: S606 - our interpreter


# With server names given, a request for any other Host (the server's
# address typed in, a DNS-rebinding page) gets no answer: nginx would
# otherwise answer it from the only server on the port, its default.
OTHER_HOSTS = """\

# any other Host name gets no answer (Streamlit checks WebSockets' only)
server {{
    listen {listen}{ssl} default_server;
    server_name _;
{reject}    return 444;
}}
"""


# Over TLS: Streamlit sets its identity cookies (the second holds the ID
# token) without Secure, so a browser would send them to any plain-HTTP
# address of the host (the port-80 redirect, a typed http:// link); nginx
# marks them Secure, and HSTS keeps the browser on https for a year
TLS_ONLY = """\
        # over TLS only: the app's cookies never go over plain HTTP
        proxy_cookie_flags ~ secure;
        add_header Strict-Transport-Security "max-age=31536000" always;
"""

# TLS 1.2 and 1.3 only, whatever nginx.conf says (Debian's still lists 1.0
# and 1.1); the default server of the address decides, so both say it
PROTOCOLS = "ssl_protocols TLSv1.2 TLSv1.3;"

# --redirect-http: a plain-HTTP listener that sends every request to the
# https site (a first visit typed without https://)
REDIRECT = """\

# plain HTTP: every request is sent to the https site, nothing is served
server {{
    listen {listen};
    server_name {names};
    server_tokens off;
    location / {{
        return 301 https://$host{port}$request_uri;
    }}
    # a callback sent here (a redirect URI registered as http://) carries
    # the one-time code: redirected, never logged
    location = /oauth2callback {{
        access_log off;
        error_log /dev/null emerg;
        return 301 https://$host{port}$request_uri;
    }}
}}
"""


def nginx_site(ports: list[int], listen: str, *, cert: str = "",
               key: str = "", server_name: str = "_",
               redirect_http: str = "") -> str:
    """deploy/nginx/changeboard.conf.template for these replica ports;
    named (server_name, space- or comma-separated), it answers those host
    names only; with a certificate, its cookies are Secure and
    `redirect_http` (an address:port or port) is a plain-HTTP listener
    redirecting to it."""
    server_name = " ".join(server_name.replace(",", " ").split()) or "_"
    if cert:
        listen_lines = (f"    listen {listen} ssl;\n"
                        f"    ssl_certificate {cert};\n"
                        f"    ssl_certificate_key {key};\n"
                        f"    {PROTOCOLS}\n")
    else:
        listen_lines = f"    listen {listen};\n"
    others = "" if server_name == "_" else OTHER_HOSTS.format(
        listen=listen, ssl=" ssl" if cert else "",
        reject=(f"    ssl_reject_handshake on;\n    {PROTOCOLS}\n" if cert
                else ""))
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=0;\n"
                      for p in ports)
    redirect = ""
    if cert and redirect_http:
        tls_port = listen.rpartition(":")[2]
        redirect = REDIRECT.format(
            listen=redirect_http, names=server_name,
            port="" if tls_port == "443" else f":{tls_port}")
        if server_name != "_":
            redirect += OTHER_HOSTS.format(listen=redirect_http, ssl="",
                                           reject="")
    return (NGINX_SITE.read_text()
            .replace("@SECURE@", "; Secure" if cert else "")
            .replace("@TLS_ONLY@\n", TLS_ONLY if cert else "")
            .replace("@REDIRECT@\n", redirect)
            .replace("@SERVERS@\n", servers)
            .replace("@LISTEN@\n", listen_lines)
            .replace("@SERVER_NAME@", server_name)
            .replace("@OTHER_HOSTS@\n", others)
            .replace("@BODY_MB@", str(config.MAX_UPLOAD_MB + 1)))


def nginx(args) -> int:
    given = {"--tls-cert": args.tls_cert.strip(),
             "--tls-key": args.tls_key.strip()}
    if any(given.values()) and not all(given.values()):
        have, lack = sorted(given, key=lambda o: not given[o])
        raise Refused(
            f"{have} without {lack}: TLS needs both the certificate "
            "(--tls-cert) and its private key (--tls-key); give both, or "
            "neither for plain HTTP")
    ports = [args.first_port + i for i in range(args.replicas)]
    if args.redirect_http.strip() and not args.tls_cert.strip():
        raise Refused("--redirect-http sends plain HTTP to the https site: "
                      "give it with --tls-cert and --tls-key")
    warn_unnamed(args.listen, args.server_name)
    print(nginx_site(ports, args.listen, cert=args.tls_cert,
                     key=args.tls_key, server_name=args.server_name,
                     redirect_http=args.redirect_http.strip()), end="")
    return 0


NGINX_MAIN = """\
# written by changeboard.serve for `make serve`; the site is deploy/nginx/
worker_processes 2;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
daemon off;
{user}
events {{ worker_connections 1024; }}
http {{
    # which replica served each request, and the route cookie that chose it
    log_format changeboard '$time_iso8601 $status $upstream_addr '
                           '"$request" route=$changeboard_route';
    access_log {run}/access.log changeboard;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {run}/changeboard.conf;
}}
"""


def _wait_healthy(url: str, procs: list[subprocess.Popen],
                  seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise Refused(f"{url} did not come up") from None
            time.sleep(0.3)


def served_routes(access_log: Path) -> dict[str, str]:
    """route cookie -> the replica nginx sent it to, from serve's access
    log (tests and bench/serve.py pin sessions to replicas with it)."""
    found = {}
    for line in access_log.read_text().splitlines():
        hit = re.search(r" (127\.0\.0\.1:\d+) .* route=(\S+)$", line)
        if hit:
            found[hit.group(2)] = hit.group(1)
    return found


def pinned_routes(url: str, access_log: Path, replicas: set[str],
                  per_replica: int) -> list[str]:
    """Route cookie values, `per_replica` of them sent to each replica."""
    for i in range(16 * per_replica * len(replicas)):
        urllib.request.urlopen(urllib.request.Request(
            f"{url}/_stcore/health",
            headers={"Cookie": f"changeboard_route=probe-{i}"}),
            timeout=10).close()
    routes = served_routes(access_log)
    chosen = []
    for replica in sorted(replicas):
        on = [r for r, to in routes.items()
              if to == replica and r.startswith("probe-")]
        if len(on) < per_replica:
            raise RuntimeError(f"{replica}: {len(on)} of {per_replica} routes")
        chosen += on[:per_replica]
    return chosen


def _in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (another replica set,
    another program): binding it as the server would fails."""
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def check_ports(listen: str, ports: list[int]) -> None:
    """Refuse, naming the port and the option that moves it, when nginx's
    address or a replica's port is taken: a replica that cannot bind dies,
    and a health check answered by whatever holds its port passed, so nginx
    was put in front of that (or failed on its own port) and the service
    stopped with no word of why."""
    for i, port in enumerate(ports, 1):
        if _in_use("127.0.0.1", port):
            raise Refused(
                f"port {port} (replica {i} of {len(ports)}) is already in "
                "use on 127.0.0.1, by another Changeboard or another "
                "program: stop it, or start the replicas from another port "
                "(--first-port)")
    host, _, port = listen.rpartition(":")
    if port.isdigit() and _in_use(host, int(port)):
        raise Refused(
            f"{listen}, where nginx would listen, is already in use: stop "
            "what listens there, or choose another address (--listen; "
            "LISTEN for make serve)")


def warn_unnamed(listen: str, server_name: str) -> None:
    """Say on stderr when an nginx site beyond this machine names no host:
    it answers any Host name (make serve's, and the site `nginx` prints)."""
    named = server_name.replace(",", " ").split() not in ([], ["_"])
    if not named and not auth.is_loopback(listen_host(listen)):
        print(f"WARNING: nginx on {listen} answers any Host name, so a "
              "page on another name resolving to this machine reaches the "
              "app: name the site (--server-name; SERVER_NAME for make "
              "serve), e.g. the redirect URI's host", file=sys.stderr,
              flush=True)


def listen_port(listen: str) -> int:
    """The port of nginx's listen (address:port, [IPv6]:port, a port
    alone); 80, nginx's own, when it names none."""
    port = listen.strip().rpartition(":")[2]
    return int(port) if port.isdigit() else 80


def listen_host(listen: str) -> str:
    """The address of nginx's listen (address:port, [IPv6]:port, a port
    alone: 0.0.0.0); Refused for what nginx would not take, such as an IPv6
    address without its brackets."""
    text = listen.strip()
    if text.isdigit():
        return "0.0.0.0"
    hit = (re.fullmatch(r"\[([0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)\](?::\d+)?", text)
           or re.fullmatch(r"([^\s:\[\]]+)(?::\d+)?", text))
    if not hit:
        raise Refused(
            f"--listen {listen} (LISTEN for make serve) is not address:port "
            "(such as 0.0.0.0:8500 or 127.0.0.1:8500; an IPv6 address goes "
            "in brackets: [::1]:8500)")
    return hit.group(1)


def ended(code: int) -> str:
    """How a process ended, from its return code, in words."""
    if code < 0:
        try:
            return f"was stopped by {signal.Signals(-code).name}"
        except ValueError:
            return f"was stopped by signal {-code}"
    return f"exited with status {code}"


def serve(args) -> int:
    """N replicas and nginx in front, until SIGTERM or Ctrl-C."""
    if not shutil.which(args.nginx):
        raise Refused(f"{args.nginx} not found: apt-get install nginx")
    host = listen_host(args.listen)
    warn_unnamed(args.listen, args.server_name)
    ports = [args.first_port + i for i in range(args.replicas)]
    check_ports(args.listen, ports)
    name = f"serve-{args.first_port}"
    secrets = _prepare(host, name, _hosts(args.allowed_hosts),
                       port=listen_port(args.listen))
    # the file of CHANGEBOARD_OIDC_* this start wrote (never an operator's
    # own secrets.toml): the replicas read it, and it goes when they stop
    written = written_secrets(name)
    written = written if written in secrets else None
    procs: list[subprocess.Popen] = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_dir = Path(tempfile.mkdtemp(prefix="nginx-", dir=private_dir()))
    buffers: Path | None = None  # nginx's temporary files (NGINX_MAIN's tmp)
    ended_alone = False
    try:
        for port in ports:
            procs.append(subprocess.Popen(  # noqa: S603 - our interpreter
                streamlit_command("127.0.0.1", port,
                                  _hosts(args.allowed_hosts), secrets),
                cwd=ROOT, env=app_env()))
        for port in ports:
            _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", procs)
        user = ""
        if os.geteuid() == 0:
            # workers run as nobody: they buffer a request body over 16 KB
            # (every upload) and a long response in a folder of their own,
            # outside private_dir() (0700, as $XDG_RUNTIME_DIR is), which
            # they cannot cross: there, every upload of the Data page failed
            # with HTTP 500 (open() ... failed (13: Permission denied))
            user = "user nobody nogroup;"
            buffers = Path(tempfile.mkdtemp(prefix="changeboard-nginx-"))
            shutil.chown(buffers, "nobody", "nogroup")
        else:
            buffers = run_dir / "tmp"
            buffers.mkdir()
        (run_dir / "changeboard.conf").write_text(nginx_site(
            ports, args.listen, server_name=args.server_name))
        (run_dir / "nginx.conf").write_text(
            NGINX_MAIN.format(run=run_dir, tmp=buffers, user=user))
        procs.append(subprocess.Popen(  # noqa: S603 - the nginx binary
            [args.nginx, "-c", str(run_dir / "nginx.conf"), "-p",
             str(run_dir), "-e", str(run_dir / "error.log")]))
        print(f"Changeboard: {len(ports)} replicas on 127.0.0.1:"
              f"{ports[0]}-{ports[-1]} behind nginx on {args.listen}",
              file=sys.stderr, flush=True)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
        if stopping:
            return 0
        # one ended by itself: said, naming it, before the others stop
        labels = [f"the replica on 127.0.0.1:{port}" for port in ports]
        for label, proc in zip([*labels, "nginx"], procs, strict=True):
            if proc.poll() is not None:
                print(f"Changeboard: {label} {ended(proc.returncode)}; "
                      "stopping the others", file=sys.stderr, flush=True)
        ended_alone = True
        return 1
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if ended_alone:
            _keep_logs(run_dir, name)
        shutil.rmtree(run_dir, ignore_errors=True)
        if buffers is not None:
            shutil.rmtree(buffers, ignore_errors=True)
        if written is not None:
            written.unlink(missing_ok=True)


def _keep_logs(run_dir: Path, name: str) -> None:
    """After a replica or nginx ended by itself: nginx's access and error
    logs, which the run folder's removal took with it, moved beside it
    (private_dir()/<name>-ended-<time>/) and said, so what led to the end
    can be read. A stop asked for (Ctrl-C, SIGTERM) keeps none."""
    kept = private_dir() / f"{name}-ended-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    logs = [log for log in ("access.log", "error.log")
            if (run_dir / log).is_file()]
    if not logs:
        return
    kept.mkdir(mode=0o700, exist_ok=True)
    for log in logs:
        shutil.move(run_dir / log, kept / log)
    print(f"Changeboard: nginx's logs are kept in {kept}", file=sys.stderr,
          flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m changeboard.serve",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    hosts = {"default": "localhost,127.0.0.1",
             "help": "Host names browsers use, comma-separated"}
    one = commands.add_parser("run", help="one app process (make run)")
    one.add_argument("--host", default="127.0.0.1")
    one.add_argument("--port", type=int, default=8501)
    one.add_argument("--allowed-hosts", **hosts)
    one.add_argument("--dry-run", action="store_true",
                     help="print the Streamlit command instead (and "
                     "write nothing)")
    one.set_defaults(func=run)
    team = commands.add_parser("serve", help="replicas behind nginx")
    team.add_argument("--listen", default="127.0.0.1:8500",
                      help="nginx's address:port (0.0.0.0:80 serves all)")
    team.add_argument("--replicas", type=int, default=config.REPLICAS)
    team.add_argument("--first-port", type=int, default=FIRST_REPLICA_PORT)
    team.add_argument("--allowed-hosts", **hosts)
    team.add_argument("--server-name", default="_",
                      help="the host names nginx answers (default: any)")
    team.add_argument("--nginx", default="/usr/sbin/nginx")
    team.set_defaults(func=serve)
    rep = commands.add_parser("replica", help="one replica (systemd)")
    rep.add_argument("--port", type=int, required=True)
    rep.add_argument("--facing", default="0.0.0.0",
                     help="the address nginx serves it on")
    rep.add_argument("--allowed-hosts", **hosts)
    rep.set_defaults(func=replica)
    site = commands.add_parser("nginx", help="print the nginx site")
    site.add_argument("--replicas", type=int, default=config.REPLICAS)
    site.add_argument("--first-port", type=int, default=FIRST_REPLICA_PORT)
    site.add_argument("--listen", default="80")
    site.add_argument("--server-name", default="_")
    site.add_argument("--tls-cert", default="")
    site.add_argument("--tls-key", default="")
    site.add_argument("--redirect-http", default="",
                      help="with TLS: also listen here (e.g. 80) and "
                      "redirect every request to the https site")
    site.set_defaults(func=nginx)
    args = parser.parse_args(argv)
    # it holds the sign-in secrets in its environment too, and starts the
    # replicas (which mark themselves: changeboard.launch)
    launch.unreadable()
    if args.command in ("serve", "nginx") and args.replicas < 1:
        parser.error("--replicas must be at least 1")
    try:
        return args.func(args)
    except Refused as exc:
        print(f"changeboard: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
