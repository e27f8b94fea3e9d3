"""Every page renders on the sample database; filters change the numbers."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "views").glob("*.py"))


@pytest.fixture
def app(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def test_every_page_is_in_the_navigation():
    app_py = (ROOT / "app.py").read_text()
    assert len(PAGES) == 6
    for page in PAGES:
        assert f'st.Page("{page}", title=' in app_py


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception


def test_overview_shows_the_eight_headlines_with_their_n(app):
    app.query_params["period"] = "last_365"
    app.run()
    labels = [m.label for m in app.metric]
    assert labels == ["Change success rate", "Change failure rate",
                      "Emergency ratio", "Deployments per day",
                      "Median release interval", "On-time release rate",
                      "Environment utilisation", "Conflicts ahead"]
    assert all(m.value != "n/a" for m in app.metric), [m.value for m in app.metric]
    captions = " ".join(c.value for c in app.caption)
    assert "n = " in captions and "implemented changes" in captions
    assert captions.count("n = ") >= 7  # every rate and count shows its n
    assert "Data as of" in captions
    assert any("sample data" in i.value for i in app.info)


def test_changing_the_period_changes_the_numbers(app):
    app.run()
    before = [(m.value, m.delta) for m in app.metric]
    app.selectbox(key="period").select("last_365").run()
    assert not app.exception
    after = [(m.value, m.delta) for m in app.metric]
    assert after != before
    assert app.query_params["period"] == ["last_365"] or \
        app.query_params["period"] == "last_365"


def test_the_period_is_read_back_from_the_url(app):
    app.query_params["period"] = "ytd"
    app.run()
    assert app.selectbox(key="period").value == "ytd"


def test_a_missing_database_says_how_to_build_one(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "DB_PATH", tmp_path / "none.duckdb")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "python -m ingest --sample" in app.warning[0].value


def test_global_filters_come_from_the_url_and_narrow_the_numbers(
        sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)

    def first_caption(url):
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.query_params.update(url)
        app.run()
        assert not app.exception
        return app, next(c.value for c in app.caption
                         if c.value.startswith("n = "))

    _, n_all = first_caption({"period": "last_365"})
    app, n_emergency = first_caption({"period": "last_365",
                                      "change_types": "emergency"})
    assert app.multiselect(key="filter-change_types").value == ["emergency"]
    assert n_emergency != n_all
    assert app.metric[2].value == "100.0%"  # only emergencies are left
    assert any("not filtered by change type" in c.value for c in app.caption)


def test_reset_clears_the_filters(app):
    app.query_params["teams"] = "nobody-by-this-name"
    app.query_params["change_types"] = "normal"
    app.run()
    assert app.multiselect(key="filter-change_types").value == ["normal"]
    app.button(key="reset-filters").click().run()
    assert app.multiselect(key="filter-change_types").value == []
    assert "change_types" not in app.query_params


def test_definitions_come_from_the_metrics_document():
    from changeboard import ui
    text = ui.definition_text("change_success_rate")
    assert text.startswith("Of the changes implemented in the period")
    assert "## " not in text
    assert ui.definition_text("no_such_metric") == ""


def test_overview_explains_each_headline(app):
    app.run()
    labels = [e.label for e in app.expander]
    assert "How is change success rate computed?" in labels
    assert any("did not fail" in m.value for m in app.markdown)


def test_filters_and_period_survive_a_page_switch(app):
    """A page link carries no query string: the session's choices do."""
    app.run()
    team = app.multiselect(key="filter-teams").options[0]
    app.multiselect(key="filter-teams").select(team).run()
    app.selectbox(key="period").select("last_365").run()
    n_overview = next(c.value for c in app.caption if c.value.startswith(
        "n = "))
    app.query_params.clear()  # what following a page link does to the URL
    app.switch_page("views/changes.py").run()
    assert not app.exception
    assert app.multiselect(key="filter-teams").value == [team]
    assert app.selectbox(key="period").value == "last_365"
    assert app.query_params["teams"] in (team, [team])
    assert app.query_params["period"] in ("last_365", ["last_365"])
    app.query_params.clear()
    app.switch_page("views/cab.py").run()  # a page without a period
    assert app.multiselect(key="filter-teams").value == [team]
    app.query_params.clear()
    app.switch_page("views/overview.py").run()
    assert app.selectbox(key="period").value == "last_365"
    assert next(c.value for c in app.caption if c.value.startswith(
        "n = ")) == n_overview


def test_a_shared_link_wins_over_the_session(app):
    app.run()
    app.selectbox(key="period").select("last_365").run()
    app.query_params["period"] = "ytd"
    app.switch_page("views/changes.py").run()
    assert app.selectbox(key="period").value == "ytd"
