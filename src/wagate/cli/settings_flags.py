"""Every ``WAGATE_*`` setting as a ``wagate serve`` flag of the same name, derived from ``Settings``.

The flags are generated from the settings model rather than written out, so a new setting is a new
flag the day it is added and ``serve --help`` can never disagree with docs/operations.md.
Booleans become ``--name/--no-name``; everything else is passed through as text and validated by
``Settings`` exactly as the environment variable would be.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_args

import typer

from wagate.config import Settings

__all__ = ["settings_flags", "with_settings_flags"]


def _is_bool(annotation: Any) -> bool:
    return annotation is bool or (
        bool in get_args(annotation) and all(a in (bool, type(None)) for a in get_args(annotation))
    )


def _metavar(annotation: Any) -> str:
    if getattr(annotation, "__origin__", None) is list:
        return "LIST"
    names = {int: "INTEGER", float: "NUMBER", Path: "PATH"}
    for candidate in (annotation, *get_args(annotation)):
        if candidate in names:
            return names[candidate]
    return "TEXT"


def settings_flags() -> list[inspect.Parameter]:
    """One keyword parameter per ``Settings`` field, each defaulting to None (= not given)."""
    parameters: list[inspect.Parameter] = []
    for name, field in Settings.model_fields.items():
        variable = f"WAGATE_{name.upper()}"
        help_text = f"{variable}" + (f": {field.description}" if field.description else "")
        flag = "--" + name.replace("_", "-")
        if _is_bool(field.annotation):
            option = typer.Option(f"{flag}/--no-{flag[2:]}", help=help_text, show_default=False)
            annotation: Any = Annotated[bool | None, option]
        else:
            option = typer.Option(flag, help=help_text, show_default=False, metavar=_metavar(field.annotation))
            annotation = Annotated[str | None, option]
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    return parameters


def with_settings_flags(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command(**overrides)`` one flag per setting (typer reads ``__signature__``)."""
    parameters = settings_flags()
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return command
