"""Prints a real Telegram conversation: `hoso run telegram` (a separate process) against the local
Bot API server from the tests, on a fresh demo database, a teacher joining with her invitation.

    .venv/bin/python scripts/telegram_transcript.py

What it prints is what the README shows. It needs the dev extras (it uses tests/telegram_api.py).
"""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.demo.sample_data import generate_school
from tests.telegram_api import FakeBotAPI

TOKEN = "123456:DEMO-token"
USER = 5550001


def hoso(*args: str, env: dict[str, str], cwd: Path, stdin: str = "") -> None:
    command = [sys.executable, "-m", "bot", *args]
    subprocess.run(
        command, env=env, cwd=cwd, input=stdin, text=True, check=True, capture_output=True
    )


def show(call: Any) -> None:
    print("bot> " + call.params["text"].replace("\n", "\n     "))
    markup = call.params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    labels = [button["text"] for row in rows for button in row]
    if labels:
        print("     " + "  ".join(f"[{label}]" for label in labels))


async def converse(api: FakeBotAPI, steps: list[tuple[str, str]]) -> None:
    seen = 0
    for kind, value in steps:
        if kind == "send":
            print(f"user> {value}")
            api.user_sends_text(USER, value)
        else:
            last = [c for c in api.sent_to(USER, "sendMessage") if c.params.get("reply_markup")]
            message = last[-1]
            rows = message.params["reply_markup"]["inline_keyboard"]
            data = next(b["callback_data"] for row in rows for b in row if b["text"] == value)
            print(f"user> (bấm) {value}")
            api.user_taps(USER, data, message_id=message.result["message_id"])
        await api.wait_for_sent(seen + 1, timeout=30, chat_id=USER)
        await asyncio.sleep(0.7)  # a turn may send several messages
        sent = api.sent_to(USER, "sendMessage")
        for call in sent[seen:]:
            show(call)
        seen = len(sent)


async def main() -> None:
    work = Path(tempfile.mkdtemp())
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    hoso("demo", env=env, cwd=work)
    hoso("invite", "--unit", "79000701", "--out", "invites.csv", env=env, cwd=work)
    teacher = generate_school(today=date.today()).staff[0]
    with (work / "invites.csv").open(encoding="utf-8-sig") as rows:
        code = next(
            r["code"] for r in csv.DictReader(rows) if r["ma_dinh_danh"] == teacher.ma_dinh_danh
        )
    async with FakeBotAPI(token=TOKEN) as api:
        env |= {"HOSO_TELEGRAM__TOKEN": TOKEN, "HOSO_TELEGRAM__API_SERVER": api.base_url}
        serve = [sys.executable, "-m", "bot", "run", "telegram"]
        bot = subprocess.Popen(serve, env=env, cwd=work)  # noqa: ASYNC220 - a separate process
        try:
            born = str(teacher.values["ngay_sinh"])
            await converse(api, [
                ("send", f"/start {code.replace('-', '')}"), ("tap", "Đồng ý"),
                ("send", "01/01/1990"), ("send", born), ("tap", "Đúng"), ("tap", "Sửa"),
                ("send", "15/2/1970"), ("tap", "Đúng"), ("tap", "Kinh"),
            ])  # fmt: skip
        finally:
            bot.terminate()
            bot.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
