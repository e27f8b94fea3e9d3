"""The global filters' values: one a database does not hold is refused
with a message naming it and, when one is near, the value meant (a count
of 0 would read as a real zero). Used by `changeboard query` and the CAB
pack, whose filters an analyst types."""
import csv
import difflib

from changeboard import db

# the global filters (filter_options) and what one value of each is
NAMES = {"application_ids": "application", "portfolios": "portfolio",
         "teams": "team", "change_types": "change type", "tiers": "tier"}
# codes a filter may name even when no row carries them yet
CODES = {"change_types": ("standard", "normal", "emergency"),
         "tiers": ("dev", "test", "sit", "uat", "perf", "staging", "prod",
                   "dr", "other")}
SHOWN = 8  # known values a refusal lists
NEAR = 0.5  # the closeness (_closeness) from which a known value is near


def refusal(con, given: dict[str, list[str]]) -> tuple[str, str] | None:
    """(filter, message) for the first of `given` (filter -> values) with a
    value the database does not hold, or None: "no team 'Paymnts' in this
    database; did you mean Payments? (known: ...)"."""
    given = {k: v for k, v in given.items() if k in NAMES and v}
    if not given:
        return None
    options = db.run(con, "filter_options")
    for name, values in given.items():
        rows = options[(options["filter_name"] == name)
                       & options["option_value"].notna()]
        known = set(rows["option_value"])
        unknown = [v for v in values
                   if v not in known and v not in CODES.get(name, ())]
        if unknown:
            # a value given by what the pages show it as ('Payments
            # Gateway'): its id said (an application owner's script was
            # told only the ids nearest its spelling)
            named: dict[str, tuple[str, list[str]]] = {}
            for value, label in zip(rows["option_value"],
                                    rows["option_label"], strict=True):
                if isinstance(label, str) and label != value:
                    named.setdefault(label.casefold(), (label, []))[1]\
                        .append(value)
            return name, _refused(name, unknown, sorted(known), named)
    return None


def split_list(text: str, *, strip: bool = True) -> list[str]:
    """A list parameter's values: comma-separated, one holding a comma in
    double quotes as in CSV (`Ops,"Payments, EMEA"`). Not `strip`: each
    value as written, its spaces kept (an address's, which join_list
    wrote: a team named ' Risk Tech' in the data, stripped, opened a link
    on every team)."""
    row = next(csv.reader([text], skipinitialspace=strip), [])
    if not strip:
        return [value for value in row if value.strip()]
    return [value.strip() for value in row if value.strip()]


def join_list(values) -> str:
    """The text split_list reads back as these values."""
    return ",".join(_quoted(str(value)) for value in values)


def _quoted(value: str) -> str:
    if any(c in value for c in ',"'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _refused(name: str, unknown: list[str], listed: list[str],
             named: dict[str, tuple[str, list[str]]] | None = None) -> str:
    """The refusal's words: a value that is a name (letter case aside) is
    told its id, one that is nearly a name the name and its id, the rest
    the values near them (`named`: a name in lower case -> the name and
    the ids it names)."""
    named = named or {}
    ids = [(value, named[value.strip().casefold()][1]) for value in unknown
           if value.strip().casefold() in named]
    # a name where an id is asked for: its id said; the other values given
    # that the database does not hold said beside it
    said = [f"{value!r} is the name of {NAMES[name]} "
            + " and ".join(map(_quoted, found)) + ": give "
            + ("its id" if len(found) == 1 else "one of their ids")
            for value, found in ids]
    # a name mistyped ('Paymnts Gateway'): the name meant and its id (it
    # was told the ids nearest its spelling: a re-check walkthrough)
    meant = [(value, db.meant(value.strip().casefold(), named, cutoff=0.85,
                              starts=False) if named else None)
             for value in unknown if value.strip().casefold() not in named]
    for value, near in meant:
        if near is not None:
            label, found = named[near]
            said.append(f"no {NAMES[name]} {value!r} in this database; did "
                        f"you mean {label}, the name of "
                        f"{' and '.join(found)}? Give "
                        + ("its id" if len(found) == 1 else "one of their "
                           "ids"))
    unknown = [value for value, near in meant if near is None]
    if not unknown:
        return "; ".join(said)
    return "; ".join([*said, _unheld(name, unknown, listed)])


def _unheld(name: str, unknown: list[str], listed: list[str]) -> str:
    if len(listed) > SHOWN:
        # the nearest first: in name order, 'Risk Tek' listed 8 teams
        # before R and not Risk Tech, which no 'did you mean' named either;
        # when none is near ('Nope'), the first in name order, not called
        # nearest (a new user's walkthrough)
        nearest = _nearest(unknown, listed)
        if _closeness(unknown, nearest[0]) >= NEAR:
            shown = "nearest: " + ", ".join(map(_quoted, nearest))
        else:
            shown = "among them: " + ", ".join(
                map(_quoted, sorted(listed)[:SHOWN]))
        shown = f"{len(listed):,} known; {shown}, …"
    else:
        shown = "known: " + ", ".join(map(_quoted, listed))
    near = [m for v in unknown for m in _meant(v, listed)]
    return (f"no {NAMES[name]} {', '.join(map(repr, unknown))} in this "
            "database" + (f"; did you mean {', '.join(map(_quoted, near))}?"
                          if near else "")
            + " (" + (shown if listed else "it has none") + ")")


def _closeness(unknown: list[str], known: str) -> float:
    """How near a known value is the nearest of the unknown ones, letter
    case aside: difflib's ratio, 0 to 1."""
    return max(difflib.SequenceMatcher(
        None, value.casefold(), known.casefold()).ratio()
        for value in unknown)


def _nearest(unknown: list[str], listed: list[str]) -> list[str]:
    """The SHOWN known values nearest any of the unknown ones, letter case
    aside, nearest first (ties in name order)."""
    return sorted(listed, key=lambda k: -_closeness(unknown, k))[:SHOWN]


def _meant(value: str, known: list[str]) -> list[str]:
    """The known value a mistyped one most likely meant, letter case
    aside (the first SHOWN known values listed may not hold it); closer
    than a query name must be: 'APP-1' is not taken for 'APP-021'. Else
    the known values that start with it, when three or fewer do
    ('Payments': Payments Platform)."""
    by_case = {k.casefold(): k for k in known}
    near = db.meant(value.casefold(), by_case, cutoff=0.85, starts=False)
    if near:
        return [by_case[near]]
    starting = [k for k in known
                if value.strip() and k.casefold().startswith(
                    value.strip().casefold())]
    return starting if len(starting) <= 3 else []
