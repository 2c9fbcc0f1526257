"""Build ids (`bakegen ci ids`): the same workspace anywhere gives the same ids; each kind of
input changes exactly the ids of the images whose bytes it decides (and their descendants'),
and nothing else; the encoding is the documented one; bad options are one line, exit 2."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.buildid import FORMAT, SHORT, BuildId, Ids, build_ids, encode
from bakegen.pipeline import compile_workspace
from testing.helpers import ROOT, minimal_workspace, run_cli
from testing.unit import RELEASE, manifest_data

FAMILY = ROOT / "examples" / "notebook-family"
CHAIN = ["foundation", "base-notebook", "minimal-notebook", "scipy-notebook"]
LEAVES = ["pytorch-notebook", "pytorch-notebook-cuda12", "datascience-notebook"]
ONE_PLATFORM = {"pytorch-notebook-cuda12", "datascience-notebook"}  # linux/amd64 only
DIGEST = "sha256:" + "ab" * 32
Key = tuple[str, str]  # (image, platform)


def family(tmp_path: Path, name: str = "family") -> Path:
    ws = tmp_path / name
    shutil.copytree(FAMILY, ws)
    return ws


def short(target: str) -> str:
    """foundation-notebook-debian12-py311 -> foundation."""
    return target.split("-notebook-debian12", maxsplit=1)[0]


def ids_of(ws: Path, env: Mapping[str, str] | None = None, **given: Any) -> dict[Key, str]:
    found = build_ids(ws, env=env or {}, **given)
    return {(short(b.target), b.platform): b.id for b in found}


def images(*names: str) -> set[Key]:
    """Every (image, platform) of the family's images `names`."""
    return {
        (n, p)
        for n in names
        for p in ("linux/amd64", "linux/arm64")
        if p == "linux/amd64" or n not in ONE_PLATFORM
    }


def changed(before: dict[Key, str], after: dict[Key, str]) -> set[Key]:
    assert set(before) == set(after)
    return {k for k in before if before[k] != after[k]}


def edit(ws: Path, rel: str, change: Callable[[str], str]) -> None:
    path = ws / rel
    text = path.read_text(encoding="utf-8")
    assert change(text) != text, rel
    path.write_text(change(text), encoding="utf-8")


def test_the_same_workspace_in_two_folders_gives_the_same_ids(tmp_path: Path) -> None:
    one = family(tmp_path, "one")
    other = family(tmp_path / "somewhere" / "else", "two")
    for path in other.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000), follow_symlinks=False)
    first = ids_of(one)
    assert first == ids_of(other) == ids_of(one)
    assert set(first) == images(*CHAIN, *LEAVES)
    assert len(set(first.values())) == len(first)  # each image and platform its own id
    assert all(len(i) == 64 and int(i, 16) >= 0 for i in first.values())


EDITS: dict[str, tuple[str, Callable[[str], str], set[Key]]] = {
    "a Dockerfile template": (
        "images/minimal-notebook/Dockerfile.j2",
        lambda t: t + "RUN true\n",
        images("minimal-notebook", "scipy-notebook", *LEAVES),
    ),
    "a file a COPY takes": (
        "images/scipy-notebook/scipy-notebook.txt",
        lambda t: t + "more\n",
        images("scipy-notebook", *LEAVES),
    ),
    "a file of a variant's shared context": (
        "images/pytorch-notebook/pytorch-notebook.txt",
        lambda t: t + "more\n",
        images("pytorch-notebook", "pytorch-notebook-cuda12"),
    ),
    "a leaf's file": (
        "images/datascience-notebook/datascience-notebook.txt",
        lambda t: t + "more\n",
        images("datascience-notebook"),
    ),
    "a file in a copied folder": (
        "images/foundation/layers/foundation.txt",
        lambda t: t + "more\n",
        images(*CHAIN, *LEAVES),
    ),
    "a file .dockerignore leaves out of a copied folder": (
        "images/foundation/layers/draft.txt",
        lambda t: t + "more\n",
        set(),
    ),
    "a context file .dockerignore leaves out": (
        "images/base-notebook/README.md",
        lambda t: t + "more\n",
        set(),
    ),
    "the .dockerignore, to let a file in": (
        "images/foundation/.dockerignore",
        lambda t: t.replace("layers/draft.txt\n", ""),
        images(*CHAIN, *LEAVES),
    ),
    "a tag format": (
        "manifest/manifest.yml",
        lambda t: t.replace('tag: "{version}"', 'tag: "v{version}-{python}"'),
        set(),
    ),
    "an alias dropped": (
        "manifest/manifest.yml",
        lambda t: t.replace(
            '      - tag: "{date}"           # 2025-01-31\n        where: {distro: debian}\n', ""
        ),
        set(),
    ),
    "a repository": (
        "manifest/manifest.yml",
        lambda t: t.replace("docker.io/example-stacks/", "docker.io/other-stacks/"),
        set(),
    ),
}


@pytest.mark.parametrize("what", list(EDITS))
def test_each_input_changes_exactly_the_ids_it_should(tmp_path: Path, what: str) -> None:
    rel, change, expected = EDITS[what]
    ws = family(tmp_path)
    before = ids_of(ws)
    edit(ws, rel, change)
    assert changed(before, ids_of(ws)) == expected


def test_a_context_file_no_copy_names_changes_no_id(tmp_path: Path) -> None:
    ws = family(tmp_path)
    before = ids_of(ws)
    (ws / "images/base-notebook/notes.txt").write_text("not copied", encoding="utf-8")
    (ws / "images/base-notebook/sub").mkdir()
    (ws / "images/base-notebook/sub/more.txt").write_text("nor this", encoding="utf-8")
    assert ids_of(ws) == before


def test_the_executable_bit_of_a_copied_file_is_part_of_the_id(tmp_path: Path) -> None:
    ws = family(tmp_path)
    before = ids_of(ws)
    (ws / "images/foundation/layers/foundation.txt").chmod(0o755)
    assert changed(before, ids_of(ws)) == images(*CHAIN, *LEAVES)


def test_a_stale_generated_tree_does_not_count_only_the_render_does(tmp_path: Path) -> None:
    ws = family(tmp_path)
    before = ids_of(ws)
    shutil.rmtree(ws / "generated")
    assert ids_of(ws) == before
    edit(ws, "images/base-notebook/Dockerfile.j2", lambda t: t + "RUN true\n")
    after = ids_of(ws)
    shutil.copytree(FAMILY / "generated", ws / "generated")  # an old render on disk
    assert ids_of(ws) == after


def test_bake_variables_count_through_labels_tag_variables_do_not(tmp_path: Path) -> None:
    ws = family(tmp_path)
    before = ids_of(ws)
    tags_only = {"DATE": "2025-01-31", "SHA": "0123abc", "HUB_TOKEN": "t", "UNRELATED": "x"}
    assert ids_of(ws, tags_only) == before
    assert changed(before, ids_of(ws, {"VERSION": "1.0.0"})) == set(before)  # the version label
    assert changed(before, ids_of(ws, {"REVISION": "0123abc"})) == set(before)


def test_a_parent_digest_stands_for_the_parent_in_its_descendants(tmp_path: Path) -> None:
    ws = family(tmp_path)
    minimal = "minimal-notebook-notebook-debian12-py311"
    before = ids_of(ws)
    given = ids_of(ws, parent_digests={minimal: DIGEST})
    assert changed(before, given) == images("scipy-notebook", *LEAVES)  # not minimal's own
    assert ids_of(ws, parent_digests={minimal: DIGEST}) == given
    other = ids_of(ws, parent_digests={minimal: "sha256:" + "cd" * 32})
    assert changed(given, other) == images("scipy-notebook", *LEAVES)
    rows = {
        (short(b.target), b.platform): b
        for b in build_ids(ws, env={}, parent_digests={minimal: DIGEST})
    }
    scipy = rows["scipy-notebook", "linux/arm64"]
    assert (scipy.parent, scipy.parent_id) == (minimal, DIGEST)
    child = rows["pytorch-notebook", "linux/arm64"]
    assert child.parent_id == scipy.id
    assert rows["foundation", "linux/amd64"].parent is None


def test_the_id_is_the_sha256_of_the_documented_document(tmp_path: Path) -> None:
    ws = family(tmp_path)
    compiled = compile_workspace(ws)
    own = "generated/foundation/debian12/notebook/Dockerfile"
    context = ws / "images/foundation"

    def digest(rel: str, kind: str = "file") -> str:
        return f"{kind} " + hashlib.sha256((context / rel).read_bytes()).hexdigest()

    expected: dict[str, object] = {
        "format": FORMAT,
        "platform": "linux/arm64",
        "attributes": {
            "args": {"PYTHON_VERSION": "3.11"},
            "labels": {
                "org.opencontainers.image.version": "latest",
                "org.opencontainers.image.revision": "",
                "org.opencontainers.image.source": "",
            },
        },
        "secrets": [],
        "inputs": {
            "dockerfile": hashlib.sha256(compiled.outputs[own].encode()).hexdigest(),
            "context file layers/foundation.txt": digest("layers/foundation.txt"),
            "context file start.sh": digest("start.sh", "executable"),
        },
        "contexts": {},
        "parents": {},
        "bake template": None,
    }
    ids = Ids(compiled, ws, {}, {})
    target = "foundation-notebook-debian12-py311"
    assert ids.document(target, "linux/arm64") == expected
    text = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encode(expected) == text.encode()
    assert ids.id(target, "linux/arm64") == hashlib.sha256(text.encode()).hexdigest()
    child = ids.document("base-notebook-notebook-debian12-py311", "linux/arm64")
    assert child["parents"] == {"base": {"id": ids.id(target, "linux/arm64")}}


# --- a small workspace: one base image and one runtime image built FROM it -------------------


def workspace(tmp_path: Path, runtime: str = "FROM base\n", **changes: Any) -> Path:
    release = {**RELEASE, "platforms": ["linux/amd64", "linux/arm64"]}
    data = manifest_data(releases={"debian": {"12": release}}, **changes)
    return minimal_workspace(tmp_path, yaml.safe_dump(data), runtime.encode())


def small_ids(ws: Path, env: Mapping[str, str] | None = None) -> dict[Key, str]:
    found = build_ids(ws, env=env or {})
    return {(b.target.removeprefix("app-"), b.platform): b.id for b in found}


def rewrite(ws: Path, **changes: Any) -> None:
    path = ws / "manifest" / "m.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


BASE, RUNTIME = "base-debian12-py312", "runtime-debian12-py312"
ALL = {(t, p) for t in (BASE, RUNTIME) for p in ("linux/amd64", "linux/arm64")}


def test_a_file_read_per_platform_changes_that_platforms_ids_only(tmp_path: Path) -> None:
    runtime = "FROM base\nARG TARGETARCH\nCOPY files/${TARGETARCH}/tool /usr/local/bin/tool\n"
    ws = workspace(tmp_path, runtime)
    for arch in ("amd64", "arm64"):
        (ws / "files" / arch).mkdir(parents=True)
        (ws / "files" / arch / "tool").write_text(arch, encoding="utf-8")
    before = small_ids(ws)
    (ws / "files/arm64/tool").write_text("new", encoding="utf-8")
    assert changed(before, small_ids(ws)) == {(RUNTIME, "linux/arm64")}


def test_a_build_argument_by_axis_value_changes_the_images_with_that_value(
    tmp_path: Path,
) -> None:
    args = [
        {"where": {"python": "3.12"}, "values": {"FULL": "3.12.8"}},
        {"where": {"python": "3.13"}, "values": {"FULL": "3.13.1"}},
    ]
    ws = workspace(tmp_path, python_versions=["3.12", "3.13"], args=args)
    before = small_ids(ws)
    args[1]["values"] = {"FULL": "3.13.2"}
    rewrite(ws, args=args)
    assert {t for t, _ in changed(before, small_ids(ws))} == {
        "base-debian12-py313",
        "runtime-debian12-py313",
    }


def test_bake_settings_count_cache_and_attestation_free_settings_do_not(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    before = small_ids(ws)
    rewrite(ws, cache={"type": "gha"})
    assert small_ids(ws) == before
    rewrite(ws, bake={"description": "an image"})
    assert small_ids(ws) == before
    rewrite(ws, bake={"shm-size": "2g"})
    shm = small_ids(ws)
    assert changed(before, shm) == ALL
    rewrite(ws, bake={"shm-size": "2g", "args": {"EXTRA": "1"}})
    assert changed(shm, small_ids(ws)) == ALL


def test_secrets_count_by_their_ids_never_their_sources(tmp_path: Path) -> None:
    ws = workspace(tmp_path, secrets=[{"id": "token", "env": "TOKEN"}])
    before = small_ids(ws)
    assert small_ids(ws, {"TOKEN": "a value"}) == before
    rewrite(ws, secrets=[{"id": "token", "src": "/home/someone/token.txt"}])
    assert small_ids(ws) == before
    rewrite(ws, secrets=[{"id": "other", "env": "TOKEN"}])
    assert changed(before, small_ids(ws)) == ALL


def test_the_workspaces_own_bake_template_is_part_of_every_id(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    before = small_ids(ws)
    template = ws / "docker-bake.hcl.j2"
    template.write_text('{% extends "bakegen/docker-bake.hcl.j2" %}\n', encoding="utf-8")
    own = small_ids(ws)
    assert changed(before, own) == ALL
    template.write_text('{% extends "bakegen/docker-bake.hcl.j2" %}{# more #}\n', encoding="utf-8")
    assert changed(own, small_ids(ws)) == ALL


# --- the command ------------------------------------------------------------------------------


def test_the_command_prints_a_table_or_json(tmp_path: Path) -> None:
    ws = family(tmp_path)
    rows = {(b.target, b.platform): b for b in build_ids(ws, env=dict(os.environ))}
    shown = run_cli("-C", str(ws), "ci", "ids", cwd=tmp_path)
    assert shown.code == 0, shown.err
    header, *lines = shown.out.splitlines()
    assert header.split("\t") == ["target", "platform", "id"]
    assert [tuple(line.split("\t")) for line in lines] == [
        (t, p, b.id[:SHORT]) for (t, p), b in rows.items()
    ]
    scipy = "scipy-notebook-notebook-debian12-py311"
    given = run_cli(
        "ci",
        "ids",
        "-C",
        str(ws),
        "--json",
        "--target",
        scipy,
        "--platform",
        "linux/arm64",
        cwd=tmp_path,
    )
    assert given.code == 0, given.err
    assert json.loads(given.out) == [rows[scipy, "linux/arm64"].record()]
    assert set(rows[scipy, "linux/arm64"].record()) == {
        "target",
        "platform",
        "id",
        "parent",
        "parent_id",
    }
    digest = run_cli(
        "ci",
        "ids",
        "-C",
        str(ws),
        "--json",
        "--target",
        scipy,
        "--parent-digest",
        f"minimal-notebook-notebook-debian12-py311={DIGEST}",
        cwd=tmp_path,
    )
    assert [r["parent_id"] for r in json.loads(digest.out)] == [DIGEST, DIGEST]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--target", "scipy-notebook-notebook-debian12-py31"],
            "did you mean 'scipy-notebook-notebook-debian12-py311'?",
        ),
        (["--platform", "linux/arm46"], "did you mean 'linux/arm64'?"),
        (["--parent-digest", "foundation-notebook-debian12-py311"], "write TARGET=sha256:DIGEST"),
        (["--parent-digest", "foundation-notebook-debian12-py311=sha256:abc"], "64 lowercase"),
        (
            ["--parent-digest", f"foundation-notebook-debian12-py311={DIGEST.upper()}"],
            "64 lowercase",
        ),
        (["--parent-digest", f"foundation-notebook-debian12-py311={DIGEST[7:]}"], "64 lowercase"),
        (["--parent-digest", f"={DIGEST}"], "write TARGET=sha256:DIGEST"),
        (
            ["--parent-digest", f"foundation-notebook={DIGEST}"],
            "no image of the plan is named 'foundation-notebook'",
        ),
        (
            [
                "--parent-digest",
                f"foundation-notebook-debian12-py311={DIGEST}",
                "--parent-digest",
                "foundation-notebook-debian12-py311=sha256:" + "0" * 64,
            ],
            "has the digest",
        ),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    ws = family(tmp_path)
    result = run_cli("ci", "ids", "-C", str(ws), *args, cwd=tmp_path)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.splitlines()) == 1, result.err
    assert says in result.err


def test_a_platform_the_chosen_images_lack_gives_no_rows(tmp_path: Path) -> None:
    ws = family(tmp_path)
    only = "datascience-notebook-notebook-debian12-py311"
    assert build_ids(ws, env={}, targets=[only], platform="linux/arm64") == []
    found = build_ids(ws, env={}, targets=[only])
    assert [(b.target, b.platform) for b in found] == [(only, "linux/amd64")]
    assert all(isinstance(b, BuildId) for b in found)
