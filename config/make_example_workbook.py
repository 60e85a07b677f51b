"""Regenerate ingestion_config.xlsx from its YAML twin: python config/make_example_workbook.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from lakegate.ingest.config import write_workbook

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    jobs = yaml.safe_load((HERE / "ingestion_config.yml").read_text(encoding="utf-8"))["jobs"]
    print(write_workbook(jobs, HERE / "ingestion_config.xlsx"))
