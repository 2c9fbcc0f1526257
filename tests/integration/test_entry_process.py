"""The fast entry in a real process: the modules an unchanged render and `--help` import."""

from __future__ import annotations

import os
from pathlib import Path

from testing.helpers import ROOT, copy_workspace, run_process


def test_an_unchanged_render_loads_no_heavy_library(tmp_path: Path) -> None:
    ws = copy_workspace("seedlike", tmp_path)
    # Python lists every module it imports on stderr, one `import time:` line each.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONPROFILEIMPORTTIME": "1",
        "BAKEGEN_CACHE": str(tmp_path / "cache"),  # nothing known yet
    }
    loaded = []
    for round_ in range(3):
        if round_ == 2:  # a manifest the schema refuses: jsonschema says why
            with (ws / "manifest" / "manifest.yml").open("a", encoding="utf-8") as f:
                f.write("max_targets: 0\n")
        proc = run_process("render", cwd=ws, env=env)
        assert proc.returncode == (2 if round_ == 2 else 0), proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
        loaded.append({line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines})
    assert "max_targets" in proc.stderr
    heavy = {"typer", "click", "rich", "jinja2", "yaml", "jsonschema", "pydantic"}
    assert heavy & loaded[0] == {"jinja2", "yaml"}  # valid: the compiled check, no jsonschema
    assert heavy & loaded[1] == set()
    assert "jsonschema" in loaded[2]


def test_help_is_typer_s_own_and_keeps_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BAKEGEN_CACHE": str(tmp_path / "cache")}
    for columns, args in (
        ("80", ["--help"]),
        ("60", ["--help"]),
        ("80", ["ci", "github", "--help"]),
    ):
        proc = run_process(*args, cwd=tmp_path, env={**env, "COLUMNS": columns})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Usage: ")
        assert max(len(line) for line in proc.stdout.splitlines()) <= int(columns)
    proc = run_process("bogus", "--help", cwd=tmp_path, env=env)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "No such command" in proc.stderr
    assert not (tmp_path / "cache").exists()  # help is never kept: typer says it each time
