"""Load stage: YAML to data with a source map; version keys keep their text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakegen.errors import ManifestError
from bakegen.load.merge import load


def write(tmp_path: Path, text: str, name: str = "m.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_version_keys_and_numbers_keep_their_text(tmp_path: Path) -> None:
    loaded = load(
        write(tmp_path, "releases:\n  alpine:\n    3.10: {v: 3.10}\n    8: {}\n"), tmp_path
    )
    assert list(loaded.data["releases"]["alpine"]) == ["3.10", "8"]
    assert loaded.data["releases"]["alpine"]["3.10"]["v"] == "3.10"


def test_booleans_and_nulls_keep_their_type(tmp_path: Path) -> None:
    loaded = load(write(tmp_path, "a: True\nb:\nc: '3.10'\n"), tmp_path)
    assert loaded.data == {"a": True, "b": None, "c": "3.10"}


def test_source_map_points_at_keys(tmp_path: Path) -> None:
    loaded = load(write(tmp_path, "top:\n  inner:\n    - x\n    - y\n"), tmp_path)
    assert str(loaded.sources[("top", "inner")]) == "m.yml:2:3"
    assert str(loaded.sources[("top", "inner", 1)]) == "m.yml:4:7"


def test_repeated_key_is_an_error_with_both_places(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        load(write(tmp_path, "a: 1\nb: 2\na: 3\n"), tmp_path)
    assert info.value.lines() == [
        "m.yml:3:1: a: key repeated in one mapping (first at m.yml:1:1); remove one of them"
    ]


def test_merge_key_override_is_not_a_duplicate(tmp_path: Path) -> None:
    text = "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n"
    loaded = load(write(tmp_path, text), tmp_path)
    assert loaded.data["d"] == {"x": "1", "y": "3"}
    assert str(loaded.sources[("d", "y")]) == "m.yml:4:3"


def test_merge_list_earlier_wins(tmp_path: Path) -> None:
    text = "a: &a {k: a}\nb: &b {k: b, j: b}\nc:\n  <<: [*a, *b]\n"
    assert load(write(tmp_path, text), tmp_path).data["c"] == {"k": "a", "j": "b"}


def test_list_aliases_inside_lists_flatten(tmp_path: Path) -> None:
    text = "x: &s [debian, centos]\ny: [*s, alpine]\n"
    assert load(write(tmp_path, text), tmp_path).data["y"] == ["debian", "centos", "alpine"]


def test_manifest_directory_merges_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "manifest"
    folder.mkdir()
    write(folder, "releases:\n  debian: {}\n", "20-releases.yml")
    write(folder, "packages: {}\nreleases:\n  alpine: {}\n", "10-packages.yaml")
    loaded = load(folder, tmp_path)
    assert list(loaded.data["releases"]) == ["alpine", "debian"]
    assert loaded.files == ["manifest/10-packages.yaml", "manifest/20-releases.yml"]


def test_key_defined_in_two_files_names_both(tmp_path: Path) -> None:
    folder = tmp_path / "manifest"
    folder.mkdir()
    write(folder, "version: '1'\n", "a.yml")
    write(folder, "\nversion: '2'\n", "b.yml")
    with pytest.raises(ManifestError) as info:
        load(folder, tmp_path)
    assert info.value.lines() == [
        "manifest/b.yml:2:1: version: defined twice: also at manifest/a.yml:1:1; keep one definition"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "m.yml:1:1: <root>: file is empty; a manifest is a YAML mapping"),
        ("- a\n", "m.yml:1:1: <root>: the manifest must be a mapping of keys to values"),
        (
            "a: [\n",
            "m.yml:2:1: <root>: YAML syntax error: while parsing a flow node expected the node content, but found '<stream end>'",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "m.yml:3:1: <root>: one YAML document per file; split the others into their own files",
        ),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        load(write(tmp_path, text), tmp_path)
    assert info.value.lines() == [message]


def test_non_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(ManifestError) as info:
        load(path, tmp_path)
    assert info.value.lines() == ["m.yml:2:4: <root>: file is not UTF-8 text"]


def test_hidden_files_in_a_manifest_folder_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "manifest"
    folder.mkdir()
    write(folder, "version: '1'\n", "m.yml")
    write(folder, "version: '2'\n", ".old.yml")
    (folder / "._m.yml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    write(folder, "version: '3'\n", "m.yml~")
    write(folder, "version: '4'\n", "#m.yml#")
    loaded = load(folder, tmp_path)
    assert loaded.data == {"version": "1"}
    assert loaded.files == ["manifest/m.yml"]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n---\n",
        "a: 1\n---\n# nothing here\n",
        "a: 1\n...\n",
        "---\n---\na: 1\n---\n...\n",
        "# only a comment\n---\na: 1\n",
    ],
)
def test_empty_documents_are_ignored(tmp_path: Path, text: str) -> None:
    assert load(write(tmp_path, text), tmp_path).data == {"a": "1"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b"a: 1\nb: x\x00y\n",
            "m.yml:2:5: <root>: control character U+0000 is not allowed in YAML; remove it",
        ),
        (
            "a: 1\n# caf\u00e9 \x1b[31m\n".encode(),
            "m.yml:2:8: <root>: control character U+001B is not allowed in YAML; remove it",
        ),
        (
            "a: \ufffe\n".encode(),
            "m.yml:1:4: <root>: character U+FFFE is not allowed in YAML; remove it",
        ),
        (
            b"a: 1\r\nb: \x7f\r\n",
            "m.yml:2:4: <root>: control character U+007F is not allowed in YAML; remove it",
        ),
    ],
)
def test_characters_yaml_forbids_are_reported_where_they_are(
    tmp_path: Path, raw: bytes, message: str
) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes(raw)
    with pytest.raises(ManifestError) as info:
        load(path, tmp_path)
    assert info.value.lines() == [message]


@pytest.mark.parametrize(
    "text",
    [
        "a: [\n",
        "a: 'unclosed\n",
        'a: "\\q"\n',
        "a: *nope\n",
        "a: &x 1\nb: &x 2\nc: [\n",
        "a:\n\tb: 1\n",
        "%YAML 1.1\n%YAML 1.1\na: 1\n",
        "a: !<tag:yaml.org,2002:str\n",
        "? a\n? b\n: - c\n  d\n",
    ],
)
def test_every_yaml_error_is_one_plain_line(tmp_path: Path, text: str) -> None:
    with pytest.raises(ManifestError) as info:
        load(write(tmp_path, text), tmp_path)
    lines = info.value.lines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("m.yml:"), lines
    assert "position" not in lines[0], lines
    assert "<unicode string>" not in lines[0], lines
    assert "line " not in lines[0], lines
