"""The second hostile probe's findings that need no real process, in the minimal workspace it
used: leftovers and a person's files in the output, files where folders go, names that look like
markup, workspace and manifest paths that cannot be used (signals, pipes, full disks and closed
descriptors: tests/integration/test_hardening.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen import __version__
from bakegen.commands.validate import NO_BUILDX
from bakegen.layout import MARKER
from testing.helpers import MINIMAL_MANIFEST as MANIFEST
from testing.helpers import minimal_workspace as minimal
from testing.helpers import run_cli, tree


def test_leftovers_beside_the_bake_file_are_drift_and_removed(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    hcl = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert run_cli("render", "--format", "json", "--check", cwd=ws).code == 1
    json_head = '{\n  "variable": {\n    "BAKEGEN": {\n      "default": "' + MARKER + '"\n'
    (ws / "docker-bake.hcl.0badf00d.bakegen-tmp").write_text(hcl[:100], encoding="utf-8")
    (ws / "docker-bake.json.deadbeef.bakegen-bak").write_text(json_head, encoding="utf-8")
    check = run_cli("render", "--check", cwd=ws)
    assert check.code == 1
    assert check.out.splitlines() == [
        "delete docker-bake.hcl.0badf00d.bakegen-tmp",
        "delete docker-bake.json.deadbeef.bakegen-bak",
    ]
    assert run_cli("render", cwd=ws).code == 0
    assert not list(ws.glob("*.bakegen-*"))
    assert run_cli("render", "--check", cwd=ws).code == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("README.md", f"# Images\n\nThese are {MARKER}, it says.\n"),
        ("README.md", f"Notes\n# {MARKER}\n"),
        ("notes.0badf00d.bakegen-bak", "my own notes\n"),
        ("Dockerfile.0badf00d.bakegen-tmp", "FROM mine\n"),
        ("notes.bakegen-tmp", "mine\n"),
    ],
)
def test_a_persons_file_in_generated_is_kept(name: str, text: str, tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "generated" / name).write_text(text, encoding="utf-8")
    result = run_cli("render", cwd=ws)
    assert result.code == 0
    assert (ws / "generated" / name).read_text(encoding="utf-8") == text
    assert f"warning: generated/{name}: not made by bakegen; left alone" in result.err


@pytest.mark.parametrize("blocker", ["generated", "generated/app", "generated/app/debian12"])
def test_a_file_where_a_folder_is_needed(blocker: str, tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    (ws / blocker).parent.mkdir(parents=True, exist_ok=True)
    (ws / blocker).write_text("mine\n", encoding="utf-8")
    before = tree(ws)
    for command in (["render"], ["render", "--check"]):
        result = run_cli(*command, cwd=ws)
        assert result.code == 2, result.err
        assert result.err.splitlines()[0].startswith(
            f"{blocker}: is a file where bakegen needs a folder (for generated/"
        )
        assert tree(ws) == before


@pytest.mark.parametrize("name", ["[/x]", "[bold]notes.txt", "a\x1b[31mred", "line\nbreak"])
def test_names_are_never_read_as_markup(name: str, tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    (ws / "generated" / name).parent.mkdir(parents=True, exist_ok=True)
    (ws / "generated" / name).write_text("mine\n", encoding="utf-8")
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    shown = name.replace("\x1b", "\\x1b").replace("\n", "\\n")
    assert f"warning: generated/{shown}: not made by bakegen; left alone" in result.err


def test_workspace_paths_that_are_no_folders(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    cases = {
        "file": "file: is not a folder; -C names the workspace folder",
        "nope": "nope: workspace folder not found",
        "loop": "loop: cannot use as the workspace: ",
        "x" * 300: f"{'x' * 300}: cannot use as the workspace: File name too long",
    }
    for given, message in cases.items():
        result = run_cli("validate", "-C", given, cwd=tmp_path)
        assert result.code == 2, (given, result.err)
        assert result.err.startswith(message), result.err
        assert len(result.err.splitlines()) == 1


def test_options_before_the_command_and_manifest_relative_to_the_workspace(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = run_cli("-C", str(ws), "-m", "manifest/m.yml", "validate", cwd=elsewhere)
    after = run_cli("validate", "-C", str(ws), "-m", "manifest/m.yml", cwd=elsewhere)
    assert before.code == after.code == 0, before.err + after.err
    assert before.err == after.err == f"ok: 3 targets (2 images, 1 verify); {NO_BUILDX}\n"
    version = run_cli("--version", cwd=elsewhere)
    assert (version.code, version.out.strip()) == (0, __version__)


def test_manifest_paths_that_cannot_be_read(tmp_path: Path) -> None:
    ws = minimal(tmp_path)
    (ws / "loop").symlink_to(ws / "loop")
    long = "x" * 300
    cases = {
        "loop": f"<root>: {ws}/loop: a symlink that leads nowhere (a loop, or a missing target)",
        long: f"<root>: {ws}/{long}: cannot use as the manifest: File name too long",
        f"manifest/{long}.yml": (
            f"<root>: {ws}/manifest/{long}.yml: cannot use as the manifest: File name too long"
        ),
    }
    for given, message in cases.items():
        result = run_cli("validate", "-m", given, cwd=ws)
        assert result.code == 2, result.err
        assert result.err.splitlines() == [message]


def test_envars_no_dockerfile_writes_are_a_warning(tmp_path: Path) -> None:
    manifest = MANIFEST.replace(
        "add_to_tags: bookworm", "add_to_tags: bookworm\n      envars: [LANG=C.UTF-8, TZ=UTC]"
    )
    ws = minimal(tmp_path, manifest)
    (ws / "templates/t/base.Dockerfile.j2").write_text(
        'FROM {{ base_image }}\nENV LANG={{ envars["LANG"] | env_quote }}\n'
    )
    result = run_cli("validate", cwd=ws)
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "warning: manifest/m.yml:11:30: releases.debian.12.envars[1]: no Dockerfile of debian12 "
        "writes TZ (ENV): templates see envars but none uses this one",
        f"ok: 3 targets (2 images, 1 verify); {NO_BUILDX}",
    ]
