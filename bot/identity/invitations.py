"""Invitation codes: random, easy to type, stored only as a keyed hash.

10 characters from a 31-letter alphabet without look-alikes (no 0/O, 1/I/L) give about 49.5
bits; with a per-account and per-code lockout after a few failures, guessing is hopeless. The
hash is an HMAC with a per-installation secret kept in the database, so a leaked table of hashes
cannot be brute-forced without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from storage.uow import UnitOfWork

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10
PEPPER = "invitation_pepper"


def new_code() -> str:
    """A fresh code, shown as two groups of five: ``K7QX2-MZ9PD``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(text: str) -> str | None:
    """What a person typed or a deep link carried, as the bare code; None if it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch not in " -_.")
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return raw


def code_hash(code: str, pepper: str) -> str:
    bare = normalise_code(code) or code
    return hmac.new(pepper.encode(), bare.encode(), hashlib.sha256).hexdigest()


async def installation_pepper(uow: UnitOfWork, *, at: datetime) -> str:
    return await uow.secrets.get_or_create(PEPPER, secrets.token_hex(32), at=at)
