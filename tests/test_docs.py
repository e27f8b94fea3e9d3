"""The README, the docs and the query headers stay true to the code, and the
repository stands alone: nothing sends readers outside it."""
import re
from pathlib import Path

from changeboard import config, db

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme_settings_table():
    readme = (ROOT / "README.md").read_text()
    for name, (default, help_text) in config.SETTINGS.items():
        shown = f"`{default}`" if default else "(none)"
        assert f"| `{name}` | {shown} | {help_text} |" in readme, name


def test_readme_shows_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start")[1].split("```sh")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_every_query_opens_with_a_header_naming_its_row():
    for name in db.names():
        first = db.query_path(name).read_text().splitlines()[0]
        assert first.startswith("-- One row"), name


def test_every_query_is_documented_and_every_documented_metric_exists():
    text = (ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"^## `(\w+)`$", text, flags=re.MULTILINE))
    assert documented == set(db.names())


def tracked_files():
    """The repository's files as a clone has them (git's list; every file
    below the root outside a checkout)."""
    import subprocess
    try:
        names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                               capture_output=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
        return [p for p in ROOT.rglob("*") if p.is_file()
                and not skip & set(p.relative_to(ROOT).parts)]
    return [ROOT / n for n in names.split("\0") if n and (ROOT / n).is_file()]


# the only files that may name the folder beside the clone: tests of the
# optional real-data sets, which skip with a message when it is absent
OPTIONAL_DATA_TESTS = {"tests/test_real_data.py", "tests/test_adapters.py"}


def lines_naming(needles, skip) -> list[str]:
    """`file:line: text` of every tracked line holding one of needles, in
    the files skip(name) does not leave out."""
    found = []
    for path in tracked_files():
        name = path.relative_to(ROOT).as_posix()
        if skip(name):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        found += [f"{name}:{n}: {line.strip()}"
                  for n, line in enumerate(text.splitlines(), 1)
                  if any(needle in line for needle in needles)]
    return found


def test_no_file_sends_readers_to_the_folder_beside_the_clone():
    # built from parts, so this file does not name it
    outside = ("../" + "shared", "shared/" + "design",
               "shared/" + "peer-fixtures")
    found = lines_naming(outside, OPTIONAL_DATA_TESTS.__contains__)
    assert not found, "\n".join(found)


def test_no_file_cites_the_design_notes_instead_of_the_docs():
    # the design notes (data model, sources, metrics, style) are not in the
    # repository: code and docs cite docs/*.md
    notes = [n + ".md" for n in ("DATA_MODEL", "SOURCES", "METRICS", "STYLE")]
    found = lines_naming(notes, lambda name: False)
    assert not found, "\n".join(found)


def test_the_data_model_page_lists_every_table_and_column():
    text = (ROOT / "docs" / "data-model.md").read_text()
    sections = dict(re.findall(r"^### `(\w+)`\n(.*?)(?=^##|\Z)", text,
                               flags=re.MULTILINE | re.DOTALL))
    tables = re.findall(r"create table if not exists (\w+)",
                        db.SCHEMA.read_text())
    with db.connect() as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_name in (select unnest($t))", {"t": tables}).fetchall()
    assert {t for t, _ in columns} == set(tables)
    lineage = {"source", "ingested_batch_id"}   # under Conventions
    for table, column in columns:
        assert table in sections, f"no section for table {table}"
        if column not in lineage:
            assert f"`{column}`" in sections[table], f"{table}.{column}"
    for column in lineage:
        assert f"`{column}`" in text


def test_the_sources_page_names_every_source_and_reject_reason():
    from ingest import sources

    text = (ROOT / "docs" / "sources.md").read_text()
    for name in sources.SOURCES:
        assert f"| `{name}` |" in text, name
    corpus = (ROOT / "tests" / "data" / "bad" / "expected.toml").read_text()
    for reason in set(re.findall(r'"(\w+)"', corpus)) & {
            "missing_required", "unmapped_code", "bad_timestamp",
            "bad_number", "bad_boolean", "bad_row_shape", "bad_interval",
            "duplicate_row", "duplicate_id", "nul_byte",
            "id_owned_by_other_source", "older_than_stored"}:
        assert f"`{reason}`" in text, reason
