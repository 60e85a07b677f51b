"""Encryption of connection secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key is ``LAKEGATE_SECRET_KEY``: either a Fernet key (32 url-safe base64 bytes) or any
passphrase of 16+ characters, from which a key is derived with SHA-256. Ciphertexts never
leave the catalog; plaintexts are registered with the redactor the moment they exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from lakegate.errors import ConfigError, LakegateError
from lakegate.observability.redact import register_secret
from lakegate.settings import Settings


class SecretDecryptionError(LakegateError):
    """Stored secrets cannot be decrypted (LAKEGATE_SECRET_KEY changed?)."""

    http_status = 500
    title = "Secret decryption failed"


def _fernet_key(secret_key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(secret_key.encode())
        if len(raw) == 32:
            return secret_key.encode()
    except (binascii.Error, ValueError):
        pass
    if len(secret_key) < 16:
        raise ConfigError("LAKEGATE_SECRET_KEY must be a Fernet key or 16+ characters")
    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest())


class SecretBox:
    """Encrypts and decrypts a mapping of secret values as one token."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(_fernet_key(secret_key))

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for ``LAKEGATE_SECRET_KEY``; ConfigError when it is not set."""
        if settings.secret_key is None:
            raise ConfigError("LAKEGATE_SECRET_KEY is not set: connection secrets cannot be stored")
        register_secret(settings.secret_key.get_secret_value())
        return cls(settings.secret_key.get_secret_value())

    def encrypt(self, values: dict[str, str]) -> str:
        """One Fernet token holding ``values`` as JSON."""
        for value in values.values():
            register_secret(value)
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        """The values in ``token``; each is registered with the redactor."""
        try:
            values: dict[str, str] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise SecretDecryptionError(
                "stored connection secrets cannot be decrypted with LAKEGATE_SECRET_KEY"
            ) from None
        for value in values.values():
            register_secret(value)
        return values

    @staticmethod
    def generate_key() -> str:
        """A new random Fernet key (for ``LAKEGATE_SECRET_KEY``)."""
        return Fernet.generate_key().decode()
