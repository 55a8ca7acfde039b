"""The `hoso` command line: one module per command group."""
