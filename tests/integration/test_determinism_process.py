"""Determinism across processes: the same bytes under every hash seed, whatever the environment,
and from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.helpers import ROOT
from tests.unit.test_determinism import fresh, output, render_in_process


def render_in_subprocess(
    ws: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict[str, bytes]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    proc = subprocess.run(
        [sys.executable, "-m", "bakegen", "render", *args],
        cwd=cwd or ws,
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return output(ws)


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("source", ["example", "seedlike", "many-mappings"])
def test_same_bytes_under_every_hash_seed(source: str, fmt: str, tmp_path: Path) -> None:
    outputs = [
        render_in_subprocess(
            fresh(source, tmp_path / seed), "--format", fmt, env={"PYTHONHASHSEED": seed}
        )
        for seed in ("0", "1", "4242", "random")
    ]
    assert outputs[0]
    assert all(o == outputs[0] for o in outputs[1:])


def test_same_bytes_whatever_the_environment(tmp_path: Path) -> None:
    """Bake variables are resolved by bake, not baked in: the environment changes nothing."""
    plain = render_in_subprocess(fresh("example", tmp_path / "plain"))
    noisy = render_in_subprocess(
        fresh("example", tmp_path / "noisy"),
        env={
            "VERSION": "9.9.9",
            "REVISION": "abc",
            "SOURCE": "https://example.invalid",
            "HUB_PASSWORD": "x",
            "GHCR_TOKEN": "y",
            "TZ": "Pacific/Chatham",
            "LC_ALL": "C",
            "LANG": "C",
            "COLUMNS": "20",
        },
    )
    assert noisy == plain


def test_same_bytes_from_another_folder_in_a_real_process(tmp_path: Path) -> None:
    expected = render_in_process(fresh("example", tmp_path / "reference"))
    elsewhere = tmp_path / "elsewhere" / "deeper"
    elsewhere.mkdir(parents=True)
    ws = fresh("example", tmp_path / "ws")
    assert render_in_subprocess(ws, "-C", str(ws), cwd=elsewhere) == expected
