"""The target limit: a manifest expanding past `max_targets` (2000 unless the manifest or
--max-targets says otherwise) is refused with one clear line and exit 2, and nothing is written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bakegen.schema.document import defaults
from testing.helpers import CORPUS, run_cli, tree

TEMPLATES = CORPUS / "_base" / "templates"
PYTHONS = '["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]'


def manifest(packages: int, versions: int, extra: str = "") -> str:
    """Each package builds runtime and devel (and so base) on `versions` releases, 7 Pythons:
    packages x versions x 7 x (3 images + 2 verify checks) targets."""
    lines = [f"python_versions: {PYTHONS}", extra, "packages:"]
    for index in range(packages):
        lines += [f"  pkg{index}:", "    runtime: [debian]", "    devel: [debian]"]
    lines += ["releases:", "  debian:"]
    for version in range(versions):
        lines += [
            f'    "{version + 1}":',
            "      templates_dir: templates/std",
            f"      base_image: debian:{version + 1}",
            f"      add_to_tags: deb{version + 1}",
        ]
    return "\n".join(line for line in lines if line) + "\n"


def targets(packages: int, versions: int) -> int:
    return packages * versions * 7 * (3 + 2)


def workspace(tmp_path: Path, text: str) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(TEMPLATES, ws / "templates")
    (ws / "manifest").mkdir()
    (ws / "manifest" / "manifest.yml").write_text(text, encoding="utf-8")
    return ws


def limit_line(count: int, limit: int, line: int = 2) -> str:
    """The one line of a manifest over the limit, at its `packages:` key."""
    return (
        f"manifest/manifest.yml:{line}:1: packages: expands to {count} bake targets (with verify "
        f"checks), more than the limit of {limit}; narrow the matrix, or raise it with "
        "`max_targets` or --max-targets"
    )


BIG = (6, 10)  # 2100 targets


def test_default_limit_is_2000() -> None:
    assert defaults()["max_targets"] == 2000
    assert targets(*BIG) == 2100


@pytest.mark.parametrize("command", [["render"], ["render", "--check"], ["validate"], ["list"]])
def test_past_the_default_limit_exit_2_one_line_nothing_written(
    command: list[str], tmp_path: Path
) -> None:
    ws = workspace(tmp_path, manifest(1, 1))
    assert run_cli("render", cwd=ws).code == 0  # a good render first: it must survive
    (ws / "manifest" / "manifest.yml").write_text(manifest(*BIG), encoding="utf-8")
    before = tree(ws)
    result = run_cli(*command, cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [limit_line(2100, 2000)]
    assert result.out == ""
    assert tree(ws) == before


def test_max_targets_option_raises_the_limit(tmp_path: Path) -> None:
    ws = workspace(tmp_path, manifest(*BIG))
    refused = run_cli("render", "--max-targets", "2099", cwd=ws)
    assert refused.code == 2
    assert refused.err.splitlines() == [limit_line(2100, 2099)]
    assert not (ws / "generated").exists()
    result = run_cli("render", "--max-targets", "2100", cwd=ws)
    assert result.code == 0, result.err
    assert result.err.startswith("2100 targets (1260 images, 840 verify). Dockerfiles: 180 created")
    assert run_cli("list", "--max-targets", "5000", cwd=ws).code == 0
    assert run_cli("validate", "--max-targets", "5000", cwd=ws).code == 0


def test_max_targets_in_the_manifest_and_the_option_wins(tmp_path: Path) -> None:
    ws = workspace(tmp_path, manifest(1, 2, extra="max_targets: 40"))
    result = run_cli("validate", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [limit_line(70, 40, line=3)]
    assert run_cli("validate", "--max-targets", "70", cwd=ws).code == 0
    (ws / "manifest" / "manifest.yml").write_text(
        manifest(*BIG, extra="max_targets: 2100"), encoding="utf-8"
    )
    assert run_cli("validate", cwd=ws).code == 0
    lowered = run_cli("validate", "--max-targets", "100", cwd=ws)
    assert lowered.code == 2
    assert lowered.err.splitlines() == [limit_line(2100, 100, line=3)]


@pytest.mark.parametrize("value", ["ten", "1.5", ""])
def test_max_targets_option_must_be_a_number(value: str, tmp_path: Path) -> None:
    ws = workspace(tmp_path, manifest(1, 1))
    result = run_cli("validate", "--max-targets", value, cwd=ws)
    assert result.code == 2
    assert "--max-targets" in result.err
    assert "Traceback" not in result.err
