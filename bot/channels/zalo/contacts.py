"""The Zalo channel's memory of each person, in the database so every worker shares it: their
last interaction (Zalo's reply window runs from it) and the buttons last shown to them (a tap
comes back as the label's text, a numbered list is answered with a number)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.kernel.clock import utc_now
from flows.channel import Inbound
from flows.effects import Button
from flows.inputs import Tap, Text
from flows.rendering import menu_payload
from storage.uow import Store, UnitOfWork


class DbContactBook:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock

    async def last_interaction(self, user_id: str) -> datetime | None:
        async with self.store.unit_of_work() as uow:
            return await uow.zalo_users.last_interaction(user_id)

    async def shown(self, user_id: str, menu: tuple[Button, ...], *, numbered: bool) -> None:
        buttons = tuple((b.label, b.payload) for b in menu)
        async with self.store.unit_of_work() as uow:
            await uow.zalo_users.set_menu(user_id, buttons, numbered=numbered, at=self.clock())
            await uow.commit()

    async def window_closed(self, user_id: str) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.zalo_users.close_window(user_id)
            await uow.commit()


async def as_tap(uow: UnitOfWork, inbound: Inbound) -> Inbound:
    """A text that names a button the person was last shown (its label, or its number in a
    numbered list) becomes a tap on it; anything else stays what they typed."""
    if not isinstance(inbound.input, Text):
        return inbound
    menu = await uow.zalo_users.menu(inbound.external_id)
    if menu is None:
        return inbound
    buttons = tuple(Button(label, payload) for label, payload in menu.buttons)
    payload = menu_payload(inbound.input.text, buttons, numbered=menu.numbered)
    if payload is None:
        return inbound
    return Inbound(inbound.channel, inbound.external_id, inbound.update_id, Tap(payload))
