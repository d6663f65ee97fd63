"""Scenario schema and loading (issue 3)."""
