"""bakegen's verdict on `bake:` values is real `docker buildx bake --print`'s, value by value;
and `bakegen validate` gives the bake file to bake, catching what only bake can know."""

from __future__ import annotations

import concurrent.futures
import subprocess
from pathlib import Path

import pytest

from bakegen.checks import bake_values
from bakegen.emit.hcl import hcl_string
from testing.helpers import buildx, run_cli
from tests.unit.test_bake_template import workspace
from tests.unit.test_bake_values import PRINTED

pytestmark = pytest.mark.buildx


def bake_takes(folder: Path, attribute: str, value: str) -> bool:
    """Whether `docker buildx bake --print` reads a target with `attribute` set to `value` (a
    string attribute) or to a list of `value`."""
    folder.mkdir()
    shown = hcl_string(value) if attribute in bake_values.STRINGS else f"[{hcl_string(value)}]"
    (folder / "docker-bake.hcl").write_text(
        f'target "t" {{\n  dockerfile-inline = "FROM scratch"\n  {attribute} = {shown}\n}}\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [*buildx(), "bake", "--progress=quiet", "--print", "t"],
        cwd=folder,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return proc.returncode == 0


def test_bakegen_refuses_exactly_what_bake_refuses(tmp_path: Path) -> None:
    buildx()
    cases = [
        (attribute, value, taken)
        for attribute, (good, bad) in PRINTED.items()
        for taken, values in ((True, good), (False, bad))
        for value in values
    ]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        verdicts = list(
            pool.map(lambda n: bake_takes(tmp_path / str(n), *cases[n][:2]), range(len(cases)))
        )
    checks = {**bake_values.STRINGS, **bake_values.ITEMS}
    wrong = [
        (attribute, value, f"bake {'takes' if bake else 'refuses'} it")
        for (attribute, value, _), bake in zip(cases, verdicts, strict=True)
        if (checks[attribute](value) is None) != bake
    ]
    assert wrong == []
    assert verdicts == [taken for _, _, taken in cases]  # the table says what bake says


def test_validate_runs_bake_on_what_render_would_write(tmp_path: Path) -> None:
    """An override printing an expression bake cannot evaluate: bakegen reads it as HCL, so
    render writes it; validate hands it to bake, which refuses it, in one line."""
    buildx()
    override = (
        '{% extends "bakegen/docker-bake.hcl.j2" %}\n'
        '{% block extra_attributes %}{% if target.name == "_common" %}'
        "  shm-size = nosuch(1)\n{% endif %}{% endblock %}\n"
    )
    ws = workspace(tmp_path, override)
    result = run_cli("validate", cwd=ws)
    assert result.code == 2
    assert result.err.startswith(
        "docker-bake.hcl: `docker buildx bake --print` refuses the bake file: docker-bake.hcl:"
    ), result.err
    assert 'There is no function named "nosuch"' in result.err
    assert len(result.err.splitlines()) == 1
    assert not (ws / "docker-bake.hcl").exists()
    assert run_cli("render", cwd=ws).code == 0  # render never runs bake
    (ws / "docker-bake.hcl.j2").unlink()
    good = run_cli("validate", cwd=ws)
    assert good.code == 0, good.err
    assert good.err.endswith("; `docker buildx bake --print` reads the bake file\n")


def test_what_only_bake_knows_is_bakes_to_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `ssh` agent the environment lacks: no grammar tells, bake does."""
    buildx()
    ws = workspace(tmp_path, "")
    (ws / "docker-bake.hcl.j2").unlink()
    manifest = ws / "manifest" / "manifest.yml"
    manifest.write_text(manifest.read_text() + "bake:\n  ssh: [default]\n", encoding="utf-8")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    result = run_cli("validate", cwd=ws)
    assert result.code == 2
    assert "SSH_AUTH_SOCK" in result.err, result.err
