"""The HTTP sink: one JSON POST per approved change set to the central database's API.

Contract (what the receiving service must do):

    POST {url}
    Content-Type: application/json
    Idempotency-Key: export:<change_set_id>       (the same on every retry of the same set)
    Authorization: Bearer <token>                  (when a token is configured)

    {"change_set_id": 123, "ma_dinh_danh": "...", "unit": "<unit code>",
     "kind": "staff"|"student", "approved_at": "<ISO 8601>", "submitted_at": "<ISO 8601>",
     "changes": [{"field": "<catalogue key>", "old": "..."|null, "new": "..."|null,
                  "how": "confirmed"|"corrected"|"filled"|"unavailable",
                  "normalised": true|false}]}

``"normalised": true`` marks a confirmed value saved in another form than the receiver's record
held (a phone whose leading 0 came back, a name put in Unicode NFC): the person saw and confirmed
that form, so store ``new``; it is a tidying, not a correction. Every other confirmed answer has
``new == old``.

``"how": "unavailable"`` is a declaration that the person does not have the value ([Chưa có]:
no CCCD yet, no email …), made on ``submitted_at``; its ``new`` is null and must not clear the
value the receiver holds: store it as a declaration, apart from a value and from a gap.

Answers: 2xx = stored; 409 = "I already have this key" (a retry after a lost answer), counted as
delivered; 408, 429 (honouring ``Retry-After`` seconds), 5xx, a time-out or a broken connection =
try again later; any other answer (4xx, 3xx: redirects are not followed) = this set will never
be accepted as it is: a dead letter for an admin. 408 is retried although it is a 4xx: it says
the server timed out, not that the request was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp

from bot.export.sinks import Outcome, Verdict

IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRY_STATUSES = frozenset({408, 429})


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (the delta form; an HTTP date counts as none)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def classify(status: int, *, retry_after: str | None = None) -> Outcome:
    """What an HTTP answer means for the change set (see the module's contract)."""
    if 200 <= status < 300:
        return Outcome(Verdict.DELIVERED)
    if status == 409:
        return Outcome(Verdict.DELIVERED, reason="HTTP 409: máy nhận đã có")
    if status == 429:
        return Outcome(
            Verdict.RETRY,
            reason="HTTP 429: máy nhận yêu cầu gửi chậm lại",
            retry_after=_retry_after(retry_after),
        )
    if status == 408:
        return Outcome(Verdict.RETRY, reason="HTTP 408: máy nhận hết thời gian chờ")
    if status >= 500:
        return Outcome(Verdict.RETRY, reason=f"HTTP {status}: lỗi phía máy nhận")
    if 400 <= status < 500:
        return Outcome(Verdict.DEAD, reason=f"HTTP {status}: máy nhận từ chối")
    return Outcome(Verdict.DEAD, reason=f"HTTP {status}: câu trả lời không mong đợi")


class HttpSink:
    """``async with HttpSink(url, ...) as sink: await sink.deliver(key, payload)``."""

    def __init__(self, url: str, *, token: str | None, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout), headers=self._headers
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, key: str, payload: Mapping[str, Any]) -> Outcome:
        """POST one change set; never raises for what the network or the server does."""
        if self._session is None:
            raise RuntimeError("HttpSink used outside 'async with'")
        try:
            async with self._session.post(
                self.url,
                json=dict(payload),
                headers={IDEMPOTENCY_HEADER: key},
                allow_redirects=False,
            ) as response:
                await response.read()  # the whole answer, so the connection can be reused
                return classify(response.status, retry_after=response.headers.get("Retry-After"))
        except TimeoutError:
            return Outcome(Verdict.RETRY, reason=f"hết thời gian chờ ({self.timeout:g} giây)")
        except aiohttp.ClientError as exc:
            # The type only: a message could quote the URL's credentials or the server's words.
            return Outcome(Verdict.RETRY, reason=f"lỗi kết nối ({type(exc).__name__})")
