"""The ``[reach]`` section: reminders by SMS (``[reach.sms]``) or Zalo ZNS (``[reach.zns]``)
to the phones on file of people who never opened the bot. Caps, pacing and the gap between two
messages to one number live here; quiet hours are [reminders]' own (README, "Reaching people
who never opened the bot").
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmsSettings(_Section):
    #: The gateway's endpoint: POST JSON {to, text, brandname, request_id} (README).
    url: str = ""
    #: Sent as ``Authorization: Bearer <token>``; set it with HOSO_REACH__SMS__TOKEN.
    token: SecretStr | None = None
    #: The registered brand name the SMS is sent under (e.g. "THPT-ABC").
    brandname: str = ""
    #: Whether the gateway sends a request_id once only (a repeat answers as the first did):
    #: then a message whose outcome a crash lost is sent again with the same id; if not, it is
    #: left "unknown" and never sent again.
    dedupes: bool = True
    timeout: float = Field(default=10.0, gt=0)


class ZnsSettings(_Section):
    #: The approved ZNS template carrying the invitation link (Zalo Cloud Account).
    template_id: str = ""
    #: The template's parameter names for what the bot fills in (as approved by Zalo).
    data_keys: dict[str, str] = {
        "name": "ten",
        "code": "ma_moi",
        "link": "duong_dan",
        "deadline": "han",
    }


class ReachSettings(_Section):
    sms: SmsSettings = SmsSettings()
    zns: ZnsSettings = ZnsSettings()
    #: At most this many messages per run of ``hoso remind --via``.
    max_per_run: int = Field(default=2000, ge=1)
    #: No number gets a second message (for any record) within this many hours.
    min_gap_hours: float = Field(default=20.0, ge=0)
    #: Messages per second, per channel ("sms", "zns"), shared by every process.
    rate_per_second: dict[str, float] = {"sms": 5.0, "zns": 5.0}
    #: How long a run's lease lasts without renewal (a killed run's rows wait this long).
    lease_seconds: float = Field(default=60.0, ge=2)
