"""Reaching people who never opened the bot, through the phones on their record: which numbers a
record offers (a staff member's own mobile; a student's guardians'), and the reminder's text.

SMS texts are **unaccented** (no Vietnamese diacritics) and at most 160 characters of the GSM-7
alphabet: one segment, as brand-name SMS in Vietnam is billed and as most gateways require (an
accented text is sent as UCS-2, 70 characters a segment). The name is the only personal data in
it, and it goes to a number on that person's own record. ZNS templates are Unicode, so their
parameters keep their diacritics.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.context import PHONE_FIELDS
from flows.rules.phones import canonical_phone

#: The phone fields of each catalogue (flows/data/staff.toml, student.toml), in order.
SMS_LIMIT = 160
#: ZNS's "customer name" parameter type holds at most 30 characters.
ZNS_NAME = 30
#: The GSM 03.38 basic alphabet (what one 160-character segment can carry).
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@dataclass(frozen=True)
class RecordPhones:
    """The numbers a record offers: valid ones in stored form (no repeats), and how many
    filled-in phone fields failed the phone rule."""

    valid: tuple[str, ...]
    invalid: int


def record_phones(kind: str, values: Mapping[str, Any]) -> RecordPhones:
    valid: list[str] = []
    invalid = 0
    for key in PHONE_FIELDS.get(kind, ()):
        raw = str(values.get(key) or "").strip()
        if not raw:
            continue
        phone = canonical_phone(raw)
        if phone is None:
            invalid += 1
        elif phone not in valid:
            valid.append(phone)
    return RecordPhones(tuple(valid), invalid)


def unaccent(text: str) -> str:
    """Vietnamese without diacritics ("Nguyễn Đức" -> "Nguyen Duc"), for SMS."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in plain if not unicodedata.combining(c))


def gsm7(text: str) -> bool:
    return all(c in GSM7 for c in text)


def sms_text(*, kind: str, name: str, deadline: date, link: str, code: str) -> str:
    """The reminder as one unaccented SMS segment carrying the person's own link and code;
    shorter forms are used until it fits (the link itself is never cut)."""
    full = " ".join(unaccent(name).split())
    given = full.rsplit(" ", 1)[-1] if full else ""
    who = "HS " if kind == "student" else ""
    day = f"{deadline:%d/%m}"
    optout = " Khong muon nhan tin: bao nha truong."
    forms = [
        f"Nhac cap nhat ho so {who}{full} truoc {day}: {link} (ma {code}).{optout}",
        f"Nhac cap nhat ho so {who}{full} truoc {day}: {link}{optout}",
        f"Nhac cap nhat ho so {who}{given} truoc {day}: {link}{optout}",
        f"Cap nhat ho so {who}{given} truoc {day}: {link}",
    ]
    for form in forms:
        text = "".join(c for c in form if c in GSM7)
        if len(text) <= SMS_LIMIT:
            return text
    return text[:SMS_LIMIT]


def zns_data(
    keys: Mapping[str, str], *, name: str, deadline: date, link: str, code: str
) -> dict[str, str]:
    """The ZNS template's parameters, named as in the approved template (``[reach.zns]``)."""
    values = {
        "name": unicodedata.normalize("NFC", " ".join(name.split()))[:ZNS_NAME],
        "code": code,
        "link": link,
        "deadline": f"{deadline:%d/%m/%Y}",
    }
    return {param: values[what] for what, param in keys.items() if what in values}
