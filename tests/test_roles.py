"""Process roles (issue #9): `hoso run telegram --role ...` starts only part of the bot, the parts
find each other through the database alone, each serves its health and metrics, and each stops
cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.roles.ops import ops_app
from bot.roles.registry import ALL_ROLES, Role, parse_roles
from storage.db import make_engine
from storage.migrate import upgrade
from storage.uow import Store
from tests.net import free_port, wait_listening
from tests.telegram_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ROLE-token"
SECRET = "role-secret"
USER = 424242


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], ALL_ROLES),
        (["all"], ALL_ROLES),
        (["turns"], {Role.TURNS}),
        (["turns,sender"], {Role.TURNS, Role.SENDER}),
        (["INGRESS", " outbox "], {Role.INGRESS, Role.OUTBOX}),
        (["scheduler", "all"], ALL_ROLES),
    ],
)
def test_roles_are_read_from_repeated_or_comma_separated_options(
    given: list[str], expected: set[Role]
) -> None:
    assert parse_roles(given) == expected


def test_an_unknown_role_is_refused_naming_the_known_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "telegram", "--role", "turns,cook"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "HOSO_TELEGRAM__TOKEN": TOKEN},
    )  # fmt: skip
    assert result.returncode == 2
    assert "không có vai trò 'cook'" in result.stderr
    assert "ingress, turns, sender, scheduler, outbox" in result.stderr


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_health_is_503_and_metrics_say_so_when_the_database_is_away() -> None:
    store = Store(make_engine("postgresql+asyncpg://root@127.0.0.1:9/nowhere"))
    try:
        app = ops_app(store, roles={Role.TURNS}, worker="w")
        async with serving(app) as base, aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 503
                body = await response.json()
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                metrics = await response.text()
    finally:
        await store.close()
    assert body == {"status": "database unreachable", "roles": ["turns"], "worker": "w"}
    assert "hoso_database_up 0.0" in metrics


async def start(roles: str, env: dict[str, str], *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "telegram", "--role", roles, *extra,
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


async def test_ingress_turns_and_sender_in_separate_processes(
    database_url: str, tmp_path: Path
) -> None:
    hook_port, ingress_ops, sender_ops = free_port(), free_port(), free_port()
    async with FakeBotAPI(token=TOKEN) as api:
        env = {
            **os.environ,
            "PYTHONIOENCODING": "utf-8",
            "HOSO_DATABASE__URL": database_url,
            "HOSO_TELEGRAM__TOKEN": TOKEN,
            "HOSO_TELEGRAM__API_SERVER": api.base_url,
            # Telegram only takes https webhooks; the test posts to the port directly.
            "HOSO_TELEGRAM__WEBHOOK_URL": f"https://bot.example.vn:{hook_port}/telegram/webhook",
            "HOSO_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "HOSO_TELEGRAM__LISTEN_PORT": str(hook_port),
            "HOSO_EXPORT__DIRECTORY": str(tmp_path / "exports"),
            "HOSO_LOG_LEVEL": "INFO",
        }
        processes = [
            await start("ingress", env, "--webhook", "--ops-port", str(ingress_ops)),
            await start("turns", env),
            await start("sender", env, "--ops-port", str(sender_ops)),
        ]
        try:
            await wait_listening(hook_port, processes[0])
            await wait_listening(sender_ops, processes[2])
            update = api.user_sends_text(USER, "/start", enqueue=False)
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    f"http://127.0.0.1:{hook_port}/telegram/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as response:
                    assert response.status == 200
                sent = await api.wait_for_sent(1, 30.0, chat_id=USER)
                async with http.get(f"http://127.0.0.1:{ingress_ops}/healthz") as response:
                    assert response.status == 200
                    health = await response.json()
                async with http.get(f"http://127.0.0.1:{ingress_ops}/metrics") as response:
                    ingress_metrics = await response.text()
                async with http.get(f"http://127.0.0.1:{sender_ops}/metrics") as response:
                    sender_metrics = await response.text()
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            outcomes = [
                await asyncio.wait_for(process.communicate(), timeout=30) for process in processes
            ]
    for process, (_, err) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]
        assert "/start" not in err.decode()  # what the person said is never logged
    assert "Bạn có đồng ý" in str(sent[0].params.get("text"))
    assert health["status"] == "ok"
    assert health["roles"] == ["ingress"]
    assert 'hoso_updates_total{channel="telegram",result="new"} 1.0' in ingress_metrics
    assert 'hoso_sends_total{channel="telegram",kind="reply",status="sent"} 1.0' in sender_metrics
    assert "hoso_inbox_pending 0.0" in sender_metrics
    errs = [err.decode() for _, err in outcomes]
    assert "stopping on SIGTERM" in errs[1]  # the turn worker was told, and stopped


async def test_an_ingress_started_while_the_bot_api_is_down_takes_updates_and_waits(
    tmp_path: Path,
) -> None:
    """A restart during a Telegram outage: the webhook takes updates in at once, the process
    stays up, and it registers the webhook as soon as the Bot API answers again."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    await upgrade(url)
    hook_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": url,
        "HOSO_TELEGRAM__TOKEN": TOKEN,
        "HOSO_TELEGRAM__API_SERVER": f"http://127.0.0.1:{api_port}",  # nothing listens yet
        "HOSO_TELEGRAM__WEBHOOK_URL": f"https://bot.example.vn:{hook_port}/telegram/webhook",
        "HOSO_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "HOSO_TELEGRAM__LISTEN_PORT": str(hook_port),
    }
    ingress = await start("ingress", env, "--webhook")
    try:
        await wait_listening(hook_port, ingress)
        update = {
            "update_id": 7,
            "message": {
                "message_id": 1, "date": 1764547200, "text": "Xin chào",
                "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "A"},
            },
        }  # fmt: skip
        async with aiohttp.ClientSession() as http:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            hook = f"http://127.0.0.1:{hook_port}/telegram/webhook"
            async with http.post(hook, json=update, headers=headers) as response:
                assert response.status == 200
        await asyncio.sleep(2.5)  # a few failed tries to set the webhook
        assert ingress.returncode is None
        async with FakeBotAPI(token=TOKEN, port=api_port) as api:
            for _ in range(400):
                if any(call.method == "setWebhook" for call in api.calls):
                    break
                await asyncio.sleep(0.05)
            methods = [call.method for call in api.calls]
    finally:
        ingress.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(ingress.communicate(), timeout=30)
    assert ingress.returncode == 0, err.decode()[-2000:]
    assert "setWebhook" in methods
    assert "bot api call failed call=setWebhook error=TelegramNetworkError" in err.decode()
    store = Store(make_engine(url))
    try:
        async with store.unit_of_work() as uow:
            assert await uow.inbox.depth() == 1  # the update taken in during the outage
    finally:
        await store.close()
