"""The CLI as a user meets it: exit codes, one-line errors, check mode, list and schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.helpers import copy_workspace, run_cli, tree


def seed(tmp_path: Path) -> Path:
    return copy_workspace("seedlike", tmp_path)


def edit(ws: Path, old: str, new: str) -> None:
    path = ws / "manifest" / "manifest.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_render_then_check_is_clean(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    first = run_cli("render", cwd=ws)
    assert first.code == 0, first.err
    assert first.err == (
        "108 targets (66 images, 42 verify). Dockerfiles: 22 created, 0 updated, 0 removed, "
        "0 unchanged; other files: 2 created, 0 updated, 0 removed, 0 unchanged\n"
    )
    check = run_cli("render", "--check", cwd=ws)
    assert (check.code, check.out) == (0, "")


def test_check_lists_drift_and_writes_nothing(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    edit(ws, "LANG=C.UTF-8", "LANG=en_US.UTF-8")
    before = tree(ws)
    check = run_cli("render", "--check", cwd=ws)
    assert check.code == 1
    assert "update generated/model-server/debian10/base/Dockerfile" in check.out.splitlines()
    assert tree(ws) == before


def test_misspelt_key_exit_2_with_file_line_and_suggestion(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    edit(ws, '      add_to_tags: "slim"', '      add_to_tag: "slim"')
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "manifest/manifest.yml:63:7: releases.debian.10.add_to_tag: unknown key 'add_to_tag'; "
        "did you mean 'add_to_tags'?"
    ]
    assert "Traceback" not in result.err
    assert not (ws / "generated").exists()


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    edit(ws, "    - LANG=C.UTF-8", "    - LANG")
    edit(ws, "      - amazonlinux", "      - amazonlinx")
    edit(ws, "  11.3.1: &cuda11_3_1", "  11.3: &cuda11_3_1")
    result = run_cli("validate", cwd=ws)
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines == [
        "manifest/manifest.yml:15:3: cuda_dependencies.11.3: '11.3' is not a CUDA version like 12.4.1",
        "manifest/manifest.yml:34:7: release_spec.envars[0]: 'LANG' is not KEY=value",
        "manifest/manifest.yml:49:9: packages.model-server.runtime[2]: no distro 'amazonlinx' "
        "under `releases`; did you mean 'amazonlinux'?",
    ]


def test_list_json_resolves_tags_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = seed(tmp_path)
    monkeypatch.setenv("HUB_PASSWORD", "x")
    monkeypatch.setenv("VERSION", "0.13.1")
    result = run_cli("list", "--json", cwd=ws)
    assert result.code == 0
    rows = json.loads(result.out)
    assert len(rows) == 66
    row = next(r for r in rows if r["target"] == "model-server-cudnn-centos8-py38-cuda11-3")
    assert row["tags"] == ["docker.io/bentoml/model-server:0.13.1-python3.8-centos8-cudnn"]
    assert row["parent"] == "model-server-base-centos8-py38"
    assert row["dockerfile"] == "generated/model-server/centos8/cudnn/Dockerfile"


def test_list_table(tmp_path: Path) -> None:
    result = run_cli("list", cwd=seed(tmp_path))
    assert result.code == 0
    assert "yatai-service-runtime-centos7-py36" in result.out


def test_schema_is_json_and_documents_the_seed_keys() -> None:
    result = run_cli("schema", cwd=Path.cwd())
    schema = json.loads(result.out)
    assert {"repository", "cuda_dependencies", "release_spec", "packages", "releases"} <= set(
        schema["properties"]
    )


def test_missing_manifest_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("render", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("<root>: manifest not found")


def test_unknown_option_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("render", "--nope", cwd=tmp_path)
    assert result.code == 2
    assert "No such option" in result.err


def test_stale_generated_files_removed_foreign_kept(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    mine = ws / "generated" / "notes.txt"
    mine.write_text("mine\n")
    edit(ws, "      - alpine\n", "")
    result = run_cli("render", cwd=ws)
    assert result.code == 0
    assert not (ws / "generated/model-server/alpine3.14").exists()
    assert mine.read_text() == "mine\n"
    assert "warning: generated/notes.txt: not made by bakegen; left alone" in result.err


def test_switching_format_removes_the_other_bake_file(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    assert run_cli("render", "--format", "json", cwd=ws).code == 0
    assert (ws / "docker-bake.json").exists()
    assert not (ws / "docker-bake.hcl").exists()


def test_python_versions_narrowed_per_package_and_release(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    edit(ws, "  yatai-service:\n", "  yatai-service:\n    python_versions: ['3.7', '3.8']\n")
    edit(
        ws,
        '      add_to_tags: "centos7"\n',
        "      add_to_tags: \"centos7\"\n      exclude_python: ['3.8']\n",
    )
    rows = json.loads(run_cli("list", "--json", cwd=ws).out)
    yatai = {
        (r["distro"], r["python"]) for r in rows if r["target"].startswith("yatai-service-runtime")
    }
    assert yatai == {
        ("debian10", "3.7"),
        ("debian10", "3.8"),
        ("centos8", "3.7"),
        ("centos8", "3.8"),
        ("centos7", "3.7"),
    }
