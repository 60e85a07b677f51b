"""The lake as a dlt filesystem destination: Parquet with the lake's codec, dated layout.

dlt writes into ``<bucket_url>/<dataset_name>/``; the lake root is split into those
two parts (``/data/lake`` -> bucket ``/data``, dataset ``lake``), so data files land
at ``<lake>/<table>/<YYYY>/<MM>/<DD>/<load_id>.<file_id>.parquet`` and dlt's own
tables (``_dlt_loads``, ``_dlt_pipeline_state``, ``_dlt_version``) beside them.
"""

from __future__ import annotations

from typing import Any

from dlt.common.destination.configuration import ParquetFormatConfiguration
from dlt.destinations.impl.filesystem.factory import filesystem

from lakegate.errors import ConfigError
from lakegate.lake.layout import DATA_LAYOUT
from lakegate.lake.storage import Lake


class LakeFilesystem(filesystem):
    """dlt's filesystem destination whose Parquet files use one codec (zstd by default).

    The codec is declared as a destination capability, dlt's own mechanism for a
    destination's preferred Parquet settings, so every writer (extract and normalize)
    uses it without global configuration.
    """

    parquet_compression: str = "zstd"

    @classmethod
    def adjust_capabilities(cls, caps: Any, config: Any, naming: Any) -> Any:
        """Declare the lake's Parquet codec on top of the filesystem capabilities."""
        caps = super().adjust_capabilities(caps, config, naming)
        codec: Any = cls.parquet_compression
        caps.parquet_format = ParquetFormatConfiguration(compression=codec)
        return caps


def split_lake_url(lake: Lake) -> tuple[str, str]:
    """``(bucket_url, dataset_name)`` for dlt so that the dataset folder is the lake root."""
    root = lake.root.rstrip("/")
    parent, _, name = root.rpartition("/")
    if not name or (not lake.is_local and not parent):
        raise ConfigError(
            f"lake {lake.url}: give a folder inside the bucket or container "
            f"(e.g. {lake.protocol}://{root or 'container'}/raw-data)"
        )
    bucket = (parent or "/") if lake.is_local else f"{lake.protocol}://{parent}"
    return bucket, name


def lake_destination(lake: Lake, *, compression: str = "zstd") -> tuple[filesystem, str]:
    """The destination factory for ``lake`` and the dataset name to pass to the pipeline."""
    bucket_url, dataset_name = split_lake_url(lake)
    factory_cls: type[LakeFilesystem] = LakeFilesystem
    if compression != LakeFilesystem.parquet_compression:
        factory_cls = type(
            "LakeFilesystem_" + compression, (LakeFilesystem,), {"parquet_compression": compression}
        )
    options: dict[str, Any] = {
        "bucket_url": bucket_url,
        "layout": DATA_LAYOUT,
        # the lake root's folder name is used verbatim (no snake_case renaming)
        "enable_dataset_name_normalization": False,
    }
    if lake.is_azure and lake.settings is not None:
        # dlt resolves Azure credentials itself: give them in dlt's field names
        from lakegate.lake.azure import dlt_destination_options

        options.update(dlt_destination_options(lake.settings))
    elif lake.storage_options:
        # fsspec constructor arguments, exactly what the lake's own filesystem uses
        options["kwargs"] = dict(lake.storage_options)
    return factory_cls(**options), dataset_name
