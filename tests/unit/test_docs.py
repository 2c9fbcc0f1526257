"""The README fits on a screen or two and stays true: its example is the starter workspace's
manifest and what `render` makes of it, its two set-up commands are the ones CI runs and
everything installs, and its links lead to pages that exist. (What the README held before is in
the documentation's pages; tests/unit/test_docs_pages.py and test_docs_reference.py keep those.)"""

from __future__ import annotations

import re
from pathlib import Path

import typer
import yaml

from bakegen.cli import app
from bakegen.commands.init import starter_files, write_starter
from testing.docs_pages import blocks
from testing.helpers import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP = "python3 -m pip install -e . && bakegen render"
TESTS = "scripts/test.sh"


def test_the_readme_fits_on_a_screen_or_two() -> None:
    assert len(README.splitlines()) <= 150


def test_the_readme_example_is_the_starter_workspace(tmp_path: Path) -> None:
    manifest = next(b.text for b in blocks(README) if b.language == "yaml")
    assert yaml.safe_load(manifest) == yaml.safe_load(starter_files()["manifest/manifest.yml"])
    write_starter(tmp_path / "first")
    assert run_cli("-C", "first", "render", cwd=tmp_path).code == 0
    bake = (tmp_path / "first" / "docker-bake.hcl").read_text(encoding="utf-8")
    shown = next(b.text for b in blocks(README) if b.language == "hcl")
    assert shown in bake


def test_the_two_setup_commands_are_there_and_ci_runs_the_test_one() -> None:
    quick = README.split("## Quick start on a fresh machine")[1].split("\n## ")[0]
    commands = [
        line.split("#")[0].strip()
        for b in blocks(quick)
        if b.language == "sh"
        for line in b.text.splitlines()
    ]
    assert commands == [SETUP, TESTS]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(TESTS)}\b", ci, re.MULTILINE), "CI runs the README's tests"
    script = (ROOT / TESTS).read_text(encoding="utf-8")
    for what in ("-e '.[test]'", "install-buildx", "tools.sh actionlint", "tools.sh graphviz"):
        assert what in script, what
    extras = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for package in ('"mkdocs', '"mkdocs-material', '"build', '"twine'):
        assert package in extras, package


def test_the_readme_names_every_command() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    table = README.split("## Commands")[1].split("\n## ")[0]
    for name in commands:
        assert re.search(rf"`(bakegen )?{name}\b", table) or f"`bakegen {name}" in table, name


def test_the_readme_links_lead_somewhere() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert "docs/getting-started.md" in local
    assert [link for link in local if not (ROOT / link).exists()] == []
