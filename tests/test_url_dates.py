"""Dates from the URL stay in a sane range and span, the page says so, and
no exception reaches the browser (issue 13, items 3 and 4)."""
import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, ui

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = [("0001-01-02", "9999-12-30"), ("1990-01-01", "9999-12-31"),
           ("9999-12-31", "0001-01-01"), ("2026-02-30", "2026-13-01")]


@pytest.fixture
def page(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)

    def run(name: str, **params) -> AppTest:
        app = AppTest.from_file(str(ROOT / "views" / f"{name}.py"),
                                default_timeout=60)
        app.query_params.update(params)
        return app.run()
    return run


def _dates(app) -> tuple[date, date]:
    value = app.query_params
    return (date.fromisoformat(value["from"]),
            date.fromisoformat(value["to"]))


@pytest.mark.parametrize("name, start, end", [
    *((name, *HOSTILE[0]) for name in ("changes", "releases",
                                        "environments")),
    *(("overview", *dates) for dates in HOSTILE)])
def test_a_custom_period_from_the_url_is_clamped_and_said(page, name, start,
                                                          end):
    app = page(name, period="custom", **{"from": start, "to": end})
    assert not app.exception, app.exception
    first, last = _dates(app)
    assert ui.DATE_MIN <= first <= last <= ui.date_max()
    assert (last - first).days + 1 <= ui.MAX_SPAN_DAYS
    warned = " ".join(w.value for w in app.warning)
    # a value written as a day that is none (2026-02-30) says so
    assert "outside 1990-01-01" in warned or "not a YYYY-MM-DD" in warned \
        or "there is no such day" in warned


@pytest.mark.parametrize("given, period", [
    ("last_12_months", "last_365"), ("Last 12 months", "last_365"),
    ("ALL", "all"), ("next_week", None)])
def test_a_period_from_the_url_is_read_by_its_label_or_said_ignored(
        page, given, period):
    """period=last_12_months showed the last 90 days and said nothing (a
    release manager's walkthrough): a period's label is read as the period,
    and a period the app has not is said ignored."""
    app = page("overview", period=given)
    assert not app.exception, app.exception
    warned = [w.value for w in app.warning if "period=" in w.value]
    assert app.query_params["period"] == (period or ui.DEFAULT_PERIOD)
    if period:
        assert not warned, warned
    else:
        # in a code span: shown as typed, not as Markdown
        assert warned == [f"Ignored period=`{given}` in the address: no "
                          "such period (" + ", ".join(ui.PERIODS) + ")."]


def test_markdown_in_the_address_is_shown_as_text_not_as_a_link(page):
    """A mailed link whose period, date and team held Markdown put a live
    "Session expired: click here" link, and an image fetched from another
    server, in the app's own warnings (a security review); escaped, bare
    addresses (www..., a@...) still became links, and a blank line drew a
    rule (a re-check walkthrough). The address's text is now shown in a
    code span, on one line: as typed, no link, image or formatting."""
    link = "[Session expired: sign in](https://evil.example/x)"
    image = "![t](http://127.0.0.1:9/track.png)"
    app = page("overview", period=link, teams=image,
               **{"from": link, "to": "2026-06-30"})
    assert not app.exception, app.exception
    said = [w.value for w in [*app.warning, *app.sidebar.warning]]
    assert f"Ignored period=`{link[:40]}` in the address: no such period" \
        in " ".join(said)
    assert f"Team: `{image}` from the address" in " ".join(said)
    for given, shown in (("www.evil.example", "`www.evil.example`"),
                         ("a@evil.example", "`a@evil.example`"),
                         ("ok\n\n---", "`ok ---`"),
                         ("tick`tock", "`tick'tock`")):
        app = page("overview", period="custom", **{"from": given,
                                                    "to": "2026-06-30"})
        assert [w.value for w in app.warning if "from=" in w.value] == [
            f"Ignored from={shown} in the address: not a YYYY-MM-DD date."]


def test_a_long_span_inside_the_range_is_shortened_and_said(page):
    app = page("overview", period="custom", **{"from": "1990-01-01",
                                                "to": "2026-06-30"})
    assert not app.exception
    assert _dates(app) == (date(2016, 6, 23), date(2026, 6, 30))
    assert any("spans more than 3,660 days" in w.value for w in app.warning)


def test_a_go_live_range_from_the_url_is_clamped(page):
    app = page("environments", go_live=["1990-01-01", "2036-11-30"])
    assert not app.exception
    first, last = app.date_input(key="go_live").value
    assert any("go-live range spans" in w.value for w in app.warning)
    app = page("environments", go_live=["0001-01-01", "9999-12-31"])
    assert not app.exception


@pytest.mark.parametrize("params, said", [
    ({"meeting": "0001-01-01"}, "outside 1990-01-01"),
    ({"meeting": "9999-12-31"}, "outside 1990-01-01"),
    ({"meeting": "2026-01-20", "until": "2026-01-01"}, "must end after"),
    ({"meeting": "2026-01-20", "until": "2026-01-20"}, "must end after"),
    ({"meeting": "2026-01-20", "until": "9999-12-31"}, "outside 1990-01-01"),
    ({"meeting": "2026-01-20", "until": "2030-01-01"}, "within 366 days"),
    ({"meeting": "not-a-date"}, "not a YYYY-MM-DD"),
    ({"meeting": "2026-01-20", "until": "2026-01-20T09:00Z"},
     "must end after"),
    ({"meeting": "2026-01-20", "until": "2026-01-20T10:00Z"},
     "must end after"),
    ({"meeting": "2026-01-20", "until": "2027-01-22T00:00Z"},
     "within 366 days"),
    ({"meeting": "2026-01-20", "until": "2026-01-23T25:00Z"},
     "not a YYYY-MM-DD date or an ISO 8601 instant"),
    ({"meeting": "2026-01-20", "until": "9999-12-31T00:00Z"},
     "outside 1990-01-01"),
])
def test_cab_meeting_and_until_from_the_url_are_checked(page, params, said):
    app = page("cab", **params)
    assert not app.exception, app.exception
    assert any(said in w.value for w in app.warning), [
        w.value for w in app.warning]
    meeting = date.fromisoformat(app.query_params["meeting"])
    assert ui.DATE_MIN <= meeting <= ui.date_max()
    until = app.query_params.get("until")
    if until:
        assert 0 < (date.fromisoformat(until) - meeting).days <= 366


@pytest.mark.parametrize("until, kept, ends", [
    ("2026-01-23T00:00Z", "2026-01-23T00:00+00:00", "Fri 23 Jan 2026 00:00"),
    # a '+' sent unencoded reads as a space
    ("2026-01-23T00:00 00:00", "2026-01-23T00:00+00:00",
     "Fri 23 Jan 2026 00:00"),
    ("2026-01-23T05:30", "2026-01-23T05:30+00:00",  # in the reporting zone
     "Fri 23 Jan 2026 05:30"),
    ("2026-01-22T23:00-05:00", "2026-01-23T04:00+00:00",
     "Fri 23 Jan 2026 04:00"),
    ("2026-01-20T12:00Z", "2026-01-20T12:00+00:00",  # the meeting's day
     "Tue 20 Jan 2026 12:00"),
    # at the CAB time (10:00 UTC): that day, written as a day
    ("2026-01-23T10:00+00:00", "2026-01-23", "Fri 23 Jan 2026 10:00"),
    ("2026-01-22T11:00+01:00", "2026-01-22", "Thu 22 Jan 2026 10:00"),
    ("2026-01-23", "2026-01-23", "Fri 23 Jan 2026 10:00")])
def test_cab_until_may_be_an_instant_and_stays_one(page, until, kept, ends):
    """?until= is a day (at the CAB time) or an instant, the end of a
    mailed pack's window (reports/delivery.py app_link): the page's window
    ends there, and the address keeps it, through reruns."""
    app = page("cab", meeting="2026-01-20", until=until)
    for _ in range(2):
        assert not app.exception, app.exception
        assert not [w.value for w in app.warning]
        window = next(c.value for c in app.caption
                      if c.value.startswith("Review window "))
        assert f" to {ends}, end exclusive" in window, window
        assert app.query_params["until"] == kept
        app.run()
    said = " ".join(c.value for c in app.caption)
    assert ("The address ends the window at" in said) == ("T" in kept)
    app.date_input(key="cab-until").set_value(date(2026, 1, 24)).run()
    assert not app.exception  # another day picked: that day, at the CAB time
    assert app.query_params["until"] == "2026-01-24"
    assert any(" to Sat 24 Jan 2026 10:00, end exclusive" in c.value
               for c in app.caption)
    assert not any("The address ends" in c.value for c in app.caption)


CHILD = textwrap.dedent("""
    import json, resource, sys, threading
    from streamlit.testing.v1 import AppTest
    from changeboard import config
    # a safety net for the machine: the bound checked is far below it
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    config.DB_PATH = sys.argv[1]
    root = sys.argv[2]
    hostile = {"period": "custom", "from": "0001-01-02", "to": "9999-12-30"}
    errors = []

    def session(page, params):
        try:
            app = AppTest.from_file(f"{root}/views/{page}.py",
                                    default_timeout=120)
            app.query_params.update(params)
            app.run()
            errors.extend(str(e.value) for e in app.exception)
            return app
        except BaseException as exc:
            errors.append(repr(exc))

    attackers = [threading.Thread(target=session, args=(page, hostile))
                 for page in ("environments", "changes", "releases")]
    for thread in attackers:
        thread.start()
    normal = session("overview", {"period": "last_90"})
    for thread in attackers:
        thread.join()
    print(json.dumps({
        "errors": errors,
        "metrics": len(normal.metric) if normal else 0,
        # this process's own peak: ru_maxrss would carry over the peak of
        # the pytest worker that spawned it (Linux keeps it across exec)
        "max_rss_mb": next(int(line.split()[1]) for line in
                           open("/proc/self/status")
                           if line.startswith("VmHWM:")) // 1024}))
""")


def test_hostile_dates_keep_the_server_small_while_a_session_works(sample_db):
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(sample_db), str(ROOT)], cwd=ROOT,
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["errors"] == []
    assert seen["metrics"] == 8   # the other session drew its headlines
    assert seen["max_rss_mb"] < 1024
