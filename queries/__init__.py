"""One SELECT per .sql file over the canonical schema; run them with changeboard.db.run."""
