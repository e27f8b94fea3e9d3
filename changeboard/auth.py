"""Who is using Changeboard and what they may do: the role model (one place).

A signed-in user (OpenID Connect through Streamlit's st.login) gets every
role whose setting matches them; a role grants permissions, and a page asks
for a permission, never for a role. Adding a role is one ROLES entry with
its setting and permissions (the CAB member's DECIDE records decisions).

A rule list, comma-separated, matches by e-mail (`alice@acme.com`), e-mail
domain (`@acme.com`), a value of the groups claim (`group:cb-admins`) or
anyone signed in (`*`); an e-mail the identity provider marks unverified
(email_verified false) matches no e-mail or domain rule. Without sign-in configured the app is in
single-user mode: the one local user has every role.
"""
from __future__ import annotations

import getpass
import logging
import math
from dataclasses import dataclass

from changeboard import config

log = logging.getLogger("changeboard.auth")

# permissions: what a page or a write asks for
VIEW = "view"      # dashboards, CAB pack, exports, load history
LOAD = "load"      # upload and commit on the Data page: anything that writes
DECIDE = "decide"  # record CAB decisions and attendees (changeboard/decisions)


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    setting: str             # env var holding who has the role
    permissions: frozenset[str]


ROLES = (  # shown in this order
    Role("data_admin", "Data admin", "CHANGEBOARD_DATA_ADMINS",
         frozenset({VIEW, LOAD})),
    Role("cab_member", "CAB member", "CHANGEBOARD_CAB_MEMBERS",
         frozenset({VIEW, DECIDE})),
    Role("viewer", "Viewer", "CHANGEBOARD_VIEWERS", frozenset({VIEW})),
)
PROVIDER_KEYS = ("server_metadata_url", "client_id", "client_secret")
SHARED_KEYS = ("redirect_uri", "cookie_secret")


@dataclass(frozen=True)
class User:
    """The person behind a session; `signed_in` False = single-user mode."""
    email: str
    name: str
    roles: tuple[Role, ...]
    signed_in: bool

    def can(self, permission: str) -> bool:
        return any(permission in role.permissions for role in self.roles)

    @property
    def role_label(self) -> str:
        return ", ".join(r.label for r in self.roles) or "no role"

    @property
    def actor(self) -> str:
        """Who a load records as its author (ingest_batches.loaded_by)."""
        return self.email if self.signed_in else local_actor()


def cli_actor() -> str:
    """The author of a load or sync run from the command line."""
    return f"cli:{_os_user()}"


def local_actor() -> str:
    """The author of a load made in single-user mode (no sign-in)."""
    return f"local:{_os_user()}"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def commented_rule() -> str | None:
    """A role setting holding a '#' (a comment after the value in a
    systemd EnvironmentFile, which keeps it as part of the value: the rule
    then matches nobody, silently), named with the fix, not its value (as
    a misspelt setting is); None when none."""
    for role in ROLES:
        for rule in config.env(role.setting).split(","):
            if "#" in rule:
                return (f"{role.setting} holds a '#': a comment after a "
                        "value is part of it in a systemd EnvironmentFile, "
                        "and the rule would match nobody; put the comment "
                        "on a line of its own")
    return None


def rule_fault() -> str | None:
    """The role settings holding a rule that, as written, would match
    nobody, silently: a '#' (commented_rule), rules separated by ';' or
    spaces, a domain without its '@' (`acme.com`), an e-mail or a domain
    that is not one, `group:` with no name. Said with the fix, naming the
    setting and the rule's place, not its value (as a misspelt setting
    is); None when every rule can match."""
    commented = commented_rule()
    if commented:
        return commented
    faults = []
    for role in ROLES:
        rules = [r.strip() for r in config.env(role.setting).split(",")]
        for number, rule in enumerate(rules, 1):
            fault = _fault(rule)
            if fault:
                place = f"rule {number}" if len(rules) > 1 else "its rule"
                faults.append(f"{role.setting}: {place} {fault}")
    if not faults:
        return None
    return ("; ".join(faults) + ". As written, "
            + ("it matches" if len(faults) == 1 else "they match")
            + " nobody: a rule is an e-mail (ann@acme.com), a domain "
            "(@acme.com), group:NAME or *, and rules are separated by commas")


# characters a rule of an e-mail or a domain never holds: quotes an env
# file keeps, a wildcard ('*@acme.com', '@*.acme.com'), 'mailto:', brackets
NOT_IN_AN_EMAIL = "*\"`:<>()[]\\/"


def _fault(rule: str) -> str | None:
    """What is wrong with one rule as written (None: nothing)."""
    if rule in ("", "*"):  # '' after a trailing comma: no rule
        return None
    if rule.lower().startswith("group:"):
        return None if rule[len("group:"):].strip() else "names no group"
    if ";" in rule or any(c.isspace() for c in rule):
        return "holds a ';' or a space (two rules where one was meant?)"
    if rule[0] in "'\"" or rule[-1] in "'\"":  # o'neil@ is an e-mail
        return "is in quotes (an env file keeps them as part of the value)"
    if odd := sorted(set(rule) & set(NOT_IN_AN_EMAIL)):
        return ("holds " + ", ".join(repr(c) for c in odd) + ", which no "
                "e-mail has" + (" (* alone means anyone; within a rule it "
                                "matches nothing)" if "*" in odd else ""))
    if "@" not in rule:
        return "has no '@' (a domain is written with its '@': @acme.com)"
    name, _, domain = rule.partition("@")
    if not domain or "@" in domain:
        return "is not an e-mail" if name else "is not an e-mail domain"
    return None


def _rules(role: Role) -> list[str]:
    return [r.strip().lower() for r in config.env(role.setting).split(",")
            if r.strip()]


def _matches(rule: str, email: str, groups: set[str],
             verified: bool) -> bool:
    if rule == "*":
        return True
    if rule.startswith("group:"):  # 'group: cab' names the group cab
        return rule[len("group:"):].strip() in groups
    if not verified:  # an e-mail anyone may have typed is nobody's
        return False
    if rule.startswith("@"):
        return email.endswith(rule)
    return email == rule


def roles_for(email: str, groups=(), *, verified: bool = True
              ) -> tuple[Role, ...]:
    """Every role whose rules match this e-mail or one of these groups
    (verified=False: the e-mail matches no e-mail or domain rule)."""
    email = (email or "").strip().lower()
    found = {str(g).strip().lower() for g in groups or ()}
    return tuple(role for role in ROLES
                 if email or found
                 if any(_matches(rule, email, found, verified)
                        for rule in _rules(role)))


def unverified(claims: dict) -> bool:
    """Whether the provider says the e-mail claim is not verified
    (email_verified false, or "false" as some providers send it): anyone
    may have typed it, so it is not the user's and matches no rule."""
    said = claims.get("email_verified")
    return said is False or str(said).strip().lower() == "false"


def user_from_claims(claims: dict) -> User:
    """A signed-in user from the identity token's claims (st.user); an
    e-mail the provider marks unverified matches no e-mail or domain rule
    (groups and `*` still do), and so does a user name standing in for a
    missing e-mail claim (preferred_username: Entra ID calls it mutable and
    not for authorisation; a user could be named after an admin's
    address)."""
    email = str(claims.get("email") or claims.get("preferred_username")
                or "").strip()
    groups = claims.get(config.env("CHANGEBOARD_GROUPS_CLAIM")) or ()
    if isinstance(groups, str):
        groups = [groups]
    verified = bool(claims.get("email")) and not unverified(claims)
    return User(email=email, name=str(claims.get("name") or email),
                roles=roles_for(email, groups, verified=verified),
                signed_in=True)


def session_hours() -> float:
    """CHANGEBOARD_SESSION_HOURS, read now: how long a sign-in lasts;
    ValueError (naming the setting) unless a finite number above 0."""
    text = config.env("CHANGEBOARD_SESSION_HOURS").strip()
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0):
        raise ValueError("CHANGEBOARD_SESSION_HOURS must be a number of hours "
                         f"above 0, got {text!r}")
    return hours


def single_user() -> User:
    return User(email=local_actor(), name="single-user mode",
                roles=ROLES, signed_in=False)


def missing_settings(auth: dict | None) -> list[str]:
    """Keys an [auth] section lacks for sign-in ([] = complete; None or an
    empty section = sign-in not configured at all)."""
    auth = dict(auth or {})
    provider = {k: v for k, v in auth.items() if isinstance(v, dict)}
    if len(provider) == 1:  # a named provider: [auth.entra]
        auth = {**auth, **next(iter(provider.values()))}
    return [k for k in (*SHARED_KEYS, *PROVIDER_KEYS) if not auth.get(k)]


def is_loopback(address: str) -> bool:
    """127.x, localhost or ::1, also as written in a URL or nginx's
    listen ([::1])."""
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    return address in ("127.0.0.1", "::1", "localhost") or \
        address.startswith("127.")


def open_deployment() -> bool:
    """Whether serving the network without sign-in was asked for."""
    return config.env("CHANGEBOARD_OPEN_DEPLOYMENT").strip().lower() in (
        "1", "true", "yes")
