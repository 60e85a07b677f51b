"""Fixtures of integration tests (Azurite lives here once the Azure issue lands)."""
