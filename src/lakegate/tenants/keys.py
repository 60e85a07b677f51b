"""API key tokens: ``lg_<prefix>_<secret>``; only ``sha256(token)`` is stored.

The prefix (12 hex characters) finds the row; the hash proves possession. Tokens carry
256 random bits, so a plain sha256 (no salt, no slow KDF) is enough.
"""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "lg_"


def hash_token(token: str) -> str:
    """Hex sha256 of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key_token() -> tuple[str, str]:
    """A fresh ``(prefix, token)``."""
    prefix = secrets.token_hex(6)
    return prefix, f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def split_api_key(token: str) -> str | None:
    """The prefix of an API key token, or None when ``token`` is not shaped like one."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not secret or len(prefix) != 12:
        return None
    return prefix
