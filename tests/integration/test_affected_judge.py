"""`bakegen affected` against the judge (testing.judge) over the kinds of change it used to
miss: the workspace's docker-bake.hcl.j2, a folder given as a named context, a COPY source
with an ARG in its path, a .dockerignore, a manifest given by an absolute path, a workspace in
a subfolder of its repository, a source whose variable cannot be known, a symlink leaving the
repository, templates in a git submodule. Each base state is committed, each change left in
the working tree; `affected --since HEAD` must name exactly the judge's targets."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bakegen.commands.affected import affected
from testing.helpers import git
from testing.judge import example_repo, judge

pytestmark = pytest.mark.buildx

RUNTIME = "templates/common/runtime.j2"
TARGETS = 50  # every target of the example workspace, verify checks included


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def after_arg(ws: Path, lines: str) -> None:
    """`lines` in the runtime template, after its ARG PYTHON_VERSION."""
    edit(
        ws / RUNTIME,
        "ARG PYTHON_VERSION={{ python_version }}\n",
        f"ARG PYTHON_VERSION={{{{ python_version }}}}\n{lines}\n",
    )


def yatai_only(line: str) -> str:
    return f'{{% if package == "yatai-service" %}}\n{line}\n{{% endif %}}'


def wheels(ws: Path) -> None:
    edit(
        ws / "manifest/manifest.yml",
        "  yatai-service:\n",
        "  yatai-service:\n    bake:\n      contexts: {wheels: ./wheels}\n",
    )
    after_arg(ws, yatai_only("COPY --from=wheels . /wheels/"))
    write(ws / "wheels/a.whl", "a\n")
    write(ws / "wheels/b.whl", "b\n")
    write(ws / "wheels/.dockerignore", "*.tmp\n")
    write(ws / "wheels/c.tmp", "c\n")


def requirements(ws: Path) -> None:
    after_arg(ws, "COPY reqs/py${PYTHON_VERSION}.txt /tmp/requirements.txt")
    for minor in range(10, 14):
        write(ws / f"reqs/py3.{minor}.txt", f"python 3.{minor}\n")


def docs(ws: Path) -> None:
    after_arg(ws, "COPY docs/ /opt/docs/")
    for name in ("a.md", "b.md", "x.tmp", "keep.tmp"):
        write(ws / "docs" / name, f"{name}\n")
    write(ws / ".dockerignore", "# scratch files\ndocs/*.tmp\n!docs/keep.tmp\n")


def unknowable(ws: Path) -> None:
    after_arg(ws, yatai_only("COPY ${SET_BY_THE_BASE}notes.txt /tmp/"))
    write(ws / "notes.txt", "notes\n")


def links_out(ws: Path) -> None:
    os.symlink("/etc/hostname", ws / "host-link")
    os.symlink("../../../elsewhere", ws / "templates/common/up")


def submodule(ws: Path) -> None:
    """templates/common moved into a repository of its own, added back as a submodule."""
    shared = ws.parent / "shared"
    shutil.copytree(ws / "templates/common", shared)
    git(shared, "init", "-q")
    git(shared, "add", "-A")
    git(shared, "commit", "-q", "-m", "shared templates")
    git(ws, "rm", "-rq", "templates/common")
    git(
        ws,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(shared),
        "templates/common",
    )


def nothing(ws: Path) -> None:
    del ws


def runtime_images(found: set[str]) -> bool:
    return bool(found) and all("-runtime-" in t for t in found)


@dataclass(frozen=True)
class Case:
    change: Callable[[Path], object]
    expect: Callable[[set[str]], bool]
    setup: Callable[[Path], object] = nothing
    workspace: str = ""
    absolute_manifest: bool = False


OVERRIDE = "docker-bake.hcl.j2"
CASES = {
    "an override's description": Case(
        lambda ws: edit(ws / OVERRIDE, 'yatai-service images" |', 'yatai-service images!" |'),
        lambda found: len(found) == TARGETS,
    ),
    "an override's comment": Case(
        lambda ws: edit(ws / OVERRIDE, "# model-server and yatai", "# The model-server and yatai"),
        lambda found: found == set(),
    ),
    "a file in a contexts folder": Case(
        lambda ws: write(ws / "wheels/b.whl", "b2\n"),
        lambda found: runtime_images(found) and all("yatai" in t for t in found),
        wheels,
    ),
    "a file a contexts folder's .dockerignore leaves out": Case(
        lambda ws: write(ws / "wheels/c.tmp", "c2\n"), lambda found: found == set(), wheels
    ),
    "an ARG-expanded source": Case(
        lambda ws: write(ws / "reqs/py3.11.txt", "python 3.11, again\n"),
        lambda found: runtime_images(found) and all("py311" in t for t in found),
        requirements,
    ),
    "a .dockerignore that leaves a copied file out": Case(
        lambda ws: edit(ws / ".dockerignore", "docs/*.tmp", "docs/*.tmp\ndocs/b.md"),
        runtime_images,
        docs,
    ),
    "a file the .dockerignore leaves out": Case(
        lambda ws: write(ws / "docs/x.tmp", "changed\n"), lambda found: found == set(), docs
    ),
    "a file a .dockerignore exception keeps": Case(
        lambda ws: write(ws / "docs/keep.tmp", "changed\n"), runtime_images, docs
    ),
    "the manifest, given by an absolute path": Case(
        lambda ws: edit(
            ws / "manifest/manifest.yml", "- PIP_NO_CACHE_DIR=1", "- PIP_NO_CACHE_DIR=0"
        ),
        bool,
        absolute_manifest=True,
    ),
    "a workspace in a subfolder, unchanged": Case(
        nothing, lambda found: found == set(), workspace="images"
    ),
    "a workspace in a subfolder, a template edited": Case(
        lambda ws: edit(ws / "templates/debian/devel.Dockerfile.j2", "WORKDIR /src", "WORKDIR /s"),
        lambda found: bool(found) and all("-devel-" in t for t in found),
        workspace="images",
    ),
    "a source whose variable cannot be known": Case(
        lambda ws: write(ws / "README.md", "more\n"),
        lambda found: runtime_images(found) and all("yatai" in t for t in found),
        unknowable,
    ),
    "symlinks out of the repository": Case(
        lambda ws: edit(ws / "templates/rhel/base.Dockerfile.j2", "FROM", "# base\nFROM"),
        lambda found: bool(found) and all("rockylinux" in t for t in found),
        links_out,
        workspace="images",
    ),
    "templates in a submodule": Case(
        lambda ws: write(ws / "templates/common/entrypoint.sh", '#!/bin/sh\nexec "$@"\n'),
        runtime_images,
        submodule,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_affected_is_the_judge(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    repo = example_repo(tmp_path, case.workspace)
    ws = repo / case.workspace
    case.setup(ws)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "setup")
    case.change(ws)
    manifest = ws / "manifest/manifest.yml" if case.absolute_manifest else None
    found = affected(ws, "HEAD", manifest)
    assert (found.note, found.warnings) == (None, [])
    expected = judge(repo, "HEAD", case.workspace, f"{case.workspace}/manifest".lstrip("/"))
    assert set(found.targets) == expected
    assert case.expect(expected), expected
