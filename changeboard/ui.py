"""Streamlit helpers shared by every page: cached query(), the period filter,
tables with downloads and number formatting."""
from __future__ import annotations

import html
import math
import re
import shlex
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import partial
from typing import NamedTuple
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

import reports
from changeboard import asof, charts, config, db, groups, words
from changeboard.filters import join_list, split_list
from changeboard.words import PHASES as PHASES  # phase codes -> names
from changeboard.words import TIERS as TIERS  # tier codes -> names
from changeboard.words import each_distinct as each_distinct
from changeboard.words import failing_incident as failing_incident
from changeboard.words import numbered as numbered  # 1–20, 21, none
from changeboard.words import period_words as period_words  # Nov 2013
from changeboard.words import phase_word as phase_word  # sit -> SIT
from changeboard.words import word as word  # backed_out -> Backed out
from reports.text import day as day  # 03 Dec 2026
from reports.text import instant as instant  # 03 Dec 2026 12:08 UTC
from reports.text import instants as instants  # spans of instants
from reports.text import local_day
from reports.text import many as many  # 1 application, 2 applications
from reports.text import pct as pct  # the reports' percentages
from reports.text import the as the  # the release, all 2 phases
from reports.text import zone_name as zone_name  # UTC, else the IANA name

PERIODS = {
    "last_30": "Last 30 days",
    "last_90": "Last 90 days",
    "quarter": "This quarter",
    "last_month": "Last month",
    "last_quarter": "Last quarter",
    "ytd": "Year to date",
    "last_365": "Last 12 months",
    "all": "All data",
    "custom": "Custom range",
}
DEFAULT_PERIOD = "last_90"
# the presets of whole calendar months -> their months
CALENDAR = {"last_month": 1, "last_quarter": 3}
# every date picker's format: a day as the address and the tables write it
# (?from=2026-12-03); in text a day reads as ui.day has it (03 Dec 2026)
DAY_INPUT = "YYYY-MM-DD"
# an instant in a table's datetime column, to the second, its day as
# ui.instant writes it ('07 Sep 2026 08:00:00'; the column's heading names
# the zone): tables wrote '2026-12-04 19:07:56', '7 Sep 2026 08:00' and
# '28 Nov 2026 10:00'
TABLE_INSTANT = "DD MMM YYYY HH:mm:ss"


def query(name: str, **params) -> pd.DataFrame:
    """Rows of queries/<name>.sql, cached until the database is republished;
    from the snapshot the sidebar's "as of" chose, if any (asof.py)."""
    path, version = asof.source()
    return _cached(name, version, path, **params)


# the data_status row of each file version lately read (a few: sessions
# may read snapshots): the sidebar and banner read it five or six times a
# rerun, and each read of query()'s cache unpickles the frame (3 ms)
_STATUS_ROWS: OrderedDict = OrderedDict()
_STATUS_LOCK = threading.Lock()


def data_status() -> pd.Series:
    """The data_status row of the file the pages read (query's), kept in
    this process per file version: read only, never changed by a caller."""
    path, version = asof.source()
    key = (str(path), version)
    with _STATUS_LOCK:
        row = _STATUS_ROWS.get(key)
    if row is None:
        row = query("data_status").iloc[0]
        with _STATUS_LOCK:
            _STATUS_ROWS[key] = row
            while len(_STATUS_ROWS) > 8:
                _STATUS_ROWS.popitem(last=False)
    return row


@st.cache_data(ttl=config.CACHE_TTL, show_spinner=False)
def _cached(name, version, path, **params):
    # a cursor on the process's one shared read-only view of the file
    with db.reading(path) as con:
        return db.run(con, name, **params)


class Part(NamedTuple):
    """The start of a long result, for a table: its first `rows`, how many
    rows there are in all (`n`) and a function reading `whole` of them (for
    a download, only when clicked)."""
    rows: pd.DataFrame
    n: int
    whole: Callable[[], pd.DataFrame]
    # the query read with the sidebar's filters it takes (scoped_part): its
    # downloads' About sheet names those alone, and the ones it does not
    query: str | None = None

    def map(self, dress: Callable[[pd.DataFrame], pd.DataFrame]) -> Part:
        """The same part with `dress` applied to its rows and, when read,
        to the whole (e.g. the columns a table shows, under their labels)."""
        whole = self.whole
        return Part(dress(self.rows), self.n, lambda: dress(whole()),
                    self.query)


def part(name: str, rows: int | None = None, n: int | None = None,
         **params) -> Part:
    """query() as a Part: the first rows (SHOWN_ROWS unless given) and the
    count, without fetching the rest (db.head); `n`: the count, where
    another query read it already (not counted again)."""
    rows = SHOWN_ROWS if rows is None else rows
    path, version = asof.source()
    if n is None:
        first, n = _cached_head(name, version, path, rows, **params)
    else:
        first = _cached_first(name, version, path, rows, **params)
    return Part(first, n, partial(query, name, **params))


@st.cache_data(ttl=config.CACHE_TTL, show_spinner=False)
def _cached_head(name, version, path, rows, **params):
    with db.reading(path) as con:
        return db.head(con, name, rows, **params)


@st.cache_data(ttl=config.CACHE_TTL, show_spinner=False)
def _cached_first(name, version, path, rows, **params):
    with db.reading(path) as con:
        return db.first(con, name, rows, **params)


def today() -> date:
    """The day the period presets end on and the pages look ahead from:
    today; in a historical view, the day the snapshot shown was published
    (in the reporting zone), where its data ends. As of 20 Nov the last 30
    days ended on the day it was looked at, 17 of them after the data."""
    at = asof.published()
    return date.today() if at is None else \
        at.astimezone(ZoneInfo(config.REPORTING_TZ)).date()


def now() -> datetime | None:
    """The instant the pages look ahead from (the next CAB meeting): None
    for the wall clock's, the snapshot's publish time in a historical
    view."""
    return asof.published()


def window_for(period: str, start: date | None = None,
               end: date | None = None, *,
               last_day: date | None = None) -> dict[str, date]:
    """The half-open [start_date, end_date) of a period preset ending on
    last_day (default: today, which counts). Last month and Last quarter
    are the last whole calendar month and quarter: before the one holding
    today (not yet whole), or, given last_day (the data's last day), before
    the one holding the day after it."""
    day = last_day or today()
    tomorrow = day + timedelta(days=1)
    if period == "custom" and start and end:
        return {"start_date": start, "end_date": end + timedelta(days=1)}
    if period == "quarter":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return {"start_date": first, "end_date": tomorrow}
    if period in CALENDAR:
        # a process owner's monthly report read 30 days, compared with the
        # 30 before; on 30 November 'Last month' was November, unfinished
        # (a review)
        size = CALENDAR[period]
        open_day = day if last_day is None else tomorrow
        this = months_before(date(open_day.year, open_day.month, 1),
                             (open_day.month - 1) % size)
        return {"start_date": months_before(this, size), "end_date": this}
    if period == "ytd":
        return {"start_date": date(day.year, 1, 1), "end_date": tomorrow}
    days = {"last_30": 30, "last_365": 365}.get(period, 90)
    return {"start_date": tomorrow - timedelta(days=days),
            "end_date": tomorrow}


def months_before(first: date, months: int) -> date:
    """The first day of the month `months` before this first day."""
    at = first.year * 12 + first.month - 1 - months
    return date(at // 12, at % 12 + 1, 1)


def whole_months(window: dict[str, date]) -> int:
    """How many whole calendar months the window is (from a first day to a
    first day), else 0."""
    start, end = window["start_date"], window["end_date"]
    if start.day != 1 or end.day != 1:
        return 0
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def calendar_months(period: str, window: dict[str, date]) -> int:
    """How many whole calendar months a period compares by: Last month's
    and Last quarter's, and a custom range of whole months (1-30 Nov);
    0 for any other preset, which compares by days even on a day its
    window is whole months (the last 30 days on 30 November)."""
    if period in CALENDAR or period == "custom":
        return whole_months(window)
    return 0


def previous(window: dict[str, date], months: int = 0) -> dict[str, date]:
    """The window just before this one: `months` whole calendar months
    before a window of that many (calendar_months; November: October,
    whose 31 days the 30 days before November were not; a quarter: the
    quarter before), else of equal length."""
    if months:
        return {"start_date": months_before(window["start_date"], months),
                "end_date": window["start_date"]}
    length = window["end_date"] - window["start_date"]
    return {"start_date": window["start_date"] - length,
            "end_date": window["start_date"]}


def previous_said(window: dict[str, date], months: int = 0) -> str:
    """What a delta compares with, in words: 'Oct 2026, the month before',
    '01 Apr 2026 – 30 Jun 2026, the 3 months before' (`months`, as
    previous), 'the 30 days before the period'."""
    if months:
        before = previous(window, months)
        last = before["end_date"] - timedelta(days=1)
        said = (f"{before['start_date']:%b %Y}" if months == 1 else
                f"{day(before['start_date'])} – {day(last)}")
        return f"{said}, the {'month' if months == 1 else f'{months} months'}" \
            " before"
    days = (window["end_date"] - window["start_date"]).days
    return f"{the(days, 'day')} before the period"


# dates read from the URL (or picked) stay in a sane range and span: a
# window of centuries exhausts the server (issue 13)
DATE_MIN = date(1990, 1, 1)   # the loader warns about earlier dates too
DATA_EARLIEST = date(1900, 1, 1)  # the loader refuses earlier dates
MAX_SPAN_DAYS = 3660          # a period spans at most ten years


def date_max() -> date:
    """The latest date a page accepts: ten years ahead."""
    return today() + timedelta(days=3653)


def url_date(key: str) -> date | None:
    """The YYYY-MM-DD date of `?key=` in the URL: None when absent or not a
    date, clamped into [DATE_MIN, date_max()]; the page says what it did."""
    text = st.query_params.get(key, "")
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        # 2014-02-30 is written as a date, but no day is: say which
        shaped = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
        # the address's text shown as typed: a link mailed with Markdown
        # in it showed a live link on the app's own pages (a security review)
        st.warning(f"Ignored {key}={literal(text[:40])} in the address: "
                   + ("there is no such day." if shaped else
                      "not a YYYY-MM-DD date."))
        return None
    return clamp_date(day, key)


def url_date_or_instant(key: str) -> date | datetime | None:
    """`?key=` in the URL as a YYYY-MM-DD date or an ISO 8601 instant
    (2026-01-23T00:00+00:00; without an offset, in the reporting zone; an
    offset's '+' sent unencoded, which reads as a space, taken back): None
    when absent or neither; a date clamped into [DATE_MIN, date_max()], an
    instant whose day is outside it becomes the clamped day; the page says
    what it did. An instant is returned with its zone."""
    text = st.query_params.get(key, "").strip()
    if not text:
        return None
    try:
        return clamp_date(date.fromisoformat(text), key)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(
            re.sub(r"(\d\d:\d\d(:\d\d(\.\d+)?)?) (\d\d(:?\d\d)?)$",
                   r"\1+\4", text))
    except ValueError:
        st.warning(f"Ignored {key} in the address: not a YYYY-MM-DD date or "
                   "an ISO 8601 instant (2026-01-23T00:00+00:00).")
        return None
    zone = ZoneInfo(config.REPORTING_TZ)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    day = moment.astimezone(zone).date()
    clamped = clamp_date(day, key)
    return moment if clamped == day else clamped


def clamp_date(day: date, what: str) -> date:
    """`day` moved into [DATE_MIN, date_max()], saying so on the page."""
    clamped, said = _date_clamped(day, what)
    for line in said:
        st.warning(line)
    return clamped


def _date_clamped(day: date, what: str) -> tuple[date, list[str]]:
    low, high = DATE_MIN, date_max()
    clamped = min(max(day, low), high)
    return clamped, [] if clamped == day else [
        f"{what} {day.isoformat()} is outside {low.isoformat()} to "
        f"{high.isoformat()}: {clamped.isoformat()} is used."]


def clamp_span(start: date, end: date, what: str) -> tuple[date, date]:
    """An inclusive [start, end] in range, in order and at most
    MAX_SPAN_DAYS long (keeping its end), saying so on the page."""
    start, end, said = span_clamped(start, end, what)
    for line in said:
        st.warning(line)
    return start, end


def span_clamped(start: date, end: date, what: str
                  ) -> tuple[date, date, list[str]]:
    """clamp_span's dates and what it says, not yet said."""
    (start, first), (end, last) = (_date_clamped(start, what),
                                   _date_clamped(end, what))
    said = [*first, *last]
    if end < start:
        said.append(f"{what}: the end is before the start; they are "
                    "swapped.")
        start, end = end, start
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        start = end - timedelta(days=MAX_SPAN_DAYS - 1)
        said.append(f"{what} spans more than {MAX_SPAN_DAYS:,} days: "
                    f"shortened to start on {start.isoformat()}.")
    return start, end, said


def _clamp_picked_dates() -> None:
    """on_change of the custom dates: a span out of range or too long is
    put right in the box itself before the rerun, so the box shows the
    dates in use (it kept 2013-10-31 – 2026-08-22 while the caption said
    the period had been shortened to start in 2016); what was changed is
    said on the rerun."""
    picked = st.session_state.get("dates")
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        start, end, said = span_clamped(*picked, "The custom period")
        if said:
            st.session_state["dates"] = (start, end)
            st.session_state["dates-said"] = said


def plain(text) -> str:
    """Text from data, files or servers shown literally where Streamlit
    renders Markdown: no links, images, emphasis, emoji or colours. A bare
    web address in it (https://..., www.example.com) is no link either:
    Streamlit links one after Markdown is read, escaped or not, so a WORD
    JOINER (U+2060, not shown) parts it where a link would start ('https:'
    from '//', 'www' from '.'). An e-mail address stays a mail link."""
    parted = UNLINKED.sub("\u2060", str(text))
    return re.sub(r"([\\`*_{}\[\]()<>#!|~:$])", r"\\\1", parted)


# where a bare web address is parted (plain): before the '//' after a ':'
# and the '.' after 'www'
UNLINKED = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)


def literal(text) -> str:
    """Text from the address shown as typed, in a code span, on one line:
    a Markdown autolink (www.example.com, https://..., a@example.com) and
    blank lines (a rule, a list) do not apply inside one; plain() escapes
    Markdown's own marks but left those (a re-check walkthrough). A
    backtick in it is shown as '."""
    return "`" + (" ".join(str(text).split()).replace("`", "'") or " ") + "`"


def kept(name: str, from_url, default):
    """The value a control (the sidebar's, a page's own) starts with on a
    page: the URL's (a shared link), else the one chosen last in this
    session (a page link carries no query string), else the default."""
    if from_url is not None:
        return from_url
    return st.session_state.get(f"kept-{name}", default)


def kept_key(key) -> str | None:
    """The name a kept choice's key holds ('kept-period' -> 'period');
    None for another key."""
    return key[len("kept-"):] if isinstance(key, str) and \
        key.startswith("kept-") else None


def keep(name: str, value) -> None:
    """Remember a choice (the sidebar's, a page's own) for the next page or
    visit of this session."""
    st.session_state[f"kept-{name}"] = value


def data_last_day() -> date | None:
    """The last day of what the pages report on, where periods end: an
    incident log loaded beside the changes, whose incidents no change
    caused (the UCI log to 2017 beside BPIC 2014), would move the presets
    past every change; with such incidents alone loaded, theirs."""
    return latest_record_day("latest_reported_at") or latest_record_day()


def all_days() -> tuple[date, date]:
    """The "All data" period's first and last day: from the first day of
    the data (a change created, a release gone live, a deployment
    finished: releases older than the first change were left out, 24 of
    51 Jira versions beside BPIC 2014's changes; the last 90 days without
    data) to the data's last day (today without data), at most
    MAX_SPAN_DAYS long, the page saying so: the 3,660 days nearest the end
    that hold every change when some do (BPIC 2014's changes of 2011-2014
    beside endoflife.date's releases to 2026 were all cut off, the period
    starting in 2016), else the 3,660 days to the end."""
    end = data_last_day() or today()
    first = latest_record_day("first_reported_at") or \
        latest_record_day("changes_first_at")
    start = first if first is not None and first <= end \
        else end - timedelta(days=89)
    first_day = start
    changes = changes_span()
    if (end - start).days + 1 > MAX_SPAN_DAYS and changes is not None \
            and DATE_MIN <= changes[0] and (changes[1] - changes[0]).days \
            + 1 <= MAX_SPAN_DAYS and changes[1] <= end:
        # the latest start that still holds the first change
        start = max(start, min(changes[0], end - timedelta(
            days=MAX_SPAN_DAYS - 1)))
        cut = start + timedelta(days=MAX_SPAN_DAYS - 1)
        if cut < end:
            st.warning(f"All data spans more than {MAX_SPAN_DAYS:,} days: "
                       f"shortened to {day(start)} – {day(cut)}, so that it "
                       f"holds every change (they run from "
                       f"{day(changes[0])} to {day(changes[1])}; the data, "
                       f"to {day(end)}).")
            return start, cut
    # one line saying the period and why: a release of 1970 (endoflife.date)
    # read "All data 1970-01-01 is outside 1990-01-01 to 2036-12-07:
    # 1990-01-01 is used." above "All data spans more than 3,660 days"
    # (a real-data walkthrough)
    last_day = end
    end = min(max(end, DATE_MIN), date_max())
    start = min(max(start, DATE_MIN, end - timedelta(days=MAX_SPAN_DAYS - 1)),
                end)
    if (start, end) != (first_day, last_day):
        shown = f"{day(start)} – {day(end)}"
        st.warning(
            f"All data runs from {day(first_day)} to {day(last_day)}: the "
            f"period shows {shown}, at most its last {MAX_SPAN_DAYS:,} days "
            f"between {day(DATE_MIN)} and {day(date_max())}"
            + ("; a custom range reaches the days before it"
               if first_day < start and start > DATE_MIN else "") + ".")
    return start, end


def _last_90_days() -> tuple[date, date]:
    """The custom period's dates when neither the address nor the session
    gives them: the last 90 days, or the data's last 90 when it ends
    before them (as the presets end with it)."""
    end = today()
    latest = data_last_day()
    if latest is not None and latest < end - timedelta(days=89):
        end = latest
    return end - timedelta(days=89), end


def _said_past_the_data(window: dict[str, date]) -> None:
    """Under a custom period that runs past the data's last day, how many
    of its days hold no data (a link's 90 days from 15 Mar 2014 on data
    ending 31 Mar 2014 read as a quiet quarter)."""
    latest = data_last_day()
    last = window["end_date"] - timedelta(days=1)
    if latest is None or latest >= last or latest < window["start_date"]:
        return
    days = (last - latest).days
    # 'the last 1 day of the period hold none' read so at one
    st.sidebar.caption(f"The data ends on {day(latest)}: " + (
        "the period's last day holds none." if days == 1 else
        f"the last {many(days, 'day')} of the period hold none."))


def _said_completed_later(end: date) -> None:
    """Under "All data", the changes completed after its last day, which
    it leaves out: BPIC 2014 has ten closed by March 2014 whose recorded
    end runs to 2021 (an end typed wrong), and "All data" counted 17,252
    of 17,262 without a word. Counted as the emergency ratio's n counts
    completed changes (of a known type or not)."""
    if db.version(config.DB_PATH) is None:
        return
    later = query("emergency_change_ratio",
                  start_date=end + timedelta(days=1),
                  end_date=date_max() + timedelta(days=1)).iloc[0]
    n = int(later["n"]) + int(later["n_unclassified"])
    if n:
        st.sidebar.caption(
            f"{many(n, 'change')} completed after {day(end)} "
            f"({'its' if n == 1 else 'their'} end recorded later than the "
            "rest of the data) " + ("is" if n == 1 else "are")
            + " outside it: a custom range reaches "
            + ("it." if n == 1 else "them."))


def period_said(first: date, last: date) -> str:
    """The sidebar's period, its days inclusive and the zone they are days
    of: '01 Jan 2014 – 31 Mar 2014 (90 days, UTC)'. The zone was said by the
    XLSX alone, and a quarter of BPIC 2014 holds 624 normal changes in UTC,
    625 in Europe/Amsterdam."""
    return (f"{day(first)} – {day(last)} ({many((last - first).days + 1, 'day')}"
            f", {zone_name(config.REPORTING_TZ)})")


def _url_period() -> str | None:
    """?period= as one of PERIODS, also written as its label or with
    underscores for spaces ('Last 12 months', 'last_12_months'); None when
    absent, and when it names none, said: an address's period=last_12_months
    showed the last 90 days with nothing said (a walkthrough)."""
    given = st.query_params.get("period")
    if given is None or given in PERIODS:
        return given
    wanted = " ".join(given.replace("_", " ").split()).casefold()
    for key, label in PERIODS.items():
        if wanted in (key.replace("_", " "), label.casefold()):
            return key
    st.warning(f"Ignored period={literal(given[:40])} in the address: no such "
               "period (" + ", ".join(PERIODS) + ").")
    return None


def period_filter() -> dict[str, date]:
    """Sidebar period picker, kept in the URL (?period=...&from=...&to=...)
    and across the pages of a session."""
    start_choice = kept("period", _url_period(), DEFAULT_PERIOD)
    options = list(PERIODS)
    choice = st.sidebar.selectbox(
        "Period", options, format_func=PERIODS.get, key="period",
        index=options.index(start_choice))
    was = st.session_state.get("kept-period")
    keep("period", choice)
    start = end = None
    if choice == "custom":
        url_dates = (url_date("from"), url_date("to"))
        if any(url_dates) and not all(url_dates):
            # one end given (the other missing or no date): 90 days from or
            # to it, not today's 90 days, which dropped the date given
            starts = url_dates[0] is not None
            given = url_dates[0] if starts else url_dates[1]
            url_dates = ((given, given + timedelta(days=89)) if starts
                         else (given - timedelta(days=89), given))
            st.warning("The address gives one end of the custom period "
                       f"only: the 90 days {'from' if starts else 'to'} "
                       f"{day(given)}.")
        # switched to from a preset: the dates it was showing (a data set
        # that ends in 2014 stays there), else the custom dates kept
        shown = st.session_state.get("kept-shown")
        if was != "custom" and shown is not None:
            st.session_state.pop("kept-dates", None)
        default_start, default_end = clamp_span(*kept(
            "dates", url_dates if all(url_dates) else None,
            shown or _last_90_days()), "The custom period")
        picked = st.sidebar.date_input(
            "Dates (inclusive)", (default_start, default_end), key="dates",
            min_value=DATE_MIN, max_value=date_max(), format=DAY_INPUT,
            on_change=_clamp_picked_dates)
        for line in st.session_state.pop("dates-said", []):
            st.warning(line)
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            start, end = clamp_span(*picked, "The custom period")
        else:
            start, end = default_start, default_end
        keep("dates", (start, end))
        st.query_params.update({"period": choice, "from": start.isoformat(),
                                "to": end.isoformat()})
    else:
        st.query_params["period"] = choice
        for key in ("from", "to"):
            if key in st.query_params:
                del st.query_params[key]
    if choice == "all":  # the changes' first day to the data's last
        start, end = all_days()
        window = window_for("custom", start, end)
        keep("shown", (start, end))
        st.sidebar.caption(period_said(start, end))
        _said_completed_later(end)
        # shortened to its last ten years, it may start after the changes
        _said_changes_elsewhere(window)
        return window
    window = window_for(choice, start, end)
    if choice == "custom" or choice in CALENDAR:
        # Last month with the data ending on the 20th was compared with
        # all of October, unsaid (a re-check)
        _said_past_the_data(window)
    latest = data_last_day()
    if choice != "custom" and latest is not None and \
            latest < window["start_date"]:
        # all the data is older than the preset: the preset ends with it
        window = window_for(choice, last_day=latest)
        record = latest_record_day()
        st.sidebar.caption(
            f"The data ends on {day(latest)}"
            + (f" (incidents no change caused run to {day(record)})"
               if record is not None and record > latest else "")
            # a whole month or quarter may end before it (data to 15 Mar:
            # February): 'the period ends there' read beside 1-28 Feb (a
            # review)
            + (f": the period is its last whole "
               f"{'month' if CALENDAR[choice] == 1 else 'quarter'}."
               if choice in CALENDAR else ": the period ends there."))
    last_day = window["end_date"] - timedelta(days=1)
    keep("shown", (window["start_date"], last_day))
    st.sidebar.caption(period_said(window["start_date"], last_day))
    _said_changes_elsewhere(window)
    return window


FILTERS = words.FILTERS  # query parameter -> sidebar label


def filter_labels(name: str) -> dict[str, str]:
    """A global filter's values and how the sidebar says them: codes as
    the pages say them (emergency -> Emergency, prod -> Production; the
    address keeps the codes), an application by its name."""
    options = query("filter_options")
    rows = options[options["filter_name"] == name]
    labels = dict(zip(rows["option_value"], rows["option_label"],
                      strict=True))
    if name == "tiers":
        labels = {code: TIERS.get(code, shown) for code, shown in labels.items()}
    elif name == "change_types":
        labels = {code: word(shown) for code, shown in labels.items()}
    return distinct(labels)


def distinct(labels: dict[str, str]) -> dict[str, str]:
    """Labels for a pick list, each its own: one that several values share
    (two applications of one name) says its value too, 'Core (A2)'. The
    browser sends a pick back by its label: of two alike, the first was
    picked on the next rerun, whichever was chosen (an auditor's
    walkthrough: the As of picker)."""
    shared = Counter(labels.values())
    return {value: f"{label} ({value})" if shared[label] > 1 else label
            for value, label in labels.items()}


def global_filters() -> dict[str, list[str]]:
    """Sidebar filters shared by every page, kept in the URL (?teams=a,b,
    a value holding a comma in double quotes) and across the pages of a
    session.

    Returns only the filters in use; an empty pick means "all".
    """
    if db.version(config.DB_PATH) is None:
        return {}
    chosen = {}
    for name, label in FILTERS.items():
        labels = filter_labels(name)
        # quoted as in CSV, a value holding a comma ('Payments, EMEA'):
        # split on commas, a copied link opened on every team
        asked = split_list(st.query_params[name], strip=False) \
            if name in st.query_params else None
        if asked is not None:
            # a value as written, else without the spaces at its ends: a
            # link typed 'Core Ledger, Digital Web' (a re-check), beside a
            # team whose name has them (' Risk Tech ')
            asked = [v if v in labels or v.strip() not in labels
                     else v.strip() for v in asked]
        from_url = None if asked is None else [v for v in asked
                                               if v in labels]
        start = [v for v in kept(name, from_url, []) if v in labels]
        # (no default when none is kept: Reset filters sets the value)
        # a filter the data gives no value for says so, instead of "All"
        # opening on "No results" (BPIC 2014 records no team or portfolio)
        picked = st.sidebar.multiselect(
            label, list(labels), default=start or None,
            format_func=labels.get, key=f"filter-{name}",
            placeholder="All" if labels else "None in the data",
            disabled=not labels,
            help=words.FILTER_HELP[name] if labels else f"The loaded data "
            f"records no {label.lower()}: nothing to filter by.")
        unknown = [v for v in asked or [] if v and v not in labels]
        if unknown:
            # a link's value the data does not hold: dropped, and said
            # (every number read unfiltered, unsaid: WBS999999)
            st.sidebar.warning(
                f"{label}: {literal(', '.join(unknown))} from the address "
                f"{'is' if len(unknown) == 1 else 'are'} not in the loaded "
                "data, so not applied.")
        keep(name, picked)
        in_address(name, join_list(picked) if picked else None)
        if picked:
            chosen[name] = picked
    st.sidebar.button("Reset filters", key="reset-filters",
                      disabled=not chosen, on_click=_reset_filters)
    return chosen


def _reset_filters() -> None:
    """Empty every filter, before the rerun draws them: the browser holds a
    widget's value, so removing it from the session in the run only hid it
    until the next change sent it back (the chips stayed on screen)."""
    for name in FILTERS:
        st.session_state[f"filter-{name}"] = []
        st.session_state.pop(f"kept-{name}", None)
        if name in st.query_params:
            del st.query_params[name]


def scoped(name: str, window: dict, filters: dict, **extra) -> pd.DataFrame:
    """query() with the period and those global filters the query takes."""
    return query(name, **_scope(name, window, filters), **extra)


def scoped_groups(name: str, window: dict, filters: dict, **extra
                  ) -> dict[str, pd.DataFrame]:
    """A groups query (changeboard/groups.py), scoped as scoped() scopes,
    cut into the frames of the queries it stands for, by their names."""
    path, version = asof.source()
    return _cached_groups(name, version, path,
                          **_scope(name, window, filters), **extra)


@st.cache_data(ttl=config.CACHE_TTL, show_spinner=False)
def _cached_groups(name, version, path, **params):
    # cut once per result (8 ms), not on every rerun
    return groups.cut(name, _cached(name, version, path, **params))


def scoped_part(name: str, window: dict, filters: dict, **extra) -> Part:
    """part() with the period and those global filters the query takes."""
    return part(name, **_scope(name, window, filters), **extra)._replace(
        query=name)


PREFETCH_THREADS = 2  # a page's queries run this many at a time


def prefetch(calls, filters: dict, parts=()) -> None:
    """Run a page's queries PREFETCH_THREADS at a time, so that the
    ui.scoped() calls drawing it find them cached: each call is (name,
    window, extra values), what ui.scoped(name, window, filters, **extra)
    runs; each of `parts` the same for ui.scoped_part() (a long table's
    first rows and count). A query spends 20-40 ms binding and planning on
    one core before it reads a row, and a page runs 15 to 20 of them."""
    path, version = asof.source()
    context = get_script_run_ctx()
    todo, now = {}, time.monotonic()
    for is_part, (name, window, extra) in [
            *((False, call) for call in calls),
            *((True, call) for call in parts)]:
        params = {**_scope(name, window, filters), **extra}
        key = (name, is_part, version, str(path),
               repr(sorted(params.items())))
        # a warm rerun starts no thread: the call ran lately, so its
        # result is cached (unless the cache was cleared since: then the
        # page runs it itself)
        if now - _prefetched.get(key, -config.CACHE_TTL) >= config.CACHE_TTL:
            todo[key] = (is_part, name, params)

    def one(call):
        is_part, name, params = call
        if context is not None:  # the session's, as the page's own calls
            add_script_run_ctx(threading.current_thread(), context)
        if is_part:
            _cached_head(name, version, path, SHOWN_ROWS, **params)
        else:
            _cached(name, version, path, **params)

    if todo:
        with ThreadPoolExecutor(PREFETCH_THREADS) as pool:
            list(pool.map(one, todo.values()))
    with _prefetched_lock:
        for key in todo:
            _prefetched[key] = now
            _prefetched.move_to_end(key)
        while len(_prefetched) > PREFETCHED_KEPT:
            _prefetched.popitem(last=False)


# when each call was prefetched lately: its result is cached for CACHE_TTL
PREFETCHED_KEPT = 4096
_prefetched: OrderedDict = OrderedDict()
_prefetched_lock = threading.Lock()


def _scope(name: str, window: dict, filters: dict) -> dict:
    declared = db.params(name)
    return {k: v for k, v in {**window, **filters}.items() if k in declared}


def unapplied(name: str, filters: dict, subject: str = "",
              after: str = "") -> str:
    """A note naming the chosen filters that query does not take, or '':
    ' · {subject}not filtered by team{after}'."""
    skipped = words.unapplied_filters(db.params(name), filters)
    return f" · {subject}not filtered by {', '.join(skipped)}{after}" \
        if skipped else ""


def cadence_left_out(row) -> str:
    """The releases a cadence leaves out of its period (its n_excluded:
    gone live, cancelled or an enterprise grouping), as the end of its
    caption: ' · 2 cancelled or enterprise releases left out', '' for
    none."""
    n = row.get("n_excluded")
    if pd.isna(n) or not n:
        return ""
    return (" · " + words.many(int(n), "cancelled or enterprise release")
            + " left out")


def deployments_left_out(row) -> list[str]:
    """What a deployment card's n leaves out of the period, C6
    (docs/metrics.md, deployment_frequency): its n_excluded, deployments
    to production whose status is failed (the deploy itself failed, so
    there is no deployment to count, nor to fail after), and its
    n_unclassified, deployments to no or an unknown environment, which may
    have been production ones; none said for a count of 0."""
    said = []
    excluded, unknown = (0 if pd.isna(n) else int(n)
                         for n in (row.n_excluded, row.n_unclassified))
    if excluded:
        said.append(many(excluded, "deploy to production",
                            "deploys to production")
                    + " that failed to complete left out")
    if unknown:
        said.append(many(unknown, "deployment")
                    + " to an unknown environment left out")
    return said


def unplaced(n) -> str:
    """An environment total's bookings of environments not loaded (its
    n_unclassified), which no environment's hours can hold: ' · 2
    bookings of environments not loaded left out', '' for none."""
    said = _unplaced_words(n)
    return f" · {said[0]} of {said[1]} not loaded left out" if said else ""


def unplaced_sentence(n) -> str:
    """What the Environments page's figures leave out of the period: its
    bookings of environments not loaded (the total's n_unclassified), in
    none of them, as a sentence; '' for none."""
    said = _unplaced_words(n)
    if not said:
        return ""
    bookings, environments, one = said
    return (f"{bookings} in the period {'is' if one else 'are'} of "
            f"{environments} not loaded, so in none of them (the Data page "
            f"lists {'it' if one else 'them'}).")


def _unplaced_words(n) -> tuple[str, str, bool] | None:
    """n_unclassified's count and nouns: ('2 bookings', 'environments',
    False), ('1 booking', 'an environment', True); None for none."""
    n = 0 if n is None or pd.isna(n) else int(n)
    if not n:
        return None
    return (many(n, "booking"), "an environment" if n == 1 else
            "environments", n == 1)


def typed_by_filter(filters: dict, sentence: bool = False) -> str:
    """What the Change type filter does to the emergency ratio, or '': with
    emergency alone it is 100% by construction (a manager read "100.0%,
    35 of n = 35" as a finding), without emergency 0%, and with other types
    left out it is higher than the whole's."""
    kept = set(filters.get("change_types") or ())
    if not kept or kept >= {"standard", "normal", "emergency"}:
        return ""  # every type kept: the filter decides nothing
    if kept == {"emergency"}:
        said = ("the Change type filter keeps emergency changes alone, so "
                "every change counted is one: clear it for the ratio")
    elif "emergency" not in kept:
        said = ("the Change type filter leaves emergency changes out, so "
                "none is counted: clear it for the ratio")
    else:
        said = ("the Change type filter leaves some types out, so the ratio "
                "is of the types kept")
    # `sentence`: in a caption of sentences (the Changes page's), not of
    # ' · '-joined parts (a card's)
    return f" {said[0].upper()}{said[1:]}." if sentence else f" · {said}"


def no_outcomes(n_without_close_code, empty: str) -> str:
    """What an outcome chart or table says when no change of the period has
    an outcome: that its completed changes have no close code, when some
    do (a source that records none, such as BPIC 2014: widening the dates
    would not help), else `empty`. Completed (A24) is dated by the end of
    the work, or by the closing where no end is recorded: more changes
    than the rate's unclassified ones beside it, which ended in the period
    (the wording tells the two counts apart)."""
    n = int(n_without_close_code or 0)
    if n:
        return (f"{many(n, 'change')} "
                f"{'was' if n == 1 else 'were'} completed in this period "
                "(ended, or closed with no end recorded), but this source "
                "has no close codes, so no outcome is known: map "
                "`close_code` in its mapping file (docs/sources.md, section "
                "7).")
    return empty


def changes_span() -> tuple[date, date] | None:
    """The first and last day of the changes loaded (created or closed), in
    the reporting time zone; None without changes."""
    if db.version(config.DB_PATH) is None:
        return None
    status = data_status()
    first, last = (status.get(k) for k in ("changes_first_at",
                                           "changes_last_at"))
    if pd.isna(first) or pd.isna(last):
        return None
    return tuple(pd.Timestamp(t).tz_convert(config.REPORTING_TZ).date()
                 for t in (first, last))


def _said_changes_elsewhere(window: dict[str, date]) -> None:
    """Under a period that holds no change while changes are loaded
    elsewhere (BPIC 2014's changes beside Apache Jira releases of 2022,
    whose last day the presets end on: the Overview's change cards all
    n/a), where the changes are, in the sidebar, before any page says it
    under a card."""
    span = changes_span()
    if span is not None and (window["end_date"] <= span[0]
                             or window["start_date"] > span[1]):
        # created or closed: a period after the last record can hold
        # planned changes (the calendar's), which 'No change' denied
        st.sidebar.caption(f"No change created or closed in this period: "
                           f"the changes run from {day(span[0])} to "
                           f"{day(span[1])} {_pick_there()}.")


def _pick_there() -> str:
    """How to reach the changes' dates: '(Custom range)', the period that
    takes them, or, that period chosen already, '(pick dates there)' (it
    read '(Custom range)' under a custom range of 2016)."""
    return "(pick dates there)" if _custom_chosen() else "(Custom range)"


def _custom_chosen() -> bool:
    """Whether the sidebar's period is a custom range."""
    return st.session_state.get("period") == "custom"


def widen(window: dict[str, date], filters: dict | None = None) -> str:
    """What a change chart or table with nothing in its period suggests:
    to widen the dates (or clear the filters, when some are set), or, when
    the period lies wholly before the first change's record or after the
    last one's (a 2014 data set beside releases of today, whose dates the
    period presets end on), where the changes are: widening a preset would
    not reach them."""
    wider = "widen the dates" + (" or clear some filters" if filters else "")
    span = changes_span()
    if span is None:
        return wider
    first, last = span
    if window["end_date"] <= first or window["start_date"] > last:
        return (f"the changes loaded run from {day(first)} to {day(last)}: "
                + ("pick dates there" if _custom_chosen() else
                   "pick a period there (Period: Custom range)"))
    return wider


def load_hint(*tables: str, short: bool = False) -> str:
    """How to load canonical tables the data lacks: 'load `deployments.csv`
    (canonical CSV ...) on the Data page or with `changeboard load csv
    deployments.csv`'; `short` (under a card a quarter of the page
    wide): 'load `deployments.csv` on the Data page'. Said where a number
    needs a table that is empty, so that no period would fill it (wider
    dates cannot help)."""
    files = " ".join(f"{t}.csv" for t in tables)
    named = " and ".join(f"`{t}.csv`" for t in tables)
    if short:
        return f"load {named} on the Data page"
    return (f"load {named} (canonical CSV, columns in docs/data-model.md) on "
            f"the Data page or with `changeboard load csv {files}`")


def releases_without_plans() -> int | None:
    """How many releases went live without a planned go-live date when no
    release of any date or filter has one (none rated on time or late,
    none overdue): the data has no plans (endoflife.date, Jira versions
    loaded by a mapping), so no period would give an on-time rate. None
    when some release has a plan, or none went live. One more query: read
    it only when a period rates none."""
    # every date the loader takes (from 1900): the count is said beside the
    # data's own release count, which counted 9 more (endoflife.date's
    # releases dated 1970, before the pages' DATE_MIN)
    everything = scoped("release_on_time", {
        "start_date": DATA_EARLIEST, "end_date": date_max()}, {}).iloc[0]
    if everything["n"] or everything["n_overdue_open"] \
            or not everything["n_unclassified"]:
        return None
    return int(everything["n_unclassified"])


def data_banner() -> pd.Series | None:
    """Says what data is shown and how fresh; None when there is none yet.
    How to replace the sample is said to those who may load data."""
    from changeboard import signin  # signin imports this module

    if db.version(config.DB_PATH) is None:
        st.warning(
            f"No database at `{config.DB_PATH}` yet. Build the sample with "
            "`changeboard sample`, or load your exports with "
            "`changeboard load csv changes.csv ...`.")
        return None
    user = signin.current()
    may_load = user is not None and user.can("load")
    status = data_status()
    if status["is_sample"] and status["has_own_data"]:
        st.warning(
            f"**Part of this data is generated sample data:** "
            f"{many(status['n_sample_rows'], 'sample row')} "
            f"{'was' if int(status['n_sample_rows']) == 1 else 'were'} kept "
            "beside "
            "your own loads, so every number mixes both. " + (
                "Remove them with `changeboard sample --remove`."
                if may_load else "A data admin can remove them."),
            icon="⚠️")
    elif status["is_sample"]:
        st.info(
            "**You are looking at generated sample data.** " + (
                "Loading your own exports (on the Data page, or with "
                "`changeboard load`: see the README) replaces it."
                if may_load else
                "A data admin replaces it by loading your own exports."),
            icon="ℹ️")
    return status


def latest_record_day(of: str = "latest_record_at") -> date | None:
    """The day of the latest thing that happened in the data, in the
    reporting time zone, as the periods' days are (a UTC day left "All
    data" in Asia/Tokyo 10 changes short of the whole); with
    of="changes_last_at", of the last change created or closed, and so on
    for data_status's other instants."""
    if db.version(config.DB_PATH) is None:
        return None
    return local_day(data_status()[of], config.REPORTING_TZ)


def as_of_caption(status: pd.Series) -> None:
    if status is not None and pd.notna(status["as_of"]):
        latest = status.get("latest_record_at")
        # incidents where some are loaded (an incident log alone read '0
        # changes, 0 releases, 0 environments')
        incidents = int(status.get("n_incidents") or 0)
        st.caption(f"Data as of {instant(status['as_of'])} (last load)"
                   + (f" · latest record {instant(latest)}"
                      if latest is not None and pd.notna(latest) else "")
                   # the whole file's counts, said so: below filtered
                   # cards they read as the filter's (an application
                   # owner's walkthrough)
                   + " · in the database: "
                   f"{many(status['n_changes'], 'change')}, "
                   f"{many(status['n_releases'], 'release')}, "
                   f"{many(status['n_environments'], 'environment')}"
                   + (f", {many(incidents, 'incident')}" if incidents else "")
                   + " (all dates, unfiltered)")


def page_link(page: str, label: str, params: dict, filters: dict) -> None:
    """A link to another page of the app with these address parameters and
    the global filters in use, opened in this tab and session (a Markdown
    link opened a new tab, a new session: the CAB pack of every team). A
    page run alone, outside the app's navigation (a test), links by its
    address instead."""
    query = {**params, **{k: join_list(v) for k, v in filters.items()}}
    try:
        st.page_link(page, label=label, icon=":material/open_in_browser:",
                     query_params=query)
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}]({page.rsplit('/', 1)[-1].removesuffix('.py')}"
                    f"?{urlencode(query)})")


def stop_without_changes(status: pd.Series, nothing: str) -> None:
    """A page of changes on data that holds none (an incident log or
    releases loaded alone): says so, and what to load, once, and ends the
    page, where each section said to widen the dates or pick another
    month. `nothing`: what there is not to show ('no planned change')."""
    if status is None or status["n_changes"]:
        return
    st.info(f"No changes are loaded, so there is {nothing} to show: "
            + load_hint("changes") + ", or a ServiceNow or Jira change "
            "export (docs/sources.md).")
    as_of_caption(status)
    st.stop()


def number(value, digits: int = 1, suffix: str = "") -> str:
    """A number with its unit; n/a alone (never 'n/a days') when missing."""
    return "n/a" if value is None or pd.isna(value) else \
        f"{value:,.{digits}f}{suffix}"


def per_period_digits(*values) -> int:
    """The decimals a how-many-a-period shows with (per_period): one (14.7),
    none from 100 (1,744, not 1,744.0: a tenth of so many is noise), and
    under 0.1 two significant digits of the smallest value not zero (one
    deployment in 90 days is 0.011 a day: at one decimal, 0.0, read as
    none beside its n = 1)."""
    shown = [abs(v) for v in values if v is not None and pd.notna(v) and v]
    if not shown:
        return 1
    least = min(shown)
    if least >= 100:
        return 0
    return 1 if least >= 0.1 else 1 - math.floor(math.log10(least))


def per_period(value) -> str:
    """How many a period on a card (releases a month, deployments a day),
    to per_period_digits; n/a when missing."""
    return number(value, per_period_digits(value))


def delta_points(now, before) -> str | None:
    """Change of a rate in percentage points; None when either is n/a
    (not compared), and '0.0 pp', with no sign, when the change rounds to
    zero (drawn grey with no arrow: delta_style), as the CAB pack says it."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    shown = round(100 * (now - before), 1)
    return "0.0 pp" if shown == 0 else f"{shown:+.1f} pp"


def delta_number(now, before, digits: int = 1,
                 unit: str = "") -> str | None:
    """Change of a number, with its `unit` (' days'); None when either is
    n/a, and '0.0', with no sign, when it rounds to zero."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    shown = round(now - before, digits)
    return f"{0:.{digits}f}{unit}" if shown == 0 \
        else f"{shown:+,.{digits}f}{unit}"


def delta_style(delta: str | None, color: str = "normal") -> dict:
    """st.metric's delta_color and delta_arrow for a delta: one with no
    sign (it rounds to zero) grey and without an arrow, where st.metric
    reads any delta not starting with '-' as a rise, a green up arrow, so
    a card compared with a period that did not move reads apart from one
    compared with nothing (no delta). A signed one says in a word whether
    it is better or worse (delta_description), which the colour alone
    said (an accessibility review: red and green are one colour to many)."""
    if delta and delta[0] not in "+-":
        return {"delta_color": "off", "delta_arrow": "off"}
    if not delta or color not in ("normal", "inverse"):
        return {"delta_color": color}
    better = (delta[0] == "+") == (color == "normal")
    return {"delta_color": color,
            "delta_description": "better" if better else "worse"}


def duration(hours, digits: int = 1) -> str:
    """A duration people read: hours up to 48, then days ('13.1 days')."""
    if hours is None or pd.isna(hours):
        return "n/a"
    if duration_unit(hours) == "days":
        return f"{hours / 24:,.{digits}f} days"
    return f"{hours:,.{digits}f} h"


def duration_unit(hours) -> str:
    """The unit duration() writes these hours in: 'hours' up to 48, then
    'days', for a caption that names the unit of a value it is under."""
    return "days" if abs(hours) > 48 else "hours"


METRICS_DOC = db.ROOT / "docs" / "metrics.md"


def definition_text(name: str) -> str:
    """The section of docs/metrics.md headed with the name, without heading."""
    text = METRICS_DOC.read_text()
    marker = f"## `{name}`\n"
    if marker not in text:
        return ""
    section = text.split(marker, 1)[1]
    return section.split("\n## ", 1)[0].strip()


def command_line(name: str, params: dict) -> str:
    """The `changeboard query` line that reproduces a query's numbers,
    with the reporting time zone and failure threshold the page read them
    with (a shell without CHANGEBOARD_REPORTING_TZ would read them in UTC).
    Written `python -m
    changeboard query`: a clone set up by `make run` has no `changeboard`
    on its PATH, and this form runs there (with the clone's python) as
    where the package is installed."""
    words = ["python -m changeboard query", name, "--db",
             shlex.quote(str(config.DB_PATH))]
    if asof.chosen():
        words += ["--as-of", asof.chosen()]
    # the settings' values the page read with, after its own (a shell
    # without CHANGEBOARD_FAILURE_MIN_PRIORITY counts every linked incident)
    params = {**params, **db.setting_defaults(name, params)}
    for key, value in params.items():
        if value is None:
            continue
        text = join_list(value) if isinstance(
            value, (list, tuple)) else str(value)
        words.append(f"--param {shlex.quote(f'{key}={text}')}")
    return " ".join(words)


def definition(name: str, label: str = "How is this computed?",
               params: dict | None = None) -> None:
    """An expander with the metric's definition from docs/metrics.md; given
    the parameters a page used, also the SQL and the command that
    reproduce the number ("explain this number"). Drawn when opened (a
    rerun): the Overview's seven, closed, took about a second of the
    browser's main thread on every visit (0.57 s of it highlighting their
    SQL)."""
    box = st.expander(label, key=f"definition:{name}:{label}",
                      on_change="rerun")
    if not box.open:
        return
    with box:
        st.markdown(definition_text(name) or f"`{name}` is not documented.")
        if params is None:
            st.caption(f"Query: `queries/{name}.sql` · run it yourself with "
                       f"`python -m changeboard query {name} --param ...`")
            return
        declared = db.params(name)
        used = {k: v for k, v in params.items() if k in declared}
        st.caption(f"Query: `queries/{name}.sql`, run with these parameters "
                   f"(the reporting time zone is {config.REPORTING_TZ}); "
                   "the same numbers from the command line:")
        st.code(command_line(name, used), language="bash")
        st.code(db.query_path(name).read_text(), language="sql",
                line_numbers=True)


PARQUET_ROWS = 5_000  # from this many rows a Parquet download is offered too
SLOW_XLSX_ROWS = 50_000  # from this many the XLSX button says it is slow
SHOWN_ROWS = 2_000  # rows a table draws; its downloads hold every row


ROW_HEIGHT = 35  # a table row of one line, in pixels


def text_width(texts, least: int, most: int) -> int:
    """A table column's width in pixels to show its longest text whole (a
    grid cell's padding and about 8 pixels a character of its 14-pixel
    font), within [least, most]: a fixed width cut environment names to
    'CBL-LATA', four columns of one heading."""
    longest = max((len(str(t)) for t in texts), default=0)
    return max(least, min(most, 24 + 8 * longest))


SHORT_TEXT = 32  # characters: a column of words or names, not sentences


def _short_texts_whole(shown: pa.Table, columns: dict, heading) -> None:
    """Give each text column of short values (a state, a type, an
    application's name: none over SHORT_TEXT characters) the width that
    shows its longest value and heading whole, where Streamlit sized it by
    its first rows: the backlog's State read 'Authoriz' below rows of
    'Assess', a drill 'AML Transaction Monitoring' without its 'FR'.
    Longer texts (titles) keep Streamlit's width; a column given a width
    keeps it."""
    for field in shown.schema:
        name = str(field.name)
        if not (pa.types.is_string(field.type)
                or pa.types.is_large_string(field.type)):
            continue
        given = columns.get(field.name)
        if isinstance(given, dict) and (given.get("width") or given.get(
                "type_config", {}).get("type") == "link"):
            continue
        longest = pc.max(pc.utf8_length(shown.column(field.name))).as_py()
        if longest is None or longest > SHORT_TEXT:
            continue
        label = (given or {}).get("label") or heading(field.name) or name
        width = text_width(["x" * longest, label], 60, 24 + 8 * SHORT_TEXT)
        if isinstance(given, dict):
            given["width"] = width
        else:
            columns[field.name] = st.column_config.Column(
                label=heading(field.name), width=width)


def table_height(n_rows: int, most: int, row: int = ROW_HEIGHT) -> int:
    """A table's height in pixels for n_rows (a 35-pixel header, rows of
    `row` pixels and its border), at most `most`: a fixed height under two
    rows drew a box of empty rows below them."""
    return min(most, 38 + row * max(int(n_rows), 1))


REASONS_WIDTH = 420  # the width of a column of reasons, wrapped
# a table's pixels in a 1280-pixel window (the page's 820, less the row
# selection's box): the columns read first fit it
TABLE_WIDTH = 780
# a column of reasons wraps to as many lines as its longest needs, up to
# these (five cut a 91-day horizon's longest release readiness reasons)
READ_LINES = 8
# at most, a column naming a release 'Name (id)' beside reasons (wrapped)
NAMED_WIDTH = 180


def beside_reasons(names, before: int) -> dict[str, int]:
    """The pixels of a table's 'Name (id)' column (as narrow as its longest
    name needs, at most NAMED_WIDTH: a longer one wraps) and of the reasons
    read beside it: what TABLE_WIDTH leaves after it and the `before`
    pixels of the other columns ahead of the reasons (Release readiness
    and the CAB page's releases going live cut the reasons, or the column
    after them, at the table's edge at 1400 px: a walkthrough)."""
    named = text_width(names, 100, NAMED_WIDTH)
    return {"named": named, "reasons": TABLE_WIDTH - named - before}


# Streamlit's grid wraps a cell's text only in rows taller than 4rem (its
# DataFrame: rowHeight > 64 px): two lines' 54 pixels drew one line, cut
# ('Online Account Opening 2026.3 (REL-00…', a release manager's walkthrough)
WRAPPING_ROW = 65


def wrapped_row_height(texts, width: int, most_lines: int = 5) -> int:
    """A table's row height in pixels that shows its longest text whole,
    wrapped at word boundaries in a column `width` pixels wide (about 8
    pixels a character, as text_width counts them, and 19 a line; at least
    WRAPPING_ROW, below which the grid does not wrap), up to most_lines
    lines; one line's 35 pixels for short texts. A release's reasons, why
    it is blocked, were cut after 45 characters ('... (B…')."""
    per_line = max(1, (width - 24) // 8)
    lines = 1
    for text in {str(t) for t in texts}:
        if len(text) > per_line:  # a shorter one is a line
            lines = max(lines, _wrapped_lines(text, per_line, most_lines))
            if lines >= most_lines:
                break
    return ROW_HEIGHT if lines <= 1 else max(16 + 19 * lines, WRAPPING_ROW)


def wrapped_table(texts, n_rows: int, most: int,
                  width: int = REASONS_WIDTH,
                  whole_rows: int = 0, most_lines: int = 5
                  ) -> dict[str, int]:
    """ui.table's row_height and height for a table of n_rows whose column
    of `texts`, `width` pixels wide, is shown whole and wrapped (its rows
    as tall as the longest needs, the table at most `most` pixels); a table
    of at most `whole_rows` rows as tall as all of them, whatever `most`
    (the page scrolls, not a box inside it)."""
    row = wrapped_row_height(texts, width, most_lines)
    return {"row_height": row, "height": table_height(
        n_rows, most=most if n_rows > whole_rows else 10**6, row=row)}


def _wrapped_lines(text: str, per_line: int, most: int) -> int:
    """How many lines of per_line characters a text takes wrapped greedily
    at spaces, as textwrap.wrap counts them for words shorter than a line
    (a longer word starts a line of its own and runs over as many as it
    fills), without its 0.05 ms a text: a page of 242 releases' reasons
    spent 14 ms of its rerun there. Counting stops at `most`."""
    lines, used = 1, 0
    for token in text.split():
        size = len(token)
        if used and used + 1 + size > per_line:
            lines, used = lines + 1, 0
            if lines >= most:
                return most
        if used:
            used += 1 + size
            continue
        while size > per_line:
            lines, size = lines + 1, size - per_line
        used = size
    return min(lines, most)


# columns holding codes, shown as words ("very_high" -> "Very high")
CODE_COLUMNS = {"change_type", "risk", "impact", "close_code", "state",
                "authorisation", "release_status",
                "status", "status_a", "status_b", "last_status", "kind",
                "approval",
                "cell_status", "review_reason",
                "availability", "criticality", "release_type", "flag"}
def each_distinct_row(fn, *columns: pd.Series) -> list:
    """[fn(*row) for each row of these columns], calling fn once per
    distinct row (plain values, tolist(): iterating Arrow-backed columns
    cell by cell is slow): a label made of a few distinct values in
    thousands of rows."""
    rows = list(zip(*(column.tolist() for column in columns), strict=True))
    made = {row: fn(*row) for row in set(rows)}
    return [made[row] for row in rows]


def readable(frame: pd.DataFrame, labels: dict | None = None
             ) -> pd.DataFrame:
    """The frame as people read it: codes as words, tiers and phases by name
    (phase_word), and an application's name beside its id (`labels`:
    application id -> label, _application_labels; none where the data
    names none)."""
    shown = frame.copy()
    for column in shown.columns:
        text = shown[column].dtype == object or \
            pd.api.types.is_string_dtype(shown[column])
        if column in CODE_COLUMNS and text:
            shown[column] = each_distinct(shown[column], word)
        elif column in ("phase", "phase_a", "phase_b") and text:
            shown[column] = each_distinct(shown[column], phase_word)
        elif column == "tier" or str(column).endswith("_tier"):
            shown[column] = each_distinct(shown[column],
                                          lambda t: TIERS.get(t, t))
    if labels is not None:
        # an application the data names none for (its label is its id:
        # BPIC 2014's) has no name, as with_names and the queries giving
        # application_name leave it: not its id twice
        shown.insert(list(shown.columns).index("application_id"),
                     "application_name", each_distinct(
                         shown["application_id"],
                         lambda a: _name_only(labels[a])
                         if a in labels and labels[a] != a else None))
    return shown


def with_names(frame: pd.DataFrame) -> pd.DataFrame:
    """A download's rows with each application's name after its id
    (application_name; empty where the data names none), where the rows
    have the id alone: the page shows the name, and the Backlog's, the
    Calendar's and the Overview's failed changes' files had the id only."""
    if _labels_source(frame) is None:
        return frame
    labels = _application_labels()
    names = {a: _name_only(label) for a, label in labels.items()
             if label != a}
    return frame.copy().assign(application_name=frame["application_id"].map(
        names))[[*_after(list(frame.columns), "application_id",
                         "application_name")]]


def _after(columns: list[str], column: str, new: str) -> list[str]:
    """columns with `new` put right after `column`."""
    at = columns.index(column) + 1
    return [*columns[:at], new, *columns[at:]]


def _labels_source(frame: pd.DataFrame) -> tuple | None:
    """For a frame that shows application ids without their names, the
    data its application labels come from (asof.source()); else None."""
    if "application_id" not in frame or "application_name" in frame or \
            db.version(config.DB_PATH) is None:
        return None
    return asof.source()


def _application_labels() -> dict:
    """Application id -> label ('Card Authorisation (APP-002)')."""
    options = query("filter_options")
    names = options[options["filter_name"] == "application_ids"]
    return dict(zip(names["option_value"], names["option_label"],
                    strict=True))


@charts.kept
def _shown(frame: pd.DataFrame, labels_from: tuple | None,
           links: dict[str, str]):
    """The rows a table draws, as Streamlit sends them (an Arrow table):
    readable, with application names when `labels_from` names the data
    they come from, ids as links to their records (`links`: column -> URL
    template). Made once per content: a warm rerun draws the same rows
    again (their words, links and Arrow conversion were 20-40 ms of a
    page's rerun); shared, never changed."""
    from streamlit import dataframe_util

    shown = readable(frame, None if labels_from is None
                     else _application_labels())
    columns = list(shown.columns)
    for kind in NAMED:
        name, key = f"{kind}_name", f"{kind}_id"
        if name in columns and key in columns and \
                columns.index(name) > columns.index(key):
            # a query giving both (emergency_change_records,
            # change_calendar) shows the name, then its id, as readable()
            # puts an application's
            columns.remove(name)
            columns.insert(columns.index(key), name)
        if name in columns and key in columns and \
                not shown[name].fillna("").astype(str).str.strip().any():
            # no name in the data (BPIC 2014, release lists without an
            # applications table): the id alone, under the name's heading,
            # not an empty first column beside it (a real-data walkthrough)
            columns.remove(name)
    if columns != list(shown.columns):
        shown = shown[columns]
    for column, template in links.items():
        shown[column] = [None if pd.isna(v) else template.replace(
            "{id}", quote(str(v), safe="")) for v in shown[column]]
    return dataframe_util.convert_pandas_df_to_arrow_table(shown)


# what a table names beside its id: "<kind>_name" before "<kind>_id"
NAMED = ("application", "environment")


def _name_only(label):
    """'Card Authorisation (APP-002)' -> 'Card Authorisation'."""
    return re.sub(r" \([^()]*\)$", "", label) if isinstance(label, str) \
        else label


def _display_pattern(template: str) -> str:
    """A regex whose group is the id inside a link made from template."""
    before, after = template.split("{id}", 1)
    return "^" + re.escape(before) + "(.*)" + re.escape(after) + "$"


def in_address(name: str, value: str | None) -> None:
    """The parameter `name` in the page's address set to `value`, or
    dropped when there is none (a pick undone, a link's value not shown)."""
    if value:
        st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


def table_selection(rows=(), cells=()) -> dict:
    """A table's selection state as Streamlit keeps it (st.dataframe with
    on_select), set before the table is drawn: its rows, its cells as (row,
    column)."""
    return {"selection": {"rows": list(rows), "columns": [],
                          "cells": list(cells)}}


def picking(table_key: str, target_key: str, labels: list) -> Callable:
    """The on_select of a table whose rows are `labels` and whose row picks
    the value of target_key (pick_row); and, before the table is drawn,
    its selection from that value now: a pick in the drill-down box shows
    as the table's row (the box followed the table, not the table the box:
    a review)."""
    pick = st.session_state.get(target_key)
    st.session_state[table_key] = table_selection(
        [labels.index(pick)] if pick in labels else [])
    return partial(pick_row, table_key, target_key, labels)


def pick_row(table_key: str, target_key: str, labels: list[str]) -> None:
    """on_select callback of a table: the selected row's label becomes the
    value of the widget or session key target_key (a drill-down pick)."""
    rows = st.session_state[table_key].selection.rows
    if rows:
        st.session_state[target_key] = labels[rows[0]]


def table(frame: pd.DataFrame, file_stem: str, *,
          max_rows: int | None = SHOWN_ROWS,
          download=None, download_rows: int | None = None,
          labels: dict[str, str] | None = None, **kwargs):
    """A table with CSV and XLSX (and, when large, Parquet) downloads of
    its rows (with their codes and ids, for scripts); the files are built
    only when clicked. A long table draws its first max_rows rows and says
    so: the browser is sent what it shows, the downloads hold every row.
    `download`: the rows the files hold instead, when the table shows them
    dressed for reading (e.g. a status drawn as a chip), or a function
    giving them when clicked, `download_rows` of them (downloads()).
    `frame` may be a Part: its first rows are drawn, its whole downloaded.
    `labels`: a page's headings for the frame's columns (column -> label);
    the frame keeps its own names, so codes still read as words, an
    application's name is still put beside its id (under the id's label)
    and the downloads keep the names scripts read."""
    whole, query = None, None
    if isinstance(frame, Part):
        frame, n, whole, query = frame.rows, frame.n, frame.whole, frame.query
    else:
        n = len(frame)
    head = (frame if max_rows is None or len(frame) <= max_rows
            else frame.head(max_rows))
    if len(head) < n:
        st.caption(f"Showing the first {len(head):,} of {n:,} rows;"
                   " the downloads hold all of them.")
    # the id itself links to its record at the source
    links = {column: template for column in ("change_id", "incident_id",
                                             "release_id")
             if column in head and (template := config.record_url(column))
             and "{id}" in template}
    shown = _shown(head, _labels_source(head), links)
    names = shown.column_names
    labels = labels or {}

    def heading(column) -> str | None:
        """The page's label, else a snake_case name made readable; None
        keeps a name that is a heading already."""
        name = str(column)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            return None
        return labels.get(name) or human(name)

    columns = {c: st.column_config.Column(label=heading(c))
               for c in names if heading(c) is not None}
    # counts with thousands separators (in the reader's locale); instants
    # in UTC to the second, said in the heading, not as +00:00 in each cell
    for field in shown.schema:
        name, label = str(field.name), heading(field.name)
        if pa.types.is_integer(field.type) and not _NOT_AMOUNTS.fullmatch(
                name):
            columns[field.name] = st.column_config.NumberColumn(
                label, format="localized")
        elif pa.types.is_floating(field.type) and _DURATION.search(name):
            # days and hours to a tenth, as the cards say them (a median
            # gap read 17.2221 under the Overview's card, 17.2 on Releases)
            columns[field.name] = st.column_config.NumberColumn(
                label, format="%.1f")
        elif pa.types.is_timestamp(field.type) and field.type.tz in (
                "UTC", "Etc/UTC", "+00:00"):
            shown_as = label or name
            columns[field.name] = st.column_config.DatetimeColumn(
                shown_as if "UTC" in shown_as else f"{shown_as} (UTC)",
                format=TABLE_INSTANT)
    for kind in NAMED:  # the name under the id's heading, then the id
        name, key = f"{kind}_name", f"{kind}_id"
        if name in names and key in names:
            columns[name] = st.column_config.Column(
                label=labels.get(key) or heading(name))
            # as wide as its heading and ids (a small column cut
            # "Environment id" to "Environmen…")
            columns[key] = st.column_config.Column(f"{kind.capitalize()} id")
        elif key in names:
            # no name to show (_shown: none in the data): the id under the
            # name's heading
            columns[key] = st.column_config.Column(
                label=labels.get(key) or kind.capitalize())
    for column, template in links.items():
        columns[column] = st.column_config.LinkColumn(
            heading(column), display_text=_display_pattern(template))
    _short_texts_whole(shown, columns, heading)
    for column, given in (kwargs.pop("column_config", None) or {}).items():
        # a label alone keeps the column's format (a count's separators, an
        # instant's zone)
        kept = columns.get(column)
        if isinstance(given, str) and isinstance(kept, dict):
            zone = kept.get("type_config", {}).get("type") == "datetime" \
                and "UTC" not in given
            given = {**kept, "label": f"{given} (UTC)" if zone else given}
        elif _unformatted_number(given) and isinstance(kept, dict) \
                and kept.get("type_config", {}).get("format"):
            # a count's NumberColumn given for its label or help alone
            # keeps its separators
            given = {**given, "type_config": {
                **given["type_config"], "format": kept["type_config"]["format"]}}
        columns[column] = given
    kwargs.setdefault("placeholder", "–")
    shown = _in_tenths_of_percent(shown, columns)
    drawn = st.dataframe(shown, hide_index=True, column_config=columns,
                         **kwargs)
    if download is None:
        downloads(frame if whole is None else whole, file_stem, rows=n,
                  query=query)
    else:
        downloads(download, file_stem, rows=download_rows, query=query)
    return drawn


# the headings of a table of change outcomes per period (numbers_behind)
OUTCOME_LABELS = {"n": "Implemented changes (n)", "n_successful": "Successful",
                  "n_successful_with_issues": "Successful with issues",
                  "n_failed": "Failed", "change_success_rate": "Success rate"}
OUTCOME_COLUMNS = ["period", *OUTCOME_LABELS]  # its columns, in order


def numbers_behind(frame: pd.DataFrame, columns: list[str], file_stem: str,
                   labels: dict[str, str] | None = None) -> None:
    """The numbers a chart draws, as a table with its downloads, folded
    under it. A screen reader read a chart as its axis labels run together
    (an accessibility review), and a trend could not be downloaded for a
    monthly report (a process owner's walkthrough)."""
    labels = labels or {}
    with st.expander("The numbers behind the chart"):
        table(frame[columns], file_stem, labels=labels, max_rows=None,
              column_config=rate_columns(columns, labels))


def rate_columns(columns, labels: dict[str, str]) -> dict:
    """The column configs that draw a table's rates (*_rate, *_ratio) as
    the cards write them (24.9%), under their labels; the files keep the
    0-1 rates."""
    return {c: st.column_config.NumberColumn(labels.get(c) or human(c),
                                             format="percent")
            for c in columns if c.endswith(("_rate", "_ratio"))}


PERCENT = "%.1f%%"  # a table's rate as the cards write it: 24.9%, 0.0%


def _in_tenths_of_percent(shown: pa.Table, columns: dict) -> pa.Table:
    """The rates a table draws as percentages (format "percent", which
    Streamlit writes with up to two decimals, trailing zeros dropped: 24.85%
    beside 7.1% and 0% in one column, where the cards say 24.9%) drawn with
    one decimal, as the cards: the values x 100 under PERCENT, a progress
    bar's bounds too. Changes `columns`; a new table, `shown` is shared.
    The downloads keep the 0-1 rates."""
    for name, given in columns.items():
        kind = given.get("type_config", {}) if isinstance(given, dict) else {}
        if kind.get("format") != "percent" or name not in shown.column_names:
            continue
        at = shown.column_names.index(name)
        shown = shown.set_column(at, name, pc.multiply(
            shown.column(at).cast(pa.float64()), 100.0))
        scaled = {**kind, "format": PERCENT}
        for bound in ("min_value", "max_value"):
            if kind.get("type") == "progress" and kind.get(bound) is not None:
                scaled[bound] = kind[bound] * 100
        columns[name] = {**given, "type_config": scaled}
    return shown


def _unformatted_number(config) -> bool:
    """Whether a column config is a NumberColumn given no format."""
    return isinstance(config, dict) and config.get("type_config", {}).get(
        "type") == "number" and not config["type_config"].get("format")


# a duration in days or hours (median_gap_days, overlap_hours), under its
# name or a page's label ('Median slip (days)'): to a tenth
_DURATION = re.compile(r"(^|_)(days|hours)$|\((days|hours)\)$")
# integer columns that are not amounts: no thousands separator
_NOT_AMOUNTS = re.compile(r".*_id|row_number|year|iso_week|version")


# the headings every page gives these columns (the Changes page's records,
# the calendar, the CAB page), where a page gives none of its own
COMMON_HEADINGS = {"change_id": "Change", "change_type": "Type",
                   "assignment_group": "Team"}


def human(column: str) -> str:
    """A column's label: `n_failed` -> 'Failed (n)', `table_name` -> 'Table
    name', `change_id` -> 'Change' (COMMON_HEADINGS)."""
    name = str(column)
    if name in COMMON_HEADINGS:
        return COMMON_HEADINGS[name]
    if name == "n":
        return "n"
    if name.startswith("n_"):
        return f"{name[2:].replace('_', ' ').capitalize()} (n)"
    return name.replace("_", " ").capitalize()


def deferred(build: Callable[[], object]) -> Callable[[], object]:
    """`build` as a download button's data, run in this session when the
    button is clicked. Streamlit calls it then on a server thread outside
    the session's run, where st.session_state is a process-wide stand-in:
    the snapshot the page shows (asof.chosen) read as none there, so a
    page as of a snapshot downloaded the live data's records (and the
    server logged "missing ScriptRunContext" for each read). It runs on a
    thread of its own with the session's context, as prefetch() does."""
    context = get_script_run_ctx()

    def in_session():
        if context is not None:
            add_script_run_ctx(threading.current_thread(), context)
        return build()

    def run():
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(in_session).result()
    return run


def downloads(frame, file_stem: str, *, rows: int | None = None,
              query: str | None = None) -> None:
    """CSV / XLSX / Parquet buttons for a frame shown some other way.
    `frame` may be a function giving it, called only when a button is
    clicked (rows it will hold: `rows`), for a page that shows part of
    what it offers to download. `query`: the query the rows are of, read
    with the sidebar's filters it takes: the About sheet and the file name
    go by those (deployments' About sheet listed a Team filter their rows
    were never cut by, in a file named -filtered)."""
    build = frame if callable(frame) else (lambda: frame)
    n = (rows or 0) if callable(frame) else len(frame)
    scope = st.session_state.get(SCOPE)
    if scope is not None and COVERED in st.session_state:
        window, said = st.session_state[COVERED]
        scope = scope._replace(window=window, dates=said)
    skipped = []
    if scope is not None and query is not None:
        skipped = words.unapplied_filters(db.params(query), scope.filters)
        scope = scope._replace(filters=_scope(query, {}, scope.filters))
    # the filters' words, read now; the table as its file is named (a
    # card's records read 'emergency_change_records-emergency ratio')
    told = _about(scope, n, file_name(file_stem),
                  st.session_state.get(SELECTED), skipped)

    def xlsx(rows: pd.DataFrame) -> bytes:  # built on the click
        about = None if told is None else [
            *told, ("Columns", _columns_said(rows)),
            ("Produced", instant(pd.Timestamp.now(tz="UTC")))]
        return reports.xlsx_bytes(rows, about=about)
    named = f"{_period_suffix(scope)}{asof.file_suffix()}"
    loaded = None if scope is None else scope.loaded_at

    def carried(rows: pd.DataFrame) -> pd.DataFrame:
        """A query's rows in a CSV or Parquet file carry the data's as_of,
        as `changeboard query` writes them (METRICS C10): a file has no
        About sheet to say it."""
        if loaded is None or "as_of" in rows.columns or not _query_named(
                rows):
            return rows
        return rows.assign(as_of=loaded)
    buttons = [("CSV", lambda rows: reports.csv_bytes(carried(rows)), "csv",
                "text/csv", None)]
    if n <= reports.XLSX_ROWS:  # a sheet holds no more (and its heading)
        buttons.append((
            "XLSX", xlsx, "xlsx",
            "application/"
            "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{n:,} rows: an XLSX this large takes a while to build (345,262 "
            "rows of 19 columns took a minute); CSV and Parquet are much "
            "quicker." if n >= SLOW_XLSX_ROWS else None))
    if n >= PARQUET_ROWS:
        buttons.append(("Parquet",
                        lambda rows: reports.parquet_bytes(carried(rows)),
                        "parquet",
                        "application/vnd.apache.parquet", None))
    columns = st.columns([1] * len(buttons) + [8 - len(buttons)])
    for column, (label, render, suffix, mime, said) in zip(
            columns, buttons, strict=False):
        column.download_button(
            label, deferred(lambda render=render: render(with_names(build()))),
            f"{file_name(file_stem)}{named}.{suffix}", mime,
            key=f"{suffix}-{file_stem}", on_click="ignore", help=said)
    if n > reports.XLSX_ROWS:
        st.caption("No XLSX: a spreadsheet holds at most "
                   f"{reports.XLSX_ROWS:,} rows "
                   f"below its heading, and these are {n:,}.")


# what a page's downloads are of (ui.page sets it each run): its title,
# period, filters and the data read, for their file names and XLSX "About"
SCOPE = "download-scope"
# the dates the downloads drawn inside files_cover() hold, when not the
# sidebar's period (the impact matrix's go-live range, the next 90 days)
COVERED = "download-covers"
# which of the page's records the downloads drawn inside files_of() hold
SELECTED = "download-selected"


@contextmanager
def files_of(selection: str):
    """Downloads drawn inside hold the records of one pick of the page
    (`selection`, as the page says it: 'Changes of one type: Normal'),
    which their About sheet says: a list of the Normal changes said
    'Filters: none (all)', and one of a week the sidebar's quarter."""
    with _held(SELECTED, selection):
        yield


@contextmanager
def _held(key: str, value):
    """st.session_state[key] = value while the block runs."""
    st.session_state[key] = value
    try:
        yield
    finally:
        st.session_state.pop(key, None)


@contextmanager
def files_cover(window: dict[str, date], said: str | None = None):
    """Downloads drawn inside hold rows of this window, not the sidebar's
    period: their names and About sheet say it. `said`: the dates as the
    About sheet says them, where the page says them more exactly than the
    window's days (the readiness horizon runs from an instant, its files
    named with the days it meets)."""
    with _held(COVERED, (window, said)):
        yield


class Scope(NamedTuple):
    title: str
    window: dict[str, date] | None
    filters: dict[str, list[str]]
    as_of: str
    dates: str | None = None  # a page's own dates, in words (page_dates)
    loaded_at: pd.Timestamp | None = None  # the data's as_of (last load)


def page_dates(said: str) -> None:
    """What a page with dates of its own (no sidebar period) covers, as its
    downloads' About sheet says it (its Period read "the page's own dates
    (see its heading)", and a file has no heading)."""
    scope = st.session_state.get(SCOPE)
    if scope is not None:
        st.session_state[SCOPE] = scope._replace(dates=said)


def _period_suffix(scope: Scope | None) -> str:
    """A download file name's period: '-2026-01-01-to-2026-03-31' (its
    days, end inclusive), '' for a page with dates of its own; then
    '-filtered' when a sidebar filter is set, so a filtered file does not
    take the unfiltered one's name (and replace it in a downloads folder;
    the About sheet says which filters)."""
    if scope is None:
        return ""
    said = ""
    if scope.window is not None:
        last = scope.window["end_date"] - timedelta(days=1)
        said = f"-{scope.window['start_date'].isoformat()}-to-{last.isoformat()}"
    return said + ("-filtered" if scope.filters else "")


def _about(scope: Scope | None, rows: int, table: str,
           selection: str | None = None, skipped: list[str] | None = None
           ) -> list[tuple[str, str]] | None:
    """The XLSX's About sheet but its time of making: what its rows are,
    from which page, period, filters, pick (files_of) and data, as the
    page said them; `skipped`: the sidebar's filters its rows are not cut
    by (their query does not take them), as the page says them."""
    if scope is None:
        return None
    period = scope.dates or "the page's own dates"
    if scope.window is not None and scope.dates is None:
        last = scope.window["end_date"] - timedelta(days=1)
        days = (scope.window["end_date"] - scope.window["start_date"]).days
        period = (f"{day(scope.window['start_date'])} – {day(last)} "
                  f"({many(days, 'day')}, dates in {config.REPORTING_TZ})")
    chosen = filters_said(scope.filters) or "none (all)"
    return [("Changeboard page", scope.title), ("Table", table),
            ("Period", period),
            ("Filters", chosen),
            *([("Not filtered by", ", ".join(skipped) + " (the sidebar's, "
                "which these rows do not carry)")] if skipped else []),
            *([("Selection", selection)] if selection else []),
            ("Data", scope.as_of), ("Rows", f"{rows:,}")]


def filters_said(filters: dict[str, list[str]]) -> str:
    """The sidebar filters in use, as people read them: 'Application:
    Payments Gateway; Team: Payments Platform' ('' for none)."""
    return "; ".join(
        f"{FILTERS.get(k, k)}: "
        + ", ".join(filter_labels(k).get(v, v) for v in values)
        for k, values in filters.items() if values)


def _query_named(rows: pd.DataFrame) -> bool:
    """Whether the rows keep a query's column names (snake_case), not the
    headings a page dresses a table with."""
    return all(re.fullmatch(r"[a-z][a-z0-9_]*", str(c)) for c in rows.columns)


def _columns_said(rows: pd.DataFrame) -> str:
    """The About sheet's Columns line: a query's rows keep its names, ids
    and codes; a table the page dresses (the CAB's decisions, its agenda)
    is written as the page shows it, which the line said of none."""
    if _query_named(rows):
        return ("as `changeboard query` names them: ids and codes as "
                "stored, instants in UTC")
    return "as the page shows them: its headings and words"


# --- the page skeleton and the drill-down helpers every page shares --------

class Page(NamedTuple):
    """What ui.page() gives a page: the data status (None only with
    needs_data=False and no database), the period (None for a page without
    one) and the global filters in use."""
    status: pd.Series | None
    window: dict[str, date] | None
    filters: dict[str, list[str]]


def page(title: str, *, period: bool = True, filters: bool = True,
         needs_data: bool = True) -> Page:
    """Every page's opening: its title, the data status banner, the period
    (period=False: a page with its own dates) and the global filters in the
    sidebar. With no database yet the banner says how to build one and the
    page stops there, unless needs_data=False (the Data page, which loads
    one)."""
    st.title(title)
    has_data = db.version(config.DB_PATH) is not None
    if has_data and filters:  # the banner's and the sidebar's, together
        prefetch([("data_status", {}, {}), ("filter_options", {}, {})], {})
    status = data_banner() if needs_data or has_data else None
    window = period_filter() if period else None
    chosen = global_filters() if filters else {}
    if needs_data and status is None:
        st.stop()
    if chosen:  # in the page itself, not only the sidebar's chips: a page
        # filtered to one application read as the whole organisation's in
        # a screenshot (an application owner's walkthrough)
        st.caption(f"Filtered to {plain(filters_said(chosen))} (sidebar).")
    version = asof.chosen()
    read = (f"the snapshot {version}" if version else "the live data") + (
        f", last loaded successfully {instant(status['as_of'])}" if status is not None
        and pd.notna(status["as_of"]) else "")
    st.session_state[SCOPE] = Scope(
        title, window, chosen, read, loaded_at=status["as_of"]
        if status is not None and pd.notna(status["as_of"]) else None)
    return Page(status, window, chosen)


NONE = "(none)"  # how a missing value shows as a drill-down label
PICK = "Select a bar or a row above, or pick here"


def label_of(value) -> str:
    """A value as a drill-down label: a missing one is (none)."""
    return NONE if value is None or pd.isna(value) else str(value)


def file_name(stem: str) -> str:
    """A download's file name stem with no space or character a shell or a
    file system would trip on (a card's label made
    'emergency_change_records-emergency ratio.csv'); ids, dots and case
    are kept."""
    return re.sub(r"[^\w.-]+", "-", stem).strip("-")


def slug(text: str) -> str:
    """A file-name-safe form of a label (download file names)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


CHART_BARS = 30  # bars a breakdown or per-item chart draws at most


def most(frame: pd.DataFrame, n: str) -> pd.DataFrame:
    """The CHART_BARS rows of frame with the largest n, in frame's order: a
    chart of 150 teams is a scroll, not a picture (the table lists all)."""
    if len(frame) <= CHART_BARS:
        return frame
    top = frame[n].reset_index(drop=True).nlargest(CHART_BARS, keep="first")
    return frame.iloc[sorted(top.index)]


def drawn_of(frame: pd.DataFrame, what: str, counted: str) -> str:
    """' The chart draws the 30 of 150 teams with the most implemented
    changes; the table lists all.' ('' when it draws every row)."""
    if len(frame) <= CHART_BARS:
        return ""
    return (f" The chart draws the {CHART_BARS} of {len(frame):,} {what}s "
            f"with the most {counted}; the table lists all.")


def labelled(frame: pd.DataFrame, columns: list[str],
             labels: dict[str, str]) -> pd.DataFrame:
    """The chosen columns under a page's human labels (tables and their
    downloads)."""
    return frame[columns].rename(columns=labels)


def pick_point(chart_key: str, target_key: str, field: str = "x",
               values: dict | None = None) -> None:
    """on_select callback of a chart: the clicked bar or point's field (x,
    y, or the first customdata value) becomes the value of the widget or
    session key target_key (a drill-down pick); `values`: what the chart
    shows (a period in words) -> the value picked (its code)."""
    points = st.session_state[chart_key].selection.points
    if not points:
        return
    if field == "customdata":  # the calendar's change id: not escaped
        if points[0].get("customdata"):
            st.session_state[target_key] = str(points[0]["customdata"][0])
    else:  # as the chart's data holds it (charts._as_text wrote it so)
        shown = html.unescape(str(points[0][field]))
        st.session_state[target_key] = (values or {}).get(shown, shown)


PART = " (part)"  # after a period the chosen dates cut: 'Dec 2026 (part)'


def in_words(trend: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A trend's rows with its periods in words (`period`, as the chart's
    axis and the drill-down's options say them: 'Nov 2013', and 'Dec 2026
    (part)' for a period the dates cut, is_complete false), and each
    period's words -> its code (period_label), for pick_point."""
    words = trend["period_label"].map(period_words)
    if "is_complete" in trend:
        words = words + [PART if complete is False else ""
                         for complete in trend["is_complete"].tolist()]
    return trend.assign(period=words), dict(zip(
        words, trend["period_label"], strict=True))


def words_of(codes: dict[str, str]):
    """The reverse of in_words' codes: a period's code -> its words, for a
    drill-down's format_func."""
    said = {code: words for words, code in codes.items()}
    return lambda code: said.get(code, period_words(code))


def url_option(key: str, options) -> None:
    """Read the address's value for a widget bound to it (`key`) as the
    option it names whatever its case and spacing: a link typed or
    written elsewhere (?cal_view=week, ?view=bookings%20timeline) opened
    the page on its default, the value dropped, since a bound widget takes
    only an option's exact text."""
    given = st.query_params.get(key)
    if given is None:
        return
    wanted = " ".join(str(given).split()).casefold()
    for option in options:
        if str(option) != given and str(option).casefold() == wanted:
            st.query_params[key] = str(option)
            # the widget seeds itself from the address the run began with,
            # not from st.query_params: that one is corrected too
            context = get_script_run_ctx()
            if context is not None:
                with context.session_state.query_params() as params:
                    initial = getattr(params, "_initial_query_params", None)
                    if isinstance(initial, dict) and key in initial:
                        initial[key] = [str(option)]
            return


def drill(label: str, options: list, key: str, placeholder: str = PICK,
          **kwargs):
    """The drill-down pick box, kept in the URL by its label; None until
    something is picked."""
    return st.selectbox(label, options, index=None, key=key,
                        placeholder=placeholder, bind="query-params", **kwargs)


def drill_id(label: str, labels: dict[str, str], key: str,
             placeholder: str) -> str | None:
    """A drill-down pick of one id among labels (id -> label), kept in the
    URL as ?key=<id> (a bound widget would put its label there); a pick
    left from other dates or filters is dropped."""
    if st.session_state.get(key) not in labels:
        # set, not only dropped: a pick dropped from the state stayed in
        # the browser's box (the calendar's next month showed a change of
        # the month before, with no detail)
        st.session_state[key] = st.query_params.get(key) \
            if st.query_params.get(key) in labels else None
    labels = distinct(labels)
    pick = st.selectbox(label, list(labels), index=None, key=key,
                        format_func=labels.get, placeholder=placeholder)
    in_address(key, pick)
    return pick
