"""Temporal workflows, the pure flow model and the worker entry point."""
