"""The README and the query headers stay true to the code."""
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
    import re
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


def test_no_file_sends_readers_to_the_folder_beside_the_clone():
    # built from parts, so this file does not name it
    outside = ("../" + "shared", "shared/" + "design",
               "shared/" + "peer-fixtures")
    found = []
    for path in tracked_files():
        name = path.relative_to(ROOT).as_posix()
        if name in OPTIONAL_DATA_TESTS:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        found += [f"{name}:{n}: {line.strip()}"
                  for n, line in enumerate(text.splitlines(), 1)
                  if any(o in line for o in outside)]
    assert not found, "\n".join(found)
