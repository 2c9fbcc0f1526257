"""Bad inputs: every case of tests/corpus exits 2 with exactly its expected lines and no traceback,
and leaves the output of the last good render byte for byte as it was.

The corpus:
- `_base/` is a good workspace (manifest/ and templates/); each case starts as a rendered copy;
- `NAME.yml` with `NAME.err`: the case's manifest replaces manifest/manifest.yml;
- `NAME/` with `NAME/expected.err`: manifest/ is removed, then the folder's files are laid over the
  workspace (it brings its own manifest/ and may add templates or other files);
- `NAME.xfail`, when present, says which known bug the case shows: it must fail until fixed.

`.err` files hold stderr line for line, written by hand: `file:line:col: key.path: message`.

Beyond the corpus, seeded random mutations of the good manifest (values replaced by values of
any type, keys deleted or added) must each exit 0 or 2: never a crash, never a half-written tree.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from testing.helpers import CORPUS, run_cli, tree

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


# --- mutations of a good manifest: never a crash ----------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2**40),
    st.sampled_from(
        [
            "",
            "3.10",
            "12.4.1",
            "../x",
            "/abs",
            "a\nb",
            "${X}",
            "UPPER",
            "runtime",
            "base",
            "debian",
            "app",
            "templates/std",
            "linux/amd64",
            "{python}",
            "{",
            "é",
            "12",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


@st.composite
def mutated_manifests(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(GOOD)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(VALUES)
        elif action == "add" and isinstance(parent, list):
            parent.append(draw(VALUES))
        else:
            parent[path[-1]] = draw(VALUES)
    return data


GOOD: dict[str, Any] = yaml.safe_load((BASE / "manifest" / "manifest.yml").read_text())


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(manifest=mutated_manifests())
def test_mutated_manifests_exit_0_or_2_never_a_crash(manifest: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        shutil.copytree(BASE / "templates", ws / "templates")
        (ws / "manifest").mkdir()
        text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False)
        (ws / "manifest" / "manifest.yml").write_text(text, encoding="utf-8")
        result = run_cli("render", cwd=ws)
        event(f"exit {result.code}")
        assert result.code in (0, 2), result.err
        assert "Traceback" not in result.err
        assert "internal error" not in result.err
        if result.code == 2:
            assert result.err.strip()
            assert not (ws / "generated").exists()
            assert not (ws / "docker-bake.hcl").exists()
