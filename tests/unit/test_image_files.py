"""A package's own template (a file, or a folder of release-type templates) and build context
(with its .dockerignore beside each Dockerfile), rendered for real from a workspace; and every
command seeing a variant's edge to its parent."""

from __future__ import annotations

import json
from pathlib import Path

from bakegen.commands.graph import node_id
from testing.helpers import ROOT, run_cli

MANIFEST = """\
python_versions: ["3.11"]
packages:
  base:
    runtime: [debian]
  app:
    parent: base
    template: images/app/Dockerfile.j2
    context: images/app
    runtime: [debian]
    variants:
      slim:
        tag_suffix: -slim
        template: images/slim
  lib:
    runtime: [debian]
releases:
  debian:
    "12":
      templates_dir: templates/t
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
"""


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    files = {
        "manifest/m.yml": MANIFEST,
        "templates/t/base.Dockerfile.j2": "FROM {{ base_image }}\n",
        "templates/t/runtime.Dockerfile.j2": "FROM base\nRUN echo distro {{ package }}\n",
        "images/app/Dockerfile.j2": "FROM base\nCOPY app.txt /\n",
        "images/app/app.txt": "app\n",
        "images/app/.dockerignore": "*.md\n",
        "images/slim/runtime.Dockerfile.j2": "FROM base\nRUN echo slim\n",
    }
    for name, text in files.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text, encoding="utf-8")
    return ws


def body(ws: Path, rel: str) -> list[str]:
    return [line for line in (ws / rel).read_text().splitlines() if not line.startswith("#")]


def test_templates_come_from_the_package_its_folder_or_the_distro_release(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    assert body(ws, "generated/app/debian12/runtime/Dockerfile") == ["FROM base", "COPY app.txt /"]
    assert body(ws, "generated/app-slim/debian12/runtime/Dockerfile") == [
        "FROM base",
        "RUN echo slim",
    ]
    assert body(ws, "generated/lib/debian12/runtime/Dockerfile") == [
        "FROM base",
        "RUN echo distro lib",
    ]


def test_a_contexts_dockerignore_lies_beside_each_dockerfile_built_in_it(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    assert run_cli("render", cwd=ws).code == 0
    beside = ws / "generated/app/debian12/runtime/Dockerfile.dockerignore"
    assert beside.read_text().splitlines()[1:] == ["*.md"]
    assert (ws / "generated/app-slim/debian12/runtime/Dockerfile.dockerignore").exists()
    assert not (ws / "generated/lib/debian12/runtime/Dockerfile.dockerignore").exists()
    (ws / "images/app/.dockerignore").write_text("*.md\nsecret\n")
    assert run_cli("render", "--check", cwd=ws).code == 1
    assert run_cli("render", cwd=ws).code == 0
    assert beside.read_text().splitlines()[1:] == ["*.md", "secret"]
    (ws / "images/app/.dockerignore").unlink()
    assert run_cli("render", cwd=ws).code == 0
    assert not beside.exists()
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_the_bake_file_gives_the_context_and_the_dockerfile_seen_from_it(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    assert run_cli("render", "--format", "json", cwd=ws).code == 0
    targets = json.loads((ws / "docker-bake.json").read_text())["target"]
    app = targets["app-runtime-debian12-py311"]
    assert app["context"] == "images/app"
    assert app["dockerfile"] == "../../generated/app/debian12/runtime/Dockerfile"
    assert (ws / app["context"] / app["dockerfile"]).is_file()
    assert "context" not in targets["lib-runtime-debian12-py311"]  # the workspace's (_common)


def test_every_command_sees_a_variants_edge(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    edge = ("base-runtime-debian12-py311", "app-slim-runtime-debian12-py311")
    graph = run_cli("graph", "--format", "dot", cwd=ws)
    assert f'"{node_id(edge[0])}" -> "{node_id(edge[1])}";' in graph.out
    listed = json.loads(run_cli("list", "--json", cwd=ws).out)
    assert {i["target"]: i["parent"] for i in listed}[edge[1]] == edge[0]
    explained = run_cli("explain", edge[1], cwd=ws).out
    [built] = [line.split() for line in explained.splitlines() if "built FROM" in line]
    # the variant inherits its package's parent: the line of the package's `parent`
    assert built == [
        "built",
        "FROM",
        edge[0],
        "<-",
        "base-base-debian12-py311",
        "[manifest/m.yml:6:5]",
    ]


def test_the_example_family_renders_to_its_committed_files() -> None:
    example = ROOT / "examples" / "notebook-family"
    result = run_cli("render", "--check", cwd=example)
    assert result.code == 0, result.err


def test_docs_says_what_each_image_is_built_from() -> None:
    family = run_cli("docs", cwd=ROOT / "examples" / "notebook-family").out
    rows = {line.split(" | ")[-2]: line for line in family.splitlines() if "| notebook |" in line}
    # the nearest pushed ancestor's first tag, or the base image a chain starts FROM
    assert "`debian:bookworm-slim`" in rows
    assert "`scipy-notebook:latest`" in rows
    assert "`pytorch-notebook:cuda12-latest`" in "".join(family.splitlines())
