"""Checks on a workspace's bake template: the blocks it must keep."""

from __future__ import annotations

from collections.abc import Iterator

import jinja2
from jinja2 import nodes

from bakegen.emit.bake_template import SHIPPED_NAME, BakeTemplate
from bakegen.errors import Location, Problem, did_you_mean

# A finding in an override: its line, the word on it to point at, and the message.
_Finding = tuple[int, str, str]


def shape_problems(env: jinja2.Environment, template: BakeTemplate) -> list[Problem]:
    """What in an extending override would not be printed: an `{% extends %}` of another name,
    blocks the shipped template does not have, text outside blocks. Raises Jinja's
    TemplateSyntaxError for an override that does not parse."""
    if template.shipped:
        return []
    tree = env.parse(template.source)
    if not any(tree.find_all(nodes.Extends)):
        return []  # a whole template of its own
    known = list(dict.fromkeys(b.name for b in env.parse(template.base).find_all(nodes.Block)))
    lines = template.source.split("\n")
    found = [*_extends(tree), *_unknown_blocks(tree, known), *_text_outside_blocks(tree)]
    problems = []
    for line, word, message in found:
        column = lines[line - 1].find(word) + 1 if 0 < line <= len(lines) else 0
        problems.append(Problem(Location(template.name, line, max(column, 1)), (), message))
    return problems


def block_place(template: BakeTemplate, names: tuple[str, ...]) -> Location:
    """Where an override replaces the first block of `names` it has (its first line when it
    has none of them)."""
    try:
        tree = jinja2.Environment().parse(template.source)
    except jinja2.TemplateSyntaxError:
        return Location(template.name, 1, 1)
    for block in tree.find_all(nodes.Block):
        if block.name in names:
            lines = template.source.split("\n")
            text = lines[block.lineno - 1] if 0 < block.lineno <= len(lines) else ""
            return Location(template.name, block.lineno, max(text.find(block.name) + 1, 1))
    return Location(template.name, 1, 1)


def _extends(tree: nodes.Template) -> Iterator[_Finding]:
    for extends in tree.find_all(nodes.Extends):
        name = extends.template
        if not (isinstance(name, nodes.Const) and name.value == SHIPPED_NAME):
            what = f"'{name.value}'" if isinstance(name, nodes.Const) else "an expression"
            yield (
                extends.lineno,
                "extends",
                f"extends {what}; the bake template to extend is '{SHIPPED_NAME}'",
            )


def _unknown_blocks(tree: nodes.Template, known: list[str]) -> Iterator[_Finding]:
    for block in tree.find_all(nodes.Block):
        if block.name not in known:
            yield (
                block.lineno,
                block.name,
                f"block '{block.name}' is not a block of {SHIPPED_NAME}"
                f"{did_you_mean(block.name, known)} (its blocks: {', '.join(known)})",
            )


def _text_outside_blocks(tree: nodes.Template) -> Iterator[_Finding]:
    extended = False
    for node in tree.body:
        if isinstance(node, nodes.Extends):
            extended = True
        elif extended and isinstance(node, nodes.Output) and (line := _printing_line(node)):
            yield (
                line,
                "",
                "text after {% extends %} outside any block is never printed; "
                "put it in a block (header, for one)",
            )


def _printing_line(node: nodes.Output) -> int | None:
    """The line of the first thing `node` prints that is not white space, if any."""
    for child in node.nodes:
        if not isinstance(child, nodes.TemplateData):
            return child.lineno
        if child.data.strip():
            blank = child.data[: len(child.data) - len(child.data.lstrip())]
            return child.lineno + blank.count("\n")
    return None
