"""The documentation site builds with `mkdocs build --strict` (MkDocs and the Material theme,
from the test extras): every page, every link and anchor, the pictures; and a broken link or a
page left out of the navigation fails the build."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.helpers import ROOT, unavailable

HOW = "pip install -e '.[test]' (scripts/test.sh does)"


def mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    if not all(importlib.util.find_spec(m) for m in ("mkdocs", "material")):
        unavailable(f"mkdocs or mkdocs-material (the theme) not installed; {HOW}")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = mkdocs(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def test_the_site_has_its_sections_and_pages(site: Path) -> None:
    for page in (
        "index.html",
        "getting-started/index.html",
        "concepts/matrix/index.html",
        "concepts/image-graph/index.html",
        "how-to/from-manager-py/index.html",
        "how-to/github-actions/index.html",
        "reference/manifest/index.html",
        "reference/commands/index.html",
        "troubleshooting/index.html",
        "changelog/index.html",
    ):
        assert (site / page).is_file(), page
    getting_started = (site / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert "first-workspace-graph.svg" in getting_started
    graph = (site / "concepts" / "image-graph" / "index.html").read_text(encoding="utf-8")
    assert "example-graph.svg" in graph
    assert (site / "images" / "example-graph.svg").read_bytes().startswith(b"<?xml")
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Unreleased" in changelog  # CHANGELOG.md, included


def test_the_site_loads_nothing_from_elsewhere(site: Path) -> None:
    """No web fonts or scripts from other hosts: the site reads the same offline."""
    page = (site / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in page
    assert '<script src="http' not in page


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copy(ROOT / "CHANGELOG.md", root / "CHANGELOG.md")
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copytree(ROOT / "examples", root / "examples")  # pages include their files
    return root


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d / "index.md", "nowhere.md"),
        (lambda d: d / "concepts" / "tags.md", "#no-such-heading"),
    ],
)
def test_a_broken_link_fails_the_build(
    tmp_path: Path, change: Callable[[Path], Path], said: str
) -> None:
    root = _copy(tmp_path)
    page = change(root / "docs")
    page.write_text(page.read_text(encoding="utf-8") + f"\n[broken]({said})\n", encoding="utf-8")
    proc = mkdocs(root / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert said.lstrip("#") in proc.stderr


def test_a_page_left_out_of_the_navigation_fails_the_build(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "docs" / "stray.md").write_text("# Stray\n", encoding="utf-8")
    proc = mkdocs(root / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert "stray.md" in proc.stderr
