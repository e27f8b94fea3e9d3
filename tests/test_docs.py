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
