"""Benchmarks reuse the test suite's real services."""

from tests.conftest import *  # noqa: F403
