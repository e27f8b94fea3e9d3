"""Formatting the reports and the pages share: instants and spans in the
reporting zone, percentages, text from data, shortened text, runs of ids
and release readiness chips. One function each, so a CAB pack, its minutes,
its e-mail and the page that shows it say the same thing the same way; and
the days, instants and spans every other page writes (ui.day, ui.instant,
ui.instants), so one kind of value reads one way on every page."""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from changeboard import config
from changeboard.words import TIERS, failing_incident, phase_word, word
from changeboard.words import many as many  # 1 change, 2 changes

# release_readiness status -> its chip: a shape every font has and the word
READINESS = {"blocked": ("✖", "Blocked"), "at_risk": ("⚠", "At risk"),
             "ready": ("✔", "Ready")}
# a release no readiness rule fired on: its Reasons on the Release readiness
# page and in the CAB pack
NO_REASONS = "—"


def reasons_said(reasons) -> list[str]:
    """release_readiness's reasons (one text, '; '-separated, as the query
    writes them) as the pages and the pack say them, one per item: each
    starts as a sentence does ('Go-live in the freeze window ...', 'No
    change linked') and names the phases of a booking reason as the
    release's other views do ('(UAT, Production)', not the codes '(uat,
    prod)' the query lists); none for a release no rule fired on."""
    text = re.sub(r"(bookings? \()([^)]+)\)", lambda m: m.group(1) + ", ".join(
        str(phase_word(p)) for p in m.group(2).split(", ")) + ")",
        as_text(reasons))
    # the phase furthest behind plan: 'up to 8.6 days: SIT' ('3.5 h',
    # '20 min' under a day)
    text = re.sub(r"(behind plan \(up to [\d.]+ (?:days|h|min): )([^)]+)\)",
                  lambda m: f"{m.group(1)}{phase_word(m.group(2))})", text)
    return [r[:1].upper() + r[1:] for r in text.split("; ") if r]


def lateness(days) -> str:
    """How far behind plan, as the reasons say it (the lateness_words
    macro): '2.1 days' from a day, '3.5 h' from an hour, else whole
    minutes rounded up ('11 min'); NO_REASONS for none. A table's 'Slip so
    far (days)' read 0.0 beside a reason 'up to 11 min' (a walkthrough)."""
    if days is None or pd.isna(days) or days <= 0:
        return NO_REASONS
    if days >= 1:
        return f"{days:.1f} days"
    if days * 24 >= 1:
        return f"{days * 24:.1f} h"
    return f"{math.ceil(days * 1440)} min"


def plan_length(hours) -> str:
    """A plan's length as a CAB member reads it, to the minute: '45 min',
    '3 h 15 min', '2 h'; from 48 hours in days ('3.5 days'); '' for none.
    A plan of 17:30 to 20:45 read '(3.2 h)' and one of 2 h 45 '(2.8 h)':
    a quarter rounded half to even, where a spreadsheet shows 3.3 (a CAB
    chair's walkthrough)."""
    if hours is None or pd.isna(hours):
        return ""
    minutes = math.floor(float(hours) * 60 + 0.5)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        whole, rest = divmod(minutes, 60)
        return f"{whole} h" + (f" {rest} min" if rest else "")
    return f"{minutes / 1440:.1f} days"


def reasons_line(reasons) -> str:
    """reasons_said on one line, as a table cell says them ('—' when no
    rule fired): the Release readiness table, its file and the pack's."""
    return "; ".join(reasons_said(reasons)) or NO_REASONS


def records(frame: pd.DataFrame) -> list[dict]:
    """frame.to_dict("records"), the same values, made from each column's
    tolist(): to_dict walks an Arrow-backed column cell by cell, several
    times slower (a CAB pack's 3,000 agenda rows and 6,000 evidence rows);
    a missing value of a nullable column is None, as to_dict gives it."""
    values = records_columns(frame)
    return [dict(zip(values, row, strict=True))
            for row in zip(*values.values(), strict=True)] if values else \
        [{} for _ in range(len(frame))]


def records_columns(frame: pd.DataFrame) -> dict[str, list]:
    """Each column's values as records() gives them in its rows, by column
    name: for rows made one at a time ({c: v[i] for c, v in ...})."""
    return {c: _values(frame.iloc[:, i]) for i, c in enumerate(frame.columns)}


def _values(column: pd.Series) -> list:
    """A column's values as to_dict gives them: pd.NA, which only a
    nullable (extension) or object column holds, as None."""
    values = column.tolist()
    if (column.dtype == object or isinstance(
            column.dtype, pd.api.extensions.ExtensionDtype)) and \
            column.hasnans:
        return [None if v is pd.NA else v for v in values]
    return values


def as_text(value) -> str:
    """A value from data as text; '' for a missing one (None, NaN, NaT)."""
    return "" if value is None or (not isinstance(value, (list, dict))
                                   and pd.isna(value)) else str(value)


def is_yes(value) -> bool:
    """A flag from data: True only when present and true."""
    return value is not None and not pd.isna(value) and bool(value)


# a failure's signals (docs/metrics.md, failed change) in the words of the
# Changes page: 'close code, linked incident or rolled-back deployment'
# (the incident's words as the site's failure threshold has them)
SIGNALS = (("close code", "is_failed_by_close_code"),
           (INCIDENT := "linked incident", "is_failed_by_incident"),
           ("rolled-back deployment", "is_failed_by_rollback"))


def signals(row) -> list[str]:
    """The signals that failed a change, from its row (a dict or a
    Series), as words: ['linked incident', 'rolled-back deployment'] ('linked
    P1–P2 incident' under CHANGEBOARD_FAILURE_MIN_PRIORITY=2)."""
    return [failing_incident() if w == INCIDENT else w
            for w, flag in SIGNALS if is_yes(row[flag])]


def failure_signals(row) -> str:
    """A failed change's signals as a sentence starts: 'Close code, linked
    incident, rolled-back deployment'; '' for none. The incidents named
    where the row has them (change_records' incident_ids): 'Linked
    incident (INC0000398)', 'Linked incidents (I1, I9)'."""
    ids = row.get("incident_ids")
    named = ids if isinstance(ids, str) and ids else None

    def said_of(said: str) -> str:
        if said != failing_incident() or not named:
            return said
        return f"{failing_incident(',' in named)} ({named})"
    text = ", ".join(said_of(said) for said in signals(row))
    return text[:1].upper() + text[1:]


def words(code) -> str:
    """A code from data as the pages write it (changeboard.words.word):
    'very_high' -> 'Very high', 'backed_out' -> 'Backed out'; a value that
    is no code (a name, 'Release Type 11') as it is; '' for a missing one."""
    return as_text(word(code))


def phase_words(code) -> str:
    """A release phase as the pages write it (changeboard.words.phase_word):
    'uat' -> 'UAT', 'pre_prod' -> 'Pre-production'; '' for a missing one."""
    return as_text(phase_word(code))


def tier_words(code) -> str:
    """An environment tier as the pages write it (changeboard.words.TIERS):
    'prod' -> 'Production'; another value as it is; '' for a missing one."""
    return as_text(TIERS.get(code, code) if isinstance(code, str) else code)


def _utc_ns(value) -> int | None:
    """An instant as nanoseconds since the epoch (a naive one read as UTC);
    None if none."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.value


def the(n, thing: str, things: str | None = None, article: str = "the"
        ) -> str:
    """A count that a sentence points back at: 'the 2 releases', or with
    article 'all' 'all 2 phases'; for one, without its count ('the
    release', 'the phase': never 'the 1 release' or 'all 1 phase'). A
    capital article ('The', 'All') gives 'The release' for one."""
    if int(n) == 1:
        return f"{'The' if article[:1].isupper() else 'the'} {thing}"
    return f"{article} {many(n, thing, things)}"


def when(value, tz: str | None = None) -> str:
    """An instant as 'Wed 21 Jan 2026 20:00' in the reporting zone; '' if none."""
    utc_ns = _utc_ns(value)
    return "" if utc_ns is None else _when(utc_ns, tz or config.REPORTING_TZ)


@functools.lru_cache(maxsize=8192)
def _when(utc_ns: int, tz: str) -> str:
    """when() of an instant (nanoseconds since the epoch, UTC), once per
    instant and zone: a pack's thousands of planned starts fall on far
    fewer instants, and converting and formatting one costs 20-30 us."""
    return pd.Timestamp(utc_ns, tz="UTC").tz_convert(tz).strftime(
        "%a %d %b %Y %H:%M")


def wall(value, tz: str | None = None) -> datetime | None:
    """An instant as a spreadsheet cell holds it: the wall time in the
    reporting zone as a naive datetime (XLSX has no time zones, so the
    sheet says which); None if none. Naive values are read as UTC."""
    utc_ns = _utc_ns(value)
    return None if utc_ns is None else _wall(utc_ns,
                                             tz or config.REPORTING_TZ)


@functools.lru_cache(maxsize=8192)
def _wall(utc_ns: int, tz: str) -> datetime:
    return pd.Timestamp(utc_ns, tz="UTC").tz_convert(tz).tz_localize(
        None).to_pydatetime(warn=False)


# the number format of a sheet's instants: as when() writes them
# ('Wed 21 Jan 2026 20:00'), Excel showing the wall time the cell holds
SHEET_TIME_FORMAT = "ddd dd mmm yyyy hh:mm"


@dataclass(frozen=True)
class Times:
    """How a table writes its instants: as text (when, span) for the page,
    the HTML and the PDF; with `sheet`, as a spreadsheet's cells: the wall
    time in the zone (`wall`) under a title that names the zone
    ('Go-live (Europe/Amsterdam)'), and a span as two such columns, its
    start and its end."""

    tz: str
    sheet: bool = False

    def title(self, name: str) -> str:
        return f"{name} ({self.tz})" if self.sheet else name

    def at(self, value):
        return wall(value, self.tz) if self.sheet else when(value, self.tz)

    def span(self, name: str, starts, ends) -> dict[str, list]:
        """The column (two on a sheet: `name start`, `name end`) of these
        spans."""
        if self.sheet:
            return {self.title(f"{name} start"): [wall(t, self.tz)
                                                  for t in starts],
                    self.title(f"{name} end"): [wall(t, self.tz)
                                                for t in ends]}
        return {name: [span(a, b, self.tz)
                       for a, b in zip(starts, ends, strict=True)]}


def span(start, end, tz: str | None = None) -> str:
    """Two instants as 'Wed 21 Jan 2026 20:00 – 22:00' (the day once when
    both are on it)."""
    first, last = when(start, tz), when(end, tz)
    if first and last and first[:15] == last[:15]:
        return f"{first} – {last[16:]}"
    return f"{first} – {last}"


# how the pages write a day and an instant (ui.day, ui.instant, ui.instants);
# a date picker shows a day as ui.DAY_INPUT, the way the address writes it
DAY = "%d %b %Y"           # 03 Dec 2026
MOMENT = f"{DAY} %H:%M"    # 03 Dec 2026 12:08, then its zone


def zone_name(tz: str) -> str:
    """How a page names a zone after a time: 'UTC', else its IANA name."""
    return "UTC" if tz in ("UTC", "Etc/UTC", "Z", "+00:00") else tz


def day(value) -> str:
    """A day as the pages write it, '03 Dec 2026'; '' if none."""
    if value is None or pd.isna(value):
        return ""
    return f"{value:{DAY}}"


def instant(value, tz: str = "UTC") -> str:
    """An instant as the pages write it, in tz and naming it: '03 Dec 2026
    12:08 UTC' (a time without a zone is UTC); '' if none."""
    utc_ns = _utc_ns(value)
    if utc_ns is None:
        return ""
    stamp = pd.Timestamp(utc_ns, tz="UTC").tz_convert(tz)
    return f"{stamp:{MOMENT}} {zone_name(tz)}"


def instants(starts, ends, tz: str = "UTC") -> list[str]:
    """Each pair of instants as the pages write a span, in tz and naming it
    once: '01 Dec 2026 21:30 – 02 Dec 2026 00:15 UTC', the day once when both
    are on it ('01 Dec 2026 10:00 – 14:00 UTC'); '' where either is missing.
    Columns at once (a chart's hover for each of its bars); times without a
    zone, or text, are read as UTC."""
    first, last = (pd.to_datetime(pd.Series(v).reset_index(drop=True),
                                  utc=True).dt.tz_convert(tz)
                   for v in (starts, ends))
    since, until = first.dt.strftime(MOMENT), last.dt.strftime(MOMENT)
    until = until.where(since.str[:11] != until.str[:11],
                        last.dt.strftime("%H:%M"))
    shown = since + " – " + until + f" {zone_name(tz)}"
    return shown.where(first.notna() & last.notna(), "").tolist()


def local_day(value, tz) -> date | None:
    """The day an instant falls on in the zone `tz` (a name or ZoneInfo);
    a time without a zone is read as UTC, as the database stores it; None
    for a missing one."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(tz).date()


def pct(value, digits: int = 1) -> str:
    """A rate as a percentage, '12.5%'; 'n/a' when missing. A rate that is
    not 0 never reads as 0 and one short of 1 never as 100: 1 unauthorised
    change in 3,000 is '<0.1%', not '0.0%', and 2,999 successes in 3,000
    '>99.9%', not '100.0%' (a CAB reads '100.0%' as no failure)."""
    if value is None or pd.isna(value):
        return "n/a"
    shown, step = f"{100 * value:.{digits}f}", 10 ** -digits
    if 0 < value and float(shown) == 0:
        return f"<{step:.{digits}f}%"
    if value < 1 and float(shown) == 100:
        return f">{100 - step:.{digits}f}%"
    return f"{shown}%"


def shorten(text: str, limit: int | None) -> str:
    """text cut at a word to at most `limit` characters, ending "…"."""
    if limit is None or len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–") + "…"


def ranges(ids: list[int]) -> str:
    """Sorted ids as runs: '1–3, 5'; 'none recorded' when there are none."""
    if not ids:
        return "none recorded"
    runs = [[ids[0], ids[0]]]
    for batch in ids[1:]:
        if batch == runs[-1][1] + 1:
            runs[-1][1] = batch
        else:
            runs.append([batch, batch])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def readiness_chip(status) -> str:
    """A release_readiness status as '✖ Blocked'."""
    symbol, word = READINESS.get(status, ("", as_text(status)))
    return f"{symbol} {word}".strip()
