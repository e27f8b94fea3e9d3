"""A real browser against `streamlit run app.py`: pages draw, nothing raises."""
import contextlib
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.ports import free_port as _free_port

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "screenshots"
# full-page screenshots of each visit, to look at: 0.5-3.3 s of Chromium's
# CPU each, so only when asked (CHANGEBOARD_SCREENSHOTS=1 make test)
WANT_SHOTS = os.environ.get("CHANGEBOARD_SCREENSHOTS") == "1"
pytestmark = pytest.mark.browser




@pytest.fixture(scope="module")
def server(sample_db):
    with _serve(sample_db) as url:
        yield url


@contextlib.contextmanager
def _serve(database, log: Path | None = None):
    """`streamlit run app.py` on the database: yields its address, then
    stops it. Its output goes to `log` (a file, not a pipe nobody reads,
    which a chatty server would fill and then block on)."""
    port = _free_port()
    env = {**os.environ, "CHANGEBOARD_DB": str(database)}
    with contextlib.ExitStack() as stack:
        out = (stack.enter_context(open(log, "w+b")) if log is not None
               else stack.enter_context(tempfile.TemporaryFile()))
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false",
             "--client.toolbarMode", "minimal"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health",
                                            timeout=2):
                    break
            except OSError:
                if proc.poll() is not None:
                    out.seek(0)
                    raise RuntimeError(out.read().decode()) from None
                time.sleep(0.3)
        else:
            proc.kill()
            raise RuntimeError("streamlit did not start within 60 s")
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _settled(page) -> None:
    # the app is "notRunning" before its first run starts too: wait for the
    # page's title (drawn by that run), then for the run to end
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]',
        timeout=60_000)
    # elements whose code the browser is still fetching show as skeletons
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stSkeleton\"]')",
        timeout=60_000)
    # then every chart has drawn (plotly's SVG), rather than a fixed wait
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(chart => chart.querySelector('.main-svg'))", timeout=60_000)
    _painted(page)


def _settled_on(page, title: str) -> None:
    """_settled, once the page titled `title` has drawn: after a click that
    changes page, the old page's title and its finished run satisfy
    _settled until the new run's first message arrives."""
    page.wait_for_function(
        "(title) => (document.querySelector('[data-testid=\"stMain\"] h1')"
        " || {}).innerText?.trim() === title", arg=title, timeout=60_000)
    _settled(page)


def _painted(page) -> None:
    """Wait until the browser has painted what the page holds now (two
    animation frames)."""
    page.evaluate("() => new Promise(done => requestAnimationFrame("
                  "() => requestAnimationFrame(done)))")


PAGES = [  # url path, screenshot name, text the page must show
    ("", "overview", "Change success rate"),
    ("changes", "changes", "Changes"),
    ("releases", "releases", "Releases"),
    ("readiness", "readiness", "Release readiness"),
    ("environments", "environments", "Impact matrix"),
    ("calendar", "calendar", "Change calendar"),
    ("cab", "cab", "CAB"),
    ("backlog", "backlog", "Past planned start, not started"),
    ("data", "data", "Data"),
]
TITLES = {"overview": "Overview", "changes": "Changes", "releases": "Releases",
          "readiness": "Release readiness", "environments": "Environments",
          "calendar": "Change calendar", "cab": "CAB pack",
          "backlog": "Change backlog", "data": "Data"}
# the cards a page draws, where a test counts them
CARDS = {"calendar": 4, "releases": 11}  # releases: cadence 3, on time 4, DORA 4
DRAWN = ('[data-testid="stPlotlyChart"], [data-testid="stDataFrame"], '
         '[data-testid="stMetric"]')


@pytest.fixture(scope="module")
def visitor(browser):
    """One browser profile visiting every page in turn, its cache warm after
    the first, as a manager's browser is: a fresh profile for each page
    fetched and compiled Streamlit's scripts again each time, about 1.5 s
    of Chromium's CPU a page. Each page is a tab of its own, its own
    Streamlit session."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


def _tab(visitor, height: int = 800):
    """A new tab of the visitor's browser, `height` pixels high."""
    page = visitor.new_page()
    if height != 800:
        page.set_viewport_size({"width": 1280, "height": height})
    return page


def _visit(visitor, url, name):
    page = _tab(visitor)
    page.goto(url)
    _settled(page)
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]')"
        "?.scrollHeight || 800")
    page.set_viewport_size({"width": 1280, "height": max(800, min(height, 6000))})
    _painted(page)
    if WANT_SHOTS:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page


@pytest.mark.parametrize("path, name, text", PAGES, ids=[p[1] for p in PAGES])
def test_page_draws_without_errors(server, visitor, path, name, text):
    page = _visit(visitor, f"{server}/{path}?period=last_365", f"page-{name}")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.locator(DRAWN).count() > 0
    # every card's label is shown whole at 1280 pixels: the calendar's
    # fourth read 'Past planned start, not sta…', the DORA panel's second
    # 'Deployment failure rate (…'
    labels = page.locator('[data-testid="stMetricLabel"]')
    assert page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricLabel\"]"
        "')].filter(label => [label, ...label.querySelectorAll('*')].some("
        "e => e.scrollWidth > e.clientWidth + 1)).map(l => l.innerText)") == []
    assert labels.count() == CARDS.get(name, labels.count())
    if name == "releases":
        assert "Deployment failure rate" in labels.all_inner_texts()
    if name == "overview":  # one visit, where each was its own
        # its headlines, each a number
        values = page.locator(
            '[data-testid="stMetricValue"]').all_inner_texts()
        assert len(values) == 8 and all(v and v != "n/a" for v in values), \
            values
        assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
        # a shared link (?period=last_365) reproduces the period, its days
        # and their zone said
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "(365 days, UTC)" in sidebar
        assert "period=last_365" in page.url
    assert text in page.locator('[data-testid="stMain"]').inner_text()
    # its outline: the page's h1, then no heading more than one level
    # below the one before it (sections were h3 under the h1, a CAB
    # agenda block's title h4: an accessibility review)
    levels = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMain\"] "
        ":is(h1, h2, h3, h4, h5, h6)')].map(h => +h.tagName[1])")
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    # its own title, which a screen reader says on a page change (every
    # page's read "Changeboard": an accessibility review)
    assert page.title() == f"{TITLES[name]} · Changeboard"
    page.close()


def test_a_team_set_on_the_overview_stays_on_the_next_page(server, visitor):
    page = _tab(visitor, height=900)
    page.goto(f"{server}/?period=last_365")
    _settled(page)
    sidebar = page.get_by_test_id("stSidebar")
    team_box = sidebar.get_by_test_id("stMultiSelect").filter(has_text="Team")
    team_box.click()
    option = page.get_by_role("option").filter(
        has_not_text="Select all").first
    team = option.inner_text().strip()
    option.click()
    page.keyboard.press("Escape")
    # the rerun the pick starts may not have begun when the page next reads
    # as settled: wait for the address it writes (it failed under load)
    page.wait_for_url("**teams=**", timeout=30_000)
    _settled(page)
    sidebar.get_by_role("link", name="Changes", exact=True).click()
    page.wait_for_url("**/changes**", timeout=30_000)
    _settled_on(page, "Changes")
    assert page.title() == "Changes · Changeboard"  # the new page's
    assert "teams=" in page.url and "period=last_365" in page.url
    chosen = sidebar.get_by_test_id("stMultiSelect").filter(
        has_text="Team").inner_text()
    assert team in chosen and "Workplace Tech" not in chosen.replace(
        team, "")  # that one team, not every team
    page.close()


def test_the_calendars_month_and_the_cab_tab_stay_when_a_page_is_left(
        server, visitor):
    """A manager went a month back on the calendar, looked at the Changes
    page and came back by the navigation (a page link has no address): the
    calendar was on today's month again, and the CAB page on its first tab
    after "Since last CAB" was left, where the sidebar's filters and the
    meeting stayed; Release readiness on 28 days after 56. Each is kept
    now, and the address says it."""
    page = _tab(visitor, height=900)
    sidebar = page.get_by_test_id("stSidebar")

    def heading():
        return page.locator('[data-testid="stMain"] h2, '
                            '[data-testid="stMain"] h3').first.inner_text()

    def away_and_back(title: str, other: str = "Changes"):
        sidebar.get_by_role("link", name=other, exact=True).click()
        _settled_on(page, other)
        sidebar.get_by_role("link", name=title, exact=True).click()
        _settled_on(page, title)

    page.goto(f"{server}/calendar")
    _settled(page)
    shown = heading()
    page.get_by_role("button", name="Back", exact=True).click()
    page.wait_for_function(
        "(was) => !document.querySelector('[data-testid=\"stMain\"] h2, "
        "[data-testid=\"stMain\"] h3').innerText.includes(was)",
        arg=shown.removeprefix("Planned changes, "), timeout=30_000)
    _settled(page)
    before = heading()
    assert before != shown and before.startswith("Planned changes, ")
    away_and_back("Change calendar")
    assert heading() == before, (heading(), before)
    assert "cal_day=" in page.url

    sidebar.get_by_role("link", name="CAB pack", exact=True).click()
    _settled_on(page, "CAB pack")
    page.get_by_role("tab", name="Since last CAB").click()
    page.wait_for_url("**tab=since**", timeout=30_000)
    _settled(page)
    away_and_back("CAB pack", "Overview")
    assert "tab=since" in page.url
    assert page.get_by_role("tab", name="Since last CAB").get_attribute(
        "aria-selected") == "true"

    # Release readiness's horizon: 56 days came back as 28, where its Show
    # choice stayed (a release manager's walkthrough)
    sidebar.get_by_role("link", name="Release readiness", exact=True).click()
    _settled_on(page, "Release readiness")
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(
        has_text="Going live in the next").click()
    page.get_by_role("option", name="56 days").click()
    page.wait_for_url("**horizon_days=56**", timeout=30_000)
    _settled(page)
    away_and_back("Release readiness")
    assert "horizon_days=56" in page.url
    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(
        has_text="Going live in the next")
    assert box.locator("input").input_value() == "56 days", box.inner_html()
    page.close()


def test_a_meeting_typed_then_left_shows_in_its_box_back_on_the_cab_page(
        server, visitor):
    """A meeting date typed in its box and left by a click on another page
    is applied as that page opens (the box loses focus); back on the CAB
    page the pack and the address were the typed meeting's and the box
    showed the date it opened with. The box shows the pack's meeting."""
    from reports import cab
    meeting = cab.next_meeting().date()
    later = meeting + timedelta(days=7)
    page = _tab(visitor, height=900)
    page.goto(f"{server}/cab")
    _settled(page)
    for part, typed in (("year", f"{later:%Y}"), ("month", f"{later:%m}"),
                        ("day", f"{later:%d}")):
        page.get_by_role("spinbutton", name=f"{part}, Meeting date").click()
        page.keyboard.type(typed)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="Overview", exact=True).click()
    # the box's own rerun (it loses focus) and the page change race in
    # Streamlit: its CAB rerun can arrive after the Overview began and take
    # the browser back (seen here: '/' then '/cab?meeting=<typed>'). Wait
    # for either end, settled, then open the CAB page by its link. In one
    # suite on a loaded machine (5 Dec) neither end had come after 60 s
    # (what the page showed then was not kept; six runs after it each
    # came to one of the two ends). Past 20 s the test goes on from
    # wherever the page settles, and the box must still show whichever
    # meeting the pack holds (below); what the page showed is a warning in
    # the suite's summary: a CAB page with the meeting it opened with
    # would be the click and the typed date both lost to the race
    from playwright.sync_api import TimeoutError as Waited
    try:
        page.wait_for_function(
            """(typed) => {
                const h1 = document.querySelector('[data-testid="stMain"] h1');
                const app = document.querySelector('[data-testid="stApp"]');
                const title = h1 && h1.innerText.trim();
                return app && app.dataset.testScriptState === 'notRunning' && (
                    title === 'Overview' || title === 'CAB pack'
                    && location.search.includes('meeting=' + typed));
            }""", arg=later.isoformat(), timeout=20_000)
    except Waited:
        import warnings
        _settled(page)
        title = page.locator('[data-testid="stMain"] h1').inner_text()
        warnings.warn(
            "the typed meeting and the page change ended neither on the "
            f"Overview nor on the typed meeting's CAB page: {page.url}, "
            f"titled {title!r}", stacklevel=1)
    _settled(page)
    if page.locator('[data-testid="stMain"] h1').inner_text() != "CAB pack":
        sidebar.get_by_role("link", name="CAB pack", exact=True).click()
        _settled_on(page, "CAB pack")
    # the typed date is applied as the box loses focus, which races the
    # page change: whichever meeting won, the box shows the pack's (the
    # address's) meeting; here, on a quiet machine, the typed one wins.
    # Under load the blur's rerun can still be on its way when the page
    # first reads as settled, and the address and the box change as that
    # rerun starts, before it draws the pack: read them once the page has
    # settled with all three agreeing, or after 15 s
    deadline = time.monotonic() + 15
    while True:
        box = page.get_by_role("group", name="Meeting date").inner_text()
        # the address names the meeting once the CAB page's run wrote it
        named = re.search(r"meeting=(\d{4}-\d\d-\d\d)", page.url)
        opened = date.fromisoformat(named[1]) if named else None
        window = page.get_by_text(f"Review window {opened:%a %d %b %Y}"
                                  if opened else "Review window ")
        if opened and box.replace("\n", "").replace(" ", "") == \
                opened.isoformat() and window.count() or \
                time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
        _settled(page)
    assert opened in (meeting, later)
    assert window.count()
    assert box.replace("\n", "").replace(" ", "") == opened.isoformat(), box
    page.close()


def test_a_picked_change_leaves_the_box_when_its_month_is_left(
        server, visitor, sample_db):
    """A change picked on the calendar (?cal_change=) stayed in the Change
    box on the next month, where it is not planned, with no detail and the
    address without it: the box empties with the address."""
    from playwright.sync_api import expect

    from changeboard import db
    today = date.today()
    with db.connect(sample_db, read_only=True) as con:
        planned = db.run(con, "change_calendar",
                         window_start_at=str(today.replace(day=1)),
                         window_end_at=str((today.replace(day=28)
                                            + timedelta(days=4)
                                            ).replace(day=1)))
    picked = planned["change_id"].iloc[0]
    page = _tab(visitor, height=900)
    page.goto(f"{server}/calendar?cal_change={picked}")
    _settled(page)
    box = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("Change", exact=True))
    value = box.locator("input")  # the picked option's label
    expect(value).to_have_value(re.compile(picked))
    page.get_by_role("button", name="Next", exact=True).click()
    page.wait_for_url(lambda url: "cal_change" not in url, timeout=30_000)
    _settled(page)
    expect(value).to_have_value("")
    page.close()


def test_reset_filters_empties_them_for_good(server, visitor):
    # the browser holds a multiselect's value: cleared only in the script,
    # the chips stayed on screen and the next pick sent them back
    from playwright.sync_api import expect
    page = _tab(visitor, height=900)
    page.goto(f"{server}/changes?period=last_365&change_types=emergency"
              "&tiers=prod")
    _settled(page)
    sidebar = page.get_by_test_id("stSidebar")

    def chips(label):
        box = sidebar.get_by_test_id("stMultiSelect").filter(has_text=label)
        return box.locator("[data-tag]")

    def chosen(label):
        return chips(label).all_inner_texts()
    assert chosen("Change type") and chosen("Environment tier")
    sidebar.get_by_role("button", name="Reset filters").click()
    # the click's rerun may not have started when the app still reads
    # notRunning: wait for the chips to go (CI once read them before it)
    for label in ("Change type", "Environment tier"):
        expect(chips(label)).to_have_count(0, timeout=30_000)
    _settled(page)
    assert chosen("Change type") == [] and chosen("Environment tier") == []
    assert "change_types=" not in page.url and "tiers=" not in page.url
    # another filter picked afterwards: the reset ones stay empty
    sidebar.get_by_test_id("stMultiSelect").filter(has_text="Team").click()
    page.get_by_role("option").filter(has_not_text="Select all").first.click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('teams=')",
                           timeout=30_000)
    _settled(page)
    assert "teams=" in page.url
    assert "change_types=" not in page.url and "tiers=" not in page.url
    assert chosen("Change type") == [] and chosen("Environment tier") == []
    page.close()


def _downloaded(page, stem: str) -> str:
    """The text of the CSV the page offers under the file name `stem`-…,
    clicked as a user would (those in sight: not a folded chart's
    numbers)."""
    buttons = page.get_by_test_id("stDownloadButton").filter(
        has_text="CSV", visible=True)
    for at in range(buttons.count()):
        with page.expect_download() as download:
            buttons.nth(at).click()
        if download.value.suggested_filename.startswith(stem):
            return Path(download.value.path()).read_text()
    raise AssertionError(f"no CSV named {stem}-… on the page")


def test_a_download_as_of_a_snapshot_holds_the_snapshots_records(
        sample_db, tmp_path, browser):
    """A download is built when its button is clicked, on a server thread
    outside the session's run. There st.session_state was a process-wide
    stand-in: the snapshot the page showed read as none, and a page as of
    a snapshot downloaded the live data's records (the server logging
    "missing ScriptRunContext" for each read). A change loaded after the
    snapshot is in the live download only."""
    import shutil

    import ingest
    from changeboard import snapshots

    live = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, live)
    first = snapshots.version_name(live)
    now = datetime.now(UTC)

    def at(days: float) -> str:
        return f"{now - timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"
    added = tmp_path / "changes.csv"
    added.write_text(
        "change_id,title,change_type,state,is_cab_required,approval,"
        "created_at,actual_start_at,actual_end_at,closed_at,close_code\n"
        f"CHG-AFTER-SNAP,Loaded after the snapshot,normal,closed,true,"
        f"rejected,{at(3)},{at(2)},{at(1.9)},{at(1.8)},successful\n")
    ingest.load_path("csv", added, live)
    log = tmp_path / "server.log"
    with _serve(live, log) as url:
        page = browser.new_page(accept_downloads=True,
                                viewport={"width": 1280, "height": 800})
        texts = {}
        for shown, query in (("snapshot", f"&as_of={first}"), ("live", "")):
            page.goto(f"{url}/changes?period=last_365{query}")
            _settled(page)
            texts[shown] = _downloaded(page, "unauthorized-changes")
        page.close()
    assert texts["live"].startswith("change_id,")
    assert "CHG-AFTER-SNAP" in texts["live"]
    assert texts["snapshot"].startswith("change_id,")
    assert "CHG-AFTER-SNAP" not in texts["snapshot"]
    assert "missing ScriptRunContext" not in log.read_text()


@pytest.fixture(scope="module")
def decided(sample_db, tmp_path_factory):
    """The app on its own copy of the sample (the decisions recorded stay
    beside it), with the first agenda change of the next meeting approved."""
    import shutil

    from changeboard import auth, decisions
    from reports import cab

    database = tmp_path_factory.mktemp("decided") / "cab.duckdb"
    shutil.copyfile(sample_db, database)
    meeting = cab.next_meeting().date()
    agenda = cab.build_pack(database, meeting).agenda
    assert len(agenda) > 1, "the sample has changes for the next meeting"
    decisions.record(database, auth.single_user(), meeting,
                     agenda["change_id"].iloc[0], "approved")
    with _serve(database) as url:
        yield url


def test_the_minutes_buttons_say_which_file_they_give(decided, visitor):
    """The three minutes downloads each had an eighth of the page and read
    'Minutes …' alike at 1280 pixels: which gave the PDF could not be told.
    Each button's label is shown whole."""
    page = _tab(visitor)
    page.goto(f"{decided}/cab?tab=decisions")
    _settled(page)
    buttons = page.get_by_test_id("stDownloadButton").filter(
        has_text="Minutes")
    assert buttons.all_inner_texts() == [
        "Minutes HTML", "Minutes PDF", "Minutes XLSX"]
    cut = buttons.evaluate_all(
        "buttons => buttons.filter(b => [b, ...b.querySelectorAll('*')]"
        ".some(e => e.scrollWidth > e.clientWidth + 1))"
        ".map(b => b.innerText)")
    assert cut == []
    page.close()


def test_a_decision_saved_from_the_keyboard_keeps_the_focus_on_save(
        decided, visitor):
    """Save decision pressed with Enter: the decision is recorded and the
    focus stays on Save (the tabs' labels count the decisions, so the
    browser drew the tab anew and the focus went to the page's body: an
    accessibility review)."""
    page = _tab(visitor)
    page.goto(f"{decided}/cab?tab=decisions")
    _settled(page)
    focused = "() => document.activeElement?.innerText?.trim() || " \
        "document.activeElement?.getAttribute('aria-label')"
    # opening the tab leaves the focus where it was (a script sent it to
    # Save whenever the form showed a change: the review)
    assert page.evaluate(focused) != "Save decision"
    page.get_by_test_id("stRadio").get_by_text(
        "Approved", exact=True).click()
    _settled(page)
    save = page.get_by_role("button", name="Save decision", exact=True)
    save.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Recorded approved for").wait_for(timeout=60_000)
    _settled(page)
    page.wait_for_function(
        "() => document.activeElement?.innerText?.trim() === 'Save decision'",
        timeout=10_000)
    # the next change picked from the keyboard: the focus stays in the box
    # (the saved message went, and the form was drawn anew without it)
    box = page.get_by_role("combobox", name="Agenda change")
    box.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    _settled(page)
    assert page.evaluate(focused) == "Agenda change"
    page.close()


def test_the_cab_tabs_keep_the_focus_when_picked_with_the_arrow_keys(
        decided, visitor):
    """An arrow key on the CAB page's tabs opened the next tab, and the
    rerun left the focus on the page's body: the next arrow key did
    nothing (a keyboard walkthrough). The tab picked keeps it."""
    page = _tab(visitor)
    page.goto(f"{decided}/cab?tab=decisions")
    _settled(page)
    selected = "() => document.activeElement?.getAttribute('role') === " \
        "'tab' && document.activeElement.getAttribute('aria-selected') " \
        "=== 'true' && document.activeElement.innerText.trim()"
    page.get_by_role("tab", selected=True).focus()
    for wanted, tab in (("Releases going live", "releases"),
                        ("Since last CAB", "since")):
        page.keyboard.press("ArrowLeft")
        page.wait_for_url(f"**tab={tab}*", timeout=60_000)
        _settled(page)
        page.wait_for_function(f"() => ({selected})()?.startsWith("
                               f"{wanted!r})", timeout=10_000)
    page.close()


def test_the_minutes_html_shows_every_column_in_a_1280_pixel_window(
        sample_db, tmp_path, browser):
    """Opened in a browser, the minutes' decisions table (13 columns) was
    held to the pack's 60em page and ran off a 1280-pixel window: its
    Planned column was cut and Times recorded out of sight, with no way to
    scroll to them inside the page. Every table now ends inside the
    window."""
    import shutil

    from changeboard import auth, decisions
    from reports import cab, minutes

    database = tmp_path / "cab.duckdb"
    shutil.copyfile(sample_db, database)
    meeting = cab.next_meeting().date()
    agenda = cab.build_pack(database, meeting).agenda
    assert len(agenda) >= 2, "the sample has changes for the next meeting"
    for change_id, decision, note in zip(
            agenda["change_id"][:2], ["rejected", "approved_with_conditions"],
            ["No tested backout plan: resubmit with one",
             "Only after 22:00, with the DBA on call"], strict=True):
        decisions.record(database, auth.single_user(), meeting, change_id,
                         decision, note)
    page_file = tmp_path / "minutes.html"
    page_file.write_text(minutes.to_html(minutes.build_for(database,
                                                           meeting)))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(page_file.as_uri())
    beyond = page.evaluate(
        "() => [...document.querySelectorAll('table')].filter(t => "
        "t.getBoundingClientRect().right > window.innerWidth)"
        ".map(t => [...t.querySelectorAll('th')].map(h => h.innerText)"
        ".join(' | '))")
    assert beyond == []
    assert page.evaluate("() => document.documentElement.scrollWidth"
                         " <= window.innerWidth")
    page.close()
