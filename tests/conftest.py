"""Shared test setup: the handlers' settings come from the environment, set before any import."""
