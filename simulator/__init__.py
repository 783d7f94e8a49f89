"""A stand-in for Telegram's servers with an HTTP API for tests and people."""
