"""Every place name in a message has its diacritics and normal capitals (issue #18).

Scans every template the person or the school reads (the conversation's texts and buttons, the
rule messages, the audit's, the split question's) and every field label and help of the
catalogues: no province or ward written without its marks ("ở Ho Chi Minh"), no capital after a
slash in mid-sentence ("danh sách phường/Xã"), and each label lowered for mid-sentence use keeps
its words' normal case.
"""

from __future__ import annotations

import re

import pytest

from bot.config.settings import CatalogueSettings
from bot.engine.reference import load_reference, shipped_codelists
from flows.audit import AUDIT_MESSAGES
from flows.errors import ERROR_MESSAGES, lower_first
from flows.rules.base import fold
from flows.texts import BUTTON_TEXTS, TEXTS

#: A lower-case letter, a slash, a capital: "phường/Xã", "tỉnh/Thành phố".
_SLASH_CAPITAL = re.compile(r"[a-zà-ỹđ]/[A-ZÀ-ỸĐ]")


def _templates() -> dict[str, str]:
    found = {f"text:{k}": v for k, v in TEXTS.items()}
    found |= {f"button:{k}": v for k, v in BUTTON_TEXTS.items()}
    found |= {f"error:{k.value}": v for k, v in ERROR_MESSAGES.items()}
    found |= {f"audit:{k.value}": v for k, v in AUDIT_MESSAGES.items()}
    for kind, catalogue in load_reference(CatalogueSettings()).catalogues.items():
        for spec in catalogue.fields:
            found[f"{kind}:{spec.key}:help"] = spec.help or ""
            found[f"{kind}:{spec.key}:example"] = spec.example or ""
    return found


def _unmarked_places() -> set[str]:
    """Each province (2025 and before) written without its marks, as a careless text would."""
    lists = shipped_codelists()
    names = set(lists["provinces_2025"].options) | set(lists["birth_provinces"].options)
    names |= set(lists["provinces_2025"].aliases)
    bare = {re.sub(r"^(Tỉnh|Thành phố) ", "", n) for n in names}
    return {fold(n).title() for n in bare if fold(n) != n.casefold()}


TEMPLATES = _templates()


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_no_place_name_without_its_marks(key: str) -> None:
    text = TEMPLATES[key]
    assert not [p for p in _unmarked_places() if re.search(rf"\b{re.escape(p)}\b", text)], text


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_no_capital_after_a_slash_mid_sentence(key: str) -> None:
    assert not _SLASH_CAPITAL.search(TEMPLATES[key]), TEMPLATES[key]


def test_every_label_lowered_for_mid_sentence_has_normal_capitals() -> None:
    for catalogue in load_reference(CatalogueSettings()).catalogues.values():
        for spec in catalogue.fields:
            lowered = lower_first(spec.label)
            assert not _SLASH_CAPITAL.search(lowered), lowered
            assert lowered[:1].islower() or lowered.split()[0].isupper(), lowered


def test_the_scan_would_see_an_unmarked_place() -> None:
    assert "Ho Chi Minh" in _unmarked_places()
    assert _SLASH_CAPITAL.search("danh sách phường/Xã")


#: Words that say the person typed something (issue #18: a stored value was never typed).
TYPED_WORDS = ("bạn đã nhập", "bạn ghi", "bạn nhập", "bạn vừa nhập", "bạn đã ghi")
#: What is said about a value the record holds: the audit's findings and the conversation's
#: messages around a stored value (the rule messages are checked in tests/test_errors.py).
ABOUT_STORED = {f"audit:{k.value}": v for k, v in AUDIT_MESSAGES.items()} | {
    f"text:{k}": TEXTS[k] for k in ("stored_invalid", "notice", "confirm_field", "conflict")
}


@pytest.mark.parametrize("key", sorted(ABOUT_STORED))
def test_a_message_about_a_stored_value_never_says_the_person_typed_it(key: str) -> None:
    text = ABOUT_STORED[key].casefold()
    assert not any(word in text for word in TYPED_WORDS), ABOUT_STORED[key]
