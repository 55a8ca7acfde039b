"""``python -m bot`` is the same as ``hoso``."""

from bot.cli.main import app

app(prog_name="hoso")
