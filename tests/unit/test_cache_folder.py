"""What bakegen keeps in its cache folder, besides the state of the last render: templates
compiled once per bakegen (used only while the template's text is the same), and nothing else
(no schema verdicts, no template outlines). A cache that is broken or cannot be written changes
nothing but the time; every kind is bounded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2
import pytest

from bakegen import cache, cache_folder, identity
from bakegen.emit.jinja import CompiledTemplates
from bakegen.load.sourcemap import Loaded
from bakegen.schema import messages
from bakegen.schema.document import _conforms, _validator
from bakegen.schema.messages import schema_problems
from testing.helpers import minimal_workspace, run_cli, tree


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The names of the templates Jinja compiles from their text, in a cache of this test."""
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    names: list[str] = []
    real = jinja2.Environment.compile

    def counted(
        self: jinja2.Environment, source: str, name: str | None = None, *a: object, **k: object
    ) -> object:
        names.append(str(name))
        return real(self, source, name, *a, **k)  # type: ignore[call-overload]

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return names


def render_anew(ws: Path) -> dict[str, bytes]:
    """A render into an empty output, without the state of the last one; the tree it wrote."""
    cache.forget(ws.resolve())
    shutil.rmtree(ws / "generated", ignore_errors=True)
    (ws / "docker-bake.hcl").unlink(missing_ok=True)
    result = run_cli("render", cwd=ws)
    assert result.code == 0, result.err
    return tree(ws)


def test_a_template_is_compiled_once(tmp_path: Path, compiled: list[str]) -> None:
    ws = minimal_workspace(tmp_path)
    first = render_anew(ws)
    assert "runtime.Dockerfile.j2" in compiled
    compiled.clear()
    assert render_anew(ws) == first
    assert compiled == []


def test_a_changed_template_is_compiled_again(tmp_path: Path, compiled: list[str]) -> None:
    ws = minimal_workspace(tmp_path)
    first = render_anew(ws)
    (ws / "templates" / "t" / "runtime.Dockerfile.j2").write_bytes(b"FROM base\nLABEL a=1\n")
    compiled.clear()
    second = render_anew(ws)
    assert compiled == ["runtime.Dockerfile.j2"]
    changed = sorted(r for r in second if r.startswith("generated/") and second[r] != first[r])
    assert changed == ["generated/app/debian12/runtime/Dockerfile"]
    assert second[changed[0]].endswith(b"FROM base\nLABEL a=1\n")


def test_a_broken_cache_changes_nothing_but_the_time(tmp_path: Path, compiled: list[str]) -> None:
    ws = minimal_workspace(tmp_path)
    first = render_anew(ws)
    cache = tmp_path / "cache" / "templates"
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:  # cut short, as by a full disk or a crash
        entry.write_bytes(entry.read_bytes()[:20])
    assert render_anew(ws) == first
    shutil.rmtree(cache)
    cache.write_text("not a folder")  # the cache cannot be made at all
    compiled.clear()
    assert render_anew(ws) == first
    assert compiled


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, object]]:
    """Each document checked against the schema, by the compiled check or by jsonschema, in a
    cache of this test."""
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    documents: list[tuple[str, object]] = []
    real_check = _conforms()
    real = _validator()
    assert real_check is not None

    def check(document: object) -> bool:
        documents.append(("check", document))
        return real_check(document)

    class Counted:
        def iter_errors(self, document: object) -> object:
            documents.append(("jsonschema", document))
            return real.iter_errors(document)

    monkeypatch.setattr(messages, "_conforms", lambda: check)
    monkeypatch.setattr(messages, "_validator", Counted)
    return documents


def manifest(platforms: object) -> dict[str, object]:
    return {
        "python_versions": ["3.12"],
        "platforms": platforms,
        "packages": {"app": {"runtime": ["debian"]}},
        "releases": {"debian": {"12": {"templates_dir": "t", "base_image": "debian:12"}}},
    }


def test_a_valid_manifest_is_never_given_to_jsonschema_and_nothing_is_kept(
    validated: list[tuple[str, object]], tmp_path: Path
) -> None:
    good = manifest(["linux/amd64"])
    assert schema_problems(Loaded(data=good)) == ([], True)
    assert schema_problems(Loaded(data=manifest(["linux/amd64"]))) == ([], True)
    assert validated == [("check", good), ("check", good)]  # the compiled check, each time
    assert not (tmp_path / "cache").exists()  # the schema stage writes nothing


@pytest.mark.parametrize(
    "bad",
    [
        ["linux/amd64\n"],  # a string differing by one character
        "linux/amd64",  # the same text, not in a list
        [{"linux/amd64": None}],  # a mapping holding the same text
        [1],  # a number where text belongs
        [True],
        [None],
    ],
    ids=repr,
)
def test_a_manifest_not_found_valid_is_always_validated(
    validated: list[tuple[str, object]], bad: object
) -> None:
    assert schema_problems(Loaded(data=manifest(["linux/amd64"])))[0] == []
    for _ in range(2):
        found, _sound = schema_problems(Loaded(data=manifest(bad)))
        assert found, bad
    # the good one passes the compiled check; each time, the bad one fails it and jsonschema
    # says why
    kinds = [kind for kind, _ in validated]
    assert kinds == ["check", "check", "jsonschema", "check", "jsonschema"]


def _dated(folder: Path, names: list[str]) -> None:
    """Files (or, for names ending in /, folders) in `folder`, each newer than the one before."""
    folder.mkdir(parents=True, exist_ok=True)
    for age, name in enumerate(names):
        path = folder / name.rstrip("/")
        if name.endswith("/"):
            path.mkdir()
            (path / "inside").touch()
        else:
            path.write_text(name, encoding="utf-8")
        os.utime(path, ns=(1_000_000_000 * (100 - age),) * 2)


def test_pruning_keeps_the_newest_and_the_spared(tmp_path: Path) -> None:
    _dated(tmp_path / "kind", ["new", "newer/", "old", "older", "oldest/"])  # newest first
    cache_folder.prune(tmp_path / "kind", 2, spare="oldest")
    assert sorted(p.name for p in (tmp_path / "kind").iterdir()) == ["new", "newer", "oldest"]
    cache_folder.prune(tmp_path / "kind", 5)  # fewer than kept: nothing goes
    assert len(list((tmp_path / "kind").iterdir())) == 3
    cache_folder.prune(tmp_path / "missing", 1)  # no folder: no error


def test_render_states_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "STATES_KEPT", 3)
    saved = []
    for number in range(5):
        ws = tmp_path / f"ws{number}"
        cache.save(ws, cache.State(key="k", reads={}, outputs={}))
        path = cache.state_file(ws)
        assert path is not None
        os.utime(path, ns=(1_000_000_000 * (10 + number),) * 2)
        saved.append(path.name)
    left = sorted(p.name for p in (tmp_path / "cache" / "state").iterdir())
    assert left == sorted(saved[-3:])  # the newest three; the one just saved among them


def test_compiled_templates_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAKEGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "TEMPLATES_KEPT", 2)
    parent = tmp_path / "cache" / "templates"
    _dated(parent, ["b/", "a/", "older bakegen/", "oldest bakegen/"])
    mine = parent / identity.code_digest()[:16]
    _dated(mine, ["t3", "t2", "t1"])
    os.utime(mine, ns=(1,) * 2)  # however old, this bakegen's folder is the one in use
    assert cache.templates_folder() == mine
    assert sorted(p.name for p in parent.iterdir()) == sorted(["b", mine.name])
    assert sorted(p.name for p in mine.iterdir()) == ["t2", "t3"]


@pytest.mark.usefixtures("compiled")
def test_a_render_keeps_nothing_outside_the_cache_folder_s_kinds(tmp_path: Path) -> None:
    render_anew(minimal_workspace(tmp_path))
    kinds = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert kinds == ["key", "state", "templates"]


def test_a_template_outline_is_kept_beside_the_compiled_templates(tmp_path: Path) -> None:
    compiled = CompiledTemplates(tmp_path)
    parsed: list[str] = []

    def parse(source: str) -> list[object]:
        parsed.append(source)
        return [["inc.j2"], [(3, "package", "app")]]

    first = compiled.outline("{% include 'inc.j2' %}", parse)
    again = compiled.outline("{% include 'inc.j2' %}", parse)
    assert first == again == [["inc.j2"], [[3, "package", "app"]]]
    assert parsed == ["{% include 'inc.j2' %}"]  # read back, not parsed again
    (entry,) = tmp_path.iterdir()
    entry.write_text("{cut short", encoding="utf-8")
    assert compiled.outline("{% include 'inc.j2' %}", parse) == first  # a broken entry: parsed
    assert len(parsed) == 2
    compiled.outline("other text", parse)
    assert len(list(tmp_path.iterdir())) == 2  # one entry a text
