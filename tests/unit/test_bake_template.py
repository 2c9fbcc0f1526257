"""A workspace's own docker-bake.hcl.j2: whatever it prints, the bake file stays bakegen's."""

from __future__ import annotations

import shutil
from pathlib import Path

from bakegen.layout import MARKER
from testing.helpers import ROOT, run_cli

BASE = ROOT / "tests" / "corpus" / "_base"


# The shortest template of its own that keeps every group and target of the bake model.
EVERY_BLOCK = (
    '{% for g in bake.groups %}group "{{ g.name }}" {}\n{% endfor %}'
    '{% for t in bake.targets %}target "{{ t.name }}" {}\n{% endfor %}'
)


def every_block(ws: Path) -> str:
    """What EVERY_BLOCK prints for the workspace `ws`."""
    groups = [line for line in (ws / "docker-bake.hcl").read_text().splitlines() if line]
    return "\n".join(line for line in groups if not line.startswith("#")) + "\n"


def workspace(tmp_path: Path, template: str) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(BASE, ws)
    (ws / "docker-bake.hcl.j2").write_text(template, encoding="utf-8")
    return ws


def test_an_override_without_the_marker_still_renders_again(tmp_path: Path) -> None:
    ws = workspace(tmp_path, EVERY_BLOCK + 'target "x" {\n  context = "."\n}\n')
    first = run_cli("render", cwd=ws)
    assert first.code == 0, first.err
    text = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert text.startswith(f'# {MARKER}\ngroup "default" {{}}\n')
    assert text.endswith('target "x" {\n  context = "."\n}\n')
    (ws / "docker-bake.hcl.j2").write_text(EVERY_BLOCK + 'target "y" {\n}\n', encoding="utf-8")
    second = run_cli("render", cwd=ws)
    assert second.code == 0, second.err
    assert (ws / "docker-bake.hcl").read_text(encoding="utf-8").endswith('target "y" {\n}\n')
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_an_override_that_prints_the_marker_gets_it_once(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "# {{ marker }}\n# mine\n" + EVERY_BLOCK)
    assert run_cli("render", cwd=ws).code == 0
    text = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert text == f"# {MARKER}\n# mine\n" + every_block(ws)


def test_an_override_with_a_byte_order_mark(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "\ufeff# {{ marker }}\n" + EVERY_BLOCK)
    assert run_cli("render", cwd=ws).code == 0
    text = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert text == f"# {MARKER}\n" + every_block(ws)


def test_an_override_that_is_a_folder(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "")
    (ws / "docker-bake.hcl.j2").unlink()
    (ws / "docker-bake.hcl.j2").mkdir()
    result = run_cli("render", cwd=ws)
    assert result.code == 2
    assert result.err.splitlines() == [
        "docker-bake.hcl.j2:1:1: <root>: is a folder, not a bake template"
    ]


def shipped_render(tmp_path: Path) -> str:
    ws = tmp_path / "shipped"
    shutil.copytree(BASE, ws)
    assert run_cli("render", cwd=ws).code == 0
    return (ws / "docker-bake.hcl").read_text(encoding="utf-8")


def test_an_override_that_only_extends_renders_the_shipped_file(tmp_path: Path) -> None:
    ws = workspace(tmp_path, '{% extends "bakegen/docker-bake.hcl.j2" %}\n')
    assert run_cli("render", cwd=ws).code == 0
    assert (ws / "docker-bake.hcl").read_text(encoding="utf-8") == shipped_render(tmp_path)


def test_a_block_override_renders_the_shipped_file_plus_its_change(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n'
        "{% block header %}# my images\n{{ super() }}{% endblock %}\n"
        "{% block extra_attributes %}\n"
        '{% if target.name == "_common" %}\n'
        '  shm-size = {{ "2g" | hcl_string }}\n'
        "{% endif %}\n"
        "{% endblock %}\n",
    )
    assert run_cli("render", cwd=ws).code == 0, run_cli("render", cwd=ws).err
    shipped = shipped_render(tmp_path).split("\n")
    got = (ws / "docker-bake.hcl").read_text(encoding="utf-8").split("\n")
    common = shipped.index('target "_common" {')
    end = shipped.index("}", common)
    expected = [shipped[0], "# my images", *shipped[1:end], '  shm-size = "2g"', *shipped[end:]]
    assert got == expected


def test_a_header_without_the_marker_still_gets_it(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '{% extends "bakegen/docker-bake.hcl.j2" %}{% block header %}# mine\n{% endblock %}',
    )
    assert run_cli("render", cwd=ws).code == 0
    text = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    assert text.startswith(f"# {MARKER}\n# mine\nvariable ")
    assert run_cli("render", "--check", cwd=ws).code == 0


def test_a_block_replaced_for_one_target(tmp_path: Path) -> None:
    """`target` is a block per target: an override can drop or rewrite one of them."""
    ws = workspace(
        tmp_path,
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n'
        "{% block attributes %}\n"
        '{% if target.name == "_common" %}\n'
        '  context = "."\n'
        "{% else %}\n"
        "{{ super() }}"
        "{% endif %}\n"
        "{% endblock %}\n",
    )
    assert run_cli("render", cwd=ws).code == 0
    text = (ws / "docker-bake.hcl").read_text(encoding="utf-8")
    shipped = shipped_render(tmp_path)
    assert text == shipped.replace(
        _common_block(shipped), 'target "_common" {\n  context = "."\n}\n'
    )


def _common_block(text: str) -> str:
    start = text.index('target "_common" {')
    return text[start : text.index("\n}\n", start) + 3]


def test_the_json_bake_file_ignores_the_template(tmp_path: Path) -> None:
    """`render --format json` is made from the bake model, not from a template."""
    ws = workspace(
        tmp_path, '{% extends "bakegen/docker-bake.hcl.j2" %}{% block nope %}{% endblock %}'
    )
    assert run_cli("render", "--format", "json", cwd=ws).code == 0
    assert run_cli("render", cwd=ws).code == 2
