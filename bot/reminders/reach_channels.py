"""The two ways a reminder reaches a phone: the SMS gateway and Zalo ZNS, each turning one
``PhoneMessage`` into a ``GatewayAnswer`` (sent, refused, slow, unknown)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import aiohttp

from bot.config.settings import Settings
from bot.reminders.reach_sms import GatewayAnswer, SmsGateway
from flows.channel import SendStatus
from flows.reach import sms_text, zns_data
from handlers.zalo_transport import ZaloTransport
from storage.uow import Store

ZNS_TEMPLATE = "reach"


@dataclass(frozen=True)
class PhoneMessage:
    phone: str
    key: str  # the idempotency key (SMS request_id, ZNS tracking_id)
    kind: str  # the record's: staff | student
    name: str
    code: str
    link: str
    deadline: date


class PhoneChannel(Protocol):
    via: str
    #: Whether a repeat of ``key`` is sent once only, so a lost outcome may be sent again.
    dedupes: bool

    async def send(self, message: PhoneMessage) -> GatewayAnswer: ...


class SmsChannel:
    via = "sms"

    def __init__(self, gateway: SmsGateway, *, dedupes: bool) -> None:
        self.gateway = gateway
        self.dedupes = dedupes

    async def send(self, message: PhoneMessage) -> GatewayAnswer:
        text = sms_text(
            kind=message.kind, name=message.name, deadline=message.deadline,
            link=message.link, code=message.code,
        )  # fmt: skip
        return await self.gateway.send(message.phone, text, request_id=message.key)


class ZnsChannel:
    """ZNS through the Zalo machinery already there (token chain, error mapping, night rule).
    Zalo's ``tracking_id`` is the partner's own reference, not a promise to send it once, so a
    message whose outcome was lost is never sent again."""

    via = "zns"
    dedupes = False

    def __init__(self, transport: ZaloTransport, data_keys: dict[str, str]) -> None:
        self.transport = transport
        self.data_keys = data_keys

    async def send(self, message: PhoneMessage) -> GatewayAnswer:
        params = zns_data(
            self.data_keys, name=message.name, deadline=message.deadline,
            link=message.link, code=message.code,
        )  # fmt: skip
        result = await self.transport.send_zns(
            message.phone, ZNS_TEMPLATE, params, tracking_id=message.key
        )
        if result.status == SendStatus.SENT:
            return GatewayAnswer("sent")
        if result.status == SendStatus.RETRY:
            if result.reason == "zalo:-1":  # no answer: it may have gone
                return GatewayAnswer("unknown", result.reason)
            return GatewayAnswer("slow", result.reason, result.retry_after)
        return GatewayAnswer("refused", result.reason)


def sms_channel(settings: Settings, session: aiohttp.ClientSession) -> SmsChannel:
    sms = settings.reach.sms
    gateway = SmsGateway(
        session, url=sms.url, token=sms.token.get_secret_value() if sms.token else "",
        brandname=sms.brandname, timeout=sms.timeout,
    )  # fmt: skip
    return SmsChannel(gateway, dedupes=sms.dedupes)


async def zns_channel(
    settings: Settings, store: Store, session: aiohttp.ClientSession
) -> ZnsChannel:
    from bot.channels.zalo.app import make_client, rules_from
    from bot.channels.zalo.contacts import DbContactBook
    from bot.channels.zalo.tokens import TokenKeeper

    z = settings.zalo
    client = make_client(settings, session)
    tokens = TokenKeeper(
        store, client, oa_id=z.oa_id,
        seed=z.refresh_token.get_secret_value() if z.refresh_token else None,
        margin=timedelta(minutes=z.refresh_margin_minutes),
    )  # fmt: skip
    await tokens.prepare()
    rules = dataclasses.replace(
        rules_from(settings), zns_templates={ZNS_TEMPLATE: settings.reach.zns.template_id}
    )
    transport = ZaloTransport(client, tokens, DbContactBook(store), rules)
    return ZnsChannel(transport, dict(settings.reach.zns.data_keys))
