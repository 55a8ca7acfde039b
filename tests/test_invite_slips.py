"""Slips for both channels (issue 19): with Zalo configured, every slip carries two QR codes, the
Telegram deep link with the person's own code and the school's Zalo Official Account, beside
the code to type and the school's name. The PDF is rendered to an image (pdfium) and both
codes of every slip are decoded (zxing-cpp). Without a bot username the Telegram QR holds the
bare code and ``hoso invite`` warns on stderr."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pypdfium2
import zxingcpp

from bot.channels.zalo.config import ZaloSettings
from bot.config.settings import IdentitySettings, Settings, TelegramSettings
from bot.identity.invitations import code_hash, normalise_code
from bot.identity.invite import InviteJob, issue_invitations
from storage.uow import Store
from tests.test_invite import AT, BOT, SCHOOL, hoso, pepper, seeded, stored

OA = "4318296571923645871"
ZALO = f"https://zalo.me/{OA}"


def zalo_settings(bot: str = BOT) -> Settings:
    return Settings(
        telegram=TelegramSettings(bot_username=bot),
        identity=IdentitySettings(invitation_days=30),
        zalo=ZaloSettings(oa_id=OA),
    )


def first_page(pdf: Path) -> tuple[list[Any], str]:
    """The QR codes decoded from page 1 rendered at 216 dpi, and the page's text."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=3).to_pil()
        text = " ".join(page.get_textpage().get_text_range().split())
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return list(found), text


def centre(result: Any) -> tuple[float, float]:
    p = result.position
    xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
    ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
    return sum(xs) / 4, sum(ys) / 4


async def _valid_hashes(store: Store) -> set[str]:
    return {row.code_hash for row in await stored(store) if row.expires_at > AT}


async def test_each_slip_carries_both_channels_qr_codes(store: Store, tmp_path: Path) -> None:
    await seeded(store)
    out = tmp_path / "slips.pdf"
    await issue_invitations(store, InviteJob(SCHOOL, out, "10A1"), zalo_settings(), at=AT)
    found, text = first_page(out)
    telegram = [r for r in found if r.text.startswith(f"https://t.me/{BOT}?start=")]
    zalo = [r for r in found if r.text == ZALO]
    assert len(found) == 16, [r.text for r in found]  # 8 slips on the page, two codes each
    assert len(telegram) == len(zalo) == 8
    # Each Telegram code is a valid invitation of this class, each a different person's.
    secret = await pepper(store)
    codes = {r.text.rsplit("=", 1)[1] for r in telegram}
    assert len(codes) == 8
    assert {code_hash(code, secret) for code in codes} <= await _valid_hashes(store)
    # Both codes sit on the same slip: the Zalo one just right of its Telegram one.
    for result in telegram:
        x, y = centre(result)
        assert any(abs(centre(z)[1] - y) < 5 and 0 < centre(z)[0] - x < 300 for z in zalo), (
            f"no Zalo code beside the Telegram code at {x:.0f},{y:.0f}"
        )
    # The code to type is printed as well, with both ways in and the school's name.
    for code in codes:
        assert f"{code[:5]}-{code[5:]}" in text
    assert text.count("Zalo: quét mã QR Zalo") == 8
    assert text.count("Trường") >= 8


async def test_without_a_username_the_telegram_qr_holds_the_bare_code(
    store: Store, tmp_path: Path
) -> None:
    await seeded(store)
    out = tmp_path / "slips.pdf"
    await issue_invitations(store, InviteJob(SCHOOL, out, "10A1"), zalo_settings(""), at=AT)
    found, text = first_page(out)
    bare = [r.text for r in found if r.text != ZALO]
    assert len(bare) == 8
    assert all(normalise_code(code) == code for code in bare)
    assert sum(r.text == ZALO for r in found) == 8
    assert "tìm bot của nhà trường" in text


def test_cli_warns_without_a_username_and_says_what_it_revoked(tmp_path: Path) -> None:
    env = {"HOSO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"}
    assert hoso("demo", cwd=tmp_path, env=env).returncode == 0
    first = hoso("invite", "--unit", SCHOOL, "--class", "10A1", "--out", "a.pdf", cwd=tmp_path,
                 env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "chưa đặt [telegram] bot_username" in first.stderr
    assert "thu hồi" not in first.stdout
    env["HOSO_TELEGRAM__BOT_USERNAME"] = BOT
    second = hoso("invite", "--unit", SCHOOL, "--class", "10A1", "--out", "b.csv", cwd=tmp_path,
                  env=env)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    made = int(second.stdout.split("Đã tạo ", 1)[1].split()[0])
    assert f"Đã thu hồi {made} mã cũ chưa dùng" in second.stdout


async def test_the_csv_names_the_zalo_way_in(store: Store, tmp_path: Path) -> None:
    await seeded(store)
    out = tmp_path / "codes.csv"
    await issue_invitations(store, InviteJob(SCHOOL, out, "10A1"), zalo_settings(), at=AT)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10
    assert {row["zalo"] for row in rows} == {ZALO}
    assert all(row["link"].endswith(row["code"].replace("-", "")) for row in rows)
