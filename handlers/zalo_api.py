"""A small async client of the Zalo OA, ZNS and OAuth v4 APIs (aiohttp), errors as data.

Every base URL is configurable, so tests run it against a local server that speaks the same
wire formats (``tests/zalo_api.py``). Calls answer ``{"error": 0, "message": ..., "data": ...}``
or a negative ``error`` code; the ones this bot acts on are named below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

#: The access token expired, was revoked or is unknown: refresh it, then try again once.
TOKEN_ERRORS = frozenset({-124, -216, -220})
#: Too many calls: every send waits a while.
RATE_ERRORS = frozenset({-32})
#: The person has not written within the window Zalo allows for consultation messages.
WINDOW_ERRORS = frozenset({-230, -232})
#: Not at night (22:00-06:00) for this kind of message.
NIGHT_ERRORS = frozenset({-234})
#: The OA's or the person's quota is used up for now.
QUOTA_ERRORS = frozenset({-211, -218})
#: The person cannot be reached by this OA any more (banned, inactive, refused this kind).
GONE_ERRORS = frozenset({-227, -244})
NETWORK = -1  # no answer at all (connection, time-out, not JSON): ``ApiReply.status`` is 0
CS_PATH = "/v3.0/oa/message/cs"
ZNS_PATH = "/message/template"
TOKEN_PATH = "/v4/oa/access_token"


@dataclass(frozen=True)
class ApiReply:
    status: int  # HTTP status; 0 when there was no answer
    error: int  # Zalo's code: 0 is success
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error == 0


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: float  # seconds


class OAuthError(Exception):
    """The refresh was refused (``code`` is Zalo's) or never answered (``code`` NETWORK: the
    refresh token may or may not have been spent)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class ZaloClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        app_id: str,
        app_secret: str,
        api_base: str,
        oauth_base: str,
        zns_base: str,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.app_id = app_id
        self.app_secret = app_secret
        self.api_base = api_base.rstrip("/")
        self.oauth_base = oauth_base.rstrip("/")
        self.zns_base = zns_base.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send_message(self, token: str, body: dict[str, Any]) -> ApiReply:
        """A consultation message (``/v3.0/oa/message/cs``): text, buttons, request_user_info."""
        return await self._post_json(self.api_base + CS_PATH, token, body)

    async def send_zns(self, token: str, body: dict[str, Any]) -> ApiReply:
        """A ZNS template message to a phone: ``{phone, template_id, template_data, ...}``."""
        return await self._post_json(self.zns_base + ZNS_PATH, token, body)

    async def _post_json(self, url: str, token: str, body: dict[str, Any]) -> ApiReply:
        headers = {"access_token": token, "Content-Type": "application/json"}
        payload = json.dumps(body, ensure_ascii=False).encode()
        try:
            async with self.session.post(
                url, data=payload, headers=headers, timeout=self.timeout
            ) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return ApiReply(0, NETWORK, type(exc).__name__)
        try:
            answer = json.loads(raw)
        except ValueError:
            return ApiReply(status, NETWORK, "not json")
        if not isinstance(answer, dict):
            return ApiReply(status, NETWORK, "not an object")
        data = answer.get("data")
        return ApiReply(
            status,
            _int(answer.get("error", 0 if status == 200 else NETWORK)),
            str(answer.get("message", "")),
            data if isinstance(data, dict) else {},
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        """OAuth v4: a new access token and a new refresh token for a refresh token, which is
        spent by this call. Raises ``OAuthError``."""
        form = {
            "refresh_token": refresh_token,
            "app_id": self.app_id,
            "grant_type": "refresh_token",
        }
        headers = {"secret_key": self.app_secret}
        try:
            async with self.session.post(
                self.oauth_base + TOKEN_PATH, data=form, headers=headers, timeout=self.timeout
            ) as response:
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OAuthError(NETWORK, type(exc).__name__) from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise OAuthError(NETWORK, "not json") from exc
        if not isinstance(answer, dict) or not answer.get("access_token"):
            code = _int(answer.get("error", NETWORK)) if isinstance(answer, dict) else NETWORK
            reason = answer.get("error_name", "") if isinstance(answer, dict) else ""
            raise OAuthError(code, str(reason))
        return TokenPair(
            str(answer["access_token"]),
            str(answer.get("refresh_token") or ""),
            float(answer.get("expires_in") or 0),
        )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return NETWORK
