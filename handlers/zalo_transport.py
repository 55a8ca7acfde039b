"""Delivers replies through the Zalo OA API within Zalo's rules, and says what became of each.

* The window: a consultation message may only answer a person who wrote within
  ``window`` (we track their last interaction). Outside it nothing is sent: the result is
  FAILED with reason ``WINDOW_CLOSED``, so the reply is marked undeliverable and a reminder can
  go by ZNS to the person's phone instead (``send_zns`` / ``send_reminder``).
* The night: no proactive message between ``quiet_start`` and ``quiet_end`` local time (Zalo
  forbids promotional messages then, and ZNS should not wake people). A reply to someone who
  wrote in the last ``reply_grace`` still goes: it is the conversation they are having.
* Errors: an expired token is refreshed and the call tried once more; a rate limit pauses every
  send for ``rate_pause``; a closed window, the night, a used-up quota and unreachable people
  each get their own result. Nothing is dropped without a reason the sender records.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flows.channel import Capabilities, Outbound, SendResult, SendStatus
from flows.effects import Button
from flows.rendering import fit
from handlers.zalo import CAPABILITIES, CHANNEL, message_bodies, zns_phone
from handlers.zalo_api import (
    GONE_ERRORS,
    NETWORK,
    NIGHT_ERRORS,
    QUOTA_ERRORS,
    RATE_ERRORS,
    TOKEN_ERRORS,
    WINDOW_ERRORS,
    ApiReply,
    ZaloClient,
)

log = logging.getLogger("hoso.zalo")
WINDOW_CLOSED = "zalo:window_closed"
NIGHT = "zalo:night"
QUOTA_WAIT = 3600.0


class TokenUnavailable(Exception):
    """No access token can be had now (no refresh token configured, or Zalo refused it)."""


class TokenSource(Protocol):
    async def current(self) -> str:
        """A valid access token (refreshed first if it is about to expire)."""
        ...

    async def renew(self, rejected: str) -> str:
        """A token other than ``rejected``, which Zalo refused: refreshed unless another worker
        already did."""
        ...


class ContactBook(Protocol):
    """What the channel remembers per person (in the database, shared by every worker)."""

    async def last_interaction(self, user_id: str) -> datetime | None: ...

    async def shown(self, user_id: str, menu: tuple[Button, ...], *, numbered: bool) -> None: ...

    async def window_closed(self, user_id: str) -> None: ...


@dataclass(frozen=True)
class ZaloRules:
    window: timedelta = timedelta(hours=48)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    quiet_start: int = 22
    quiet_end: int = 6
    reply_grace: timedelta = timedelta(hours=1)
    rate_pause: float = 60.0
    capabilities: Capabilities = CAPABILITIES
    button_type: str = "oa.query.show"
    request_image: str = ""
    zns_templates: Mapping[str, str] = field(default_factory=dict)

    def quiet(self, now: datetime) -> bool:
        hour = now.astimezone(self.timezone).hour
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= hour < self.quiet_end
        return hour >= self.quiet_start or hour < self.quiet_end

    def seconds_to_morning(self, now: datetime) -> float:
        local = now.astimezone(self.timezone)
        end = datetime.combine(local.date(), time(self.quiet_end), tzinfo=self.timezone)
        if end <= local:
            end += timedelta(days=1)
        return max((end - local).total_seconds(), 1.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ZaloTransport:
    channel = CHANNEL

    def __init__(
        self,
        client: ZaloClient,
        tokens: TokenSource,
        contacts: ContactBook,
        rules: ZaloRules,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.contacts = contacts
        self.rules = rules
        self.clock = clock
        self.paused_until: datetime | None = None  # after a rate limit, for every send

    async def send(self, message: Outbound) -> SendResult:
        now, user = self.clock(), message.external_id
        if self.paused_until is not None and self.paused_until > now:
            wait = (self.paused_until - now).total_seconds()
            return SendResult(SendStatus.RETRY, retry_after=wait, reason="zalo:rate")
        last = await self.contacts.last_interaction(user)
        if last is None or now - last > self.rules.window:
            return SendResult(SendStatus.FAILED, reason=WINDOW_CLOSED)
        if self.rules.quiet(now) and now - last > self.rules.reply_grace:
            wait = self.rules.seconds_to_morning(now)
            return SendResult(SendStatus.RETRY, retry_after=wait, reason=NIGHT)
        fitted = fit(message.text, message.buttons, self.rules.capabilities)
        # Recorded first: the person can only answer what they were shown, and a tap comes
        # back as the label (or the number of a numbered list).
        await self.contacts.shown(user, fitted.menu, numbered=bool(fitted.numbered))
        bodies = message_bodies(
            user, fitted, button_type=self.rules.button_type, image_url=self.rules.request_image,
            attachment_name=message.attachment.filename if message.attachment else None,
        )  # fmt: skip
        for body in bodies:
            result = await self._outcome(await self._call(self.client.send_message, body), user)
            if result is not None:
                return result
        return SendResult(SendStatus.SENT)

    async def send_zns(
        self, phone: str, template_key: str, params: Mapping[str, Any], *, tracking_id: str
    ) -> SendResult:
        """A ZNS template message to ``phone`` (for reminders to people outside the window):
        the template approved for ``template_key`` ([zalo.zns_templates]) filled with
        ``params``; ``tracking_id`` lets Zalo's delivery receipts name it (no personal data)."""
        template = self.rules.zns_templates.get(template_key)
        target = zns_phone(phone)
        if template is None or target is None:
            reason = "zns:template" if template is None else "zns:phone"
            return SendResult(SendStatus.FAILED, reason=reason)
        now = self.clock()
        if self.paused_until is not None and self.paused_until > now:
            wait = (self.paused_until - now).total_seconds()
            return SendResult(SendStatus.RETRY, retry_after=wait, reason="zalo:rate")
        if self.rules.quiet(now):
            wait = self.rules.seconds_to_morning(now)
            return SendResult(SendStatus.RETRY, retry_after=wait, reason=NIGHT)
        body = {
            "phone": target,
            "template_id": template,
            "template_data": {k: str(v) for k, v in params.items()},
            "tracking_id": tracking_id,
        }
        result = await self._outcome(await self._call(self.client.send_zns, body), None)
        return result or SendResult(SendStatus.SENT)

    async def send_reminder(
        self,
        message: Outbound,
        *,
        phone: str | None,
        template_key: str,
        params: Mapping[str, Any],
        tracking_id: str,
    ) -> SendResult:
        """A reminder: in the chat while Zalo's window is open, else by ZNS to ``phone``."""
        result = await self.send(message)
        if result.reason != WINDOW_CLOSED or not phone:
            return result
        return await self.send_zns(phone, template_key, params, tracking_id=tracking_id)

    async def _call(
        self, call: Callable[[str, dict[str, Any]], Awaitable[ApiReply]], body: dict[str, Any]
    ) -> ApiReply | None:
        """The API's answer, with one retry on a fresh token; None if there is no token."""
        try:
            token = await self.tokens.current()
            reply = await call(token, body)
            if reply.error in TOKEN_ERRORS:
                reply = await call(await self.tokens.renew(token), body)
        except TokenUnavailable:
            return None
        return reply

    async def _outcome(self, reply: ApiReply | None, user: str | None) -> SendResult | None:
        """None when the call went through; else what the sender should do."""
        if reply is None:
            return SendResult(SendStatus.RETRY, retry_after=60.0, reason="zalo:token")
        if reply.ok:
            return None
        code = reply.error
        if code in RATE_ERRORS or reply.status == 429:
            self.paused_until = self.clock() + timedelta(seconds=self.rules.rate_pause)
            return SendResult(
                SendStatus.RETRY, retry_after=self.rules.rate_pause, reason="zalo:rate"
            )
        if code in WINDOW_ERRORS:
            if user is not None:
                await self.contacts.window_closed(user)
            return SendResult(SendStatus.FAILED, reason=WINDOW_CLOSED)
        if code in NIGHT_ERRORS:
            wait = self.rules.seconds_to_morning(self.clock())
            return SendResult(SendStatus.RETRY, retry_after=wait, reason=NIGHT)
        if code in QUOTA_ERRORS:
            return SendResult(SendStatus.RETRY, retry_after=QUOTA_WAIT, reason=f"zalo:{code}")
        if code in GONE_ERRORS:
            return SendResult(SendStatus.BLOCKED, reason=f"zalo:{code}")
        if code in TOKEN_ERRORS or code == NETWORK or reply.status >= 500:
            return SendResult(SendStatus.RETRY, reason=f"zalo:{code}")
        log.warning("zalo refused a message error=%s status=%s", code, reply.status)
        return SendResult(SendStatus.FAILED, reason=f"zalo:{code}")
