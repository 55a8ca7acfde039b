"""The console channel: the same engine in a terminal, for the demo and for support staff.

Buttons are printed numbered; the person answers with the number, the label, or free text. When
standard input is not a terminal it reads one message per line, so scripts can drive it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TextIO

from flows.channel import Inbound, Outbound
from flows.effects import Button
from flows.inputs import Input, Start, Tap, Text
from flows.rendering import small_number
from flows.rules import fold

CHANNEL = "console"
Handle = Callable[[Inbound], Awaitable[list[Outbound]]]


def format_outbound(message: Outbound) -> str:
    lines = [message.text]
    lines += [f"  {i}. {button.label}" for i, button in enumerate(message.buttons, start=1)]
    return "\n".join(lines)


def to_input(line: str, buttons: tuple[Button, ...]) -> Input:
    """A typed line: a command, a button (by number or label), or text."""
    text = line.strip()
    if text.split(" ", 1)[0] in ("/start", "/capnhat"):
        payload = text.split(" ", 1)[1].strip() if " " in text else None
        return Start(payload or None)
    number = small_number(text)
    if number is not None and 1 <= number <= len(buttons):
        return Tap(buttons[number - 1].payload)
    for button in buttons:
        if fold(button.label) == fold(text):
            return Tap(button.payload)
    return Text(line)


class ConsoleSession:
    """One person's conversation in a terminal; remembers the last buttons shown."""

    def __init__(self, handle: Handle, external_id: str, out: TextIO) -> None:
        self.handle = handle
        self.external_id = external_id
        self.out = out
        self.buttons: tuple[Button, ...] = ()
        self.session = uuid.uuid4().hex
        self.count = 0

    async def send(self, inp: Input) -> list[Outbound]:
        self.count += 1
        update_id = f"{self.session}:{self.count}"
        replies = await self.handle(Inbound(CHANNEL, self.external_id, update_id, inp))
        shown = [reply.buttons for reply in replies if reply.buttons]
        self.buttons = shown[-1] if shown else ()
        for reply in replies:
            self.out.write(format_outbound(reply) + "\n\n")
        self.out.flush()
        return replies

    async def run(self, lines: Iterable[str], *, echo: bool, first: Input | None = None) -> None:
        await self.send(first if isinstance(first, Start) else Start())
        if first is not None and not isinstance(first, Start):
            await self.send(first)
        for line in lines:
            if not line.strip():
                continue
            if echo:
                self.out.write(f"> {line.rstrip()}\n")
            await self.send(to_input(line.rstrip("\n"), self.buttons))


def terminal_lines(prompt: str = "> ") -> Iterable[str]:
    """Lines typed at a terminal until EOF or /thoat."""
    while True:
        try:
            line = input(prompt)
        except EOFError:
            return
        if line.strip() in ("/thoat", "/quit"):
            return
        yield line
