"""What a typed reply means at the summary and at "which item do you want to change?".

At the summary people type "gửi", "ok", "đúng rồi" for «Gửi» and "sửa", "sai" for «Sửa một mục»;
at the list of items they type the item's name ("số điện thoại", "sdt"). A helper at the school
desk would understand them; the bot did not and asked for a button. Only a whole reply is read:
a sentence, a value or a name shared by several items is not guessed (several items are offered
back as buttons).
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.catalogue import FieldSpec
from flows.replies import Reply, classify
from flows.rules.base import fold

#: Typed forms of «Gửi» at the summary, folded; "ok"/"đúng rồi" come from ``classify``.
_SEND = frozenset({
    "gui", "gui di", "gui luon", "gui nha truong", "gui ho so", "nop", "nop di", "nop ho so",
    "xong", "xong roi", "hoan tat", "hoan thanh",
})  # fmt: skip
#: Short names people type for an item, folded, beside the item's own label.
_NICKNAMES: dict[str, str] = {
    "sdt": "so dien thoai", "dt": "dien thoai", "cccd": "so dinh danh", "cmnd": "so dinh danh",
    "bhxh": "bhxh", "vneid": "vneid", "email": "email", "mail": "email", "ten": "ho va ten",
}  # fmt: skip
_PARTICLES = ("a", "nhe", "nha", "di", "roi", "r")


def summary_choice(text: str) -> str | None:
    """``"submit"`` or ``"pick"`` for a typed reply at the summary, or None when it is neither."""
    words = fold(text).strip(" .!?").split()
    while len(words) > 1 and words[-1] in _PARTICLES:
        words = words[:-1]
    if " ".join(words) in _SEND:
        return "submit"
    reply = classify(text)
    if reply is Reply.YES:
        return "submit"
    if reply is Reply.NO:
        return "pick"
    return None


def fields_named(text: str, specs: Sequence[FieldSpec]) -> list[FieldSpec]:
    """The items a typed name points at: the item whose label is the text, else every item whose
    label holds it as whole words (at least three letters, so "d" points at nothing)."""
    typed = " ".join(fold(text).strip(" .!?").split())
    typed = _NICKNAMES.get(typed, typed)
    if len(typed) < 3:
        return []
    exact = [spec for spec in specs if fold(spec.label) == typed]
    if exact:
        return exact
    padded = f" {typed} "
    return [spec for spec in specs if padded in f" {_words(spec.label)} "]


def _words(label: str) -> str:
    """A label folded to words: "Số điện thoại di động (Zalo)" → "so dien thoai di dong zalo"."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(label)).split())
