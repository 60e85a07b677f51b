"""Structured logs with correlation ids, secret redaction, tracing and metrics."""
