"""Telegram: the aiogram app, polling and webhook ingress."""
