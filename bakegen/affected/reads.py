"""What a Dockerfile's build reads from its local build contexts: the sources of COPY and ADD
(from the build context, or `--from=` a named context that is a folder), the bind mounts of RUN,
and a named folder context a stage is built FROM (all of it).

Variables in those paths are expanded over the values they may have: the bake entry's build
arguments, the ARG defaults, ENV, and the target platforms' TARGETOS, TARGETARCH and the like.
When a path cannot be known (a variable a base image may set, an argument bake computes), the
read is the whole context (WHOLE): assuming more is read only ever reports a target too many.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bakegen.affected.expand import Lookup, Values, expand
from bakegen.affected.hcl import UNKNOWN
from bakegen.checks.dockerfiles import Instruction, instructions

WHOLE = ""  # the pattern of a read of a whole context
MAIN: str | None = None  # the context name of the build context itself
_ESCAPE_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(\S)\s*$", re.IGNORECASE)
_PLATFORM_ARGS = ("TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT")


@dataclass(frozen=True, order=True)
class Read:
    """A path pattern (or WHOLE) read from a context: MAIN, or a named context's name."""

    context: str | None
    pattern: str


@dataclass
class _Stage:
    env: dict[str, Values] = field(default_factory=dict)  # ENV: what a later stage inherits
    args: dict[str, Values | None] = field(default_factory=dict)
    known_base: bool = True  # False: the base image may set any variable


@dataclass
class _Build:
    build_args: Mapping[str, object]
    platforms: Sequence[object] | object
    local: Collection[str]  # the named contexts that are folders
    escape: str = "\\"
    globals: dict[str, Values | None] = field(default_factory=dict)
    stages: dict[str, _Stage] = field(default_factory=dict)  # by name (lower case) and index
    stage: _Stage = field(default_factory=_Stage)
    reads: set[Read] = field(default_factory=set)


def reads(
    dockerfile: str,
    build_args: Mapping[str, object],
    platforms: Sequence[object] | object,
    local: Collection[str],
) -> set[Read]:
    """Every read of `dockerfile` built with `build_args` (values: strings, or UNKNOWN) for
    `platforms` (or UNKNOWN), `local` naming the named contexts that are folders."""
    build = _Build(build_args, platforms, local, escape=_escape_of(dockerfile))
    started = False
    for instruction in instructions(dockerfile):
        keyword = instruction.keyword
        if keyword == "FROM":
            _from(build, instruction)
            started = True
        elif keyword == "ARG":
            _arg(build, instruction, build.globals if not started else None)
        elif started and keyword == "ENV":
            _env(build, instruction)
        elif started and keyword in ("COPY", "ADD"):
            _copy(build, instruction)
        elif started and keyword == "RUN":
            _mounts(build, instruction)
    return build.reads


def _escape_of(text: str) -> str:
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if match := _ESCAPE_DIRECTIVE.match(line):
            return match.group(1)
    return "\\"


def _platform_values(build: _Build, name: str) -> Values | None:
    if not isinstance(build.platforms, list) or not build.platforms:
        return UNKNOWN  # the builder's own platform
    values: set[str] = set()
    for platform in build.platforms:
        if not isinstance(platform, str):
            return UNKNOWN
        os_, _, rest = platform.partition("/")
        arch, _, variant = rest.partition("/")
        values.add(
            {"TARGETPLATFORM": platform, "TARGETOS": os_, "TARGETARCH": arch}.get(name, variant)
        )
    return frozenset(values)


def _argument(build: _Build, name: str, default: str | None, lookup: Lookup) -> Values | None:
    """An ARG's value: the build argument, else its default (expanded), else a global's."""
    if name in build.build_args:
        given = build.build_args[name]
        return UNKNOWN if given is UNKNOWN else frozenset([_text(given)])
    if default is not None:
        return expand(default, lookup, build.escape)
    if name in _PLATFORM_ARGS:
        return _platform_values(build, name)
    if name.startswith("BUILD"):
        return UNKNOWN  # BUILDPLATFORM and its parts: the builder's
    return build.globals.get(name)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _global_lookup(build: _Build) -> Lookup:
    return build.globals.get


def _stage_lookup(build: _Build) -> Lookup:
    stage = build.stage

    def lookup(name: str) -> Values | None:
        if name in stage.env:
            return stage.env[name]
        if name in stage.args:
            return stage.args[name]
        return None if stage.known_base else UNKNOWN

    return lookup


def _arg(build: _Build, instruction: Instruction, into: dict[str, Values | None] | None) -> None:
    lookup = _global_lookup(build) if into is not None else _stage_lookup(build)
    for word in instruction.words:
        name, sep, default = word.partition("=")
        value = _argument(build, name, default if sep else None, lookup)
        if value is None and into is None and not build.stage.known_base:
            value = UNKNOWN  # unset here: the base image's ENV may set it
        (into if into is not None else build.stage.args)[name] = value


def _env(build: _Build, instruction: Instruction) -> None:
    words = list(instruction.words)
    if words and "=" not in words[0]:  # the old form: ENV NAME the value
        pairs = [(words[0], " ".join(words[1:]))]
    else:
        pairs = [w.partition("=")[::2] for w in words]
    for name, value in pairs:
        build.stage.env[name] = expand(value, _stage_lookup(build), build.escape)


def _from(build: _Build, instruction: Instruction) -> None:
    words = [w for w in instruction.words if not w.startswith("--")]
    image = expand(words[0], _global_lookup(build), build.escape) if words else UNKNOWN
    stage = _Stage()
    if not isinstance(image, frozenset) or len(image) != 1:
        stage.known_base = False
        _read_contexts(build, image, WHOLE)
    else:
        name = next(iter(image)).lower()
        parent = build.stages.get(name)
        if parent is not None:
            stage.env = dict(parent.env)
            stage.known_base = parent.known_base
        elif name in build.local:
            build.reads.add(Read(name, WHOLE))  # a folder as the stage's file system
        elif name != "scratch":
            stage.known_base = False
    index = str(len({id(s) for s in build.stages.values()}))
    build.stages[index] = stage
    if len(words) >= 3 and words[1].lower() == "as":
        build.stages[words[2].lower()] = stage
    build.stage = stage


def _read_contexts(build: _Build, names: Values, pattern: str) -> None:
    """Reads of `pattern` from the named contexts `names` may be (UNKNOWN: any of them)."""
    if not isinstance(names, frozenset):
        build.reads.update(Read(name, WHOLE) for name in build.local)
        return
    for name in names:
        if name.lower() in build.stages:
            continue
        if name in build.local:
            build.reads.add(Read(name, pattern))


def _copy(build: _Build, instruction: Instruction) -> None:
    words = _arguments(instruction)
    flags = [w for w in words if w.startswith("--")]
    sources = [w for w in words if not w.startswith("--")][:-1]
    lookup = _stage_lookup(build)
    origin: Values | None = None
    for flag in flags:
        if flag.startswith("--from="):
            origin = expand(flag.removeprefix("--from="), lookup, build.escape)
    for source in sources:
        if source.startswith("<<") or "://" in source or source.startswith("git@"):
            continue  # a heredoc, a URL
        for pattern in _patterns(expand(source, lookup, build.escape)):
            if origin is None:
                build.reads.add(Read(MAIN, pattern))
            else:
                _read_contexts(build, origin, pattern)


def _arguments(instruction: Instruction) -> list[str]:
    """The words of COPY or ADD: flags first, then the sources and the destination (a JSON
    array's items, or the words)."""
    words = list(instruction.words)
    flags = []
    while words and words[0].startswith("--"):
        flags.append(words.pop(0))
    rest = " ".join(words)
    if rest.startswith("["):
        try:
            items = json.loads(rest)
        except ValueError:
            items = None
        if isinstance(items, list):
            return flags + [str(item) for item in items]
    return flags + words


def _patterns(values: Values) -> Iterator[str]:
    """The context paths a source's values name (WHOLE when unknown), from the root."""
    if not isinstance(values, frozenset):
        yield WHOLE
        return
    for value in values:
        path = posixpath.normpath("/" + value).lstrip("/")
        yield WHOLE if path in ("", ".") else path


def _mounts(build: _Build, instruction: Instruction) -> None:
    """The reads of RUN's bind mounts (and cache mounts seeded `from` a context)."""
    lookup = _stage_lookup(build)
    for word in instruction.words:
        if not word.startswith("--"):
            break
        if not word.startswith("--mount="):
            continue
        fields = dict(f.partition("=")[::2] for f in word.removeprefix("--mount=").split(","))
        kind = fields.get("type", "bind")
        origin = fields.get("from")
        if kind not in ("bind", "cache") or (kind == "cache" and origin is None):
            continue
        source = fields.get("source", fields.get("src", ""))
        patterns = set(_patterns(expand(source, lookup, build.escape)))
        for pattern in patterns:
            if origin is None:
                build.reads.add(Read(MAIN, pattern))
            else:
                _read_contexts(build, expand(origin, lookup, build.escape), pattern)
