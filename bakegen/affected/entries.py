"""Each bake target as the rendered bake file gives it, whatever the workspace's
docker-bake.hcl.j2 made of it: a digest of its text and of everything that text names (the
targets it inherits, the variables and functions it uses, transitively), and the attributes
that say what its build reads, where they are literals (context, dockerfile, dockerfile-inline,
contexts, args, platforms), merged through `inherits` as bake merges them.

A text that names more than it uses (a tag that spells another target's name) only makes the
digest cover more. Text this reader does not understand makes every target's digest the whole
file's, and what it reads UNKNOWN.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bakegen.affected.hcl import UNKNOWN, Item, items
from bakegen.emit.bakefile import METADATA_TARGET

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# What `inherits` merges key by key (the others a later level replaces).
_MAPS = frozenset({"args", "labels", "contexts", "annotations"})
# Blocks and attributes a target's text may name.
_NAMED = frozenset({"target", "variable", "function", ""})


@dataclass(frozen=True)
class Entry:
    name: str
    digest: str
    context: object  # a str, or UNKNOWN
    dockerfile: object
    inline: object  # dockerfile-inline: a str, None, or UNKNOWN
    contexts: object  # dict[str, object], or UNKNOWN
    args: object
    platforms: object


def entries(text: str, names: Iterable[str]) -> dict[str, Entry]:
    """The targets of the bake file `text` that are built (not `_`-named templates, not the
    metadata action's placeholder); `names` are the bake model's, for text not understood."""
    found = items(text)
    if found is None:
        whole = _digest(text)
        return {
            n: Entry(n, whole, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN)
            for n in names
            if _built(n)
        }
    defined: dict[str, list[Item]] = {}
    everywhere: list[tuple[str, ...]] = []
    for item in found:
        if item.kind in _NAMED:
            defined.setdefault(item.name, []).append(item)
        elif item.kind != "group":
            everywhere.append(item.tokens)  # unknown to bake: part of every target
    words = {name: _words(its) for name, its in defined.items()}
    out: dict[str, Entry] = {}
    for name, its in defined.items():
        if not any(i.kind == "target" for i in its) or not _built(name):
            continue
        named = sorted(_closure(name, words))
        text_of = [[n, [i.tokens for i in defined[n]]] for n in named]
        attrs = _merged(name, defined, ())
        get = attrs.get if isinstance(attrs, dict) else (lambda _k, _d=None: UNKNOWN)
        out[name] = Entry(
            name,
            _digest(json.dumps([text_of, everywhere])),
            get("context", "."),
            get("dockerfile", "Dockerfile"),
            get("dockerfile-inline"),
            get("contexts", {}),
            get("args", {}),
            get("platforms", []),
        )
    return out


def _built(name: str) -> bool:
    return not name.startswith("_") and name != METADATA_TARGET


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _words(found: list[Item]) -> set[str]:
    return {w for i in found for token in i.tokens for w in _WORD.findall(token)}


def _closure(name: str, words: dict[str, set[str]]) -> set[str]:
    """`name` and every definition its text names, and theirs."""
    seen = {name}
    todo = [name]
    while todo:
        for word in words[todo.pop()]:
            if word in words and word not in seen:
                seen.add(word)
                todo.append(word)
    return seen


def _merged(name: str, defined: dict[str, list[Item]], stack: tuple[str, ...]) -> object:
    """A target's attributes with what it inherits (UNKNOWN when `inherits` is not a list of
    names, or its parents' attributes are)."""
    own: dict[str, object] = {}
    for item in defined.get(name, []):
        if item.kind == "target":
            own = merge(own, item.attrs)
    parents = own.pop("inherits", [])
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        return UNKNOWN
    merged: dict[str, object] = {}
    for parent in parents:
        if parent in stack:
            continue
        got = _merged(str(parent), defined, (*stack, name))
        if not isinstance(got, dict):
            return UNKNOWN
        merged = merge(merged, got)
    return merge(merged, own)


def merge(base: dict[str, object], over: dict[str, object]) -> dict[str, object]:
    """A target's attributes `over` those it inherits (`base`), as bake merges them: map
    attributes key by key, the others replaced."""
    out = dict(base)
    for key, value in over.items():
        before = out.get(key)
        if key in _MAPS and key in out and (before is UNKNOWN or value is UNKNOWN):
            out[key] = UNKNOWN
        elif key in _MAPS and isinstance(before, dict) and isinstance(value, dict):
            out[key] = {**before, **value}
        else:
            out[key] = value
    return out
