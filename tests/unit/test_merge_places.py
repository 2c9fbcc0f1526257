"""Where a key merged with `<<:` is written: a key the mapping writes itself is at its own line
(lists, mappings and everything under them), a merged key at the anchor's line, through merges
inside anchors and lists of merges; explain and error messages say the same places."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bakegen.commands.explain import explain
from bakegen.errors import KeyPath, Location
from bakegen.load.merge import load
from bakegen.pipeline import plan_manifest, read_manifest
from testing.helpers import make_workspace, run_cli

SPEC = """\
a: &a
  envars:
    - A=1
    - A=2
    - A=3
  labels:
    from: a
    only_a: x
  scalar: a
b: &b
  envars: [B=1]
  labels: {from: b}
  scalar: b
  only_b: b
nested: &nested
  <<: *a
  scalar: nested
  labels:
    from: nested
"""
# Each case: the mapping `use` written after SPEC, and for each key of `use` the anchor that
# gives it (None: written in `use` itself).
CASES: dict[str, tuple[str, dict[str, str | None]]] = {
    "own list over a merged list": (
        "use:\n  <<: *a\n  envars:\n    - OWN=1\n",
        {"envars": None, "labels": "a", "scalar": "a"},
    ),
    "own flow list": (
        "use:\n  <<: *a\n  envars: [OWN=1, OWN=2]\n",
        {"envars": None, "labels": "a", "scalar": "a"},
    ),
    "own mapping over a merged mapping": (
        "use:\n  <<: *a\n  labels:\n    from: use\n",
        {"envars": "a", "labels": None, "scalar": "a"},
    ),
    "own keys written before the merge": (
        "use:\n  envars: [OWN=1]\n  labels: {from: use}\n  <<: *a\n",
        {"envars": None, "labels": None, "scalar": "a"},
    ),
    "a list of merges, the earliest winning": (
        "use:\n  <<: [*b, *a]\n  scalar: use\n",
        {"envars": "b", "labels": "b", "scalar": None, "only_b": "b"},
    ),
    "a list of merges, the other order": (
        "use:\n  <<: [*a, *b]\n",
        {"envars": "a", "labels": "a", "scalar": "a", "only_b": "b"},
    ),
    "a merge of an anchor that merges": (
        "use:\n  <<: *nested\n",
        {"envars": "a", "labels": "nested", "scalar": "nested"},
    ),
    "a merge of an anchor that merges, overridden": (
        "use:\n  <<: *nested\n  envars:\n    - OWN=1\n    - OWN=2\n",
        {"envars": None, "labels": "nested", "scalar": "nested"},
    ),
    "two merge keys in one mapping": (
        "use:\n  <<: *b\n  <<: *a\n  envars: []\n",
        {"envars": None, "labels": "b", "scalar": "b", "only_b": "b"},
    ),
}


def at(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def lines_of(text: str, top: str) -> range:
    """The 1-based lines of the top-level mapping `top`."""
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines, 1) if line == f"{top}:" or line.startswith(f"{top}: ")
    )
    end = next(
        (i for i, line in enumerate(lines[start:], start + 1) if line and not line[0].isspace()),
        len(lines) + 1,
    )
    return range(start, end)


def assert_written_there(text: str, data: Any, path: KeyPath, loc: Location) -> None:
    """`loc` is where `path` is written: its key, or (a list item) its value."""
    line = text.splitlines()[loc.line - 1][loc.column - 1 :]
    value = at(data, path)
    if isinstance(path[-1], str):
        assert line.startswith(f"{path[-1]}:"), (path, loc, line)
    elif not isinstance(value, dict | list):
        assert line.startswith(str(value)), (path, loc, line)


@pytest.mark.parametrize("case", list(CASES))
def test_every_place_is_where_the_winning_key_is_written(tmp_path: Path, case: str) -> None:
    use, givers = CASES[case]
    text = SPEC + use
    (tmp_path / "m.yml").write_text(text, encoding="utf-8")
    loaded = load(tmp_path / "m.yml", tmp_path)
    assert sorted(loaded.data["use"]) == sorted(givers)
    under_use = {p: loc for p, loc in loaded.sources.items() if p[:1] == ("use",) and p != ("use",)}
    for path, loc in under_use.items():
        at(loaded.data, path)  # no place is left for a value that was overridden
        assert_written_there(text, loaded.data, path, loc)
        giver = givers[str(path[1])]
        assert loc.line in lines_of(text, giver or "use"), (path, loc, giver)
    # Every value read has its place.
    for key, value in loaded.data["use"].items():
        items = value if isinstance(value, list) else list(value) if isinstance(value, dict) else []
        keys = range(len(items)) if isinstance(value, list) else items
        assert {("use", key, k) for k in keys} <= set(under_use), key


RELEASE_MANIFEST = """\
python_versions: ["3.12"]
release_spec: &spec
  templates_dir: templates/debian
  envars:
    - SPEC_ONE=1
    - SPEC_TWO=2
    - SPEC_THREE=3
packages:
  app:
    runtime: [debian]
releases:
  debian:
    "12":
      <<: *spec
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
      envars:
        - "OWN_ONE={one}"
        - "OWN_TWO={two}"
"""


def line_holding(text: str, words: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if words in line)


def test_explain_shows_a_release_s_own_envars_at_their_lines(tmp_path: Path) -> None:
    text = RELEASE_MANIFEST.format(one="1", two="2")
    ws = make_workspace(tmp_path / "ws", text)
    m = read_manifest(ws)
    _, rows = explain(m, plan_manifest(m), "app-runtime-debian12-py312")
    envars = {r.field: r.origin for r in rows if r.field.startswith("envar ")}
    assert set(envars) == {"envar OWN_ONE", "envar OWN_TWO"}
    for name, origin in envars.items():
        line = line_holding(text, f'- "{name.split()[1]}=')
        assert origin == f"manifest/manifest.yml:{line}:11", name
    assert next(r.origin for r in rows if r.field == "template").startswith(
        f"manifest/manifest.yml:{line_holding(text, 'templates_dir:')}:"
    )


@pytest.mark.parametrize("bad", ["one", "two"])
def test_an_error_in_a_release_s_own_envars_names_its_line(tmp_path: Path, bad: str) -> None:
    values = {"one": "1", "two": "2", bad: "a\\nb"}
    text = RELEASE_MANIFEST.format(**values)  # `\\n` in a double-quoted YAML string: a newline
    ws = make_workspace(tmp_path / "ws", text)
    result = run_cli("validate", cwd=ws)
    index = ["one", "two"].index(bad)
    line = line_holding(text, f"OWN_{bad.upper()}=")
    assert (result.code, result.err.splitlines()) == (
        2,
        [
            f"manifest/manifest.yml:{line}:11: releases.debian.12.envars[{index}]: "
            "a value may not hold newlines or control characters"
        ],
    )
