"""The SMS gateway, behind one small HTTP interface (README, "The SMS gateway's interface").

``POST [reach.sms] url`` with ``Authorization: Bearer <token>`` and the JSON body
``{"to": "84912345678", "text": "...", "brandname": "...", "request_id": "reach:sms:..."}``:
``to`` is the mobile in international form without "+" (as Vietnamese brand-name gateways and
ZNS take it); ``text`` is one unaccented GSM-7 segment (``flows.reach``); ``request_id`` is the
idempotency key, unique per record, number and round. Answers: 2xx = accepted; 409 = this
request_id was accepted before (counts as sent); 429 = slow down (``Retry-After`` seconds);
another 4xx = refused (not retried: the number or the text is wrong); 5xx, a time-out or no
answer = unknown whether it went.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from handlers.zalo import zns_phone


@dataclass(frozen=True)
class GatewayAnswer:
    #: sent | refused | slow | unknown
    outcome: str
    detail: str = ""
    retry_after: float = 0.0


def international(phone: str) -> str:
    """0912345678 -> 84912345678 (the gateway's ``to``)."""
    return zns_phone(phone) or phone


class SmsGateway:
    def __init__(
        self, session: aiohttp.ClientSession, *, url: str, token: str, brandname: str,
        timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.session = session
        self.url = url
        self.token = token
        self.brandname = brandname
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, phone: str, text: str, *, request_id: str) -> GatewayAnswer:
        body = {
            "to": international(phone),
            "text": text,
            "brandname": self.brandname,
            "request_id": request_id,
        }
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self.session.post(
                self.url, json=body, headers=headers, timeout=self.timeout
            ) as response:
                status = response.status
                retry = response.headers.get("Retry-After", "")
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return GatewayAnswer("unknown", type(exc).__name__)
        if 200 <= status < 300 or status == 409:
            return GatewayAnswer("sent", str(status))
        if status == 429:
            return GatewayAnswer("slow", "429", _seconds(retry))
        if 400 <= status < 500:
            return GatewayAnswer("refused", f"http {status}")
        return GatewayAnswer("unknown", f"http {status}")


def _seconds(value: str) -> float:
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 1.0
