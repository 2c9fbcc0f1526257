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

from bakegen.buildid import FORMAT, SHORT, BuildId, Ids, build_ids, encode
from bakegen.pipeline import compile_workspace
from testing.helpers import ROOT, Result, run_cli

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


# --- the command ------------------------------------------------------------------------------


def ids_cli(ws: Path, *args: str) -> Result:
    """`bakegen ci ids -C WS ARGS`, in process."""
    return run_cli("ci", "ids", "-C", str(ws), *args, cwd=ws.parent)


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
    given = ids_cli(ws, *f"--json --target {scipy} --platform linux/arm64".split())
    assert given.code == 0, given.err
    assert json.loads(given.out) == [rows[scipy, "linux/arm64"].record()]
    assert list(json.loads(given.out)[0]) == [
        "target",
        "platform",
        "id",
        "parent",
        "parent_id",
        "verify",
        "children",
    ]
    minimal = f"minimal-notebook-notebook-debian12-py311={DIGEST}"
    digest = ids_cli(ws, "--json", "--target", scipy, "--parent-digest", minimal)
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
    result = ids_cli(ws, *args)
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
