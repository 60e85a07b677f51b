"""Fernet encryption of connection secrets."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from lakegate.errors import ConfigError
from lakegate.observability.redact import redact
from lakegate.secrets.crypto import SecretBox, SecretDecryptionError
from lakegate.settings import Settings


def test_roundtrip_with_a_passphrase_and_a_fernet_key() -> None:
    for key in ("a passphrase of 16+ chars", Fernet.generate_key().decode()):
        box = SecretBox(key)
        token = box.encrypt({"password": "p@ss-w0rd-value"})
        assert "p@ss-w0rd-value" not in token
        assert box.decrypt(token) == {"password": "p@ss-w0rd-value"}


def test_values_are_registered_for_redaction() -> None:
    SecretBox("a passphrase of 16+ chars").encrypt({"token": "zz-unique-secret-77"})
    assert "zz-unique-secret-77" not in redact("calling with zz-unique-secret-77")


def test_wrong_key_is_a_clear_error_without_values() -> None:
    token = SecretBox("first passphrase 0123").encrypt({"password": "value-123456"})
    with pytest.raises(SecretDecryptionError) as info:
        SecretBox("second passphrase 0123").decrypt(token)
    assert "LAKEGATE_SECRET_KEY" in str(info.value)
    assert "value-123456" not in str(info.value)


def test_short_or_missing_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="16"):
        SecretBox("short")
    with pytest.raises(ConfigError, match="LAKEGATE_SECRET_KEY"):
        SecretBox.from_settings(Settings())
