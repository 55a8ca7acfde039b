"""`hoso run zalo` as its own process (issue #8): configured only through HOSO_ZALO__* variables
to talk to the fake Zalo, it takes a signed event on its webhook, refreshes the OA token and
answers through the OA API; without its keys it refuses to start, naming them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import select

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import ZaloToken
from storage.uow import Store
from tests.net import free_port
from tests.zalo_api import APP_ID, APP_SECRET, OA_ID, OA_SECRET, FakeZalo

USER = "8410004242"


def zalo_env(url: str, zalo: FakeZalo) -> dict[str, str]:
    """A process configured only through HOSO_* variables, talking to the fake Zalo."""
    return {
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": url,
        "HOSO_ZALO__APP_ID": APP_ID,
        "HOSO_ZALO__OA_ID": OA_ID,
        "HOSO_ZALO__SECRET_KEY": OA_SECRET,
        "HOSO_ZALO__APP_SECRET": APP_SECRET,
        "HOSO_ZALO__REFRESH_TOKEN": zalo.refresh_token,
        "HOSO_ZALO__API_BASE": zalo.base_url,
        "HOSO_ZALO__OAUTH_BASE": zalo.base_url,
        "HOSO_ZALO__ZNS_BASE": zalo.base_url,
    }


async def test_hoso_run_zalo_answers_a_signed_event(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    await upgrade(url)
    port = free_port()
    async with FakeZalo() as zalo:
        env = {
            **os.environ,
            **zalo_env(url, zalo),
            "HOSO_ZALO__LISTEN_PORT": str(port),
            "HOSO_EXPORT__DIRECTORY": str(tmp_path / "exports"),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "zalo", cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            hook = f"http://127.0.0.1:{port}/zalo/webhook"
            for _ in range(200):
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            assert await zalo.post(hook, zalo.text(USER, "Xin chào")) == 200
            await zalo.wait_for(lambda: len(zalo.texts(USER)) == 1, within=15)
            assert zalo.texts(USER)[0].endswith("Bạn có đồng ý không?")
            assert [ok for _, ok in zalo.refreshes] == [True]
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert "Xin chào" not in stderr.decode()


def test_hoso_run_zalo_names_the_missing_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSO_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "zalo"],
        cwd=tmp_path, capture_output=True, text=True, env={**env, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert result.returncode != 0
    for key in ("zalo.app_id", "zalo.oa_id", "zalo.secret_key", "zalo.app_secret"):
        assert key in result.stderr


async def test_hoso_run_scheduler_serves_zalo_alone(tmp_path: Path) -> None:
    """The standalone scheduler sends through every configured channel: with only Zalo's keys it
    starts, gets the OA's token, serves its health, and stops on SIGTERM."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    await upgrade(url)
    ops = free_port()
    async with FakeZalo() as zalo:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HOSO_")},
            **zalo_env(url, zalo),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "scheduler", "--ops-port", str(ops),
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            health = None
            async with aiohttp.ClientSession() as http:
                for _ in range(600):
                    try:
                        async with http.get(f"http://127.0.0.1:{ops}/healthz") as response:
                            health = await response.json()
                            break
                    except aiohttp.ClientConnectionError:
                        assert process.returncode is None
                        await asyncio.sleep(0.1)
            assert health is not None
            assert health["roles"] == ["scheduler"]
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    store = Store(make_engine(url))
    try:  # its Zalo channel was set up: the token chain starts from the configured token
        async with store.unit_of_work() as uow:
            seeded = await uow.session.scalar(select(ZaloToken.oa_id))
    finally:
        await store.close()
    assert seeded == OA_ID


def test_hoso_run_scheduler_without_any_channel_says_what_to_configure(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSO_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "scheduler"],
        cwd=tmp_path, capture_output=True, text=True, env={**env, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "chưa cấu hình kênh nào để gửi nhắc nhở" in result.stderr
