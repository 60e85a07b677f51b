"""Keep secret values out of every message Lakegate prints, logs or stores.

Secrets are registered the moment they are resolved (a password read from
secrets.toml, an API key, a SAS token); :func:`redact` replaces any registered value,
and the credential part of any URL, in a string. The logging pipeline, the error
handlers and the audit writer all pass text through it.
"""

from __future__ import annotations

import re
import threading

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()

# user:password@ in URLs, and key=value pairs whose key names a secret.
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@"
)
_SECRET_PAIRS = re.compile(
    r"(?i)(?P<key>password|passwd|pwd|secret|token|accountkey|account_key|sig|client_secret)"
    r"(?P<sep>\s*[=:]\s*)(?P<q>['\"]?)(?P<val>[^'\"\s;&,]+)"
)


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` masks it everywhere."""
    if value and len(value) >= 3:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and URL credential masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, _MASK)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{_MASK}@", text)
    return _SECRET_PAIRS.sub(lambda m: f"{m['key']}{m['sep']}{m['q']}{_MASK}", text)


def clear_registered_secrets() -> None:
    """Forget every registered secret (tests)."""
    with _lock:
        _secrets.clear()
