"""The option table (bakegen.commands.options) as typer parameters, for cli.py."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Annotated, Any, TypeVar

import typer

from bakegen.commands.options import Option

Command = TypeVar("Command", bound=Callable[..., int])


def _kind(option: Option) -> Any:
    """The type typer reads `option` as: its choices as an enum, if it has any."""
    if option.choices:
        return Enum(option.name.title(), {c: c for c in option.choices}, type=str)
    return option.kind


def typer_info(option: Option) -> Any:
    """What typer is told of `option`: its flags, help, default shown, least value."""
    return typer.Option(
        *option.flags, help=option.help, show_default=option.show_default, min=option.minimum
    )


def declared(options: Sequence[Option]) -> Callable[[Command], Command]:
    """Give a command taking `ctx` and `**given` the parameters typer reads for `options`; it
    gets their values by name, choices as plain strings (`plain`)."""

    def declare(command: Command) -> Command:
        params = [
            inspect.Parameter(
                "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
            )
        ]
        for option in options:
            kind = _kind(option)
            optional = kind if option.default is not None else kind | None
            params.append(
                inspect.Parameter(
                    option.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=Annotated[optional, typer_info(option)],
                    default=kind(option.default) if option.choices else option.default,
                )
            )
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return declare


def plain(given: dict[str, Any]) -> dict[str, Any]:
    """Option values with the choices' enums as their strings."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in given.items()}
