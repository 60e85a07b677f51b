"""A loopback HTTPS server speaking the documented Key Vault secrets REST subset.

No Key Vault emulator exists, so tests run the real ``azure-keyvault-secrets``
``SecretClient`` against this server: the client's wire behaviour (bearer challenge,
retried request with the token, JSON bundles, paging) is what is under test. It
implements, per https://learn.microsoft.com/rest/api/keyvault/secrets:

* any request without ``Authorization: Bearer <token>`` -> 401 with
  ``WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
  resource="https://vault.azure.net"``;
* ``GET /secrets/{name}[/{version}]`` -> SecretBundle or 404 ``SecretNotFound``;
* ``PUT /secrets/{name}`` with ``{"value": ...}`` -> SecretBundle (new version);
* ``GET /secrets`` -> ``{"value": [SecretItem...], "nextLink": null}``.

The certificate is self-signed by a CA made with ``trustme`` at fixture time.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trustme
from azure.core.credentials import AccessToken

TOKEN = "test-vault-token"
_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


class FixedTokenCredential:
    """A ``TokenCredential`` returning one fixed bearer token (not the system under test)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class VaultState:
    """Secrets held by the server and the requests it saw."""

    secrets: dict[str, list[str]] = field(default_factory=dict)
    """name -> versions' values (last is current)."""
    requests: list[tuple[str, str, bool]] = field(default_factory=list)
    """(method, path, authorized) of every request."""
    forbidden: set[str] = field(default_factory=set)
    """Names the caller may not write (PUT answers 403 Forbidden, as for a missing role)."""

    def current(self, name: str) -> str | None:
        versions = self.secrets.get(name)
        return versions[-1] if versions else None

    @property
    def puts(self) -> list[str]:
        return [p for m, p, auth in self.requests if m == "PUT" and auth]


def _handler(state: VaultState, base_url: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: dict[str, Any] | None, **headers: str) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            state.requests.append((self.command, urlsplit(self.path).path.rstrip("/"), ok))
            if not ok:
                self._send(
                    401,
                    {"error": {"code": "Unauthorized", "message": "AKV10000: missing token"}},
                    WWW_Authenticate='Bearer authorization="https://login.microsoftonline.com/'
                    '72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"',
                )
            return ok

        def _bundle(self, name: str) -> dict[str, Any]:
            versions = state.secrets[name]
            now = int(time.time())
            return {
                "value": versions[-1],
                "id": f"{base_url[0]}/secrets/{name}/{len(versions):032x}",
                "attributes": {"enabled": True, "created": now, "updated": now},
                "tags": {},
            }

        def do_GET(self) -> None:
            if not self._authorized():
                return
            parts = urlsplit(self.path).path.strip("/").split("/")
            if parts == ["secrets"]:
                items = [
                    {
                        "id": f"{base_url[0]}/secrets/{n}",
                        "attributes": {"enabled": True, "created": 0, "updated": 0},
                    }
                    for n in sorted(state.secrets)
                ]
                self._send(200, {"value": items, "nextLink": None})
                return
            if len(parts) >= 2 and parts[0] == "secrets" and parts[1] in state.secrets:
                self._send(200, self._bundle(parts[1]))
                return
            name = parts[1] if len(parts) > 1 else ""
            self._send(
                404,
                {
                    "error": {
                        "code": "SecretNotFound",
                        "message": f"A secret with (name/id) {name} was not found in this key "
                        "vault.",
                    }
                },
            )

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if not self._authorized():
                return
            parts = urlsplit(self.path).path.strip("/").split("/")
            if len(parts) != 2 or parts[0] != "secrets" or not _NAME.match(parts[1]):
                self._send(400, {"error": {"code": "BadParameter", "message": "bad name"}})
                return
            if parts[1] in state.forbidden:
                self._send(
                    403,
                    {"error": {"code": "Forbidden", "message": "Caller is not authorized."}},
                )
                return
            value = json.loads(body or b"{}").get("value")
            if not isinstance(value, str):
                self._send(400, {"error": {"code": "BadParameter", "message": "no value"}})
                return
            state.secrets.setdefault(parts[1], []).append(value)
            self._send(200, self._bundle(parts[1]))

    return Handler


@dataclass
class VaultServer:
    """A running loopback vault: its URL, CA file, state and a credential for clients."""

    url: str
    ca_file: Path
    state: VaultState
    credential: FixedTokenCredential

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """Arguments that make a SecretClient trust this server."""
        return {"connection_verify": str(self.ca_file), "verify_challenge_resource": False}

    def client(self) -> Any:
        """A real ``SecretClient`` pointed at this server."""
        from azure.keyvault.secrets import SecretClient

        return SecretClient(self.url, self.credential, **self.client_kwargs)


@contextmanager
def run_vault_server(tmp_dir: Path) -> Iterator[VaultServer]:
    """Start the HTTPS vault on a free loopback port; stop it on exit."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_dir / f"vault-ca-{uuid.uuid4().hex[:6]}.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    state = VaultState()
    base: list[str] = [""]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, base))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    base[0] = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield VaultServer(base[0], ca_file, state, FixedTokenCredential())
    finally:
        server.shutdown()
        server.server_close()
