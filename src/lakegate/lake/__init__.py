"""The lake: storage over fsspec (local folders, ``az://``/``abfss://``), layout, Azure extras."""

from lakegate.lake.storage import Lake

__all__ = ["Lake"]
