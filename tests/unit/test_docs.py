"""The README documents every setting (a setting nobody can find is a setting nobody uses)."""

from pathlib import Path

from registry.config import SETTINGS

README = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    missing = [s.name for s in SETTINGS if f"REGISTRY_{s.name}" not in README]
    assert missing == []


def test_readme_quick_start_is_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make run" in quick and "make test" in quick
