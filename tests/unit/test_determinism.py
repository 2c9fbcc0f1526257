"""Determinism: the same manifest gives the same bytes, whatever the run, the order of mapping keys
in the manifest, or the folder bakegen is called from (the hash seed and the environment, in real
processes: tests/integration/test_determinism_process.py).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.load.merge import load
from testing.helpers import CORPUS, ROOT, WORKSPACES, run_cli, tree

CORPUS_BASE = CORPUS / "_base"
SOURCES = {
    "example": ROOT,
    "seedlike": WORKSPACES / "seedlike",
    "corpus-base": CORPUS_BASE,
    "many-mappings": CORPUS_BASE,
}
# Every mapping the format has, with several keys each: labels, registries, release types,
# secrets, CUDA versions (one named by its components), envars, two templates folders.
MANY_MAPPINGS = """
version: "2.1"
python_versions: ["3.10", "3.11", "3.12"]
platforms: [linux/amd64, linux/arm64]
labels:
  org.example.b: "two"
  org.example.a: "one ${NOT_A_VARIABLE}"
  org.example.c: "three"
  zz: last
  aa: first
secrets:
  - {id: pip, env: PIP_TOKEN}
  - {id: netrc, src: /dev/null}
repository:
  zeta:
    only_if: ZETA_TOKEN
    registry: {app: zeta.example.com/org/app, tool: zeta.example.com/org/tool}
  alpha:
    registry: {app: alpha.example.com/org/app}
  mid:
    only_if: MID_TOKEN
    user: MID_USER
    pwd: MID_TOKEN
    registry: {tool: mid.example.com/org/tool}
cuda_dependencies:
  12.6.3: {libcublas: 12.6.4.1-1, cudart: 12.6.77-1, cudnn9: 9.5.1.17-1}
  12.4.1: {cudart: 12.4.127-1, libcublas: 12.4.5.8-1}
release_types:
  slim:
    parent: runtime
    tag: "{version}-python{python}-{suffix}-slim"
  gpu:
    parent: cudnn
    tag: "{version}-python{python}-{suffix}{cuda_suffix}-gpu"
packages:
  tool:
    parent: app
    slim: [debian]
  app:
    slim: [debian, alpine]
    gpu: [debian]
    devel: [alpine, debian]
releases:
  debian:
    "12":
      templates_dir: templates/std
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
      envars: [LANG=C.UTF-8, B=2, A=1]
      cuda_prefix_url: debian12
      cuda: [12.6.3, 12.4.1]
    "13":
      templates_dir: templates/more
      base_image: debian:trixie-slim
      add_to_tags: trixie
      cuda_prefix_url: debian13
      cuda: {cudart: 12.4.127-1, libcublas: 12.4.5.8-1}
  alpine:
    "3.21":
      templates_dir: templates/std
      base_image: alpine:3.21
      add_to_tags: alpine3.21
"""


def fresh(source: str, dest: Path) -> Path:
    """A copy of a workspace's inputs (manifest and templates), nothing rendered."""
    origin = SOURCES[source]
    dest.mkdir(parents=True)
    shutil.copytree(origin / "manifest", dest / "manifest")
    shutil.copytree(
        origin / "templates" if (origin / "templates").exists() else ROOT / "templates",
        dest / "templates",
    )
    if source == "many-mappings":
        (dest / "manifest" / "manifest.yml").write_text(MANY_MAPPINGS, encoding="utf-8")
        shutil.copytree(dest / "templates" / "std", dest / "templates" / "more")
        for name in ("slim", "gpu"):
            (dest / "templates" / "std" / f"{name}.Dockerfile.j2").write_text("FROM base\n")
            (dest / "templates" / "more" / f"{name}.Dockerfile.j2").write_text("FROM base\n")
    return dest


def output(ws: Path) -> dict[str, bytes]:
    """The rendered files of a workspace (its inputs left out)."""
    return {k: v for k, v in tree(ws).items() if not k.startswith(("manifest/", "templates/"))}


def render_in_process(ws: Path, *args: str, cwd: Path | None = None) -> dict[str, bytes]:
    result = run_cli("render", *args, cwd=cwd or ws)
    assert result.code == 0, result.err
    return output(ws)


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_same_bytes_run_after_run(source: str, fmt: str, tmp_path: Path) -> None:
    first = render_in_process(fresh(source, tmp_path / "a"), "--format", fmt)
    second = render_in_process(fresh(source, tmp_path / "b"), "--format", fmt)
    assert first
    assert first == second
    again = run_cli("render", "--format", fmt, cwd=tmp_path / "a")
    assert again.code == 0
    assert " 0 created, 0 updated, 0 removed" in again.err
    assert output(tmp_path / "a") == first


def reorder(data: Any, order: Callable[[list[str]], list[str]]) -> Any:
    """`data` with every mapping's keys put in `order` (lists keep theirs: order means something)."""
    if isinstance(data, dict):
        return {k: reorder(data[k], order) for k in order(list(data))}
    if isinstance(data, list):
        return [reorder(item, order) for item in data]
    return data


def shuffled(seed: int) -> Callable[[list[str]], list[str]]:
    rng = random.Random(seed)

    def order(keys: list[str]) -> list[str]:
        keys = list(keys)
        rng.shuffle(keys)
        return keys

    return order


ORDERS: dict[str, Callable[[list[str]], list[str]]] = {
    "as-written": list,
    "reversed": lambda keys: keys[::-1],
    "sorted": sorted,
    "shuffled-1": shuffled(1),
    "shuffled-2": shuffled(2),
    "shuffled-3": shuffled(3),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_same_bytes_whatever_the_order_of_mapping_keys(source: str, tmp_path: Path) -> None:
    original = fresh(source, tmp_path / "original")
    expected = render_in_process(original)
    data = load(original / "manifest", original).data
    texts = set()
    for name, order in ORDERS.items():
        ws = fresh(source, tmp_path / name)
        shutil.rmtree(ws / "manifest")
        (ws / "manifest").mkdir()
        text = yaml.safe_dump(reorder(data, order), allow_unicode=True, sort_keys=False, width=1000)
        (ws / "manifest" / "manifest.yml").write_text(text, encoding="utf-8")
        texts.add(text)
        assert load(ws / "manifest", ws).data == data  # the same manifest, keys in another order
        assert render_in_process(ws) == expected, name
    assert len(texts) == len(ORDERS)  # every order really is another text


def test_same_bytes_from_any_working_directory(tmp_path: Path) -> None:
    expected = render_in_process(fresh("example", tmp_path / "reference"))
    elsewhere = tmp_path / "elsewhere" / "deeper"
    elsewhere.mkdir(parents=True)
    calls: list[tuple[str, Callable[[Path], dict[str, bytes]]]] = [
        ("in it", render_in_process),
        ("-C absolute", lambda ws: render_in_process(ws, "-C", str(ws), cwd=elsewhere)),
        (
            "-C relative",
            lambda ws: render_in_process(ws, "-C", os.path.relpath(ws, elsewhere), cwd=elsewhere),
        ),
        ("-C from root", lambda ws: render_in_process(ws, "-C", str(ws), cwd=Path("/"))),
        ("-C .. style", lambda ws: render_in_process(ws, "-C", f"{ws}/manifest/..", cwd=elsewhere)),
        (
            "--manifest relative to the workspace",
            lambda ws: render_in_process(
                ws, "-C", str(ws), "--manifest", "manifest", cwd=elsewhere
            ),
        ),
    ]
    for index, (name, call) in enumerate(calls):
        ws = fresh("example", tmp_path / f"ws{index}")
        assert call(ws) == expected, name
