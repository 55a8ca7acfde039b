"""A command's first touch of the database: an embedded SQLite file without tables gets them,
any other empty database ends the command with the one line that says what to run (instead of
a driver's traceback about a missing table)."""

from __future__ import annotations

from storage.migrate import SchemaMissing, ensure_schema


async def require_schema(url: str) -> None:
    try:
        await ensure_schema(url)
    except SchemaMissing as exc:
        raise SystemExit(f"Lỗi: {exc}") from None
