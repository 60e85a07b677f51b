"""Data quality: rule models (YAML), compiler to SQL, engines (DuckDB, Spark), results, reports."""
