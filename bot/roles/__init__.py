"""The process roles (processor, sender, workers, scheduler, ops) and what they share: metrics,
logs, lifecycle."""
