"""``bot.roles.malloc.map_large_buffers`` takes effect where the C library is glibc (this project's
Linux machines and containers) and is harmless where it is not."""

from __future__ import annotations

import platform

import pytest

from bot.roles.malloc import map_large_buffers


def test_the_threshold_is_fixed_on_glibc_once() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt's M_MMAP_THRESHOLD is glibc's")
    assert map_large_buffers() is True
    assert map_large_buffers() is True  # once per process: the second call is the first's answer
    assert map_large_buffers.cache_info().hits >= 1
