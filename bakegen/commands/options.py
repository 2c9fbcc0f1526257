"""Command-line options declared once, for the fast entry and for typer alike: `render`'s
(`RENDER`), and the workspace options every command shares. entry.py reads `RENDER` by hand
(typer is slow to start); cli.py declares the same options to typer from it. Adding an option to
`RENDER` (and a keyword to `commands.render.run`) is all either needs."""

from __future__ import annotations

from pathlib import Path


class Option:
    """One option: its keyword in the command function, its flags (long first), its help.

    A plain class, not a dataclass: the fast entry reads these on every render, and making a
    dataclass costs a millisecond at import."""

    __slots__ = (
        "before",
        "choices",
        "default",
        "flags",
        "help",
        "kind",
        "minimum",
        "name",
        "show_default",
    )

    def __init__(
        self,
        name: str,
        flags: tuple[str, ...],
        help: str,
        kind: type = str,  # str, int, bool (a flag without a value) or Path
        *,
        choices: tuple[str, ...] = (),
        default: str | bool | None = None,
        minimum: int | None = None,  # for int
        before: bool = False,  # may also stand before the command (as with git -C)
        show_default: bool = True,
    ) -> None:
        self.name, self.flags, self.help, self.kind = name, flags, help, kind
        self.choices, self.default, self.minimum = choices, default, minimum
        self.before, self.show_default = before, show_default

    def read(self, text: str | None) -> object:
        """The value of `text` given on the command line (None: not given) as typer reads it;
        ValueError when typer would refuse it (the fast entry then hands over to typer)."""
        if text is None:
            return self.default
        if self.choices and text not in self.choices:
            raise ValueError(text)
        if self.kind is int:
            if not (text.isascii() and text.isdigit()):
                raise ValueError(text)
            number = int(text)
            if self.minimum is not None and number < self.minimum:
                raise ValueError(text)
            return number
        return Path(text) if self.kind is Path else text


WORKSPACE = Option(
    "workspace",
    ("--workspace", "-C"),
    "The workspace folder (default: the current one).",
    Path,
    before=True,
    show_default=False,
)
MANIFEST = Option(
    "manifest",
    ("--manifest", "-m"),
    "A manifest YAML file or folder, relative to the workspace (default: manifest/).",
    Path,
    before=True,
    show_default=False,
)
MAX_TARGETS = Option(
    "max_targets",
    ("--max-targets",),
    "Refuse manifests expanding past this many bake targets.",
    int,
    minimum=1,
)
RENDER = (
    WORKSPACE,
    MANIFEST,
    Option(
        "fmt",
        ("--format", "-f"),
        "Bake file format: hcl or json.",
        choices=("hcl", "json"),
        default="hcl",
    ),
    Option(
        "check",
        ("--check",),
        "Write nothing; exit 1 listing what would change.",
        bool,
        default=False,
    ),
    MAX_TARGETS,
)
