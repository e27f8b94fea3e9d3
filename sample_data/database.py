"""The sample database: the generator's output loaded the way a site's files
would arrive (docs/adapters.md, "The sample database").

This module is where sample_data meets ingest: it uses ingest's public
surface (publish_files, SAMPLE_PREFIX), and ingest never imports
sample_data.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import ingest
from changeboard import config, db

from . import exports, generate

# the sample's batches are recorded as sample_data/<file name>, by
# ingest.SAMPLE_LOADER: what ingest recognises as the sample's
LABEL = ingest.SAMPLE_PREFIX.rstrip("/")


def publish(db_path=None, *, seed: int | None = None, scale: float = 1.0,
            end_date=None) -> list[ingest.Loaded]:
    """Generate the sample data and publish it as a fresh database file.

    The changes arrive as source exports (exports.write_sample): a ServiceNow
    export read with the shipped overrides file and, for one team's
    applications, a Jira export; the other tables as canonical CSV. One
    publish, every batch strict; ingest_batches records each source.
    """
    db_path = Path(db_path or config.DB_PATH)
    with tempfile.TemporaryDirectory() as tmp:
        canonical = Path(tmp) / "canonical"
        generate(canonical, seed=config.SAMPLE_SEED if seed is None else seed,
                 scale=scale, end_date=end_date)
        files = exports.write_sample(canonical, Path(tmp) / "exports")
        # built beside the database under its writer lock: loads wait for
        # the swap, and the next writer removes what a killed build left
        # (db.remove_stale matches `.<db>.sample.tmp`, its lock and copies)
        fresh = db_path.with_name(f".{db_path.name}.sample.tmp")
        with db.writer_lock(db_path):
            db.remove_stale(db_path)
            try:
                loaded = ingest.publish_files(
                    [(f["source"], f["path"], f["options"]) for f in files],
                    fresh, label=LABEL, loaded_by=ingest.SAMPLE_LOADER)
                db.replace(fresh, db_path)
            finally:
                db.remove_stale(db_path)
    return loaded
