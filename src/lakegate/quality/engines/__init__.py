"""Engines that run a compiled plan: DuckDB (default), SQL pushdown, Spark."""
