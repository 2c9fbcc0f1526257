"""Checks on a rendered Dockerfile's text, what BuildKit would refuse or silently misbuild:
no instruction at all, an instruction before the first FROM (other than ARG), and an image
built FROM its parent whose FROM lines never use the parent (`base`)."""

from __future__ import annotations

from collections.abc import Iterator

# The build context under which an image's parent reaches its Dockerfile.
PARENT_CONTEXT = "base"


def instructions(text: str) -> Iterator[tuple[int, str]]:
    """(first line, instruction) of each instruction: continuations joined, comments and blank
    lines (parser directives too) skipped."""
    current, start = "", 0
    for number, line in enumerate(text.split("\n"), 1):
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not current:
            start = number
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        yield start, current + line
        current = ""
    if current.strip():
        yield start, current


def dockerfile_problems(text: str, *, from_parent: bool) -> list[tuple[int, str]]:
    """(line, message) for each problem of a rendered Dockerfile body."""
    found = list(instructions(text))
    if not found:
        return [(1, "renders no instruction; a Dockerfile starts with FROM (or ARG)")]
    problems: list[tuple[int, str]] = []
    first_line, first = found[0]
    word = first.split(None, 1)[0].upper()
    if word not in ("FROM", "ARG"):
        problems.append(
            (first_line, f"the first instruction is {word}; a Dockerfile starts with FROM (or ARG)")
        )
    derived = {PARENT_CONTEXT}
    froms = 0
    uses_parent = False
    for _, instruction in found:
        words = instruction.split()
        if words[0].upper() != "FROM":
            continue
        froms += 1
        args = [w for w in words[1:] if not w.startswith("--")]
        image = args[0] if args else ""
        stage = args[2] if len(args) >= 3 and args[1].lower() == "as" else None
        if image in derived:
            uses_parent = True
            if stage:
                derived.add(stage)
    if not froms:
        problems.append((first_line, "has no FROM line"))
    elif from_parent and not uses_parent:
        problems.append(
            (
                first_line,
                f"is built FROM its parent, the `{PARENT_CONTEXT}` context, but no FROM line "
                f"uses it; write FROM {PARENT_CONTEXT}",
            )
        )
    return problems
