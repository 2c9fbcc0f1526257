"""Manifest values are data in the bake file: labels, secret paths, the VERSION variable and map
keys come back exactly through real `docker buildx bake --print`, from both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen.emit.hcl import to_hcl
from testing.helpers import bake_print, run_cli
from testing.printed import as_printed
from tests.unit.test_injection import RELEASE, TRICKY, TRICKY_KEYS, std_workspace


@pytest.mark.buildx
@pytest.mark.parametrize("fmt", ["hcl", "json"])
def test_labels_and_secret_paths_come_back_exactly(fmt: str, tmp_path: Path) -> None:
    secret_dir = tmp_path / "s ${HOME} %{x} $${y} back\\slash é\ttab\r\x01\x7f 'q' \u2028"
    secret_dir.mkdir()
    secret_file = secret_dir / "token ${X}"
    secret_file.write_text("not printed\n", encoding="utf-8")
    labels = {f"org.example.v{i:02d}": value for i, value in enumerate(TRICKY)}
    labels.update({key: f"key {i}" for i, key in enumerate(TRICKY_KEYS)})
    ws = std_workspace(
        tmp_path,
        {
            "version": "1.0",
            "python_versions": ["3.12"],
            "labels": labels,
            "secrets": [
                {"id": "file-secret", "src": str(secret_file)},
                {"id": "env-secret", "env": "MY_TOKEN"},
            ],
            "packages": {"app": {"runtime": ["debian"]}},
            "releases": {"debian": {"12": RELEASE}},
        },
    )
    result = run_cli("render", "--format", fmt, cwd=ws)
    assert result.code == 0, result.err
    target = bake_print(ws, "app-runtime-debian12-py312")["target"]["app-runtime-debian12-py312"]
    expected = {
        "org.opencontainers.image.version": "1.0",
        "org.opencontainers.image.revision": "",
        "org.opencontainers.image.source": "",
        **{key: as_printed(value) for key, value in labels.items()},
    }
    assert target["labels"] == expected
    assert target["secret"] == [
        {"id": "file-secret", "src": str(secret_file)},
        {"id": "env-secret", "env": "MY_TOKEN"},
    ]


@pytest.mark.buildx
def test_tricky_version_variable_reaches_tags_and_labels_as_given(tmp_path: Path) -> None:
    ws = std_workspace(
        tmp_path,
        {
            "python_versions": ["3.12"],
            "packages": {"app": {"runtime": ["debian"]}},
            "releases": {"debian": {"12": RELEASE}},
        },
    )
    assert run_cli("render", cwd=ws).code == 0
    version = "2.0.0-rc.1_build.7"
    target = bake_print(ws, "app-runtime-debian12-py312", env={"VERSION": version})["target"][
        "app-runtime-debian12-py312"
    ]
    assert target["tags"] == [f"app:{version}-python3.12-bookworm-runtime"]
    assert target["labels"]["org.opencontainers.image.version"] == version


@pytest.mark.buildx
def test_hcl_keywords_as_map_keys_stay_keys(tmp_path: Path) -> None:
    keys = ["for", "in", "if", "null", "true", "false", "VERSION", "${x}", 'a"b']
    labels = to_hcl({key: f"value of {key}" for key in keys}, "  ")
    (tmp_path / "docker-bake.hcl").write_text(
        f'variable "VERSION" {{\n  default = "v"\n}}\ntarget "t" {{\n  labels = {labels}\n}}\n',
        encoding="utf-8",
    )
    printed = bake_print(tmp_path, "t")["target"]["t"]["labels"]
    assert printed == {key: as_printed(f"value of {key}") for key in keys}
