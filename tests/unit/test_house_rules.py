"""House rules for the code itself: no module over 400 lines, no function over 60 (from its `def`
line to its last line), in the package, the scripts, the benchmarks and the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from testing.helpers import ROOT

FOLDERS = ("bakegen", "scripts", "benchmarks", "testing", "tests")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    """`path:line: name is N lines` for each function of the module over the limit."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{path.relative_to(root)}:{node.lineno}: {node.name} is {length} lines"
                )
    return found


def test_every_folder_has_modules() -> None:
    counts = {folder: sum(1 for _ in (ROOT / folder).rglob("*.py")) for folder in FOLDERS}
    assert all(counts.values()), counts


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_module_over_400_lines(folder: str) -> None:
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in modules()
        if p.relative_to(ROOT).parts[0] == folder
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "split these modules by what they own:\n" + "\n".join(long)


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_function_over_60_lines(folder: str) -> None:
    long = [
        line
        for p in modules()
        if p.relative_to(ROOT).parts[0] == folder
        for line in long_functions(p)
    ]
    assert not long, "split these functions:\n" + "\n".join(long)


def test_the_rules_see_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    sample = tmp_path / "sample.py"
    sample.write_text(f"def fits():\n{body}\n\ndef over():\n{body}    x = 0\n", encoding="utf-8")
    assert long_functions(sample, tmp_path) == [
        f"sample.py:{MAX_FUNCTION_LINES + 3}: over is 61 lines"
    ]
