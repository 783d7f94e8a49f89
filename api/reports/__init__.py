"""Use cases: the rules behind each endpoint, independent of HTTP."""
