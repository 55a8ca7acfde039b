"""The turn engine: one update in, the pure core's step, its effects applied in one transaction."""
