"""The Zalo OA adapter: webhook events to neutral inputs, neutral replies to OA message bodies.

It decides nothing about records. What it knows about Zalo's wire formats (see README, Zalo):

* An event is a JSON object with ``app_id``, ``event_name``, ``timestamp`` (milliseconds, as a
  string), ``sender.id`` / ``recipient.id`` (the person's id for this OA, and the OA's), and for
  messages ``message.msg_id`` and ``message.text``. ``X-ZEvent-Signature`` is ``mac=`` and the
  hex sha256 of app id + raw body + timestamp + OA secret key.
* A tap on an ``oa.query.*`` button comes back as a ``user_send_text`` whose text is the
  button's payload. The payload is the label: with ``oa.query.show`` it is shown in the chat as
  what the person said, so it must read as their answer; the host maps it back to our payload
  with the buttons it last showed that person (``flows.rendering.menu_payload``).
* ``user_submit_info`` answers a ``request_user_info`` template with ``info.phone``. Zalo's form
  can be edited and the event carries no proof that the number is the account's own, so it is
  only vouched for (``Contact.verified``) when the operator chose to trust it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flows.channel import Capabilities
from flows.inputs import Contact, Input, Start, Text
from flows.rendering import Fitted

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
TIMESTAMP_HEADERS = ("X-ZEvent-Timestamp", "timestamp")
#: Zalo's own limits as we understand them (README): buttons per message, characters.
CAPABILITIES = Capabilities(buttons=5, text=2000, label=100, contact_button=True)
REQUEST_TITLE = "Chia sẻ số điện thoại với hoso-bot"
REQUEST_SUBTITLE = (
    "Bấm «Chia sẻ» để gửi số điện thoại của bạn. Số này chỉ dùng để tìm hồ sơ của bạn "
    "hoặc của con bạn; sau đó mình vẫn hỏi thêm ngày sinh để xác minh."
)
NO_FILES = "(Tệp «{name}» chưa gửi được qua Zalo; hãy nhận qua Telegram hoặc dòng lệnh.)"
#: Events a person causes; everything else (``oa_send_*`` echoes, receipts) is not theirs.
PERSON_EVENTS = ("user_send_", "user_submit_info", "follow")
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,20})"?')
_MAX_TIMESTAMPS = 4


def expected_signature(app_id: str, raw: bytes, timestamp: str, secret: str) -> str:
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret.encode())
    return "mac=" + digest.hexdigest()


def signature_ok(
    raw: bytes, given: str, *, app_id: str, secret: str, header_timestamps: Iterable[str] = ()
) -> bool:
    """Does ``given`` sign ``raw``? Checked before the body is parsed: the timestamp that is
    signed is read from the raw bytes (a top-level ``"timestamp"``; a few candidates at most)
    or a header, and each candidate is compared in constant time."""
    candidates = [t for t in header_timestamps if t.isdigit()]
    candidates += [m.decode() for m in _TIMESTAMP.findall(raw[:65536])][:_MAX_TIMESTAMPS]
    ok = False
    for timestamp in candidates[:_MAX_TIMESTAMPS]:
        want = expected_signature(app_id, raw, timestamp, secret)
        ok |= hmac.compare_digest(given.strip().encode(), want.encode())
    return ok


@dataclass(frozen=True)
class Event:
    """What a webhook event means to us: whose it is, when, and what they said (None: nothing
    for the engine, but the person still interacted, which keeps Zalo's window open)."""

    name: str
    user_id: str
    at: datetime | None
    key: str | None = None  # the inbox key: Zalo's message id, or one made from the event
    input: Input | None = None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _at(timestamp: str) -> datetime | None:
    """Zalo's milliseconds since 1970; None for anything else ("²" is a digit int() refuses, and a
    far future is out of datetime's range)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 14:
        return None
    return datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_event(data: Mapping[str, Any], *, oa_id: str, trust_shared_phone: bool) -> Event | None:
    """The meaning of one (verified) event; None for the OA's own messages and echoes, receipts
    and anything not from a person."""
    name = _text(data.get("event_name"))
    timestamp = _text(data.get("timestamp"))
    sender, follower = _object(data.get("sender")), _object(data.get("follower"))
    user = _text(sender.get("id")) or _text(follower.get("id"))
    if not user or user == oa_id or not name.startswith(PERSON_EVENTS):
        return None  # the OA's own messages and their echoes (oa_send_*), receipts, unfollow
    at = _at(timestamp)
    message = _object(data.get("message"))
    if name == "follow":
        return Event(name, user, at, f"follow:{user}:{timestamp}", Start())
    if name == "user_submit_info":
        info = _object(data.get("info"))
        phone = _text(info.get("phone"))
        if not phone:
            return Event(name, user, at)
        # The form is prefilled but editable: trusted only if the operator decided so.
        return Event(
            name, user, at, f"info:{user}:{timestamp}", Contact(phone, trust_shared_phone)
        )
    msg_id = _text(message.get("msg_id"))
    if name == "user_send_text" and msg_id:
        return Event(name, user, at, msg_id, Text(_text(message.get("text"))))
    return Event(name, user, at)  # a sticker, a picture, a file: noted, not answered


def _button(label: str, kind: str) -> dict[str, str]:
    return {"title": label, "payload": label, "type": kind}


def message_bodies(
    user_id: str,
    fitted: Fitted,
    *,
    button_type: str = "oa.query.show",
    image_url: str = "",
    attachment_name: str | None = None,
) -> list[dict[str, Any]]:
    """The OA consultation-message bodies that show ``fitted``, in order: each text part, the
    buttons as an ``oa.query.*`` template on the last part, then the phone request."""
    recipient = {"user_id": user_id}
    parts = list(fitted.parts)
    if attachment_name is not None:
        parts.append(NO_FILES.format(name=attachment_name))
    bodies: list[dict[str, Any]] = [
        {"recipient": recipient, "message": {"text": part}} for part in parts
    ]
    if fitted.buttons and bodies:
        buttons = [_button(b.label, button_type) for b in fitted.buttons]
        bodies[-1]["message"]["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
    if fitted.contact:
        element: dict[str, str] = {"title": REQUEST_TITLE, "subtitle": REQUEST_SUBTITLE}
        if image_url:
            element["image_url"] = image_url
        template = {"template_type": "request_user_info", "elements": [element]}
        bodies.append(
            {
                "recipient": recipient,
                "message": {"attachment": {"type": "template", "payload": template}},
            }
        )
    return bodies


def zns_phone(phone: str) -> str | None:
    """A Vietnamese mobile in ZNS's form (84 and nine digits); None if it is not one."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("84") and len(digits) == 11:
        return digits
    if digits.startswith("0") and len(digits) == 10:
        return "84" + digits[1:]
    return None
