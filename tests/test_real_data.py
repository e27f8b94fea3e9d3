"""Real public data loads with the shipped mappings and gives numbers.

The files are read in place from ../shared/real-data (never copied into the
project); every test here is marked real_data and skips, saying so, when
they are absent.
"""
from pathlib import Path

import pytest
from conftest import SHARED

from changeboard import db

REAL = SHARED / "real-data"
BPIC = REAL / "bpic2014-change" / "detail_change.csv"

pytestmark = pytest.mark.real_data


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data absent: {path}")
    return path


@pytest.fixture(scope="module")
def bpic_db(tmp_path_factory):
    """A database holding only BPIC 2014, loaded with the shipped mapping."""
    import ingest

    need(BPIC)
    path = tmp_path_factory.mktemp("bpic") / "bpic.duckdb"
    result = ingest.load_path("mapping", BPIC, path,
                              options={"mapping": "bpic2014"})
    assert result.status == "succeeded", result.error
    return path


# BPIC 2014's changes end between late 2012 and 2014 (a few close later)
BPIC_PERIOD = {"start_date": "2013-10-01", "end_date": "2014-04-01"}


def test_bpic_without_close_codes_gets_the_how_metrics(bpic_db):
    with db.connect(bpic_db, read_only=True) as con:
        ratio = db.run(con, "emergency_change_ratio", **BPIC_PERIOD).iloc[0]
        lead = db.run(con, "change_lead_time", **BPIC_PERIOD).iloc[0]
        adherence = db.run(con, "schedule_adherence", **BPIC_PERIOD).iloc[0]
        success = db.run(con, "change_success_rate", **BPIC_PERIOD).iloc[0]
    assert ratio["n"] > 1000 and ratio["n_emergency"] > 0
    assert 0 < ratio["emergency_change_ratio"] < 0.05
    assert ratio["n_without_close_code"] == ratio["n"]
    assert lead["n"] > 1000 and lead["median_lead_time_hours"] > 0
    assert adherence["n"] > 1000
    assert 0 < adherence["on_schedule_rate"] < 1
    # the outcome metrics stay empty and say why: no close codes
    assert success["n"] == 0
    assert success["n_without_close_code"] >= ratio["n"]


def test_bpic_by_period_variants_are_filled(bpic_db):
    with db.connect(bpic_db, read_only=True) as con:
        rows = db.run(con, "emergency_change_ratio_by_period", grain="month",
                      **BPIC_PERIOD)
        head = db.run(con, "emergency_change_ratio", **BPIC_PERIOD).iloc[0]
    assert len(rows) == 6 and (rows["n"] > 0).all()
    assert rows["n"].sum() == head["n"]
