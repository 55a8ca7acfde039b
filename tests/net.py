"""Ports for the processes and local servers a test starts."""

from __future__ import annotations

import asyncio
import socket


def free_port() -> int:
    """A port nothing listens on now (the OS's pick; a test binds it soon after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_listening(
    port: int, process: asyncio.subprocess.Process, *, within: float = 90.0
) -> None:
    """Until ``process`` listens on ``port``; its stderr in the failure if it ended first."""
    for _ in range(int(within / 0.05)):
        if process.returncode is not None:
            assert process.stderr is not None
            raise AssertionError((await process.stderr.read()).decode()[-3000:])
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")
