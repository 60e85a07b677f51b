"""Credentials through dlt's provider chain: env, then .dlt/secrets.toml, then extra providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dlt.common.configuration.providers import ConfigProvider

from lakegate.errors import ConfigError
from lakegate.observability.redact import redact
from lakegate.secrets import credentials
from lakegate.secrets.credentials import (
    provider_names,
    register_provider,
    reload_providers,
    resolve_source_credentials,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A dlt project folder whose .dlt/secrets.toml the providers read."""
    (tmp_path / ".dlt").mkdir()
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    yield tmp_path
    monkeypatch.delenv("DLT_PROJECT_DIR")
    reload_providers()


def _write_secrets(project: Path, text: str) -> None:
    (project / ".dlt" / "secrets.toml").write_text(text, encoding="utf-8")
    reload_providers()


def test_secrets_toml_in_the_seed_shape(project: Path) -> None:
    _write_secrets(
        project,
        '[sources.postgres_erp]\nhost = "db.local"\nport = 5433\ndatabase = "erp"\n'
        'username = "loader"\npassword = "T0ml-Pw!"\n\n'
        '[sources.oracle_crm]\nhost = "ora"\nservice_name = "crm.svc"\nusername = "u"\n',
    )
    pg = resolve_source_credentials("postgres_erp")
    assert (pg.host, pg.port, pg.database, pg.username, pg.password) == (
        "db.local",
        5433,
        "erp",
        "loader",
        "T0ml-Pw!",
    )
    assert "T0ml-Pw!" not in repr(pg)
    assert redact("failed with T0ml-Pw! in it") == "failed with *** in it"
    ora = resolve_source_credentials("oracle_crm")
    assert ora.service_name == "crm.svc" and ora.sid is None and ora.password is None


def test_environment_wins_over_secrets_toml(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_secrets(project, '[sources.erp]\nhost = "from-toml"\npassword = "toml-pw"\n')
    monkeypatch.setenv("SOURCES__ERP__PASSWORD", "env-Pw-123")
    got = resolve_source_credentials("erp")
    assert got.host == "from-toml"
    assert got.password == "env-Pw-123"


def test_bad_port_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__ERP2__PORT", "fivefourthreetwo")
    with pytest.raises(ConfigError, match=r"sources\.erp2\.port: 'fivefourthreetwo' is not a port"):
        resolve_source_credentials("erp2")


class _VaultLike(ConfigProvider):
    """A provider standing in for Key Vault: answers only what env and TOML do not."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[str] = []

    def get_value(
        self, key: str, hint: Any, pipeline_name: str | None, *sections: str
    ) -> tuple[Any, str]:
        name = "-".join([*sections, key]).replace("_", "-")
        self.asked.append(name)
        return self.values.get(name), name

    @property
    def supports_secrets(self) -> bool:
        return True

    @property
    def supports_sections(self) -> bool:
        return True

    @property
    def name(self) -> str:
        return "test-vault"

    @property
    def is_writable(self) -> bool:
        return False


def test_registered_provider_is_last_and_survives_reload(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _VaultLike({"sources-crm-password": "Vault-Pw-9", "sources-crm-host": "vault-host"})
    monkeypatch.setattr(credentials, "_registered", [])
    try:
        register_provider(vault)
        register_provider(vault)  # twice is harmless
        _write_secrets(project, '[sources.crm]\nhost = "toml-host"\n')
        names = provider_names()
        assert names.index("test-vault") == len(names) - 1
        assert names[0] == "Environment Variables"
        got = resolve_source_credentials("crm")
        assert got.host == "toml-host"  # TOML answered first
        assert got.password == "Vault-Pw-9"  # only the vault knows it
        assert redact("x Vault-Pw-9 y") == "x *** y"
    finally:
        credentials._registered.clear()
        reload_providers()
    assert "test-vault" not in provider_names()
