"""The documentation stays true to the code: every setting documented with its default (a setting
nobody can find is a setting nobody uses), the README a short front door, links that lead
somewhere, and code comments that point into docs/ rather than at documents the repository lacks."""

import re
from pathlib import Path

from registry.config import SETTINGS

ROOT = Path(__file__).parent.parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (DOCS / "configuration.md").read_text(encoding="utf-8")

# | `REGISTRY_NAME` | default | meaning |
_SETTING_ROW = re.compile(r"^\| `REGISTRY_([A-Z0-9_]+)` \| (.*?) \| .* \|$", re.M)


def documented_settings(text: str) -> dict[str, str]:
    return {name: default for name, default in _SETTING_ROW.findall(text)}


def test_configuration_lists_exactly_the_settings():
    documented = documented_settings(CONFIGURATION)
    assert sorted(documented) == sorted(s.name for s in SETTINGS)


def test_configuration_defaults_are_the_code_defaults():
    """A default the code has is shown as itself, in backticks; a setting without one (worked
    out when unset, such as the database URL) shows how, in parentheses."""
    documented = documented_settings(CONFIGURATION)
    wrong = {}
    for s in SETTINGS:
        cell = documented.get(s.name)
        expected_ok = cell == f"`{s.default}`" if s.default is not None else bool(cell) and cell.startswith("(")
        if not expected_ok:
            wrong[s.name] = (cell, s.default)
    assert wrong == {}


def test_readme_quick_start_is_exactly_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("\n##", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in quick.splitlines() if line.startswith("    ")]
    assert commands == ["make run", "make test"]


def test_readme_is_a_front_door():
    """About 8 KB at most: the rest belongs in docs/, one file per topic."""
    assert len(README.encode("utf-8")) <= 8192


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rule)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.M)}


def test_links_between_documents_lead_somewhere():
    broken = []
    for doc in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            file, _, anchor = target.partition("#")
            path = (doc.parent / file) if file else doc
            if not path.exists() or (anchor and path.suffix == ".md" and anchor not in _anchors(path)):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def _sources():
    for folder in ("registry", "bench", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != Path(__file__):
                yield path, path.read_text(encoding="utf-8")


def test_code_points_into_docs_not_at_a_design_document():
    outside = [str(p.relative_to(ROOT)) for p, text in _sources() if re.search(r"\bDESIGN\b", text)]
    assert outside == []


def test_docs_named_in_code_exist():
    missing = sorted({f"{p.relative_to(ROOT)}: {name}" for p, text in _sources()
                      for name in re.findall(r"docs/([\w\-]+\.md)", text) if not (DOCS / name).exists()})
    assert missing == []
