"""Outbox topics: what a queued row is for, and so which worker delivers it."""

from __future__ import annotations

#: A chat message to send (turn replies, review notices): ``bot.roles.sender``.
REPLY_TOPIC = "reply"
#: A submitted change set waiting for verification: ``bot.schoolreview.verification``.
SUBMITTED_TOPIC = "change_set.submitted"
#: An approved change set for the central database: ``bot.export.delivery``.
EXPORT_TOPIC = "change_set.approved"
#: Work a school admin asked for in chat (an import, a report): ``bot.importing.chat_upload``.
ADMIN_JOB_TOPIC = "admin.job"
