"""A ``hoso`` command group whose sub-commands are imported when they are used.

Why: each sub-command module pulls in what it needs (the database layer, the exporter, the chat
runtime, PDF and chart libraries), and importing every one cost about 1 s of start-up for every
command: ``hoso audit`` of a small roster took 1.7 s, now 0.6 s. A name listed here is shown
in the help like any other command and loaded on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, ClassVar

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # typer's own copy of click (0.29); only the names are needed
    from typer._click import Command, Context

#: Sub-command name -> (module, attribute): a ``typer.Typer`` (a group) or a command function.
Lazy = Mapping[str, tuple[str, str]]


def lazy_group(lazy: Lazy) -> type[TyperGroup]:
    """A ``TyperGroup`` class (for ``typer.Typer(cls=...)``) that knows the ``lazy`` commands."""

    class LazyGroup(TyperGroup):
        commands_to_load: ClassVar[Lazy] = dict(lazy)

        def list_commands(self, ctx: Context) -> list[str]:
            known = super().list_commands(ctx)
            return [*known, *(name for name in self.commands_to_load if name not in known)]

        def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
            found = super().get_command(ctx, cmd_name)
            if found is None and cmd_name in self.commands_to_load:
                found = _load(cmd_name, *self.commands_to_load[cmd_name])
                self.add_command(found, cmd_name)
            return found

    return LazyGroup


def _load(name: str, module: str, attribute: str) -> Command:
    target = getattr(import_module(module), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name  # the help lists a command by its own name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)
