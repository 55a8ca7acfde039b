"""Zalo OA: the app, its configuration, contacts and access tokens."""
