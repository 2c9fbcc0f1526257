"""The documentation's pages say what bakegen does: their examples run and print what they
show, the starter manifest they quote is the starter's, every error class has its
troubleshooting section, every exit code, template name and bake-template block is documented,
and every page is in the site's navigation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bakegen import errors
from bakegen.commands.init import starter_files
from bakegen.emit.dockerfiles import context
from bakegen.pipeline import plan_workspace
from bakegen.resources import resource_text
from bakegen.schema.document import defaults
from testing.docs_pages import DOCS, blocks, documented_pages, examples, page, titled_files
from testing.helpers import ROOT, run_cli

RUNNABLE = ["getting-started.md", "how-to/notebook-family.md"]


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_pages(value)]
    return []


def test_every_page_is_in_the_navigation_and_the_sections_are_there() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = config["nav"]
    listed = _nav_pages(nav)
    assert sorted(listed) == sorted(p.as_posix() for p in documented_pages())
    sections = [next(iter(item)) for item in nav]
    for section in ("Getting started", "Concepts", "How-to guides", "Reference", "Troubleshooting"):
        assert section in sections


@pytest.mark.parametrize("rel", RUNNABLE)
def test_examples_print_what_the_page_shows(
    rel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each `$ bakegen ...` block runs, in order, in one folder (the page's titled blocks
    written there first), and prints exactly the lines shown."""
    text = page(rel)
    for path, body in titled_files(text).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body, encoding="utf-8")
    found = examples(text)
    assert found, rel
    for example in found:
        with monkeypatch.context() as mp:
            for key, value in example.env.items():
                mp.setenv(key, value)
            result = run_cli(*example.args, cwd=tmp_path)
        assert result.code == 0, (example.args, result.err)
        assert (result.out + result.err).splitlines() == example.shown, example.args


def test_the_notebook_family_is_a_chain(tmp_path: Path) -> None:
    for path, body in titled_files(page("how-to/notebook-family.md")).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body, encoding="utf-8")
    parents = {i.target: i.parent for i in plan_workspace(tmp_path).images}
    chain = "scipy-notebook-runtime-debian12-py311"
    seen = []
    while chain:
        seen.append(chain)
        chain = parents[chain] or ""
    assert [s.split("-runtime")[0].split("-base")[0] for s in seen] == [
        "scipy-notebook",
        "minimal-notebook",
        "base-notebook",
        "base-notebook",
    ]


def test_getting_started_quotes_the_starter_manifest() -> None:
    quoted = [b.text for b in blocks(page("getting-started.md")) if b.language == "yaml"]
    starter = yaml.safe_load(starter_files()["manifest/manifest.yml"])
    assert any(yaml.safe_load(text) == starter for text in quoted)


def test_every_error_class_has_a_troubleshooting_section() -> None:
    text = page("troubleshooting.md")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    classes = [
        c.__name__
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, (errors.BakegenError, errors.Interrupted))
    ]
    assert "ManifestError" in classes
    assert "Interrupted" in classes
    for name in classes:
        if name == "BakegenError":
            continue
        heading = next((h for h in headings if f"(`{name}`" in h), None)
        assert heading is not None, name
        code = getattr(errors, name).exit_code if name != "Interrupted" else None
        if code is not None:
            assert f"exit {code}" in heading, heading
    assert any("exit 70" in h for h in headings)


def test_every_exit_code_is_documented() -> None:
    table = page("reference/exit-codes.md").split("## Problems")[0]
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    for code in codes - {errors.EXIT_INTERRUPTED}:
        assert f"| {code} |" in table, code
    assert "| 128 + N |" in table
    assert "130" in table


def test_every_default_release_type_is_documented() -> None:
    text = page("concepts/matrix.md")
    for name, spec in defaults()["release_types"].items():
        assert f"| `{name}` |" in text
        if "tag" in spec:
            assert f"`{spec['tag']}`" in text


def test_every_name_a_template_sees_is_documented() -> None:
    text = page("reference/templates.md")
    table = text.split("## Names a template sees")[1].split("\n## ")[0]
    dockerfile = plan_workspace(ROOT).dockerfiles[0]
    missing = sorted(n for n in context(dockerfile) if f"`{n}`" not in table)
    assert missing == []


def test_every_block_of_the_bake_template_is_documented() -> None:
    shipped = resource_text("docker-bake.hcl.j2")
    names = set(re.findall(r"{%-?\s*block\s+(\w+)", shipped))
    assert {"header", "target", "extra_attributes"} <= names
    table = page("reference/bake-file.md").split("## Template blocks")[1]
    assert sorted(n for n in names if f"`{n}`" not in table) == []


def test_pages_link_no_host_of_a_package_registry() -> None:
    hosts = ("pypi" + ".org", "files.python" + "hosted.org", "deb.debian" + ".org", "npmjs")
    for rel in documented_pages():
        text = (DOCS / rel).read_text(encoding="utf-8")
        assert not [h for h in hosts if h in text], rel
