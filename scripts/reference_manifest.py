"""The manifest reference page (docs/reference/manifest.md), made from the JSON Schema alone:
one table per mapping of the manifest (top level, each nested record, each shared `$defs`
record), a row per key with its kind, default and the schema's description, and the value
formats from the schema's `x-messages`. A key added to the schema, or a description changed,
changes the page; python3 -m scripts.reference writes it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# What stands for a name the user chooses, by the path of the mapping (`<name>` elsewhere).
PLACEHOLDERS = {
    "repository": "registry",
    "repository.<registry>.registry": "package",
    "base_registries": "host",
    "cuda_dependencies": "CUDA version",
    "cuda_dependencies.<CUDA version>": "component",
    "packages": "package",
    "packages.<package>": "release type",
    "releases": "distro",
    "releases.<distro>": "version",
    "release_types": "release type",
    "labels": "label",
}
# Titles of the records shared through `$defs` (their name otherwise).
RECORD_TITLES = {
    "release": "Release spec",
    "bake": "Bake target attributes",
    "alias": "Alias",
    "image_test": "Test",
    "where": "`where`",
    "gate": "Gate",
}
# How a scalar `$defs` format reads in a sentence, singular and plural.
FORMAT_WORDS = {
    "env_name": ("variable name", "variable names"),
    "python_version": ("Python version", "Python versions"),
    "cuda_version": ("CUDA version", "CUDA versions"),
    "version_key": ("version", "versions"),
    "envar": ("`KEY=value`", "`KEY=value` entries"),
    "distro_name": ("distro", "distros"),
}
FORMATS_ID = "formats"


@dataclass
class Section:
    anchor: str
    title: str
    description: str = ""
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    used_at: list[str] = field(default_factory=list)


def escape(text: str) -> str:
    """`text` for a Markdown table cell: pipes escaped, one line, `<` and `>` outside code
    spans as entities (a `<name>` would be read as HTML)."""
    parts = text.replace("\n", " ").replace("|", "\\|").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def anchor_of(path: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in path.lower())
    return "-".join(p for p in cleaned.split("-") if p)


class Reader:
    """Walks the schema from its root, collecting one section per mapping it meets."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.sections: dict[str, Section] = {}
        self.formats: dict[str, str] = {}

    def resolve(self, node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """`node` with its `$ref`s (also one inside `allOf`) merged in, its own keys winning;
        and the name of the first `$defs` entry it refers to."""
        name: str | None = None
        while True:
            refs = [node] if "$ref" in node else [a for a in node.get("allOf", []) if "$ref" in a]
            if not refs:
                return node, name
            merged: dict[str, Any] = {}
            for ref in refs:
                target = ref["$ref"].rsplit("/", 1)[-1]
                name = name or target
                merged.update(self.defs[target])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if "allOf" in rest:
                rest["allOf"] = [a for a in rest["allOf"] if "$ref" not in a]
            node = {**merged, **rest}

    def record(self, node: dict[str, Any], path: str, name: str | None, plural: bool) -> str:
        """The section of a mapping with keys of its own (made once per `$defs` record); its
        link."""
        key = f"def:{name}" if name else path
        section = self.sections.get(key)
        if section is None:
            title = RECORD_TITLES.get(name, name) if name else f"`{path}`"
            anchor = anchor_of(name if name else path)
            own = self.defs[name].get("description", "") if name else ""
            section = Section(anchor, title or "", own)
            self.sections[key] = section
            self.rows(section, node, path)
        if name:
            section.used_at.append(path)
        word = section.title.strip("`") if name else ("mappings" if plural else "mapping")
        return f"[{word}](#{section.anchor})"

    def rows(self, section: Section, node: dict[str, Any], path: str) -> None:
        required = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            section.rows.append(
                self.row(f"`{key}`", sub, f"{path}.{key}" if path else key, key in required)
            )
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and node.get("properties"):
            holder = f"<{PLACEHOLDERS.get(path, 'name')}>"
            section.rows.append(self.row(f"`{holder}`", extra, f"{path}.{holder}", False))

    def row(
        self, key: str, node: dict[str, Any], path: str, required: bool
    ) -> tuple[str, str, str, str]:
        resolved, _ = self.resolve(node)
        kind = self.kind(node, path)
        if required:
            kind += " (required)"
        default = format_default(resolved["default"]) if "default" in resolved else ""
        meaning = resolved.get("description") or self.rule(resolved)
        return key, kind, default, escape(meaning)

    def rule(self, node: dict[str, Any]) -> str:
        messages = [node.get("x-messages", {})] + [
            a.get("x-messages", {}) for a in node.get("allOf", [])
        ]
        said = [m["pattern"] for m in messages if "pattern" in m]
        return "; ".join(rule_text(s) for s in said)

    def kind(self, node: dict[str, Any], path: str, plural: bool = False) -> str:
        resolved, name = self.resolve(node)
        if name and name in self.defs and is_scalar(self.defs[name]):
            return self.format_word(name, plural)
        if fixed := literal(resolved):
            return fixed
        for choice in ("anyOf", "oneOf"):
            if choice in resolved and "properties" not in resolved:
                return self.either(resolved[choice], path, plural)
        types = resolved.get("type", [])
        types = [types] if isinstance(types, str) else list(types)
        nullable = " or null" if "null" in types else ""
        types = [t for t in types if t != "null"]
        if "object" in types or "properties" in resolved:
            return self.mapping(resolved, path, name, plural) + nullable
        if "array" in types:
            items = resolved.get("items", {})
            items = items.get("else", items) if "if" in items else items
            return "list of " + self.kind(items, path + "[]", plural=True) + nullable
        return scalar_word(types, resolved, plural) + nullable

    def either(self, options: Iterable[dict[str, Any]], path: str, plural: bool) -> str:
        words = [self.kind(o, path, plural) for o in options if o != {"type": "null"}]
        nullable = any(o == {"type": "null"} for o in options)
        text = " or ".join(dict.fromkeys(words))
        return text + (" or null" if nullable and not text.endswith(" or null") else "")

    def mapping(self, node: dict[str, Any], path: str, name: str | None, plural: bool) -> str:
        if node.get("properties"):
            return self.record(node, path, name, plural)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            holder = f"<{PLACEHOLDERS.get(path, 'name')}>"
            return f"mapping of `{holder}` to " + self.kind(extra, f"{path}.{holder}")
        return "mapping"

    def format_word(self, name: str, plural: bool) -> str:
        one, many = FORMAT_WORDS.get(name, (name.replace("_", " "), name.replace("_", " ") + "s"))
        self.formats.setdefault(
            name, self.rule(self.defs[name]) or self.defs[name].get("description", "")
        )
        return f"[{many if plural else one}](#{FORMATS_ID})"


def literal(node: dict[str, Any]) -> str:
    """The values an `enum` or `const` allows, or nothing."""
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    return f"`{node['const']}`" if "const" in node else ""


def is_scalar(node: dict[str, Any]) -> bool:
    types = node.get("type", [])
    types = [types] if isinstance(types, str) else types
    return (bool(types) and not ({"object", "array"} & set(types))) or "anyOf" in node


def scalar_word(types: list[str], node: dict[str, Any], plural: bool) -> str:
    if set(types) <= {"string", "number"} and types:
        return "texts" if plural else "text"
    if types == ["boolean"]:
        return "`true` or `false`"
    if types == ["integer"]:
        least = node.get("minimum")
        return "integer" + (f" of at least {least}" if least is not None else "")
    if types == ["number"]:
        return "number"
    return "any value"


def rule_text(message: str) -> str:
    """An `x-messages` pattern message as a rule: "'{value}' is not a platform like
    linux/arm64" is "a platform like linux/arm64"."""
    for lead in ("'{value}' is not ", "'{value}': "):
        if message.startswith(lead):
            return message[len(lead) :]
    return message


def format_default(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict):
        return ", ".join(f"`{k}`" for k in value)
    if isinstance(value, list):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def section_text(section: Section) -> list[str]:
    lines = [f"## {section.title} {{#{section.anchor}}}", ""]
    if section.description:
        lines += [escape(section.description).rstrip(".") + ".", ""]
    if section.used_at:
        places = ", ".join(f"`{p}`" for p in dict.fromkeys(section.used_at))
        lines += [f"Written at: {places}.", ""]
    lines += ["| key | kind | default | meaning |", "|---|---|---|---|"]
    lines += [f"| {k} | {kind} | {d} | {m} |" for k, kind, d, m in section.rows]
    return [*lines, ""]


def manifest_page(schema: dict[str, Any]) -> str:
    """The whole page: sections in the order the walk met them, then the formats."""
    reader = Reader(schema)
    top = Section("top-level-keys", "Top-level keys", schema.get("description", ""))
    reader.sections["<root>"] = top
    reader.rows(top, schema, "")
    lines = [
        "<!-- Generated by scripts/reference.py from bakegen/resources/manifest.schema.json:"
        " edit the schema's descriptions, then run python3 -m scripts.reference -->",
        "",
        "# Manifest reference",
        "",
        "Every key a manifest may hold, made from the JSON Schema that `bakegen schema` prints"
        " (the schema editors and `check-jsonschema` read). Names in angle brackets, such as"
        " `<package>`, stand for names you choose. A kind links to the table of its keys or to"
        f" the [formats](#{FORMATS_ID}) its values must have.",
        "",
    ]
    for section in reader.sections.values():
        lines += section_text(section)
    lines += [
        f"## Formats {{#{FORMATS_ID}}}",
        "",
        "What a value of each format must be (`bakegen schema` gives the exact patterns).",
        "",
        "| format | a value must be |",
        "|---|---|",
    ]
    for name in sorted(reader.formats):
        word = FORMAT_WORDS.get(name, (name.replace("_", " "), ""))[0]
        lines.append(f"| {word} | {escape(reader.formats[name])} |")
    return "\n".join(lines) + "\n"
