"""Export of approved change sets to the central database, exactly once, and its sinks."""
