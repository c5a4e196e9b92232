"""The README's generated blocks match the code, and it starts with the two commands."""

from pathlib import Path

from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[1]


def _updater():
    return load_script("update_readme")


def test_generated_blocks_are_current():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert _updater().render(readme) == readme, "run: python scripts/update_readme.py"


def test_readme_starts_with_run_and_test_commands():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = text.split("```")
    first, second = blocks[1], blocks[3]
    assert "furui run" in first and "pip install" in first
    assert "pytest" in second and "pip install" in second
    ci = (REPO / ".ci" / "run").read_text()
    test_cmd = [line for line in second.splitlines() if "pytest" in line][0].split("&&")[-1].strip()
    assert test_cmd in ci
