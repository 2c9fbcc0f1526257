"""Bad inputs: every case of tests/corpus exits 2 with exactly its expected lines and no traceback,
and leaves the output of the last good render byte for byte as it was.

The corpus:
- `_base/` is a good workspace (manifest/ and templates/); each case starts as a rendered copy;
- `NAME.yml` with `NAME.err`: the case's manifest replaces manifest/manifest.yml;
- `NAME/` with `NAME/expected.err`: manifest/ is removed, then the folder's files are laid over the
  workspace (it brings its own manifest/ and may add templates or other files);
- `NAME.xfail`, when present, says which known bug the case shows: it must fail until fixed.

`.err` files hold stderr line for line, written by hand: `file:line:col: key.path: message`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli, tree

CORPUS = Path(__file__).resolve().parent / "corpus"
BASE = CORPUS / "_base"
EXPECTED = "expected.err"


@dataclass(frozen=True)
class Case:
    name: str
    source: Path
    expected: tuple[str, ...]
    xfail: str | None

    def param(self) -> object:
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(self, id=self.name, marks=marks)


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.iterdir()):
        if path.name.startswith("_"):
            continue
        if path.is_dir():
            expected = path / EXPECTED
        elif path.suffix == ".yml":
            expected = path.with_suffix(".err")
        else:
            continue
        xfail = path.with_suffix(".xfail") if path.is_file() else CORPUS / f"{path.name}.xfail"
        cases.append(
            Case(
                name=path.stem if path.is_file() else path.name,
                source=path,
                expected=tuple(expected.read_text(encoding="utf-8").splitlines()),
                xfail=xfail.read_text(encoding="utf-8").strip() if xfail.exists() else None,
            )
        )
    return cases


CASES = load_cases()
SUBPROCESS_CASES = (
    "yaml_unclosed_flow_list",
    "non_utf8",
    "yaml_deep_flow_lists",
    "yaml_unsupported_tags",
    "yaml_alias_cycle",
    "template_undefined_variable",
)


def rendered_base(tmp_path: Path) -> Path:
    """A copy of the good workspace, rendered."""
    ws = tmp_path / "ws"
    shutil.copytree(BASE, ws)
    first = run_cli("render", cwd=ws)
    assert first.code == 0, first.err
    assert (ws / "docker-bake.hcl").is_file()
    return ws


def swap_in(ws: Path, case: Case) -> None:
    """Replace the workspace's manifest with the case's files."""
    shutil.rmtree(ws / "manifest")
    if case.source.is_dir():
        shutil.copytree(
            case.source, ws, dirs_exist_ok=True, ignore=shutil.ignore_patterns(EXPECTED)
        )
    else:
        (ws / "manifest").mkdir()
        shutil.copyfile(case.source, ws / "manifest" / "manifest.yml")


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert all(case.expected for case in CASES), "every case names at least one problem"
    for name in SUBPROCESS_CASES:
        assert any(case.name == name for case in CASES), name


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_exit_2_exact_lines_nothing_written(case: Case, tmp_path: Path) -> None:
    ws = rendered_base(tmp_path)
    swap_in(ws, case)
    before = tree(ws)
    commands = [["render"], ["validate"], ["render", "--check"]]
    if not (case.source / "docker-bake.hcl.j2").exists():  # the JSON bake file has no template
        commands.append(["render", "--format", "json"])
    for command in commands:
        result = run_cli(*command, cwd=ws)
        assert "Traceback" not in result.err + result.out
        assert "internal error" not in result.err
        assert result.code == 2, (command, result.err)
        assert result.err.splitlines() == list(case.expected), command
        assert result.out == ""
        assert tree(ws) == before, command


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(name: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == name)
    ws = rendered_base(tmp_path)
    swap_in(ws, case)
    before = tree(ws)
    env = {k: v for k, v in os.environ.items() if k != "BAKEGEN_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "bakegen", "render"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == list(case.expected)
    assert proc.stdout == ""
    assert tree(ws) == before


def test_file_over_4_mib_is_refused_unread(tmp_path: Path) -> None:
    ws = rendered_base(tmp_path)
    text = (BASE / "manifest" / "manifest.yml").read_text(encoding="utf-8")
    padding = "# " + "x" * 98 + "\n"
    with (ws / "manifest" / "manifest.yml").open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.write(padding * (4 * 1024 * 1024 // len(padding) + 1))
    size = (ws / "manifest" / "manifest.yml").stat().st_size
    before = tree(ws)
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"manifest/manifest.yml:1:1: <root>: file is {size} bytes; "
        "manifests larger than 4194304 are refused"
    ]
    assert tree(ws) == before


def test_manifest_that_is_a_folder_of_nothing(tmp_path: Path) -> None:
    ws = rendered_base(tmp_path)
    shutil.rmtree(ws / "manifest")
    (ws / "manifest").mkdir()
    before = tree(ws)
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == ["manifest:1:1: <root>: no *.yml or *.yaml files here"]
    assert tree(ws) == before
