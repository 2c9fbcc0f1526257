"""Build ids on a small workspace (one base image, one runtime image built FROM it, on two
platforms): a file read per platform, build arguments by axis value, named folder contexts,
`bake:` settings, secrets and the workspace's own bake template change exactly the ids they
should."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.buildid import build_ids
from bakegen.errors import ManifestError
from testing.helpers import minimal_workspace
from testing.unit import RELEASE, manifest_data
from tests.unit.test_build_ids import Key, changed


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


def test_a_named_folder_context_counts_by_the_files_read_from_it(tmp_path: Path) -> None:
    runtime = "FROM base\nCOPY --from=assets a.txt /a.txt\nCOPY --from=tools / /opt/tools\n"
    contexts = {"assets": "assets", "tools": "docker-image://example/tools:1"}
    ws = workspace(tmp_path, runtime, bake={"contexts": contexts})
    (ws / "assets").mkdir()
    for name in ("a.txt", "unread.txt"):
        (ws / "assets" / name).write_text(name, encoding="utf-8")
    before = small_ids(ws)
    (ws / "assets/unread.txt").write_text("changed", encoding="utf-8")
    assert small_ids(ws) == before
    (ws / "assets/a.txt").write_text("changed", encoding="utf-8")
    read = small_ids(ws)
    assert changed(before, read) == {(RUNTIME, p) for p in ("linux/amd64", "linux/arm64")}
    rewrite(ws, bake={"contexts": {**contexts, "tools": "docker-image://example/tools:2"}})
    assert changed(read, small_ids(ws)) == ALL  # the base image gets the contexts too


def test_bake_settings_count_the_cache_and_a_description_do_not(tmp_path: Path) -> None:
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


def test_contexts_that_build_an_image_from_itself_are_refused_before_any_id(
    tmp_path: Path,
) -> None:
    ws = workspace(tmp_path, bake={"contexts": {"other": f"target:app-{RUNTIME}"}})
    with pytest.raises(ManifestError) as caught:  # the bake file's own check, at its line
        build_ids(ws, env={})
    assert any("which bake refuses" in str(p) for p in caught.value.problems)
