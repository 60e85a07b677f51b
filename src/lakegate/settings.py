"""Settings: one pydantic-settings object, built by :func:`get_settings` and passed down.

Environment variables use the prefix ``LAKEGATE_``; each section reads its own prefix
(``LAKEGATE_LAKE_URL``, ``LAKEGATE_AZURE_STORAGE_ACCOUNT`` ...). Nothing here is built at
import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakegate.errors import MultipleConfigError

Environment = Literal["development", "test", "production"]


class LakeSettings(BaseSettings):
    """Where the lake is."""

    model_config = SettingsConfigDict(env_prefix="LAKEGATE_LAKE_", extra="ignore")

    url: str = "./lake"
    """Local folder or fsspec URL (``file://``, ``az://container``, ``abfss://...``)."""
    parquet_compression: str = "zstd"
    """Parquet codec for every file written to the lake."""


class AzureSettings(BaseSettings):
    """Azure storage and Key Vault access. Credentials are tried in the order listed."""

    model_config = SettingsConfigDict(env_prefix="LAKEGATE_AZURE_", extra="ignore")

    storage_account: str | None = None
    """Storage account name; alone, authentication goes through DefaultAzureCredential."""
    storage_key: SecretStr | None = None
    """Account key (``LAKEGATE_AZURE_STORAGE_KEY``)."""
    sas_token: SecretStr | None = None
    """SAS token (``LAKEGATE_AZURE_SAS_TOKEN``)."""
    connection_string: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "LAKEGATE_AZURE_CONNECTION_STRING", "AZURE_STORAGE_CONNECTION_STRING"
        ),
    )
    """Full connection string (Azurite, or an account with key)."""
    blob_endpoint: str | None = None
    """Override of the blob endpoint (Azurite, sovereign clouds)."""
    client_id: str | None = Field(default=None, validation_alias="AZURE_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, validation_alias="AZURE_CLIENT_SECRET")
    tenant_id: str | None = Field(default=None, validation_alias="AZURE_TENANT_ID")
    key_vault_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AZURE_KEY_VAULT_URL", "LAKEGATE_AZURE_KEY_VAULT_URL"),
    )
    """Key Vault whose secrets resolve source credentials (``postgres-erp-host`` ...)."""
    blob_index_tags: bool = True
    """Also write blob index tags (not supported on hierarchical-namespace accounts)."""
    subscription_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AZURE_SUBSCRIPTION_ID", "LAKEGATE_AZURE_SUBSCRIPTION_ID"),
    )
    """Subscription of the storage account (``lakegate lake lifecycle apply``)."""
    resource_group: str | None = None
    """Resource group of the storage account (``LAKEGATE_AZURE_RESOURCE_GROUP``)."""
    lifecycle_file: str | None = None
    """YAML file with the ``lifecycle:`` rules (``LAKEGATE_AZURE_LIFECYCLE_FILE``)."""


class SparkSettings(BaseSettings):
    """The Spark quality engine (``lakegate check --engine spark``)."""

    model_config = SettingsConfigDict(env_prefix="LAKEGATE_SPARK_", extra="ignore")

    master: str = "local[2]"
    """Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``)."""
    driver_memory: str = "1g"
    """Driver memory (``spark.driver.memory``); only applied when the session starts."""
    shuffle_partitions: int = Field(default=8, ge=1)
    """``spark.sql.shuffle.partitions`` (group-by checks such as ``unique``)."""


class DuckDBSettings(BaseSettings):
    """The DuckDB quality engine (``lakegate check``, the checks after each load)."""

    model_config = SettingsConfigDict(env_prefix="LAKEGATE_DUCKDB_", extra="ignore")

    memory_limit: str | None = None
    """DuckDB ``memory_limit`` (``2GB``, ``500MB``); above it large GROUP BYs (``unique``)
    spill to :attr:`temp_directory` instead of growing. Default: DuckDB's (80% of RAM)."""
    threads: int | None = Field(default=None, ge=1, le=1024)
    """DuckDB worker threads. Default: one per core."""
    temp_directory: str | None = None
    """Where DuckDB spills (``temp_directory``). Default: DuckDB's (``.tmp`` in the cwd)."""
    perfect_hash_bits: int = Field(default=24, ge=0, le=32)
    """DuckDB ``perfect_ht_threshold``: a GROUP BY on integer keys whose value range
    (from Parquet statistics) fits in this many bits uses a direct-indexed table instead
    of hashing. 24 bits (16M slots, ~150 MB per thread) groups a 10M-row ``unique`` key
    about twice as fast as DuckDB's default of 12; 0 turns it off."""
    parquet_statistics: bool = True
    """Answer ``not_null``, ``between`` (integer, decimal, date, timestamp columns),
    ``freshness`` and ``row_count`` from Parquet footer statistics when they decide the
    check, so those columns are not read. Turn off for files whose writer is known to
    record wrong statistics."""


class Settings(BaseSettings):
    """Every setting of Lakegate."""

    model_config = SettingsConfigDict(env_prefix="LAKEGATE_", extra="ignore")

    environment: Environment = "development"
    config: Path | None = None
    """Ingestion workbook or YAML run by ``python -m lakegate`` (``LAKEGATE_CONFIG``)."""
    workers: int = Field(default=4, ge=1, le=64)
    """Jobs run in parallel by ``lakegate ingest``."""
    run_workers: int = Field(default=4, ge=1, le=64)
    """Runs executed at once by the in-process executor of ``lakegate serve``."""
    scheduler_enabled: bool = False
    """Fire job schedules inside ``lakegate serve`` too (``LAKEGATE_SCHEDULER_ENABLED``)."""
    scheduler_interval_s: float = Field(default=30.0, gt=0, le=3600)
    """Longest sleep of the scheduler loop: new or edited schedules are seen within it."""
    metadata_dir: str = "metadata"
    """Folder of the daily audit CSV files (local path or fsspec URL)."""
    state_dir: str = "~/.lakegate/pipelines"
    """Local working folders of the dlt pipelines (``LAKEGATE_STATE_DIR``); disposable:
    state is restored from the lake when missing."""
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    database_url: str = "sqlite:///./lakegate.db"
    """Catalog database (SQLAlchemy URL)."""
    admin_token: SecretStr | None = None
    """Bearer token of the platform administrator."""
    secret_key: SecretStr | None = None
    """Fernet key that encrypts connection secrets in the catalog."""
    redis_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None

    lake: LakeSettings = Field(default_factory=LakeSettings)
    azure: AzureSettings = Field(default_factory=AzureSettings)
    spark: SparkSettings = Field(default_factory=SparkSettings)
    duckdb: DuckDBSettings = Field(default_factory=DuckDBSettings)

    @model_validator(mode="after")
    def _refuse_missing_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("LAKEGATE_ADMIN_TOKEN", self.admin_token),
                    ("LAKEGATE_SECRET_KEY", self.secret_key),
                )
                if value is None or len(value.get_secret_value()) < 16
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)} must be set (16+ characters) in production")
        return self


class SettingsError(MultipleConfigError, ValueError):
    """Invalid settings: one line per problem naming the variable, never its value
    (exit 2 in the CLI, like any bad input)."""

    title = "Invalid settings"


def _problems(error: ValidationError) -> list[str]:
    # The error is raised by the settings class that failed: its env prefix names the
    # variable. The value is left out on purpose: it may be a secret.
    sections = {
        cls.__name__: cls.model_config.get("env_prefix", "")
        for cls in (Settings, LakeSettings, AzureSettings, SparkSettings, DuckDBSettings)
    }
    prefix = sections.get(error.title, "LAKEGATE_")
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if field:
            problems.append(f"setting {field} ({prefix}{field.upper()}): {message}")
        else:
            problems.append(f"settings: {message}")
    return problems


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit overrides (CLI options).

    Raises :class:`SettingsError` (a :class:`~lakegate.errors.ConfigError`) naming every
    invalid variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_problems(exc)) from None
