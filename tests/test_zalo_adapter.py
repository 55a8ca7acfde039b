"""The Zalo adapter's pure parts (issue #8), table-driven: what each webhook event means, the
signature check, message bodies, and how a reply fits a channel's capabilities."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import flows.rendering
from flows.channel import Capabilities
from flows.effects import Button
from flows.inputs import Contact, Start, Text
from flows.rendering import NUMBERED_HINT, fit, menu_payload, split
from handlers.zalo import (
    message_bodies,
    read_event,
    signature_ok,
    zns_phone,
)
from handlers.zalo_transport import ZaloRules
from tests.zalo_api import APP_ID, OA_ID, OA_SECRET, sign

USER = "8410004242"
TS = "1765332000000"
AT = datetime.fromtimestamp(int(TS) / 1000, tz=UTC)


def event(name: str, **fields: Any) -> dict[str, Any]:
    return {"app_id": APP_ID, "event_name": name, "timestamp": TS, **fields}


EVENTS = [
    (
        "a text",
        event("user_send_text", sender={"id": USER}, recipient={"id": OA_ID},
              message={"msg_id": "m1", "text": "07/02/1970"}),
        ("m1", Text("07/02/1970")),
    ),
    (
        "a shared phone, not vouched",
        event("user_submit_info", sender={"id": USER}, recipient={"id": OA_ID},
              info={"name": "A", "phone": "84903123456"}),
        (f"info:{USER}:{TS}", Contact("84903123456", verified=False)),
    ),
    (
        "a follow",
        event("follow", oa_id=OA_ID, follower={"id": USER}),
        (f"follow:{USER}:{TS}", Start()),
    ),
    (
        "a sticker: an interaction, nothing to answer",
        event("user_send_sticker", sender={"id": USER}, recipient={"id": OA_ID},
              message={"msg_id": "m2"}),
        (None, None),
    ),
    (
        "a form without a phone",
        event("user_submit_info", sender={"id": USER}, info={"name": "A"}),
        (None, None),
    ),
]  # fmt: skip

IGNORED = [
    ("our own echo", event("oa_send_text", sender={"id": OA_ID}, recipient={"id": USER},
                           message={"msg_id": "o1", "text": "x"})),
    ("a receipt", event("user_seen_message", sender={"id": OA_ID}, recipient={"id": USER})),
    ("from the OA itself", event("user_send_text", sender={"id": OA_ID},
                                  message={"msg_id": "o2", "text": "x"})),
    ("an unfollow", event("unfollow", follower={"id": USER})),
    ("no sender", event("user_send_text", message={"msg_id": "m3", "text": "x"})),
    ("not an event", {"sender": "nonsense", "event_name": 42}),
]  # fmt: skip


@pytest.mark.parametrize(("why", "data", "want"), EVENTS, ids=[e[0] for e in EVENTS])
def test_what_an_event_means(why: str, data: dict[str, Any], want: tuple[Any, Any]) -> None:
    found = read_event(data, oa_id=OA_ID, trust_shared_phone=False)
    assert found is not None
    assert (found.user_id, found.at) == (USER, AT)
    assert (found.key, found.input) == want


@pytest.mark.parametrize(("why", "data"), IGNORED, ids=[e[0] for e in IGNORED])
def test_what_is_not_from_a_person_is_ignored(why: str, data: dict[str, Any]) -> None:
    assert read_event(data, oa_id=OA_ID, trust_shared_phone=False) is None


def test_a_shared_phone_is_vouched_only_when_the_operator_trusts_the_form() -> None:
    data = event("user_submit_info", sender={"id": USER}, info={"phone": "84903123456"})
    found = read_event(data, oa_id=OA_ID, trust_shared_phone=True)
    assert found is not None
    assert found.input == Contact("84903123456", verified=True)


RAW = b'{"app_id":"1","event_name":"user_send_text","timestamp":"' + TS.encode() + b'"}'


@pytest.mark.parametrize(
    ("why", "given", "headers", "ok"),
    [
        ("the right mac", sign(RAW, TS), [], True),
        ("the timestamp from a header", sign(RAW, "1765332000999"), ["1765332000999"], True),
        ("without the mac= prefix", sign(RAW, TS).removeprefix("mac="), [], False),
        ("another secret", sign(RAW, TS, secret="other"), [], False),
        ("another app", sign(RAW, TS, app_id="999"), [], False),
        ("a timestamp not in the body", sign(RAW, "1"), [], False),
        ("empty", "", [], False),
    ],
)
def test_the_signature(why: str, given: str, headers: list[str], ok: bool) -> None:
    checked = signature_ok(RAW, given, app_id=APP_ID, secret=OA_SECRET, header_timestamps=headers)
    assert checked is ok


@pytest.mark.parametrize(
    ("phone", "want"),
    [("0912345678", "84912345678"), ("+84 912 345 678", "84912345678"),
     ("84912345678", "84912345678"), ("091234567", None), ("", None)],
)  # fmt: skip
def test_zns_phones(phone: str, want: str | None) -> None:
    assert zns_phone(phone) == want


YES_NO = (Button("Đồng ý", "consent:yes"), Button("Không đồng ý", "consent:no"))
CONTACT = (Button("Chia sẻ số điện thoại", "contact:request"),)


def test_buttons_become_an_oa_query_template_on_the_last_part() -> None:
    fitted = fit("Một\nHai", YES_NO, Capabilities(buttons=5, text=4))
    bodies = message_bodies(USER, fitted, button_type="oa.query.hide")
    assert [b["message"].get("text") for b in bodies] == ["Một", "Hai"]
    assert "attachment" not in bodies[0]["message"]
    assert bodies[1]["message"]["attachment"] == {
        "type": "template",
        "payload": {
            "buttons": [
                {"title": "Đồng ý", "payload": "Đồng ý", "type": "oa.query.hide"},
                {"title": "Không đồng ý", "payload": "Không đồng ý", "type": "oa.query.hide"},
            ]
        },
    }
    assert all(b["recipient"] == {"user_id": USER} for b in bodies)


@pytest.mark.parametrize(
    ("contact_button", "requests"), [(True, 1), (False, 0)], ids=["trusted", "untrusted"]
)
def test_the_phone_request_is_zalo_s_form_or_nothing(contact_button: bool, requests: int) -> None:
    fitted = fit("Hãy gõ mã mời.", CONTACT, Capabilities(contact_button=contact_button))
    bodies = message_bodies(USER, fitted, image_url="https://example.org/a.png")
    assert bodies[0]["message"] == {"text": "Hãy gõ mã mời."}
    templates = [b["message"]["attachment"]["payload"] for b in bodies[1:]]
    assert len(templates) == requests
    for template in templates:
        assert template["template_type"] == "request_user_info"
        (element,) = template["elements"]
        assert len(element["title"]) <= 100
        assert len(element["subtitle"]) <= 500
        assert element["image_url"] == "https://example.org/a.png"


def test_an_attachment_is_named_not_dropped() -> None:
    bodies = message_bodies(USER, fit("Báo cáo", (), Capabilities()), attachment_name="bc.xlsx")
    assert [b["message"]["text"] for b in bodies][1].startswith("(Tệp «bc.xlsx»")


WARDS = (
    *(Button(f"Phường {n}", f"value:Phường {n}") for n in range(1, 9)),
    Button("Trang sau › (2/21)", "page:2"),
)


@pytest.mark.parametrize(
    ("caps", "buttons", "numbered"),
    [
        (Capabilities(buttons=5), YES_NO, False),
        (Capabilities(buttons=5), WARDS, True),  # 8 a page + turning the page: 9 > 5
        (Capabilities(buttons=None), WARDS, False),  # Telegram-like: no limit
        (Capabilities(buttons=0), YES_NO, True),  # a channel without buttons
    ],
    ids=["fits", "a page of wards", "no limit", "no buttons at all"],
)
def test_more_buttons_than_a_message_carries_become_a_numbered_list(
    caps: Capabilities, buttons: tuple[Button, ...], numbered: bool
) -> None:
    fitted = fit("Chọn:", buttons, caps)
    assert bool(fitted.numbered) is numbered
    assert fitted.menu == buttons
    if numbered:
        listing = [f"{n}. {b.label}" for n, b in enumerate(buttons, start=1)]
        assert fitted.parts[-1].splitlines() == ["Chọn:", "", *listing, NUMBERED_HINT]
        assert fitted.buttons == ()


@pytest.mark.parametrize(
    ("text", "numbered", "want"),
    [
        ("3", True, "value:Phường 3"),
        (" 9 ", True, "page:2"),
        ("10", True, None),
        ("0", True, None),
        ("3", False, None),  # a number is an answer unless a numbered list asked for one
        ("phường 7", False, "value:Phường 7"),
        ("PHƯỜNG 7", True, "value:Phường 7"),
        ("Phường 77", True, None),
    ],
)
def test_an_answer_names_a_button_by_number_or_label(
    text: str, numbered: bool, want: str | None
) -> None:
    assert menu_payload(text, WARDS, numbered=numbered) == want


@pytest.mark.parametrize(
    ("text", "limit", "want"),
    [
        ("ngắn", 10, ("ngắn",)),
        ("một dòng\nhai dòng", 10, ("một dòng", "hai dòng")),
        ("abcdefghij", 4, ("abcd", "efgh", "ij")),
        ("a b c d e", 3, ("a b", "c d", "e")),
    ],
)
def test_long_texts_are_split_at_line_breaks_then_spaces(
    text: str, limit: int, want: tuple[str, ...]
) -> None:
    parts = split(text, limit)
    assert parts == want
    assert all(len(p) <= limit for p in parts)


def test_labels_are_cut_to_the_channel_s_length() -> None:
    long = Button("Trường Trung học phổ thông chuyên Lê Hồng Phong", "person:1")
    (shown,) = fit("Chọn:", (long,), Capabilities(label=20)).buttons
    assert shown == Button("Trường Trung học ph…", "person:1")


LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("start", "end", "hour", "quiet"),
    [(22, 6, 21, False), (22, 6, 22, True), (22, 6, 3, True), (22, 6, 6, False),
     (0, 5, 4, True), (0, 5, 5, False), (7, 7, 3, False)],
)  # fmt: skip
def test_quiet_hours_in_local_time(start: int, end: int, hour: int, quiet: bool) -> None:
    rules = ZaloRules(quiet_start=start, quiet_end=end, timezone=LOCAL)
    moment = datetime(2026, 12, 10, hour, 30, tzinfo=LOCAL).astimezone(UTC)
    assert rules.quiet(moment) is quiet
    if quiet:
        wait = timedelta(seconds=rules.seconds_to_morning(moment))
        assert (moment + wait).astimezone(LOCAL).hour == end


def test_the_rendering_examples_hold() -> None:
    assert doctest.testmod(flows.rendering).failed == 0
