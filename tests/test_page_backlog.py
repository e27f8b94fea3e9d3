"""The Change backlog page: AppTest on hand-made changes and on the sample."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db
from tests.clicks import open_definitions
from tests.rows import insert_rows

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "backlog.py")


insert = insert_rows


def change(change_id, state, **extra):
    return {"change_id": change_id, "title": f"Change {change_id}",
            "change_type": "normal", "state": state,
            "created_at": "2026-03-01 12:00Z", **extra}


@pytest.fixture
def made(tmp_path, monkeypatch):
    """A published database of a few hand-made changes, loaded 10 Mar 12:00."""
    path = tmp_path / "made.duckdb"
    with db.publish(path) as con:
        insert(con, "ingest_batches", [{
            "batch_id": 1, "source": "csv", "entity": "changes",
            "started_at": "2026-03-10 11:59Z",
            "finished_at": "2026-03-10 12:00Z", "status": "succeeded"}])
        insert(con, "changes", [
            change("CHG-NEW", "new", created_at="2026-03-08 12:00Z"),
            change("CHG-AUTH", "authorize", created_at="2026-03-06 12:00Z"),
            change("CHG-LATE", "scheduled", approved_at="2026-03-07 12:00Z",
                   planned_start_at="2026-03-09 12:00Z"),
            change("CHG-AHEAD", "scheduled", approved_at="2026-03-07 12:00Z",
                   planned_start_at="2026-03-12 12:00Z"),
            change("CHG-STALE", "review", actual_start_at="2026-03-02 12:00Z",
                   actual_end_at="2026-03-03 12:00Z"),
            change("CHG-FRESH", "review", actual_start_at="2026-03-07 12:00Z",
                   actual_end_at="2026-03-08 12:00Z"),
            change("CHG-DONE", "closed", close_code="successful",
                   actual_end_at="2026-03-02 12:00Z"),
            change("CHG-GONE", "cancelled", close_code="cancelled",
                   planned_start_at="2026-03-05 12:00Z"),
        ])
    monkeypatch.setattr(config, "DB_PATH", path)
    return AppTest.from_file(PAGE, default_timeout=60)


def metrics(app) -> dict[str, int]:
    return {m.label: int(m.value.replace(",", "")) for m in app.metric}


def ids(frame) -> list[str]:
    # a link column holds the record's address when a record URL is set
    return [str(v).rsplit("/", 1)[-1].split("=")[-1] for v in frame["change_id"]]


def test_hand_made_changes_each_show_where_expected(made):
    made.run()
    assert not made.exception
    assert metrics(made) == {
        "Open changes": 6, "Past planned start, not started": 1,
        "Implemented, not closed after 5 days": 1}
    states, everything, late, waiting = (d.value for d in made.dataframe)
    assert dict(zip(states["state"], states["n"], strict=True)) == {
        "New": 1, "Assess": 0, "Authorize": 1, "Scheduled": 2,
        "Implement": 0, "Review": 2}
    # every open change, by state, then the longest in its state first,
    # then by id
    assert ids(everything) == ["CHG-NEW", "CHG-AUTH", "CHG-AHEAD", "CHG-LATE",
                               "CHG-STALE", "CHG-FRESH"]
    ages = dict(zip(ids(everything), everything["age_days"], strict=True))
    assert ages == pytest.approx({"CHG-NEW": 2, "CHG-AUTH": 4, "CHG-LATE": 3,
                                  "CHG-AHEAD": 3, "CHG-STALE": 7,
                                  "CHG-FRESH": 2})
    counted = dict(zip(ids(everything), everything["counted_from"],
                       strict=True))
    assert counted["CHG-AUTH"] == "creation (at most)"
    assert counted["CHG-STALE"] == "end of work"
    assert ids(late) == ["CHG-LATE"]
    assert late["days_past_planned_start"].tolist() == pytest.approx([1.0])
    assert ids(waiting) == ["CHG-STALE"]
    captions = " ".join(c.value for c in made.caption)
    assert "n = 6 open changes" in captions
    assert "as of 10 Mar 2026 12:00 UTC, the last load" in captions
    assert "2 closed or cancelled changes left out" in captions
    tabs = [t.label for t in made.tabs]
    assert tabs == ["Open changes (6)",
                    "Past planned start, not started (1)",
                    "Implemented, not closed after 5 days (1)"]


def test_n_days_is_a_choice_read_from_the_address(made):
    made.run()
    made.number_input(key="close_within_days").set_value(1).run()
    assert not made.exception
    assert metrics(made)["Implemented, not closed after 1 day"] == 2
    assert ids(made.dataframe[3].value) == ["CHG-STALE", "CHG-FRESH"]
    # a shared link carries the choice
    linked = AppTest.from_file(PAGE, default_timeout=60)
    linked.query_params["close_within_days"] = "6"
    linked.run()
    assert linked.number_input(key="close_within_days").value == 6
    assert metrics(linked)["Implemented, not closed after 6 days"] == 1


def test_picking_a_state_narrows_the_open_list(made):
    made.run()
    made.multiselect(key="backlog_states").select("review").run()
    assert not made.exception
    assert ids(made.dataframe[1].value) == ["CHG-STALE", "CHG-FRESH"]
    # the counts stay those of the whole backlog
    assert metrics(made)["Open changes"] == 6


def test_an_empty_open_list_says_why_it_is_empty(made):
    """The open list said 'No open change in the filters.' with no filter
    set (BPIC 2014: every change closed). It blames the filters only when
    some are set, the chosen states when they hold none, and else says
    every change loaded is closed or cancelled."""
    def said(app):  # the open list's, the first tab's
        return app.info[0].value

    with db.publish(config.DB_PATH) as con:
        con.execute("update changes set state = 'closed', ingested_batch_id = 2"
                    " where state not in ('closed', 'cancelled')")
    made.run()
    assert not made.exception and metrics(made)["Open changes"] == 0
    assert said(made) == ("No change is open: all 8 changes loaded are "
                          "closed or cancelled.")
    filtered = AppTest.from_file(PAGE, default_timeout=60)
    filtered.query_params["change_types"] = "normal"
    filtered.run()
    assert not filtered.exception
    assert said(filtered) == "No open change in the filters."


def test_states_holding_no_open_change_say_so(made):
    made.run()
    made.multiselect(key="backlog_states").select("assess").run()
    assert not made.exception and metrics(made)["Open changes"] == 6
    assert made.info[0].value == "No open change in the chosen states."


def test_the_sample_shows_the_three_lists_with_their_n(sample_db,
                                                       monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not app.exception
    with db.reading(sample_db) as con:
        rows = db.run(con, "open_change_backlog")
    shown = metrics(app)
    assert shown["Open changes"] == len(rows) > 0
    assert shown["Past planned start, not started"] == \
        rows["is_past_planned_start"].sum() > 0
    assert shown["Implemented, not closed after 5 days"] == \
        rows["is_unclosed_after_implementation"].sum() > 0
    states, everything, late, waiting = (d.value for d in app.dataframe)
    assert len(states) == 6 and states["n"].sum() == len(rows)
    assert len(everything) == len(rows)
    assert len(late) == shown["Past planned start, not started"]
    assert len(waiting) == shown["Implemented, not closed after 5 days"]
    open_definitions(app)
    labels = [e.label for e in app.expander]
    assert "How is this computed?" in labels
    assert any("Age in state" in m.value for m in app.markdown)
    assert any("sample data" in i.value for i in app.info)
    # every list can be downloaded
    assert len(app.get("download_button")) >= 8


def test_the_global_filters_narrow_the_backlog(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    with db.reading(sample_db) as con:
        rows = db.run(con, "open_change_backlog")
    team = rows["assignment_group"].dropna().iloc[0]
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.query_params["teams"] = team
    app.run()
    assert not app.exception
    assert metrics(app)["Open changes"] == \
        (rows["assignment_group"] == team).sum()
    assert set(app.dataframe[1].value["assignment_group"]) == {team}


def test_the_by_state_counts_have_thousands_separators(made):
    """The by-state table gave its counts a label (and help) of its own,
    which dropped the separators every other table's counts have (4958
    beside a card's 4,958): a count's label keeps its format, and a
    format of the page's own (days to one decimal) stays."""
    import json
    made.run()
    assert not made.exception
    by_state = next(d for d in made.dataframe if "state" in d.value.columns
                    and "n_age_upper_bound" in d.value.columns)
    columns = json.loads(by_state.proto.columns)
    for count in ("n", "n_age_upper_bound", "n_past_planned_start",
                  "n_unclosed_after_implementation"):
        assert columns[count]["type_config"]["format"] == "localized", count
    assert columns["n"]["label"] == "Open (n)"
    assert columns["median_age_days"]["type_config"]["format"] == "%.1f"


def test_the_by_state_headers_fit_and_say_the_rest_under_their_help(made):
    """At 1280 px the by-state table's last header read 'Not closed after
    5' (an application owner's walkthrough): its two long headers are
    short, with what they count in their help."""
    import json
    made.run()
    assert not made.exception
    by_state = next(d for d in made.dataframe if "state" in d.value.columns
                    and "n_age_upper_bound" in d.value.columns)
    columns = json.loads(by_state.proto.columns)
    late, unclosed = (columns[c] for c in (
        "n_past_planned_start", "n_unclosed_after_implementation"))
    assert (late["label"], late["help"]) == (
        "Late start (n)", "Past their planned start, not started")
    assert (unclosed["label"], unclosed["help"]) == (
        "Unclosed after 5 days (n)", "Implemented: their work ended more "
        "than 5 days ago, and not closed")


def _backlog_of(path: Path, changes: list[dict]):
    """The page on a published database of these changes, loaded 10 Mar
    12:00."""
    with db.publish(path) as con:
        insert(con, "ingest_batches", [{
            "batch_id": 1, "source": "csv", "entity": "changes",
            "started_at": "2026-03-10 11:59Z",
            "finished_at": "2026-03-10 12:00Z", "status": "succeeded"}])
        insert(con, "changes", changes)
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


@pytest.mark.parametrize("k", [1, 2])
def test_counts_of_one_read_right_and_counts_of_two_stay_plural(
        tmp_path, monkeypatch, k):
    """With one open change the lists read '1 of n = 1 open changes', and
    one past its planned start '1 is past their planned start', one waiting
    to be closed '1 ended their work ... and they are still not closed'.
    Each reads right at one, and at two as it did."""
    from tests.wording import page_texts, slips_at_one
    late = [change(f"L{i}", "scheduled", approved_at="2026-03-07 12:00Z",
                   planned_start_at="2026-03-09 12:00Z")
            for i in range(1, k + 1)]
    stale = [change(f"S{i}", "review", actual_start_at="2026-03-02 12:00Z",
                    actual_end_at="2026-03-03 12:00Z")
             for i in range(1, k + 1)]
    its = "its" if k == 1 else "their"
    open_k = f"n = {k} open change{'s' * (k > 1)}"
    for name, given, expected in (
            ("late", late, [
                f"{k} {'is' if k == 1 else 'are'} past {its} planned start "
                "and not started and 0 ended their work more than 5 days ago",
                f"{k} of {open_k}: planned to start before the as-of time "
                f"with no actual start recorded, whatever {its} state;"]),
            ("stale", stale, [
                f"0 are past their planned start and not started and {k} "
                f"ended {its} work more than 5 days ago",
                f"{k} of {open_k}: {its} work ended more than 5 days (of "
                "24 hours) before the as-of time and "
                f"{'it is' if k == 1 else 'they are'} still not closed;"])):
        monkeypatch.setattr(config, "DB_PATH", tmp_path / f"{name}.duckdb")
        app = _backlog_of(tmp_path / f"{name}.duckdb", given)
        texts = page_texts(app)
        said = " | ".join(texts)
        for text in [*expected, f"{k} of {open_k}; by state"]:
            assert text in said, (text, texts)
        if k == 1:
            assert slips_at_one(texts) == []
