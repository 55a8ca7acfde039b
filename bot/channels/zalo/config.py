"""The ``[zalo]`` section: the OA's keys, where its APIs live (tests point them at a local
server), the webhook listener, and the channel's limits. Lives apart from ``bot.config.settings``
(which
includes it) so the Zalo settings and their meaning stay together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ZaloSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: developers.zalo.me > the app > "Thông tin ứng dụng": App ID (it also signs webhooks).
    app_id: str = ""
    #: The Official Account's id (oa.zalo.me > "Thông tin tài khoản" > OA ID).
    oa_id: str = ""
    #: The OA secret key that signs webhook events (the app's "Webhook" page).
    secret_key: SecretStr | None = None
    #: The app's secret key, sent as the ``secret_key`` header when refreshing the token.
    app_secret: SecretStr | None = None
    #: The refresh token from authorizing the OA. Used once to start the chain in the database;
    #: a different value here (after authorizing again) starts a new chain.
    refresh_token: SecretStr | None = None
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    zns_base: str = "https://business.openapi.zalo.me"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8081
    webhook_path: str = "/zalo/webhook"
    #: The domain-verification file Zalo hands out (zalo_verifier….html), served at the root.
    verifier_file: Path | None = None
    #: "oa.query.show" puts the tapped label into the chat as the person's message; "hide" not.
    button_type: Literal["oa.query.show", "oa.query.hide"] = "oa.query.show"
    max_buttons: int = Field(default=5, ge=0, le=20)
    max_text: int = Field(default=2000, ge=200)
    #: A phone from Zalo's "share information" form counts as the sender's own only if this is
    #: on: the form can be edited, so by default it is not trusted (README, Zalo).
    trust_shared_phone: bool = False
    #: Picture shown on the phone request (a URL); empty: none.
    request_info_image: str = ""
    #: Hours after the person's last message in which the OA may answer with a consultation
    #: message (Zalo: free for 48 hours, paid up to 7 days with an OA package).
    window_hours: float = Field(default=48.0, gt=0, le=168)
    #: Night without proactive messages, in review.timezone (Zalo forbids promotional messages
    #: from 22:00 to 06:00). A reply to a message of the last ``reply_grace_minutes`` still goes.
    quiet_start_hour: int = Field(default=22, ge=0, le=23)
    quiet_end_hour: int = Field(default=6, ge=0, le=23)
    reply_grace_minutes: float = Field(default=60.0, ge=0)
    #: After Zalo's rate limit answer, every send waits this long.
    rate_limit_pause_seconds: float = Field(default=60.0, gt=0)
    #: The access token is refreshed this long before it expires.
    refresh_margin_minutes: float = Field(default=60.0, ge=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    #: ZNS templates by purpose, e.g. {reminder = "231234"}; their parameters come from the
    #: caller (the reminder code), named as in the template approved by Zalo.
    zns_templates: dict[str, str] = {}

    def missing(self) -> list[str]:
        """Keys ``hoso run zalo`` cannot start without."""
        needed = {
            "zalo.app_id": bool(self.app_id),
            "zalo.oa_id": bool(self.oa_id),
            "zalo.secret_key": self.secret_key is not None,
            "zalo.app_secret": self.app_secret is not None,
        }
        return [key for key, present in needed.items() if not present]
