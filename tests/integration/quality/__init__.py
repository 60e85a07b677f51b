"""Integration tests of the quality engine."""
