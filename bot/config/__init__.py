"""Configuration: settings from file and environment, and building the runtime from them."""
