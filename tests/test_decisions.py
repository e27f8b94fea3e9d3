"""CAB decisions and attendees (changeboard/decisions.py): recorded in the
application state beside the database, kept across loads, history not
overwrite, and refused on the server side for anyone but a CAB member."""
import logging
import re
from datetime import UTC, date, datetime

import pytest

import ingest
from changeboard import appstate, auth, db, decisions

MEETING = date(2026, 1, 20)  # a Tuesday: 10:00 UTC by default
CHANGES = "change_id,change_type,state,created_at,title,updated_at\n"
VIEWER = auth.User(email="vic@acme.example", name="Vic",
                   roles=(auth.ROLES[-1],), signed_in=True)
MEMBER = auth.User(
    email="chair@acme.example", name="Chair", signed_in=True,
    roles=tuple(r for r in auth.ROLES if r.name in ("cab_member", "viewer")))


def export(path, rows: str):
    path.write_text(CHANGES + rows, encoding="utf-8")
    return path


def at(hour, minute=0):
    return datetime(2026, 1, 20, hour, minute, tzinfo=UTC)


def test_record_change_and_read_back_across_reloads(tmp_path):
    database = tmp_path / "cb.duckdb"
    first = export(tmp_path / "changes.csv",
                   "C1,normal,authorize,2026-01-02T09:00:00Z,one,"
                   "2026-01-10T00:00:00Z\n"
                   "C2,normal,authorize,2026-01-02T09:00:00Z,two,"
                   "2026-01-10T00:00:00Z\n")
    assert ingest.load_path("csv", first, database).status == "succeeded"
    decisions.record(database, MEMBER, MEETING, "C1", "approved",
                     "go ahead", now=at(10, 5))
    decisions.record(database, MEMBER, MEETING, "C2", "deferred",
                     "needs a backout plan", now=at(10, 6))
    decisions.record_attendees(database, MEMBER, MEETING,
                               "Ann Chair\nLee, Bo\n\n Cy Sec \nLee, Bo")
    # the same export again: nothing published, decisions untouched
    assert ingest.load_path("csv", first, database).status == "unchanged"
    # a newer export: a new file is published in place of the old one
    before = db.version(database)
    newer = export(tmp_path / "changes-2.csv",
                   "C1,normal,scheduled,2026-01-02T09:00:00Z,one,"
                   "2026-01-21T00:00:00Z\n"
                   "C3,normal,new,2026-01-02T09:00:00Z,three,"
                   "2026-01-21T00:00:00Z\n")
    assert ingest.load_path("csv", newer, database).status == "succeeded"
    assert db.version(database) != before
    # a change of mind after the load: a new row, the old one kept
    decisions.record(database, MEMBER, MEETING, "C1",
                     "approved_with_conditions", "only after 22:00",
                     now=at(10, 30))

    now = decisions.current(database, MEETING)
    assert [tuple(r) for r in now[["change_id", "decision", "note",
                                   "decided_by", "n_recorded"]].values] == [
        ("C2", "deferred", "needs a backout plan", "chair@acme.example", 1),
        ("C1", "approved_with_conditions", "only after 22:00",
         "chair@acme.example", 2)]
    assert str(now.loc[1, "decided_at"]) == "2026-01-20 10:30:00+00:00"
    assert str(now.loc[0, "meeting_at"]) == "2026-01-20 10:00:00+00:00"
    past = decisions.history(database, MEETING, "C1")
    assert list(past["decision"]) == ["approved", "approved_with_conditions"]
    assert list(past["is_current"]) == [False, True]
    assert list(past["note"]) == ["go ahead", "only after 22:00"]
    assert decisions.attendees(database, MEETING) == [
        "Ann Chair", "Lee, Bo", "Cy Sec"]
    # the decisions are in the application state, not in the DuckDB file
    with db.connect(database, read_only=True) as con:
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables").fetchall()}
    assert not {"cab_decisions", "cab_attendance"} & tables
    assert appstate.path_for(database).exists()
    # another meeting is another key; the last CAB before the next is this
    assert decisions.current(database, date(2026, 1, 27)).empty
    assert decisions.last_meeting_before(database, date(2026, 1, 27)) == \
        decisions.current(database, MEETING).loc[0, "meeting_at"]
    assert decisions.last_meeting_before(database, MEETING) is None


def test_a_viewer_is_refused_where_the_decision_is_written(tmp_path,
                                                           caplog):
    database = tmp_path / "cb.duckdb"
    decisions.record(database, MEMBER, MEETING, "C1", "approved")
    with caplog.at_level(logging.WARNING, "changeboard.decisions"), \
            pytest.raises(PermissionError, match="needs the CAB member role; "
                          "you are signed in as vic@acme.example"):
        decisions.record(database, VIEWER, MEETING, "C1", "rejected")
    with pytest.raises(PermissionError, match="not signed in"):
        decisions.record(database, None, MEETING, "C1", "rejected")
    with pytest.raises(PermissionError):
        decisions.record_attendees(database, VIEWER, MEETING, ["Vic"])
    assert "refused a CAB decision: signed in as vic@acme.example" in \
        caplog.text
    # nothing was written by the refused calls
    assert list(decisions.history(database, MEETING)["decision"]) == [
        "approved"]
    assert decisions.attendees(database, MEETING) == []
    # a data admin is not a CAB member; single-user mode is everyone
    admin = auth.User(email="ann@acme.example", name="Ann", signed_in=True,
                      roles=(auth.ROLES[0],))
    with pytest.raises(PermissionError, match="Data admin"):
        decisions.record(database, admin, MEETING, "C1", "rejected")
    row = decisions.record(database, auth.single_user(), MEETING, "C1",
                           "rejected", "no backout plan")
    assert row["decided_by"].startswith("local:")


@pytest.mark.parametrize(("args", "message"), [
    ((MEETING, "C1", "maybe"), "decision 'maybe' is not one of approved, "
     "approved_with_conditions, rejected, deferred"),
    ((None, "C1", "approved"), "needs its meeting"),
    (("", "C1", "approved"), "needs its meeting"),
    (("20/01/2026", "C1", "approved"), "meeting '20/01/2026' is not "
     "YYYY-MM-DD"),
    ((MEETING, "  ", "approved"), "change id is empty"),
    ((MEETING, "C1", "approved", "x" * 4001), "note is 4,001 characters"),
    ((MEETING, "C1", "approved", "bell\x07"), "note holds a control"),
    # the minutes would read "Approved with conditions" and name none
    ((MEETING, "C1", "approved_with_conditions"), "Approved with conditions "
     "needs its conditions: write them in the note. Nothing was recorded."),
    ((MEETING, "C1", "approved_with_conditions", " \n "),
     "needs its conditions"),
    # the minutes read "Rejected" with an empty note: the owner learnt no
    # reason, nor what a deferred change waits for
    ((MEETING, "C1", "rejected"), "Rejected needs its reasons: write them "
     "in the note. Nothing was recorded."),
    ((MEETING, "C1", "deferred", "  "), "Deferred needs its reasons (what "
     "the CAB waits for): write them in the note."),
])
def test_bad_input_is_refused_with_a_clear_error(tmp_path, args, message):
    database = tmp_path / "cb.duckdb"
    with pytest.raises(ValueError, match=re.escape(message)):
        decisions.record(database, MEMBER, *args)
    assert not appstate.path_for(database).exists()


def test_a_meeting_is_one_key_however_it_is_given(tmp_path):
    database = tmp_path / "cb.duckdb"
    decisions.record(database, MEMBER, "2026-01-20", "C1", "approved")
    decisions.record(database, MEMBER, at(10), "C1", "deferred", "a week")
    decisions.record(database, MEMBER, "2026-01-20T10:00:00+00:00", "C1",
                     "rejected", "no backout plan")
    assert list(decisions.history(database, MEETING)["decision"]) == [
        "approved", "deferred", "rejected"]
    assert decisions.meetings(database) == [
        decisions.current(database, MEETING).loc[0, "meeting_at"]]


def test_reading_creates_no_file(tmp_path):
    database = tmp_path / "cb.duckdb"
    assert decisions.current(database, MEETING).empty
    assert decisions.history(database, MEETING).empty
    assert decisions.attendees(database, MEETING) == []
    assert decisions.meetings(database) == []
    assert not appstate.path_for(database).exists()


def test_a_change_of_any_id_ingest_loads_can_be_decided(tmp_path):
    """The store took change ids of at most 100 characters; a change loaded
    with a longer id (an adapter's id prefix and a long key) was on the
    agenda but could not be decided."""
    database = tmp_path / "cb.duckdb"
    long_id = "SNOW-" + "x" * 300
    loaded = export(tmp_path / "changes.csv",
                    f"{long_id},normal,authorize,2026-01-02T09:00:00Z,one,"
                    "2026-01-10T00:00:00Z\n")
    assert ingest.load_path("csv", loaded, database).status == "succeeded"
    con = db.connect(database, read_only=True)
    assert con.execute("select change_id from changes").fetchone()[0] == \
        long_id
    con.close()
    row = decisions.record(database, MEMBER, MEETING, long_id, "approved")
    assert row["change_id"] == long_id
    assert list(decisions.current(database, MEETING)["change_id"]) == [
        long_id]
