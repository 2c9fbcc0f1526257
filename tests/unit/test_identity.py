"""What a render depends on besides the workspace is in its key down to the file: every file of
every library that makes a render's outputs, known by its status, so a library patched in place
(one file of Jinja's edited, its size and modification time kept) renders again."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakegen import identity, pipeline
from testing.helpers import ROOT, minimal_workspace, run_cli

# Modules that only read the command line or print what a render said (its messages are kept
# as text): the libraries they import do not change what a render makes.
COMMAND_LINE_AND_CONSOLE = {
    "cli.py",
    "commands/completion.py",
    "commands/typer_options.py",
    "output.py",
}


@pytest.fixture(autouse=True)
def fresh_identity() -> Iterator[None]:
    """The identity worked out anew in each test, and again after it."""
    identity.installed.cache_clear()
    identity.code_digest.cache_clear()
    yield
    identity.installed.cache_clear()
    identity.code_digest.cache_clear()


def _imported_top_names() -> set[str]:
    """The top-level names bakegen's modules import (but the command line's and console's)."""
    found: set[str] = set()
    package = ROOT / "bakegen"
    for path in package.rglob("*.py"):
        if path.relative_to(package).as_posix() in COMMAND_LINE_AND_CONSOLE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"bakegen", "__future__"}


def _with_requirements(names: set[str]) -> set[str]:
    """`names` and every distribution they require (on any Python; no extras)."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = identity.normalized(pending.pop())
        if name in found:
            continue
        found.add(name)
        requires = importlib.metadata.requires(name) or []
        pending += [re.match(r"[A-Za-z0-9._-]+", r)[0] for r in requires if "extra ==" not in r]  # type: ignore[index]
    return found


def test_the_render_libraries_are_what_bakegen_imports_and_what_that_requires() -> None:
    owners = importlib.metadata.packages_distributions()
    tops = _imported_top_names()
    assert {"yaml", "jinja2", "jsonschema"} <= tops, "the scan sees nothing: it proves nothing"
    distributions = {dist for top in tops for dist in owners[top]}
    assert _with_requirements(distributions) == set(identity.RENDER_LIBRARIES)


def test_every_file_a_render_library_installed_is_in_the_identity() -> None:
    known = identity.library_files()
    for name in identity.RENDER_LIBRARIES:
        try:
            files = importlib.metadata.files(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not needed on this Python (typing-extensions on 3.13)
        assert files, name
        for file in files:
            path = os.path.normpath(file.locate())
            assert path in known, (name, path)
            assert known[path] != "-", (name, path)


def _shadow(site: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A distribution `name` installed in `site` with `files` and its RECORD, ahead of the real
    one on the import path; its metadata folder."""
    metadata = site / f"{name}-{version}.dist-info"
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n", encoding="utf-8")
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    record = [f"{rel},sha256=x,{len(data)}" for rel, data in files.items()]
    record += [f"{metadata.name}/METADATA,,", f"{metadata.name}/RECORD,,", '"odd,name.txt",,']
    (site / "odd,name.txt").write_text("a file with a comma in its name\n", encoding="utf-8")
    (metadata / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
    return metadata


def _digest_now() -> str:
    identity.installed.cache_clear()
    identity.code_digest.cache_clear()
    return identity.code_digest()


def _same_size_and_times(path: Path, data: bytes) -> None:
    """`data` written over `path` (as long as it was), its access and modification times kept."""
    info = path.stat()
    assert len(data) == info.st_size
    path.write_bytes(data)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_a_library_patched_in_place_changes_the_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = identity.libraries()["jinja2"]
    site = tmp_path / "site"
    files = {"jinja2/__init__.py": b"", "jinja2/filters.py": b"def f(): return 1\n"}
    _shadow(site, "jinja2", version, files)
    monkeypatch.syspath_prepend(str(site))
    first = _digest_now()
    assert str(site / "jinja2/filters.py") in identity.library_files()
    assert str(site / "odd,name.txt") in identity.library_files()
    assert _digest_now() == first  # nothing changed: the same identity
    seen = {first}
    _same_size_and_times(site / "jinja2/filters.py", b"def f(): return 2\n")
    seen.add(_digest_now())
    (site / "jinja2/filters.py").unlink()
    seen.add(_digest_now())
    (site / "jinja2/filters.py").write_bytes(b"def f(): return 1\n")  # put back: a new file
    seen.add(_digest_now())
    _same_size_and_times(site / "odd,name.txt", b"A file with a comma in its name\n")
    seen.add(_digest_now())
    assert len(seen) == 5  # each change another identity


def test_a_library_without_a_record_is_known_by_its_packages_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = identity.libraries()["markupsafe"]
    site = tmp_path / "site"
    metadata = _shadow(site, "MarkupSafe", version, {"markupsafe/__init__.py": b"x = 1\n"})
    (metadata / "RECORD").unlink()  # as an older installer left it
    egg = metadata.rename(site / f"MarkupSafe-{version}-py3.11.egg-info")
    (egg / "top_level.txt").write_text("markupsafe\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    first = _digest_now()
    assert identity.installed()["markupsafe"] == (version, str(egg))
    assert str(site / "markupsafe/__init__.py") in identity.library_files()
    _same_size_and_times(site / "markupsafe/__init__.py", b"x = 2\n")
    assert _digest_now() != first


def test_a_patched_library_renders_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    compiles: list[str] = []
    real = pipeline.compile_workspace

    def counted(*args: object, **kwargs: object) -> pipeline.Compiled:
        compiles.append("compile")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "compile_workspace", counted)
    version = identity.libraries()["pyyaml"]
    site = tmp_path / "site"
    _shadow(site, "PyYAML", version, {"yaml/__init__.py": b"", "yaml/reader.py": b"r = 1\n"})
    monkeypatch.syspath_prepend(str(site))  # looked at, never imported: yaml is loaded
    _digest_now()
    ws = minimal_workspace(tmp_path)
    for _ in range(2):
        assert run_cli("render", cwd=ws).code == 0
    assert compiles == ["compile"]
    _same_size_and_times(site / "yaml/reader.py", b"r = 2\n")
    identity.code_digest.cache_clear()  # a new process works the identity out anew
    assert run_cli("render", "--check", cwd=ws).code == 0
    assert compiles == ["compile", "compile"]
