"""SAS argument parsing and the refusal to sign without a key or token (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakegate.errors import ConfigError
from lakegate.lake.sas import blob_sas_url, parse_duration
from lakegate.settings import get_settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        (" 7d ", timedelta(days=7)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0h", "1y", "-1h", "1.5h", "soon"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="--expires"):
        parse_duration(text)


def test_bad_permissions_are_refused_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "acct")
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_KEY", "a2V5")
    with pytest.raises(ConfigError, match="--permissions 'rx'"):
        blob_sas_url(
            get_settings(),
            "c/x",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            permissions="rx",
        )


def test_sas_token_credential_cannot_sign(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "acct")
    monkeypatch.setenv("LAKEGATE_AZURE_SAS_TOKEN", "sv=2024-08-04&sig=abc")
    with pytest.raises(ConfigError, match="sas_token cannot sign"):
        blob_sas_url(get_settings(), "c/x", expires_at=datetime.now(UTC) + timedelta(hours=1))
