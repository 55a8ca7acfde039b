"""The invitation code a reminder by phone carries, re-derivable from the row that sent it.

Only an invitation's keyed hash is stored (``bot.identity.invitations``), so a code printed on a
slip can
never be read back. A reminder by SMS or ZNS must carry the same code round after round (the
person may keep the first message), so its code is derived: HMAC(installation key, seed) mapped
onto the invitation alphabet, with a random ``seed`` kept in the ``phone_reach`` row. Without
the key (in ``app_secrets``) the seeds reveal nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from bot.identity.invitations import ALPHABET, LENGTH
from storage.uow import UnitOfWork

KEY_NAME = "reach_code_key"


def new_seed() -> str:
    return secrets.token_hex(16)


def derive_code(key: str, seed: str) -> str:
    """``K7QX2-MZ9PD``: ten letters of the invitation alphabet from HMAC(key, seed)."""
    number = int.from_bytes(hmac.new(key.encode(), seed.encode(), hashlib.sha256).digest(), "big")
    letters = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        letters.append(ALPHABET[index])
    raw = "".join(letters)
    return f"{raw[:5]}-{raw[5:]}"


async def code_key(uow: UnitOfWork, *, at: datetime) -> str:
    return await uow.secrets.get_or_create(KEY_NAME, secrets.token_hex(32), at=at)
