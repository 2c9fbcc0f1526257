"""`affected` without git's processes: one side's files (the render's outputs over the output
folder, a context's files less its .dockerignore, symlinks), REF's tree as git lists it, the
`--bake` file written as render writes, and the one-line errors when git or docker is missing
(unit tier)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bakegen.affected.compare import changed
from bakegen.affected.entries import entries
from bakegen.affected.files import Files
from bakegen.affected.git import GIT_MISSING, link_target, tree_entries
from bakegen.affected.inputs import target_of
from bakegen.affected.reads import WHOLE
from bakegen.commands.affected import affected, bake_file, bake_path
from bakegen.commands.smoke import run_tests
from bakegen.errors import OutputConflict, UsageError
from bakegen.layout import MARKER
from bakegen.write import write_owned
from testing.helpers import ROOT, run_cli
from testing.unit import manifest_data, plan_of


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_side_sees_its_outputs_in_place_of_its_output_folder(tmp_path: Path) -> None:
    write(tmp_path / "generated/old/Dockerfile", f"# {MARKER}\nFROM x\n")  # render removes it
    write(tmp_path / "generated/notes.txt", "a person's file\n")  # render leaves it
    write(tmp_path / "generated/a/Dockerfile", f"# {MARKER}\nFROM stale\n")
    files = Files(tmp_path, tmp_path, {"generated/a/Dockerfile": "FROM new\n"})
    found = files.context_files(str(tmp_path), "generated", "")
    assert set(found) == {"generated/a/Dockerfile", "generated/notes.txt"}
    assert files.text(str(tmp_path / "generated/a/Dockerfile")) == b"FROM new\n"
    other = Files(tmp_path, tmp_path, {"generated/a/Dockerfile": "FROM other\n"})
    assert other.context_files(str(tmp_path), "generated", "") != found


def test_a_read_gives_the_files_the_context_keeps(tmp_path: Path) -> None:
    for name in ("docs/a.md", "docs/b.md", "docs/deep/c.md", "x.txt", ".git/HEAD"):
        write(tmp_path / name, name)
    files = Files(tmp_path, tmp_path, {})
    root = str(tmp_path)
    assert set(files.context_files(root, "docs", "docs/b.md")) == {"docs/a.md", "docs/deep/c.md"}
    assert set(files.context_files(root, "docs/*.md", "")) == {"docs/a.md", "docs/b.md"}
    assert set(files.context_files(root, "*", "docs")) == {"x.txt", ".git/HEAD"}
    assert set(files.context_files(root, WHOLE, "*.txt")) == {
        "docs/a.md",
        "docs/b.md",
        "docs/deep/c.md",
    }
    assert files.context_files(root, "missing", "") == {}


def test_a_digest_is_the_bytes_and_the_executable_bit(tmp_path: Path) -> None:
    write(tmp_path / "run.sh", "echo\n")
    before = Files(tmp_path, tmp_path, {}).context_files(str(tmp_path), "run.sh", "")
    (tmp_path / "run.sh").chmod(0o755)
    after = Files(tmp_path, tmp_path, {}).context_files(str(tmp_path), "run.sh", "")
    assert before != after


def test_symlinks_are_followed_inside_the_context_only(tmp_path: Path) -> None:
    write(tmp_path / "ctx/real/a.txt", "a")
    write(tmp_path / "outside.txt", "secret")
    os.symlink("real", tmp_path / "ctx/link")
    os.symlink("../outside.txt", tmp_path / "ctx/escape")
    os.symlink("/a.txt", tmp_path / "ctx/real/abs")  # absolute: from the context's root
    files = Files(tmp_path, tmp_path, {})
    root = str(tmp_path / "ctx")
    assert set(files.context_files(root, "link/a.txt", "")) == {"link/a.txt"}
    assert files.context_files(root, "escape", "") == {}  # ctx/outside.txt: not there
    assert set(files.context_files(root, "real", "")) == {"real/a.txt", "real/abs"}


def test_refs_side_reads_a_path_above_its_copy_where_the_repository_has_it(
    tmp_path: Path,
) -> None:
    copy, repo = tmp_path / "copy", tmp_path / "work" / "repo"
    write(tmp_path / "work/shared/w.whl", "w")
    copy.mkdir()
    files = Files(copy, copy / "ws", {}, real_root=repo)
    assert files.locate("../../shared") == str(tmp_path / "work/shared")
    assert files.locate("sub") == str(copy / "ws/sub")


def test_refs_tree_as_git_lists_it_and_symlinks_that_leave_it() -> None:
    listing = (
        b"100644 blob aaa\tREADME.md\x00"
        b"120000 blob bbb\tlink\x00"
        b"160000 commit ccc\ttemplates/common\x00"
    )
    assert [(e.mode, e.oid, e.path) for e in tree_entries(listing)] == [
        ("100644", "aaa", "README.md"),
        ("120000", "bbb", "link"),
        ("160000", "ccc", "templates/common"),
    ]
    top = Path("/src/repo")
    assert link_target(top, "a/link", "../b") == "../b"
    assert link_target(top, "a/link", "../../up") == "/src/up"
    assert link_target(top, "link", "/etc/hostname") == "/etc/hostname"


def test_without_git_affected_says_so_and_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "git").write_text("#!/bin/sh\n", encoding="utf-8")  # there, not executable
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as caught:
        affected(tmp_path, "HEAD")
    assert str(caught.value) == GIT_MISSING
    assert "install git" in GIT_MISSING
    result = run_cli("affected", "--since", "HEAD", cwd=ROOT)
    assert (result.code, result.err) == (2, f"{GIT_MISSING}\n")


def test_without_docker_smoke_says_so_before_any_test_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_of(
        manifest_data(
            version="1.0",
            packages={"app": {"runtime": ["debian"], "tests": [{"name": "t", "run": "true"}]}},
        )
    )
    for folder in (tmp_path / "none", tmp_path / "unrunnable"):
        folder.mkdir()
        monkeypatch.setenv("PATH", str(folder))
        if folder.name == "unrunnable":
            (folder / "docker").write_text("", encoding="utf-8")
        with pytest.raises(UsageError, match=r"^docker not found on PATH \(or not executable\)"):
            run_tests(plan, {}, [])
    result = run_cli("smoke", cwd=ROOT)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "install Docker" in result.err
    assert run_tests(plan, {}, [], dry_run=True, say=lambda _line: None) == []


# --- --bake FILE ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("../elsewhere.hcl", "is outside the workspace"),
        ("/etc/affected.hcl", "is outside the workspace"),
        ("docker-bake.hcl", "is where `bakegen render` writes"),
        ("generated/affected.hcl", "is where `bakegen render` writes"),
        (".", "is the workspace folder"),
    ],
)
def test_bake_refuses_a_place_of_renders_or_outside_the_workspace(
    given: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=f"^--bake {given}: {says}"):
        bake_path(tmp_path, Path(given))


def test_bake_is_written_only_over_its_own_file_never_through_a_symlink(tmp_path: Path) -> None:
    text = bake_file(["a"])
    write_owned(tmp_path, "ci/new/affected.hcl", text)  # a missing folder is made
    assert (tmp_path / "ci/new/affected.hcl").read_text(encoding="utf-8") == text
    write_owned(tmp_path, "ci/new/affected.hcl", bake_file(["b"]))  # bakegen's: replaced
    for name in ("manifest.yml", "README.md"):
        write(tmp_path / name, "a person's text\n")
        with pytest.raises(OutputConflict, match="not made by bakegen"):
            write_owned(tmp_path, name, text)
        assert (tmp_path / name).read_text(encoding="utf-8") == "a person's text\n"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "out")
    os.symlink(outside / "a.hcl", tmp_path / "a.hcl")
    for rel in ("out/affected.hcl", "a.hcl"):
        with pytest.raises(UsageError, match="is a symlink; bakegen does not write through"):
            write_owned(tmp_path, rel, text)
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "ci/new").iterdir()) == ["affected.hcl"]


def test_a_target_whose_context_is_an_expression_is_always_affected(tmp_path: Path) -> None:
    text = (
        'variable "CTX" {\n  default = "."\n}\n'
        'target "app" {\n  context = "${CTX}"\n  dockerfile = "Dockerfile"\n}\n'
        'target "plain" {\n  dockerfile = "Dockerfile"\n}\n'
    )
    write(tmp_path / "Dockerfile", "FROM scratch\nCOPY a /a\n")
    write(tmp_path / "a", "a")
    files = Files(tmp_path, tmp_path, {})
    sides = [
        {n: target_of(e, files, side) for n, e in entries(text, []).items()}
        for side in ("now", "before")
    ]
    assert sides[0]["plain"].own["context file a"] == files.digest(str(tmp_path / "a"))
    assert changed(sides[0], sides[1], "HEAD") == {
        "app": [
            "what its build reads is not known (its context, Dockerfile or contexts is an "
            "expression)"
        ]
    }
