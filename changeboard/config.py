"""Every Changeboard setting, read from the environment (see README's Settings)."""
import difflib
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

SETTINGS: dict[str, tuple[str, str]] = {}  # env var -> (default, help)


def _setting(name: str, default: str, help: str) -> str:
    SETTINGS[name] = (default, help)
    return os.environ.get(name, default)


DB_PATH = Path(_setting(
    "CHANGEBOARD_DB", "changeboard.duckdb",
    "DuckDB file the app reads and ingest publishes"))
APP_DB = _setting(
    "CHANGEBOARD_APP_DB", "",
    "SQLite file for what users record (CAB decisions, attendees, packs "
    "sent); default: beside the database, <database>.app.sqlite")
REPORTING_TZ = _setting(
    "CHANGEBOARD_REPORTING_TZ", "UTC",
    "IANA time zone for days, weeks and months in metrics and charts")
FAILURE_MIN_PRIORITY = _setting(
    "CHANGEBOARD_FAILURE_MIN_PRIORITY", "",
    "incidents of this priority or higher fail the change they are linked "
    "to, on every page, in every pack and query (DORA's deployment "
    "failure rate counts an incident of any priority): 1 = P1 only, 2 = "
    "P1 and P2, ...; unset = every linked incident")
CACHE_TTL = int(_setting(
    "CHANGEBOARD_CACHE_TTL", "600",
    "seconds the app keeps a query result; a new load is seen at once"))
SAMPLE_SEED = int(_setting(
    "CHANGEBOARD_SAMPLE_SEED", "7",
    "seed of the sample data built on first `make run`"))
CAB_WEEKDAYS = _setting(
    "CHANGEBOARD_CAB_WEEKDAYS", "1",
    "days the CAB meets, 0 = Monday ... 6 = Sunday, comma-separated")
CAB_TIME = _setting(
    "CHANGEBOARD_CAB_TIME", "10:00",
    "time the CAB meets, HH:MM in the reporting time zone")
SERVICENOW_INSTANCE = _setting(
    "CHANGEBOARD_SERVICENOW_INSTANCE", "",
    "ServiceNow instance for `changeboard sync servicenow`: a name "
    "(`acme` = https://acme.service-now.com) or a base URL")
JIRA_URL = _setting(
    "CHANGEBOARD_JIRA_URL", "",
    "Jira base URL for `changeboard sync jira`, e.g. "
    "https://acme.atlassian.net")
RECORD_URLS = {  # id column -> the template of a link to its source record
    "change_id": _setting(
        "CHANGEBOARD_CHANGE_URL", "",
        "link from a change id to its record, {id} replaced: e.g. "
        "https://acme.service-now.com/change_request.do?sysparm_query="
        "number={id} (default: from CHANGEBOARD_SERVICENOW_INSTANCE)"),
    "incident_id": _setting(
        "CHANGEBOARD_INCIDENT_URL", "",
        "link from an incident id to its record, {id} replaced (default: "
        "from CHANGEBOARD_SERVICENOW_INSTANCE)"),
    "release_id": _setting(
        "CHANGEBOARD_RELEASE_URL", "",
        "link from a release id to its record, {id} replaced: e.g. "
        "https://acme.atlassian.net/projects/CHG/versions/{id}"),
}
JIRA_JQL = _setting(
    "CHANGEBOARD_JIRA_JQL", "project = CHG AND issuetype = Change",
    "JQL selecting change issues; the sync adds the `updated` bound and order")

# sign-in (OpenID Connect) and roles; the client secret and the cookie secret
# are credentials: CHANGEBOARD_OIDC_CLIENT_SECRET and
# CHANGEBOARD_OIDC_COOKIE_SECRET, or secrets.toml (README, Sign-in)
OIDC_METADATA_URL = _setting(
    "CHANGEBOARD_OIDC_METADATA_URL", "",
    "the identity provider's OpenID Connect metadata URL (.../.well-known/"
    "openid-configuration); with the client id, secrets and redirect URL "
    "it turns sign-in on")
OIDC_CLIENT_ID = _setting(
    "CHANGEBOARD_OIDC_CLIENT_ID", "",
    "the app's client id at the identity provider")
OIDC_REDIRECT_URI = _setting(
    "CHANGEBOARD_OIDC_REDIRECT_URI", "",
    "the app's public URL followed by /oauth2callback, e.g. "
    "https://changeboard.acme.com/oauth2callback")
DATA_ADMINS = _setting(
    "CHANGEBOARD_DATA_ADMINS", "",
    "who may load data (data admin role): e-mails, @domains, group:<name> "
    "of the groups claim or *, comma-separated")
CAB_MEMBERS = _setting(
    "CHANGEBOARD_CAB_MEMBERS", "",
    "who may record CAB decisions and attendees on the CAB pack page (CAB "
    "member role), in the same form")
VIEWERS = _setting(
    "CHANGEBOARD_VIEWERS", "*",
    "who may read dashboards, the CAB pack and exports (viewer role), "
    "in the same form; * = anyone the identity provider signs in")
GROUPS_CLAIM = _setting(
    "CHANGEBOARD_GROUPS_CLAIM", "groups",
    "the identity token claim listing a user's groups")
SESSION_HOURS = _setting(
    "CHANGEBOARD_SESSION_HOURS", "12",
    "hours a sign-in lasts, from when the identity provider issued its ID "
    "token (iat); an older one finds the sign-in page again. A number above "
    "0, decimals allowed; Streamlit's identity cookie lasts 30 days at most")
OPEN_DEPLOYMENT = _setting(
    "CHANGEBOARD_OPEN_DEPLOYMENT", "",
    "1 = serve the network without sign-in (anyone who reaches the address "
    "may load data); otherwise that refuses to start")
MAX_UPLOAD_MB = int(_setting(
    "CHANGEBOARD_MAX_UPLOAD_MB", "200",
    "largest file the Data page accepts, in MB"))
SNAPSHOTS_KEEP_LAST = _setting(
    "CHANGEBOARD_SNAPSHOTS_KEEP_LAST", "5",
    "snapshots of replaced database files kept: the newest this many "
    "(all three 0 = keep none)")
SNAPSHOTS_DAILY = _setting(
    "CHANGEBOARD_SNAPSHOTS_DAILY", "14",
    "and the newest snapshot of each of the last this many days (UTC, "
    "today counts)")
SNAPSHOTS_MONTHLY = _setting(
    "CHANGEBOARD_SNAPSHOTS_MONTHLY", "24",
    "and the newest snapshot of each of the last this many months (UTC, "
    "this month counts)")
REPLICAS = int(_setting(
    "CHANGEBOARD_REPLICAS", "2",
    "app processes `make serve` starts behind nginx"))
ALLOCATOR = _setting(
    "CHANGEBOARD_ALLOCATOR", "jemalloc",
    "the app processes' memory allocator: jemalloc (Debian's libjemalloc2, "
    "preloaded when installed: queries plan faster) or system (the C "
    "library's)")


# the CAB pack delivered before the meeting (`report cab --send`,
# reports/delivery.py); the SMTP password and the webhook URL are
# credentials: CHANGEBOARD_SMTP_PASSWORD and CHANGEBOARD_CAB_WEBHOOK_URL, or
# secrets.toml (README, CAB pack)
PUBLIC_URL = _setting(
    "CHANGEBOARD_PUBLIC_URL", "",
    "the app's public address, e.g. https://changeboard.acme.com: the CAB "
    "pack's e-mail and chat post link to the pack there")
SMTP_HOST = _setting(
    "CHANGEBOARD_SMTP_HOST", "",
    "SMTP server that e-mails the CAB pack (`report cab --send`); none = "
    "no e-mail")
SMTP_PORT = _setting(
    "CHANGEBOARD_SMTP_PORT", "587",
    "its port: 587 for STARTTLS, 465 for implicit TLS, 25 plain")
SMTP_SECURITY = _setting(
    "CHANGEBOARD_SMTP_SECURITY", "starttls",
    "starttls (upgrade the connection), tls (implicit TLS) or none (plain; "
    "refused with a user unless the server is on this machine); the "
    "certificate is always verified")
SMTP_CA_FILE = _setting(
    "CHANGEBOARD_SMTP_CA_FILE", "",
    "PEM file of the CA that signed the SMTP server's certificate (an "
    "internal CA); default: the system's CAs")
SMTP_USER = _setting(
    "CHANGEBOARD_SMTP_USER", "",
    "user for SMTP AUTH, none = no login; the password is the credential "
    "CHANGEBOARD_SMTP_PASSWORD")
SMTP_FROM = _setting(
    "CHANGEBOARD_SMTP_FROM", "",
    "sender address of the CAB pack's e-mail, e.g. changeboard@acme.com "
    "or Changeboard <changeboard@acme.com> (the name is kept in From)")
CAB_RECIPIENTS = _setting(
    "CHANGEBOARD_CAB_RECIPIENTS", "",
    "the CAB's distribution list: e-mail addresses, comma-separated as in a "
    "To header, each bare or with a display name, e.g. cab@acme.com, "
    "\"Lee, Ann\" <ann.lee@acme.com> (a name holding a comma in double "
    "quotes)")
CAB_WEBHOOK_FORM = _setting(
    "CHANGEBOARD_CAB_WEBHOOK_FORM", "slack",
    "form of the chat post to CHANGEBOARD_CAB_WEBHOOK_URL: slack (an "
    "incoming webhook) or teams (an Adaptive Card, for a Teams workflow)")
SEND_ATTEMPTS = _setting(
    "CHANGEBOARD_SEND_ATTEMPTS", "4",
    "attempts at an e-mail or chat post before `report cab --send` gives up")
SEND_RETRY_DELAY = _setting(
    "CHANGEBOARD_SEND_RETRY_DELAY", "5",
    "seconds before the first retry of a failed send, doubled for each "
    "next one (5, 10, 20)")
SEND_TIMEOUT = _setting(
    "CHANGEBOARD_SEND_TIMEOUT", "30",
    "seconds `report cab --send` waits on the SMTP server or the webhook")


# what else the environment may hold: the credentials, read where they are
# used and never shown (README, Settings), and CHANGEBOARD_ALLOWED_HOSTS,
# which the systemd unit hands the replica as --allowed-hosts (deploy/)
OTHER_NAMES = frozenset({
    "CHANGEBOARD_OIDC_CLIENT_SECRET", "CHANGEBOARD_OIDC_COOKIE_SECRET",
    "CHANGEBOARD_SERVICENOW_USER", "CHANGEBOARD_SERVICENOW_PASSWORD",
    "CHANGEBOARD_SERVICENOW_TOKEN", "CHANGEBOARD_JIRA_EMAIL",
    "CHANGEBOARD_JIRA_TOKEN", "CHANGEBOARD_SMTP_PASSWORD",
    "CHANGEBOARD_CAB_WEBHOOK_URL", "CHANGEBOARD_ALLOWED_HOSTS"})


def unknown_settings(environ=None) -> list[str]:
    """The CHANGEBOARD_* names in the environment that Changeboard never
    reads (a misspelt setting does nothing: CHANGEBOARD_VIEWER leaves the
    viewers at `*`), each with the name nearest it that it reads. Names
    only: a value may be a credential."""
    prefix = "CHANGEBOARD_"
    known = sorted(n[len(prefix):] for n in {*SETTINGS, *OTHER_NAMES})
    found = []
    for name in sorted(os.environ if environ is None else environ):
        if not name.startswith(prefix) or name[len(prefix):] in known:
            continue
        near = difflib.get_close_matches(name[len(prefix):], known, n=1,
                                         cutoff=0.75)
        found.append(f"{name} (did you mean {prefix}{near[0]}?)" if near
                     else name)
    return found


def record_url(column: str) -> str:
    """The link template of an id column ('' = no link): its setting, else a
    ServiceNow instance's record page for changes and incidents."""
    template = RECORD_URLS.get(column, "")
    if template or column not in ("change_id", "incident_id"):
        return template
    instance = env("CHANGEBOARD_SERVICENOW_INSTANCE")
    if not instance:
        return ""
    base = instance if "://" in instance else \
        f"https://{instance}.service-now.com"
    table = "change_request" if column == "change_id" else "incident"
    return f"{base.rstrip('/')}/{table}.do?sysparm_query=number={{id}}"


def env(name: str) -> str:
    """A setting's value now (tests and long-lived processes may change it)."""
    return os.environ.get(name, SETTINGS[name][0])


def failure_min_priority() -> int | None:
    """CHANGEBOARD_FAILURE_MIN_PRIORITY as the queries' failure_min_priority
    (the one a query is given when it names none): None when unset; a
    ValueError naming the setting unless a whole number from 1."""
    text = str(FAILURE_MIN_PRIORITY).strip()
    if not text:
        return None
    if not (text.isdigit() and int(text) >= 1):
        raise ValueError(
            f"CHANGEBOARD_FAILURE_MIN_PRIORITY={FAILURE_MIN_PRIORITY!r} is "
            "not a priority: a whole number from 1 (the most urgent), e.g. 2 "
            "fails a change by its linked incidents of priority 1 and 2; "
            "unset, every linked incident fails it")
    return int(text)


def zone_problem(text: str) -> str | None:
    """What is wrong with a time zone's name, the one meant when one is
    near (None: nothing): CHANGEBOARD_REPORTING_TZ's check."""
    try:
        ZoneInfo(text)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        near = difflib.get_close_matches(text, available_timezones(), 1)
        return (f"unknown time zone {text!r}; "
                + (f"did you mean {near[0]}?" if near
                   else "expected an IANA name such as Europe/London"))
