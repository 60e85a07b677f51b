"""Lakegate."""
