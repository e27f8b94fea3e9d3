"""The Release readiness page on the sample database: AppTest."""
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db, ui, words
from reports import cab

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def page(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    return AppTest.from_file(str(ROOT / "views" / "readiness.py"),
                             default_timeout=120)


def page_on_a_copy(sample_db, tmp_path, monkeypatch) -> tuple:
    """The page on a copy of the sample database (a test that writes to
    it), not yet run, and the copy's path."""
    import shutil
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    monkeypatch.setattr(config, "DB_PATH", copy)
    return AppTest.from_file(str(ROOT / "views" / "readiness.py"),
                             default_timeout=120), copy


def releases_shown(app) -> "object":
    """The readiness table as drawn, with each row's release_id read from
    its Release cell ('Name (id)', or the id of a release with no name)."""
    table = app.dataframe[0].value
    said = table["release"].str.extract(r"\(([^()]*)\)$")[0]
    return table.assign(release_id=said.fillna(table["release"]))


def test_the_page_shows_every_status_with_its_n(page):
    page.run()
    assert not page.exception
    counts = {m.label.split(" ", 1)[1]: int(m.value.replace(",", ""))
              for m in page.metric}
    assert counts["Blocked"] > 0 and counts["At risk"] > 0 and \
        counts["Ready"] > 0
    table = releases_shown(page)
    statuses = {s for (s,) in table["readiness"]}
    assert statuses == {"blocked", "at_risk", "ready"}
    assert len(table) == counts["Blocked"] + counts["At risk"] + \
        counts["Ready"]
    # soonest go-live first, and the n of the population said
    assert table["days_to_go_live"].is_monotonic_increasing
    caption = page.caption[0].value
    assert f"n = {len(table):,} releases" in caption
    reasons = "; ".join(table["reasons"])
    assert "awaiting CAB approval" in reasons and "change rejected" in reasons


def test_selecting_a_release_lists_its_changes_and_phases(page):
    from datetime import UTC, datetime
    page.run()
    # an at-risk release whose changes (more than one) all await the CAB,
    # going live after the next meeting, its remaining phases booked (the
    # sample is laid out from today: which one varies by day)
    with db.reading(config.DB_PATH) as con:
        loaded = {"as_of": str(db.run(con, "data_status")["as_of"].iloc[0])}
        rows = db.run(con, "release_readiness", horizon_days=28, **loaded)
    meeting = cab.next_meeting(datetime.now(UTC))
    row = rows[(rows["status"] != "ready") & (rows["n_changes"] > 1)
               & (rows["n_awaiting"] == rows["n_changes"])
               & (rows["n_phases_uncovered"] == 0)
               & (rows["planned_release_at"] > meeting)].iloc[0]
    page.selectbox(key="release").select(row["release_id"]).run()
    assert not page.exception
    changes, phases = page.dataframe[1].value, page.dataframe[2].value
    assert len(changes) == row["n_changes"]
    assert set(changes["authorisation"]) == {"Awaiting"}
    assert set(changes["next_cab"]) != {""}  # the meeting before go-live
    # a CAB date reads as the pages write a day (04 Dec 2026), not
    # 2026-12-04
    import json
    config_of = json.loads(page.dataframe[1].proto.columns)
    assert next(c for c in config_of.values()
                if c.get("label") == "CAB date")["type_config"][
        "format"] == "DD MMM YYYY"
    # headed as every page heads a change's id, type and team
    labels = {c.get("label") for c in config_of.values()}
    assert {"Change", "Type", "Team"} <= labels
    assert not {"Change id", "Change type", "Assignment group"} & labels
    # the phases in words, as the release timeline names them
    assert "Production" in set(phases["phase"]) <= set(ui.PHASES.values())
    # covered as a word, as the other columns read
    assert set(phases["covered"]) == {"Yes"}
    text = " ".join(m.value for m in page.markdown)
    assert {"at_risk": "At risk", "blocked": "Blocked"}[row["status"]] \
        in text
    assert f"{row['n_changes']} changes awaiting CAB approval" in text
    assert "cab?meeting=" in text  # run alone: by its address


def test_the_cab_link_opens_in_this_session_with_the_filters(sample_db,
                                                           monkeypatch):
    """'Open the CAB pack of that meeting' opened a new tab: a new session,
    without the filters (a Payments Gateway release read every team's 29
    changes). It is a link to the page in this session, and carries the
    filters in use."""
    from tests.clicks import open_linked
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    with db.reading(sample_db) as con:
        loaded = {"as_of": str(db.run(con, "data_status")["as_of"].iloc[0])}
        rows = db.run(con, "release_readiness", horizon_days=28, **loaded)
    # the application of the last release to go live with changes waiting
    # for the CAB (the sample is laid out from today: which one varies)
    waiting = rows[rows["n_awaiting"] + rows["n_not_requested"] > 0] \
        .sort_values("days_to_go_live")
    app_id = waiting["application_id"].iloc[-1]
    app = open_linked("readiness", application_ids=app_id)
    for release_id in reversed(list(releases_shown(app)["release_id"])):
        app.selectbox(key="release").select(release_id).run()
        if app.get("page_link"):
            break
    assert not app.exception
    [link] = app.get("page_link")
    assert link.proto.label == "Open the CAB pack of that meeting"
    assert link.proto.page.endswith("cab.py") or link.proto.page == "cab"
    assert f"application_ids={app_id}" in link.proto.query_string
    assert "meeting=20" in link.proto.query_string


def test_a_blocked_release_says_which_freeze_hits_it(page):
    page.run()
    table = releases_shown(page)
    frozen = table[table["reasons"].str.contains("Go-live in the")]
    page.selectbox(key="release").select(frozen["release_id"].iloc[0]).run()
    assert not page.exception
    assert "The go-live falls in the" in page.error[0].value


def test_a_shorter_horizon_keeps_the_sooner_releases(page):
    page.run()
    everything = releases_shown(page)
    page.selectbox(key="horizon_days").select(7).run()
    assert not page.exception
    week = releases_shown(page) if len(page.dataframe) else None
    if week is None:
        assert "next 7 days" in page.info[-1].value
    else:
        assert (week["days_to_go_live"] < 7).all()
        assert len(week) < len(everything)


def test_the_application_filter_keeps_its_releases(page, sample_db):
    with db.reading(sample_db) as con:
        rows = db.run(con, "release_readiness")
    app_id, name = rows[["application_id", "application_name"]].dropna(
    ).iloc[-1]
    page.query_params["application_ids"] = app_id
    page.run()
    assert not page.exception
    shown = releases_shown(page)
    assert set(shown["application_name"]) == {name}
    assert len(shown) == (rows["application_id"] == app_id).sum()


def test_names_from_the_data_are_plain_text_and_an_unnamed_window_its_id(
        sample_db, tmp_path, monkeypatch):
    """A release name is data, not Markdown (a link or a formula in it was
    drawn as one); a freeze window without a name is named by its id, not
    by an empty '****'."""
    import re
    app, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    app.run()
    table = releases_shown(app)
    frozen = table[table["reasons"].str.contains("Go-live in the")]
    release_id = frozen["release_id"].iloc[0]
    name = "Pay [portal](https://evil.example) $5$"
    with db.publish(copy) as con:  # written as a load writes it
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        con.execute("update releases set name = $n, ingested_batch_id = $b "
                    "where release_id = $r",
                    {"n": name, "b": batch, "r": release_id})
        con.execute("update blackout_windows set name = null, "
                    "ingested_batch_id = $b", {"b": batch})
    app = AppTest.from_file(str(ROOT / "views" / "readiness.py"),
                            default_timeout=120)
    app.run()
    app.selectbox(key="release").select(release_id).run()
    assert not app.exception
    heading = app.header[0].value
    assert "evil.example" in heading
    assert not re.search(r"(?<!\\)\[|(?<!\\)\$", heading)
    reason = next(r for r in releases_shown(app).set_index("release_id").loc[
        release_id, "reasons"].split("; ") if "Go-live in the" in r)
    window_id = re.search(r"\(([^()]+)\)$", reason).group(1)
    assert reason.endswith(f" window ({window_id})") and "  " not in reason
    assert f"**{window_id}**" in app.error[0].value
    assert "****" not in app.error[0].value


def test_changes_still_waiting_agree_with_their_count(page):
    """Two changes waiting for the CAB meeting before go-live read '2 of n
    = 2 changes still need its decision': 'need their decision'; one
    'needs its decision' (or, with no meeting before go-live, 'needs a
    decision'). Every release with changes waiting says how many of how
    many, agreeing with each count (the sample is laid out from today: which
    releases wait, and whether a meeting comes first, varies by day)."""
    import re

    from tests.wording import page_texts, slips_at_one
    page.run()
    with db.reading(config.DB_PATH) as con:
        loaded = {"as_of": str(db.run(con, "data_status")["as_of"].iloc[0])}
        rows = db.run(con, "release_readiness", horizon_days=28, **loaded)
    rows = rows[rows["n_awaiting"] + rows["n_not_requested"] > 0]
    assert len(rows)
    counts = set()
    for row in rows.itertuples():
        page.selectbox(key="release").select(row.release_id).run()
        assert not page.exception
        [said] = [t for t in page_texts(page) if " still need" in t]
        assert slips_at_one([said]) == [], said
        waiting = row.n_awaiting + row.n_not_requested
        counts.add(min(waiting, 2))
        changes = f"{row.n_changes:,} change" + "s" * (row.n_changes != 1)
        before = re.search(r"· ([\d,]+) of n = (.+) still (needs its|need "
                           r"their) decision\.$", said)
        if before:
            assert before.groups() == (
                f"{waiting:,}", changes,
                "needs its" if waiting == 1 else "need their"), said
        else:
            assert said.endswith(
                f"{waiting:,} change{'s' * (waiting != 1)} still "
                f"need{'s' * (waiting == 1)} a decision."), said
    assert counts == {1, 2}, counts  # one waiting and several, said


def test_a_release_lists_its_phases_behind_plan_apart(page):
    """Readiness said 'Phases running behind plan (up to N days: SIT)' but
    its detail listed only the remaining phases, without SIT: the phases
    behind plan (ended late, or past their planned end and not ended) are
    listed above them, each with how late; the one the reason names is
    among them, as late as it says."""
    import re

    from changeboard import ui
    page.run()
    with db.reading(config.DB_PATH) as con:
        # as the page judges: at the last load
        loaded = {"as_of": str(db.run(con, "data_status")["as_of"].iloc[0])}
        phases = db.run(con, "release_readiness_phases", horizon_days=28,
                        **loaded)
        found = db.run(con, "release_readiness", horizon_days=28, **loaded)
    late = phases[phases["is_late"]]
    assert len(late)
    # the sample is laid out from today: a release with a phase running late
    # beside one that ended late if one has both, else one running late,
    # else one whose late phases have all ended
    has = late.assign(ended=late["actual_end_at"].notna()) \
        .groupby("release_id")["ended"].agg(["any", "all"])
    release_id = has.assign(
        rank=has["any"].astype(int) - 2 * has["all"].astype(int)) \
        .sort_values("rank", ascending=False, kind="stable").index[0]
    mine = late[late["release_id"] == release_id]
    page.selectbox(key="release").select(release_id).run()
    assert not page.exception
    assert f"**Behind plan ({len(mine)}): ended late, or past their planned " \
        "end and not ended**" in [m.value for m in page.markdown]
    shown = next(d.value for d in page.dataframe
                 if "late_by" in d.value.columns)
    assert list(shown["phase"]) == [ui.phase_word(p) for p in mine["phase"]]
    # in the unit the reason writes it (the table read '0.4 h' under
    # 'up to 22 min: SIT'): days from a day, then hours, then minutes
    assert list(shown["late_by"]) == [
        f"{d:.1f} days" if d >= 1 else f"{d * 24:.1f} h" if d * 24 >= 1
        else f"{math.ceil(d * 1440)} min" for d in mine["late_days"]]
    assert list(shown["ended"]) == [
        "not ended" if pd.isna(e) else cab.when(e)
        for e in mine["actual_end_at"]]
    # every release's slip is the latest of its phases behind plan, and the
    # reason names that phase, which the table lists
    slips = late.groupby("release_id")["late_days"].max()
    assert found.set_index("release_id").loc[slips.index, "slip_days"] \
        .to_numpy() == pytest.approx(slips.to_numpy())
    found_reasons = found.set_index("release_id")["reasons"]
    # a phase still running past its planned end is named first, whichever
    # ended later than planned (4ea1a07)
    running = mine[mine["actual_end_at"].isna()]
    word, pick = ("running", running) if len(running) else ("ended", mine)
    worst = pick.loc[pick["late_days"].idxmax()]
    said = " ".join(m.value for m in page.markdown).replace("\\", "")
    found = re.search(word + r" behind plan \(up to ([\d.]+ (days|h|min)): "
                      + re.escape(ui.phase_word(worst["phase"])) + r"\)",
                      said)
    assert found, said
    # every release's reason names its phase by that rule: the furthest
    # behind of those running late, else of those that ended late
    for rid, rows in late.groupby("release_id"):
        pick = rows[rows["actual_end_at"].isna()]
        word = "running" if len(pick) else "ended"
        pick = pick if len(pick) else rows
        named = pick.loc[pick["late_days"].idxmax(), "phase"]
        reasons = found_reasons.loc[rid]
        assert f"phases {word} behind plan (up to " in reasons, reasons
        assert reasons.split(f"phases {word} behind plan (up to ")[1] \
            .split(")")[0].endswith(f": {named}"), (rid, reasons)
    # and the table says the worst phase's lateness as the reason does
    assert shown.loc[list(mine.index).index(worst.name), "late_by"] == \
        found.group(1)


def test_readiness_is_judged_at_the_last_load_as_the_cab_pack_judges_it(
        sample_db, tmp_path, monkeypatch):
    """Readiness judged the releases at the wall clock, the CAB pack's
    Releases going live at the last load: the same release read 'up to
    1.3 days: SIT' on one and 1.1 on the other at the same moment. The
    page judges as the data stands at its last load, as the pack does,
    and says so; here a load two days old."""
    from datetime import UTC, datetime, timedelta
    page, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    with db.publish(copy) as con:
        con.execute("update ingest_batches set finished_at = finished_at - "
                    "interval 2 day, started_at = started_at - interval 2 day")
        loaded = db.run(con, "data_status")["as_of"].iloc[0]
    assert datetime.now(UTC) - loaded.to_pydatetime() > timedelta(days=2)
    page.run()
    assert not page.exception
    caption = next(c.value for c in page.caption if c.value.startswith("n = "))
    assert f"planned to go live from {cab.when(loaded)}" in caption
    assert "judged as the data stands at its last load" in caption
    shown = releases_shown(page)
    with db.reading(copy) as con:
        judged = db.run(con, "release_readiness", horizon_days=28,
                        as_of=str(loaded))
    assert list(shown["release_id"]) == list(judged["release_id"])
    # the CAB pack of the next meeting judges its releases the same way
    built = cab.build_pack(copy, cab.next_meeting())
    both = built.releases.merge(judged, on="release_id",
                                suffixes=("_pack", "_page"))
    assert len(both)
    assert both["slip_days_pack"].to_numpy() == pytest.approx(
        both["slip_days_page"].to_numpy())
    assert list(both["status_pack"]) == list(both["status_page"])


def test_reasons_read_as_sentences_naming_the_phases_in_words(page):
    """The reasons read as the query writes them: 'go-live in the blackout
    window ...', '1 remaining phase without an approved or pending booking
    (uat)', the phase by its code where every other view says UAT. Each
    reason starts as a sentence and names the phases not booked in words,
    on the table and in the release's detail."""
    from changeboard.words import phase_word
    page.run()
    table = releases_shown(page)
    said = [r for cell in table["reasons"] for r in cell.split("; ")]
    assert said and all(r[0].isupper() or r[0].isdigit() or r == "—"
                        for r in said), said
    unbooked = table[table["reasons"].str.contains("pending booking (",
                                                   regex=False)]
    assert len(unbooked)
    with db.reading(config.DB_PATH) as con:
        rows = db.run(con, "release_readiness", horizon_days=28)
    phases = dict(zip(rows["release_id"], rows["uncovered_phases"],
                      strict=True))
    for release_id, reasons in zip(unbooked["release_id"],
                                   unbooked["reasons"], strict=True):
        codes = phases[release_id].split(", ")
        named = ", ".join(phase_word(p) for p in codes)
        assert f"booking ({named})" in reasons, (reasons, codes)
    release_id = unbooked["release_id"].iloc[0]
    page.selectbox(key="release").select(release_id).run()
    items = next(m.value for m in page.markdown
                 if "without an approved or pending" in m.value)
    codes = phases[release_id].split(", ")
    assert ", ".join(phase_word(p) for p in codes) in items
    assert all(line.startswith("- ") and (line[2].isupper() or
                                          line[2].isdigit())
               for line in items.splitlines()), items


def test_reasons_said_one_by_one():
    from reports.text import reasons_said
    assert reasons_said(
        "go-live in the freeze window \"Year end\" (BW-1); 2 remaining "
        "phases without an approved or pending booking (perf, sit); "
        "phases running behind plan (up to 8.6 days: pre_prod)") == [
        "Go-live in the freeze window \"Year end\" (BW-1)",
        "2 remaining phases without an approved or pending booking "
        "(Performance, SIT)",
        "Phases running behind plan (up to 8.6 days: Pre-production)"]
    assert reasons_said("") == [] and reasons_said(None) == []
    # a phase named in the data as the release's plan names it
    assert reasons_said("1 remaining phase without an approved or pending "
                        "booking (cut_over)") == [
        "1 remaining phase without an approved or pending booking (Cut over)"]
    # the phases with only rejected bookings are named too (they were not)
    assert reasons_said("1 remaining phase has only rejected bookings "
                        "(prod); 2 remaining phases without an approved or "
                        "pending booking (prod, uat)") == [
        "1 remaining phase has only rejected bookings (Production)",
        "2 remaining phases without an approved or pending booking "
        "(Production, UAT)"]


@pytest.mark.parametrize("show, status", [("Blocked", "blocked"),
                                          ("At risk", "at_risk")])
def test_show_keeps_the_releases_of_one_status(page, show, status):
    """A release manager with hundreds of releases ahead (515 at 1M
    changes, 242 blocked) had one long list to scroll: "Show" keeps the
    releases of one status, says how many of n, and is kept in the URL."""
    page.run()
    everything = releases_shown(page)
    n = {m.label.split(" ", 1)[1]: int(m.value.replace(",", ""))
         for m in page.metric}
    page.segmented_control(key="readiness_show").set_value(show).run()
    assert not page.exception
    kept = releases_shown(page)
    assert len(kept) == n[show] and 0 < len(kept) < len(everything)
    assert {s for cell in kept["readiness"] for s in cell} == {status}
    assert list(kept["release_id"]) == [
        r for r, cell in zip(everything["release_id"],
                             everything["readiness"], strict=True)
        if cell == [status]]
    assert any(c.value.startswith(f"{len(kept):,} of n = {len(everything):,}"
                                  f" releases: the {show.lower()} ones")
               for c in page.caption)
    # a shared link opens on the same releases
    linked = AppTest.from_file(str(ROOT / "views" / "readiness.py"),
                               default_timeout=120)
    linked.query_params["readiness_show"] = show
    linked.run()
    assert linked.segmented_control(key="readiness_show").value == show
    assert list(releases_shown(linked)["release_id"]) == list(
        kept["release_id"])


def test_show_of_a_status_no_release_has_says_so(sample_db, tmp_path,
                                                monkeypatch):
    """With no change linked to any release, every release is at risk
    ('No change linked') or blocked: Ready says none is, with no table."""
    app, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    with db.publish(copy) as con:  # written as a load writes it
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        con.execute("update changes set release_id = null, "
                    "ingested_batch_id = $b", {"b": batch})
    app.run()
    assert {m.label.split(" ", 1)[1]: m.value for m in app.metric}[
        "Ready"] == "0"
    app.segmented_control(key="readiness_show").set_value("Ready").run()
    assert not app.exception and not app.dataframe
    assert app.info[-1].value == ("No release going live in the next 28 "
                                  "days is ready.")


@pytest.mark.parametrize("later_days, said", [
    (None, "No open release is planned to go live from {as_of} on (every "
           "later one is released or cancelled), so a longer horizon would "
           "not find one."),
    (40, "No release is planned to go live in the next 7 days; the next is "
         "planned for {next} (40 days ahead): choose 56 days.")])
def test_an_empty_horizon_says_whether_a_longer_one_would_help(
        sample_db, tmp_path, monkeypatch, later_days, said):
    """Real data whose releases are all released (endoflife.date): 'No
    release is planned to go live in the next 28 days — choose a longer
    horizon', which could not help. It says so, or when the next open
    release goes live and the horizon that reaches it."""
    from datetime import UTC, datetime, timedelta

    from reports import cab
    app, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    at = None if later_days is None else now + timedelta(days=later_days)
    with db.publish(copy) as con:
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        if at is None:
            con.execute("update releases set status = 'released', "
                        "ingested_batch_id = $b", {"b": batch})
        else:
            con.execute("update releases set planned_release_at = $at, "
                        "ingested_batch_id = $b where status not in "
                        "('released', 'cancelled') and planned_release_at "
                        ">= $now", {"at": at, "b": batch, "now": now})
        # judged at the last load, as the CAB pack judges
        loaded = db.run(con, "data_status")["as_of"].iloc[0]
    app.query_params["horizon_days"] = "7"
    app.run()
    assert not app.exception
    assert [i.value for i in app.info] == [said.format(
        as_of=cab.when(loaded), next=None if at is None else cab.when(at))]


def test_a_decision_recorded_here_shows_beside_the_sources_approval(
        sample_db, tmp_path, monkeypatch):
    """After the CAB approved a release's awaiting change on the CAB page,
    Readiness still said '1 of n = 1 change still needs its decision' with
    nothing of the decision: the authorisation is the source's, and the
    decision recorded here now shows beside it, and the caption says so."""
    from datetime import UTC, datetime

    from changeboard import auth, decisions
    from tests.wording import page_texts
    page, path = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    page.run()
    # a release with one change waiting for approval, awaiting it or not
    # yet submitted (the sample is laid out from today: which one varies)
    with db.reading(path) as con:
        loaded = {"as_of": str(db.run(con, "data_status")["as_of"].iloc[0])}
        rows = db.run(con, "release_readiness", horizon_days=28, **loaded)
    release_id = rows[rows["n_awaiting"] + rows["n_not_requested"] == 1][
        "release_id"].iloc[0]
    page.selectbox(key="release").select(release_id).run()
    changes = next(d.value for d in page.dataframe
                   if "authorisation" in d.value.columns)
    assert "cab_decision" not in changes.columns
    assert "cab_note" not in changes.columns
    waiting = list(changes.loc[changes["authorisation"].astype(str).str
                               .lower().str.replace("_", " ").isin(
                                   ["awaiting", "not requested"]),
                               "change_id"])
    assert len(waiting) == 1
    meeting = cab.next_meeting(datetime.now(UTC))
    decisions.record(path, auth.single_user(), f"{meeting:%Y-%m-%d}",
                     waiting[0], "approved_with_conditions", "after the freeze")
    page.run()
    assert not page.exception
    changes = next(d.value for d in page.dataframe
                   if "cab_decision" in d.value.columns)
    said = dict(zip(changes["change_id"], changes["cab_decision"],
                    strict=True))
    assert said[waiting[0]] == f"Approved with conditions ({cab.when(meeting)})"
    assert cab.when(meeting).endswith(" 10:00")  # 'Tue 08 Dec 2026 10:00'
    # and its conditions, which the release manager acts on (a CAB chair's
    # walkthrough found them nowhere on the page)
    assert dict(zip(changes["change_id"], changes["cab_note"], strict=True))[
        waiting[0]] == "after the freeze"
    # the decision whole: 'Approved with conditions (Tue 08 Dec 2026 10:'
    # was cut at the column's edge
    shown = next(d for d in page.dataframe
                 if "cab_decision" in d.value.columns)
    width = __import__("json").loads(shown.proto.columns)["cab_decision"][
        "width"]
    assert width == ui.text_width([said[waiting[0]]], 120, 999)
    # and that the status still counts the source's approval (its reason
    # 'awaiting CAB approval' beside a recorded rejection read as wrong)
    # and 'still needs its decision' no longer counts it
    assert any(t.endswith("every change awaiting approval has a decision "
                          "recorded on the CAB page. The CAB's decision on "
                          "1 change awaiting approval in the source is "
                          "recorded on the CAB page (CAB decision column), "
                          "not yet in the source: the "
                          "status and its reasons count the source's "
                          "approval until a load brings the decision.")
               for t in page_texts(page))
    assert not any(" still need" in t and "of n = 1 change" in t
                   for t in page_texts(page))


def test_a_horizon_from_the_address_is_taken_without_a_warning(
        page, monkeypatch, caplog):
    """?horizon_days= is set in Session State before the box is drawn; with
    28 days also passed as the box's default, every server logged
    Streamlit's 'created with a default value but also had its value set
    via the Session State API', with a stack."""
    import logging

    from streamlit.elements.lib import policies
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    page.query_params["horizon_days"] = "14"
    with caplog.at_level(logging.WARNING):
        page.run()
    assert not page.exception
    assert page.selectbox(key="horizon_days").value == 14
    assert not [r for r in caplog.records
                if "Session State API" in r.getMessage()]
    page.selectbox(key="horizon_days").select(56).run()
    assert page.selectbox(key="horizon_days").value == 56


def test_releases_past_their_go_live_and_not_live_are_counted_not_lost(
        sample_db, tmp_path, monkeypatch):
    """A release whose planned go-live had passed and that was not live
    left the page with nothing said: out of the horizon, not 'released or
    cancelled left out'. A release manager's most urgent release is now
    counted on a card and in the caption (not judged), and a team's filter
    keeps its own."""
    page, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    with db.publish(copy) as con:
        as_of = db.run(con, "data_status")["as_of"].iloc[0]
        before = db.run(con, "release_readiness_summary",
                        as_of=str(as_of)).iloc[0]["n_overdue"]
        late, grouping = con.execute(
            "select release_id, application_id from releases where status "
            "not in ('released', 'cancelled') and planned_release_at > ? "
            "and release_type <> 'enterprise' order by release_id limit 2",
            [as_of]).fetchall()
        con.execute("update releases set planned_release_at = ? - interval "
                    "3 day, status = 'in_progress' where release_id in (?, ?)",
                    [as_of, late[0], grouping[0]])
        # an enterprise release (a grouping of others), which the Releases
        # page's Overdue, not live leaves out (124 there beside 128 here at
        # a million changes): said apart
        con.execute("update releases set release_type = 'enterprise' "
                    "where release_id = ?", [grouping[0]])
    page.run()
    assert not page.exception
    shown = {m.label: m.value for m in page.metric}
    assert shown["Overdue, not live"] == f"{before + 1:,}"
    assert late[0] not in set(releases_shown(page)["release_id"])
    caption = next(c.value for c in page.caption if c.value.startswith("n = "))
    assert (f"{before + 1:,} open release{'s' if before else ''} past "
            f"{'their' if before else 'its'} planned go-live, not live, not "
            "judged (and 1 enterprise release left out, as on the Releases "
            "page) · ") \
        in caption
    with db.reading(copy) as con:
        mine = db.run(con, "release_readiness_summary", as_of=str(as_of),
                      application_ids=[late[1]]).iloc[0]["n_overdue"]
        none = db.run(con, "release_readiness_summary", as_of=str(as_of),
                      application_ids=["no-such-app"]).iloc[0]["n_overdue"]
    assert mine >= 1 and none == 0


def test_the_file_says_the_reasons_as_the_table_does(page, monkeypatch):
    """The readiness table said '(Production)' and '... : SIT', its CSV
    '(prod)' and ': sit', the query's codes: the file now holds the
    table's words beside the query's own text (which the CLI gives)."""
    from changeboard import ui
    given = {}
    table = ui.table

    def kept(frame, name, *args, **kwargs):
        given[name] = kwargs.get("download")
        return table(frame, name, *args, **kwargs)

    monkeypatch.setattr(ui, "table", kept)
    page.run()
    assert not page.exception
    name = next(n for n in given if n.startswith("release-readiness"))
    listed, shown = given[name], releases_shown(page)
    columns = list(listed.columns)
    assert columns.index("reasons_in_words") == columns.index("reasons") + 1
    # as the table says them; empty where it shows '—', no rule fired
    assert list(listed["reasons_in_words"]) == [
        "" if r == cab.NO_REASONS else r for r in shown["reasons"]]
    words = "; ".join(listed["reasons_in_words"])
    assert "(prod" not in words and ": sit)" not in words
    assert "(Production" in words or "SIT)" in words


# the filter, and the SQL giving the change kept ($first) and the one left
# out ($other) values of their own ($release: their release's id)
LEFT_OUT = {
    "teams": ("update changes set assignment_group = case change_id "
              "when $first then 'Team A' else 'Team B' end, "
              "ingested_batch_id = $batch where change_id in ($first, $other)"
              ),
    # the pack reads the change's own environment's tier
    "tiers": ("update changes set environment_id = case change_id "
              "when $first then (select min(environment_id) from environments"
              " where tier = 'prod') else (select min(environment_id) from "
              "environments where tier = 'uat') end, ingested_batch_id = "
              "$batch where change_id in ($first, $other)"),
    # and its own application's portfolio (the release's application, in
    # the page's portfolio, keeps the release on it)
    "portfolios": ("update changes set application_id = case change_id "
                   "when $first then r.application_id else (select "
                   "min(o.application_id) from applications as o where "
                   "o.portfolio is distinct from a.portfolio) end, "
                   "ingested_batch_id = $batch from releases as r join "
                   "applications as a on r.application_id = a.application_id "
                   "where r.release_id = $release and changes.change_id in "
                   "($first, $other)"),
}
# each change's value of the filter, as the pack reads it
FILTER_VALUE = {
    "teams": "select assignment_group from changes where change_id = $c",
    "tiers": "select e.tier from changes as c join environments as e on "
             "c.environment_id = e.environment_id where c.change_id = $c",
    "portfolios": "select a.portfolio from changes as c join applications as"
                  " a on c.application_id = a.application_id where "
                  "c.change_id = $c",
}


@pytest.mark.parametrize("name", list(LEFT_OUT))
def test_the_cab_link_says_which_waiting_changes_its_filters_leave_out(
        sample_db, tmp_path, monkeypatch, name):
    """With a team chosen, the page said '2 of n = 2 changes still need
    their decision' and its link opened a pack filtered by that team,
    listing 1 of them: the other team's change was left out unsaid. The
    page now names what the filters leave out of the linked pack: by team,
    and by the tier and the portfolio of the change's own environment and
    application, as the pack reads them (those two were not said)."""
    from tests.clicks import open_linked
    _, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    with db.publish(copy) as con:
        status = db.run(con, "data_status")["as_of"].iloc[0]
        waiting = db.run(con, "release_readiness_changes",
                         as_of=status.isoformat(sep=" "))
        waiting = waiting[waiting["authorisation"] == "awaiting"]
        two = waiting.groupby("release_id")["change_id"].count()
        release_id = two[two > 1].index[0]
        first, other = waiting.loc[waiting["release_id"] == release_id,
                                   "change_id"].iloc[:2]
        # as a load writes them: under a new batch id (what tells a
        # publish the changes changed, so the sidebar offers the values)
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        given = {"first": first, "other": other, "batch": batch,
                 "release": release_id}
        con.execute(LEFT_OUT[name], {k: v for k, v in given.items()
                                     if f"${k}" in LEFT_OUT[name]})
        kept, out = (con.execute(FILTER_VALUE[name], {"c": c}).fetchone()[0]
                     for c in (first, other))
        assert kept and out and kept != out
        group = con.execute("select assignment_group from changes where "
                            "change_id = $c", {"c": other}).fetchone()[0]
    app = open_linked("readiness", **{name: kept}, release=release_id)
    assert not app.exception
    texts = [c.value for c in app.caption]
    if not app.get("page_link"):  # no meeting before its go-live today
        assert not any("leaves out" in t for t in texts)
        return
    [said] = [t for t in texts if "leaves out" in t]
    word = words.unapplied_filters((), {name: ["x"]})[0]
    assert said.startswith(f"The pack opens with the filters in use ({word}),"
                           " so it leaves out 1 of them: ")
    assert f"{other} ({ui.label_of(group)})" in said and first not in said


def test_a_go_live_minutes_away_reads_in_minutes(sample_db, tmp_path,
                                                 monkeypatch):
    """A release going live 14 minutes after the data's last load read
    'goes live ... (in 0.0 days)': minutes under an hour, hours under two
    days, days after."""
    page, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    with db.publish(copy) as con:
        as_of = db.run(con, "data_status")["as_of"].iloc[0]
        soon, later = [r for (r,) in con.execute(
            "select release_id from releases where status not in "
            "('released', 'cancelled') and planned_release_at > ? "
            "order by release_id limit 2", [as_of]).fetchall()]
        for release_id, gap in ((soon, "14 minute"), (later, "5 hour")):
            con.execute(f"update releases set planned_release_at = ? + "
                        f"interval {gap} where release_id = ?",
                        [as_of, release_id])
    page.run()
    said = {}
    for release_id in (soon, later):
        page.selectbox(key="release").select(release_id).run()
        assert not page.exception
        said[release_id] = next(m.value for m in page.markdown
                                if " · goes live " in m.value)
    assert "(in 14 min)" in said[soon], said[soon]
    assert "(in 5.0 h)" in said[later], said[later]
    # the go-live's zone is said beside it (a walkthrough: none was)
    assert re.search(r" · goes live \w{3} \d\d \w{3} \d{4} \d\d:\d\d UTC "
                     r"\(in 14 min\)", said[soon]), said[soon]


def test_a_change_not_awaiting_a_decision_has_no_next_cab(page):
    """'Next CAB before go-live' read as an empty text beside the CAB
    date's '–' for a standard change: no value, '–' as every empty cell."""
    page.run()
    for release_id in releases_shown(page)["release_id"]:
        page.selectbox(key="release").select(release_id).run()
        shown = next((d.value for d in page.dataframe
                      if "next_cab" in d.value.columns), None)
        if shown is None:
            continue
        assert "" not in set(shown["next_cab"]), release_id
        if (~shown["authorisation"].isin(["Awaiting", "Not requested"])
                ).any():
            assert shown["next_cab"].isna().any(), release_id
            return
    pytest.fail("no release shows a change not awaiting a decision")


def test_with_no_release_loaded_it_says_so_not_that_none_is_planned(
        sample_db, tmp_path, monkeypatch):
    """Change data alone (BPIC 2014): five cards of 0 and "No open release
    is planned to go live from ... so a longer horizon would not find one",
    which read as all clear. It says no release is loaded and what to
    load, as the Releases page does, and draws no card."""
    app, copy = page_on_a_copy(sample_db, tmp_path, monkeypatch)
    with db.publish(copy) as con:
        for table in ("environment_bookings", "release_phases",
                      "deployments", "releases"):
            con.execute(f"delete from {table}")  # noqa: S608 - our names
        con.execute("update changes set release_id = null")
    app.run()
    assert not app.exception
    assert [i.value for i in app.info][-1:] == [  # after the sample's
        "No releases are loaded, so no release can be judged ready: "
        + ui.load_hint("releases") + ", with their planned go-live; their "
        "phases (`release_phases.csv`) and bookings "
        "(`environment_bookings.csv`) tell whether each phase has an "
        "environment, and changes join a release by their release_id."]
    assert not app.metric and not app.dataframe


def test_a_row_is_as_tall_as_its_longest_reasons_wrapped():
    """A release's reasons, why it is blocked, were cut after 45
    characters ('... (B…'): the table's rows are tall enough to wrap the
    longest whole, at word boundaries, in its 420-pixel column (about 8
    pixels a character: 49 to a line), 19 pixels a line; one line's 35
    pixels when every reason fits on one."""
    assert ui.REASONS_WIDTH == 420
    one_line = "2 changes awaiting CAB approval"
    # 111 characters: 3 lines at word boundaries, where a count of
    # characters (111 / 49) said 2
    three = ("1 remaining phase has only rejected bookings (Performance); 1 "
             "remaining phase without an approved booking (UAT)")
    assert len(three) == 111
    assert ui.wrapped_row_height([one_line, "b"], 420) == 35
    assert ui.wrapped_row_height([], 420) == 35
    assert ui.wrapped_row_height([one_line, three], 420) == 16 + 19 * 3
    assert ui.wrapped_row_height(["word " * 1000], 420) == 16 + 19 * 5
    # two lines' 54 pixels: the grid wraps only rows taller than 64
    # (a release manager's walkthrough saw a release's name cut there)
    assert ui.wrapped_row_height([three[:80]], 420) == ui.WRAPPING_ROW == 65
    # wrapped as textwrap wraps words shorter than a line, without its cost
    import random
    import textwrap
    words = ["a", "phase", "remaining", "(Performance);", "booking", "UAT",
             '"Data', 'centre"', "(BW-0272)", "approved"]
    chosen = random.Random(3)
    for _ in range(500):
        text = " ".join(chosen.choice(words)
                        for _ in range(chosen.randint(1, 60)))
        for per_line in (20, 49):
            assert ui._wrapped_lines(text, per_line, 99) == len(
                textwrap.wrap(text, per_line, break_on_hyphens=False)), text


def test_the_table_wraps_every_reason_whole(page):
    page.run()
    assert not page.exception
    table = page.dataframe[0]
    reasons = table.value["reasons"]
    columns = __import__("json").loads(table.proto.columns)
    width = columns["reasons"]["width"]
    longest = max(len(r) for r in reasons)
    assert longest > (width - 24) // 8  # more than a line
    # as tall as the longest reasons or the longest release name need
    assert table.proto.row_height == max(
        ui.wrapped_row_height(reasons, width, ui.READ_LINES),
        ui.wrapped_row_height(table.value["release"],
                              columns["release"]["width"],
                              ui.READ_LINES)) > 35
    # within the lines a row may take (five cut a 91-day horizon's longest)
    assert ui._wrapped_lines(max(reasons, key=len), (width - 24) // 8,
                             99) < ui.READ_LINES


def test_its_files_are_named_with_the_horizons_days(page, monkeypatch):
    """The 28 days' download and the 7 days' were both named
    'release-readiness-2026-12-06.csv' (the day looked, not the rows'
    dates): each is named with the days its horizon meets, from the last
    load's day to its end's, as a table of other dates than the sidebar's
    is (environment_impact_matrix-2026-12-06-to-2027-06-05.csv); its About
    sheet still says the horizon as the page does."""
    import io

    import openpyxl
    from streamlit.delta_generator import DeltaGenerator
    offered = {}

    def button(self, label, data, file_name, *args, **kwargs):
        offered[file_name] = data
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    with db.reading(config.DB_PATH) as con:
        as_of = pd.Timestamp(db.run(con, "data_status")["as_of"].iloc[0])
    first = as_of.tz_convert(config.REPORTING_TZ)
    names = {}
    page.run()
    for days, show in ((28, "All"), (7, "All"), (28, "Blocked")):
        offered.clear()
        page.selectbox(key="horizon_days").select(days)
        page.segmented_control(key="readiness_show").set_value(show).run()
        assert not page.exception
        last = first + pd.Timedelta(days=days)  # its end, left out
        stem = "release-readiness" + ("-blocked" if show == "Blocked" else "")
        name = (f"{stem}-{first.date().isoformat()}-to-"
                f"{last.date().isoformat()}")
        assert f"{name}.csv" in offered, list(offered)
        names[days, show] = name
        about = dict(openpyxl.load_workbook(io.BytesIO(
            offered[f"{name}.xlsx"]()))["About"].iter_rows(values_only=True))
        assert about["Period"] == (f"releases going live in the {days} days "
                                   f"from {ui.instant(as_of)}, judged then")
    assert len(set(names.values())) == 3, names


def test_a_ready_releases_files_hold_no_reasons_not_a_dash(page,
                                                         monkeypatch):
    """A ready release (REL-00062 and 63 in the sample) had '—' in its
    CSV's and XLSX's reasons_in_words, beside an empty reasons, where the
    CLI's CSV is empty: a value where there is none. The files hold it
    empty; the table still shows the dash."""
    import io

    import openpyxl
    from streamlit.delta_generator import DeltaGenerator
    offered = {}

    def button(self, label, data, file_name, *args, **kwargs):
        offered[label] = data
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    page.run()
    assert not page.exception
    table = releases_shown(page)
    ready = [r for r, (s,) in zip(table["release_id"], table["readiness"],
                                  strict=True) if s == "ready"]
    assert ready  # the sample has ready releases
    assert set(table.set_index("release_id").loc[ready, "reasons"]) == {
        cab.NO_REASONS}
    csv = pd.read_csv(io.BytesIO(offered["CSV"]()), keep_default_na=False,
                      dtype=str).set_index("release_id")
    assert set(csv.loc[ready, "reasons"]) == {""}
    assert set(csv.loc[ready, "reasons_in_words"]) == {""}, \
        csv.loc[ready, "reasons_in_words"]
    assert cab.NO_REASONS not in set(csv["reasons_in_words"])
    sheet = openpyxl.load_workbook(io.BytesIO(offered["XLSX"]()))["data"]
    heading, *rows = sheet.iter_rows(values_only=True)
    at = {name: i for i, name in enumerate(heading)}
    words = {row[at["release_id"]]: row[at["reasons_in_words"]]
             for row in rows}
    assert {words[r] for r in ready} <= {None, ""}, words


def test_the_table_keeps_its_releases_named_and_in_view(page, monkeypatch):
    """At 1440 x 900 the table's box of 600 pixels showed 6 of the
    sample's 14 releases (rows of four lines of reasons), and scrolled
    sideways to its bookings and slip no row said which release it was.
    Its Status and Release id are pinned, and a horizon of up to 30
    releases is drawn whole (the page scrolls); a longer one keeps its
    box."""
    import json
    given = {}
    table = ui.table

    def kept(frame, name, *args, **kwargs):
        given[name] = kwargs
        return table(frame, name, *args, **kwargs)

    monkeypatch.setattr(ui, "table", kept)
    page.run()
    assert not page.exception
    columns = json.loads(page.dataframe[0].proto.columns)
    # and its go-live, beside them: after the reasons it was cut at the
    # table's edge ('Tue 08 Dec 20...', a manager's walkthrough)
    assert {k for k, c in columns.items() if c.get("pinned")} == {
        "readiness", "release", "go_live"}
    order = list(page.dataframe[0].value.columns)
    assert order[:4] == ["readiness", "release", "go_live", "reasons"]
    assert columns["release"]["label"] == "Release"
    # 'Name (id)': the id alone read as nothing when scrolled sideways
    assert all(re.fullmatch(r".+ \(REL-\d+\)", r)
               for r in page.dataframe[0].value["release"])
    # the reasons whole beside the pinned columns at 1280 px: a release
    # manager's walkthrough saw them cut at the table's edge at 1400 px
    assert sum(columns[c]["width"] for c in order[:4]) \
        <= ui.TABLE_WIDTH
    shown = releases_shown(page)
    drawn = next(kw for name, kw in given.items()
                 if name.startswith("release-readiness"))
    assert len(shown) > 6  # 14 in the sample's 28 days
    assert drawn["row_height"] > ui.ROW_HEIGHT  # reasons wrapped
    assert drawn["height"] == ui.table_height(len(shown), most=10**6,
                                              row=drawn["row_height"]) > 600
    # a longer horizon (515 releases at a million changes) scrolls in its
    # box; rows of one line as well
    reasons = ["word " * 30]
    row = ui.wrapped_row_height(reasons, ui.REASONS_WIDTH)
    assert ui.wrapped_table(reasons, 30, most=600, whole_rows=30) == {
        "row_height": row, "height": 38 + 30 * row}
    assert ui.wrapped_table(reasons, 31, most=600, whole_rows=30) == {
        "row_height": row, "height": 600}
    assert ui.wrapped_table(["a"], 3, most=600, whole_rows=30)[
        "height"] == 38 + 3 * ui.ROW_HEIGHT


def test_the_slip_is_said_as_the_reasons_say_it(page, con):
    """'Slip so far (days)' read 0.0 beside a reason 'Phases ended behind
    plan (up to 11 min: Dev)' (a release manager's walkthrough): the table
    says the slip in the reasons' words, which the lateness_words macro
    writes, and nothing for none."""
    days = [0, 1 / 1440 / 2, 11 / 1440, 1 / 24, 3.5 / 24, 0.99, 1, 2.06, 40]
    said = [r[0] for r in con.execute(
        "select lateness_words(d) from unnest(cast($d as double[])) as t(d)",
        {"d": days}).fetchall()]
    assert [cab.lateness(d) for d in days] == [cab.NO_REASONS, *said[1:]]
    assert said[1:4] == ["1 min", "11 min", "1.0 h"]
    page.run()
    assert not page.exception
    shown = releases_shown(page)
    with db.reading(config.DB_PATH) as reader:
        loaded = {"as_of": str(db.run(reader, "data_status")["as_of"].iloc[0])}
        rows = db.run(reader, "release_readiness", horizon_days=28,
                      **loaded).set_index("release_id")
    assert list(shown["slip"]) == [
        cab.lateness(rows.loc[r, "slip_days"]) for r in shown["release_id"]]
    assert {s for s in shown["slip"]} - {cab.NO_REASONS}  # some slip
    columns = __import__("json").loads(page.dataframe[0].proto.columns)
    assert columns["slip"]["label"] == "Slip so far"


def test_a_releases_changes_file_holds_their_plans_as_instants(
        page, monkeypatch):
    """A release's changes file held the table's 'Wed 09 Dec 2026 16:00'
    as text, beside an as_of in ISO (a CAB chair's walkthrough): it holds
    the plan as instants, in UTC, as every page's file writes them."""
    import io

    from tests.clicks import offered_files
    files = offered_files(monkeypatch)
    page.run()
    release_id = releases_shown(page)["release_id"].iloc[0]
    page.selectbox(key="release").select(release_id).run()
    assert not page.exception
    [(name, data)] = [(n, d) for n, d in files.items()
                      if n.startswith(f"release-{release_id}-changes")
                      and n.endswith(".csv")]
    got = pd.read_csv(io.BytesIO(data() if callable(data) else data))
    planned = [c for c in got.columns if c.startswith("planned_start")]
    assert planned == ["planned_start_at"], list(got.columns)
    instants = pd.to_datetime(got["planned_start_at"], utc=True)
    assert instants.notna().all() and instants.dt.year.min() >= 2026
    assert got["planned_start_at"].str.endswith("+00:00").all(), \
        got["planned_start_at"]
