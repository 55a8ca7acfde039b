"""The chat channels as process roles: one folder per channel (Telegram, Zalo)."""
