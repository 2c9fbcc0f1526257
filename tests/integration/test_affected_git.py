"""`bakegen affected` where git is what goes wrong, with real git: no repository, no commits,
a submodule that cannot be read at REF, a symlink leaving the repository; and `--bake` through
the command line (one line and exit 2 for every place it must not write)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bakegen.commands.affected import affected, bake_file
from bakegen.errors import UsageError
from testing.helpers import ROOT, git, run_cli
from testing.judge import example_repo


def copy_example(folder: Path) -> Path:
    folder.mkdir()
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


def test_no_repository_and_no_commits_say_so(tmp_path: Path) -> None:
    ws = copy_example(tmp_path / "ws")
    result = run_cli("affected", "--since", "HEAD", cwd=ws)
    assert result.code == 2
    assert result.err == (
        f"{ws}: no git repository here (nor in a folder above it); `bakegen affected` compares "
        "the working tree with a git revision: run it in a clone, or `git init` and commit first\n"
    )
    git(ws, "init", "-q")
    with pytest.raises(
        UsageError, match=r"^'HEAD' is no commit: the git repository at .* has no commits yet$"
    ):
        affected(ws, "HEAD")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "base")
    with pytest.raises(UsageError, match=r"^'origin/main' is no commit of the git repository at "):
        affected(ws, "origin/main")
    assert affected(ws, "HEAD").targets == {}


def submodule_repo(tmp_path: Path) -> tuple[Path, Path]:
    """The example repository with templates/common in a submodule; the submodule's origin."""
    repo = example_repo(tmp_path)
    shared = tmp_path / "shared"
    shutil.copytree(repo / "templates/common", shared)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "shared")):
        git(shared, *args)
    git(repo, "rm", "-rq", "templates/common")
    git(
        repo,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(shared),
        "templates/common",
    )
    git(repo, "commit", "-qm", "templates/common in a submodule")
    return repo, shared


def test_templates_in_a_submodule_are_read_at_the_commit_ref_records(tmp_path: Path) -> None:
    repo, _ = submodule_repo(tmp_path)
    assert affected(repo, "HEAD").targets == {}
    sub = repo / "templates/common"
    (sub / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n', encoding="utf-8")
    found = affected(repo, "HEAD")
    assert (found.note, found.warnings) == (None, [])
    assert found.targets
    assert all(
        r == ["context file templates/common/entrypoint.sh changed"]
        or r[0].startswith("built FROM")
        for r in found.targets.values()
    )


def test_a_submodule_ref_cannot_read_is_named_as_the_cause(tmp_path: Path) -> None:
    repo, _ = submodule_repo(tmp_path)
    sub = repo / "templates/common"
    # Its files stay, as a plain folder: the working tree compiles, REF's submodule is unread.
    (sub / ".git").unlink()
    found = affected(repo, "HEAD")
    assert found.note is not None
    assert found.note.startswith("HEAD does not compile (")
    assert (
        "; the submodule at templates/common: not checked out here, so its files at " in found.note
    )
    assert found.note.endswith("(`git submodule update --init`); every target is affected")
    assert len(found.targets) == 50


def test_a_submodule_commit_missing_from_its_repository_is_named(tmp_path: Path) -> None:
    repo, _ = submodule_repo(tmp_path)
    sub = repo / "templates/common"
    (sub / "notes.txt").write_text("new\n", encoding="utf-8")
    git(sub, "add", "-A")
    git(sub, "commit", "-qm", "notes")
    git(repo, "commit", "-qam", "the submodule moves on")
    git(sub, "reset", "-q", "--hard", "HEAD~1")
    git(sub, "reflog", "expire", "--expire=now", "--all")
    git(sub, "gc", "-q", "--prune=now")
    found = affected(repo, "HEAD")
    assert found.note is not None
    assert "the submodule at templates/common: its commit " in found.note
    assert "is not in its repository (`git submodule update`)" in found.note


def test_symlinks_out_of_the_repository_are_no_crash(tmp_path: Path) -> None:
    repo = example_repo(tmp_path, "images")
    os.symlink("/etc/hostname", repo / "host")
    os.symlink("../../../elsewhere", repo / "images/templates/up")
    os.symlink("missing", repo / "dangling")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    result = run_cli("-C", "images", "affected", "--since", "HEAD", "--json", cwd=repo)
    assert (result.code, result.out, result.err) == (0, "{}\n", "")


def test_affected_bake_writes_only_where_render_would(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    (repo / "templates/debian/devel.Dockerfile.j2").write_text("FROM base\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo / "out")
    (repo / "notes.txt").write_text("mine\n", encoding="utf-8")
    refused = {
        "manifest/manifest.yml": "manifest/manifest.yml: not made by bakegen (no marker)",
        "README.md": "README.md: not made by bakegen (no marker)",
        "out/affected.hcl": "out: is a symlink; bakegen does not write through symlinks",
        "../affected.hcl": "--bake ../affected.hcl: is outside the workspace",
        "docker-bake.hcl": "--bake docker-bake.hcl: is where `bakegen render` writes",
    }
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    for given, says in refused.items():
        result = run_cli("affected", "--since", "HEAD", "--bake", given, cwd=repo)
        assert result.code == 2, (given, result.err)
        assert result.err.startswith(says), result.err
        assert result.err.count("\n") == 1
        assert result.out == ""
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert list(outside.iterdir()) == []
    result = run_cli("affected", "--since", "HEAD", "--bake", "ci/affected.hcl", "--json", cwd=repo)
    assert result.code == 0, result.err
    targets = list(json.loads(result.out))
    assert targets
    assert (repo / "ci/affected.hcl").read_text(encoding="utf-8") == bake_file(targets)


def test_the_generated_check_job_runs_affected_with_a_link_out(tmp_path: Path) -> None:
    """The command the check job runs, in a real process: exit 0 and one target a line."""
    repo = example_repo(tmp_path)
    os.symlink("/etc", repo / "etc-link")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a link out")
    (repo / "templates/common/entrypoint.sh").write_text("#!/bin/sh\n", encoding="utf-8")
    proc = subprocess.run(
        ["python3", "-m", "bakegen", "affected", "--since", "HEAD"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    assert lines
    assert all("-runtime-" in t for t in lines)


FAMILY = ROOT / "examples" / "notebook-family"


@pytest.mark.parametrize(
    ("path", "text", "images"),
    [
        # a file of a context folder: its image and every image built FROM it
        ("images/foundation/start.sh", "# edited\n", 7),
        # one leaf's own file: that image alone
        ("images/datascience-notebook/datascience-notebook.txt", "more\n", 1),
        # a file the context's .dockerignore leaves out (*.md): nothing
        ("images/foundation/NOTES.md", "more\n", 0),
        # the variant's own template: the variant alone, not the package it varies
        ("images/pytorch-notebook/cuda12.Dockerfile.j2", "RUN true\n", 1),
    ],
)
def test_per_image_contexts_and_variants_are_followed(
    tmp_path: Path, path: str, text: str, images: int
) -> None:
    repo = tmp_path / "family"
    shutil.copytree(FAMILY, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "family")
    with (repo / path).open("a", encoding="utf-8") as handle:
        handle.write(text)
    result = run_cli("affected", "--since", "HEAD", cwd=repo)
    assert result.code == 0, result.err
    found = [t for t in result.out.split() if not t.endswith("-verify")]
    assert len(found) == images, found
    if path.endswith("cuda12.Dockerfile.j2"):
        assert found == ["pytorch-notebook-cuda12-notebook-debian12-py311"]
