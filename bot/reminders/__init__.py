"""Reminders to people who have not finished: campaigns, pacing, quiet hours, admin commands."""
