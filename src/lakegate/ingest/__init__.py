"""Ingestion: workbook/YAML job config, dlt sources (sql, rest), pipeline to the lake, audit."""
