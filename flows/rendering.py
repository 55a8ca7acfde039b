"""How a reply fits a channel's ``Capabilities``: a long text split at line breaks, more buttons
than one message can carry turned into a numbered list the person answers with the number,
labels cut to the channel's length, and the phone-sharing button set apart (a channel renders
it as its own request, or drops it when it cannot vouch for the number).

Pure: an adapter calls ``fit`` before it speaks to its platform, and reads the person's answer
against what was shown with ``menu_payload``, the way the console reads numbers and labels.

>>> caps = Capabilities(buttons=2, text=40)
>>> done = fit("Dân tộc?", (Button("Kinh", "value:Kinh"), Button("Hoa", "value:Hoa"),
...     Button("Khơ-me", "value:Khơ-me")), caps)
>>> done.buttons, [b.label for b in done.numbered]
((), ['Kinh', 'Hoa', 'Khơ-me'])
>>> menu_payload("2", done.numbered, numbered=True)
'value:Hoa'
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.channel import Capabilities
from flows.effects import Button
from flows.rules.base import fold

CONTACT_REQUEST = "contact:request"
NUMBERED_HINT = "Trả lời bằng số thứ tự (ví dụ: 1), hoặc gõ câu trả lời."
ELLIPSIS = "…"


@dataclass(frozen=True)
class Fitted:
    """A reply as the channel can show it: ``parts`` in order, the buttons with the last one."""

    parts: tuple[str, ...]
    buttons: tuple[Button, ...] = ()
    #: Listed in the last part as "1. label"; the person answers with the number or the label.
    numbered: tuple[Button, ...] = ()
    #: Ask for the person's own phone number after the text (a channel-specific request).
    contact: bool = False

    @property
    def menu(self) -> tuple[Button, ...]:
        """What the person can answer next by label (or number, when ``numbered``)."""
        return self.numbered or self.buttons


def fit(text: str, buttons: tuple[Button, ...], caps: Capabilities) -> Fitted:
    contact = any(b.payload == CONTACT_REQUEST for b in buttons)
    shown = tuple(
        Button(cut(b.label, caps.label), b.payload)
        for b in buttons
        if b.payload != CONTACT_REQUEST
    )
    numbered: tuple[Button, ...] = ()
    if caps.buttons is not None and len(shown) > caps.buttons:
        numbered, shown = shown, ()
        listing = "\n".join(f"{n}. {b.label}" for n, b in enumerate(numbered, start=1))
        text = f"{text}\n\n{listing}\n{NUMBERED_HINT}"
    return Fitted(split(text, caps.text), shown, numbered, contact and caps.contact_button)


def cut(label: str, limit: int | None) -> str:
    if limit is None or len(label) <= limit:
        return label
    return label[: max(limit - 1, 0)] + ELLIPSIS


def split(text: str, limit: int | None) -> tuple[str, ...]:
    """``text`` in pieces of at most ``limit`` characters, cut at a line break where there is
    one, else at a space, else anywhere.

    >>> split("một\\nhai ba", 5)
    ('một', 'hai', 'ba')
    """
    if limit is None or len(text) <= limit:
        return (text,)
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        at = window.rfind("\n")
        if at <= 0:
            at = window.rfind(" ")
        if at <= 0:
            at = limit
        parts.append(rest[:at].rstrip())
        rest = rest[at:].lstrip("\n ")
    if rest:
        parts.append(rest)
    return tuple(p for p in parts if p)


def small_number(text: str, *, digits: int = 6) -> int | None:
    """``text`` as a number of at most ``digits`` ASCII digits, else None: total, where
    ``str.isdigit`` then ``int`` is not ("²" and "①" are digits that ``int`` refuses, and a
    number of 4,301 digits or more raises).

    >>> small_number(" 12 "), small_number("²"), small_number("①"), small_number("9" * 5000)
    (12, None, None, None)
    """
    typed = text.strip()
    if not typed or len(typed) > digits or not (typed.isascii() and typed.isdigit()):
        return None
    return int(typed)


def menu_payload(text: str, menu: tuple[Button, ...], *, numbered: bool) -> str | None:
    """The payload of the button ``text`` names (its label, or its number in a numbered list);
    None when it names none, so it is an ordinary answer."""
    typed = text.strip()
    number = small_number(typed)
    if numbered and number is not None and 1 <= number <= len(menu):
        return menu[number - 1].payload
    for button in menu:
        if fold(button.label) == fold(typed):
            return button.payload
    return None
