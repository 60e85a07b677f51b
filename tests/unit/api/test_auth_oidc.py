"""OIDC bearer JWTs validated against a JWKS.

No identity provider runs here: the test makes its own RSA keys and serves the OpenID
discovery document and the JWKS from a local HTTP server, exactly as an issuer (Entra ID)
publishes them; PyJWT's PyJWKClient fetches them over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from lakegate.api.app import create_app
from lakegate.catalog.session import Catalog
from lakegate.settings import Settings

ADMIN = "admin-token-for-tests-0123456789"
AUDIENCE = "api://lakegate"


class Issuer:
    """A signing key and a local server publishing its discovery document and JWKS."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.requests: list[str] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/keys"}
                elif self.path == "/keys":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    body = {"keys": [{**jwk, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key: Any = None, kid: str | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "user-42",
            "iat": now,
            "exp": now + 300,
            "lakegate_tenant": "acme",
            "roles": ["Lakegate.Operator"],
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    iss = Issuer()
    yield iss
    iss.server.shutdown()


@pytest.fixture
def oidc_client(tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        admin_token=ADMIN,  # type: ignore[arg-type]
        secret_key="secret-key-for-tests-0123456789",  # type: ignore[arg-type]
        oidc_issuer=issuer.url,
        oidc_audience=AUDIENCE,
    )
    catalog = Catalog.from_settings(settings)
    catalog.create_all()
    client = TestClient(create_app(settings, catalog=catalog))
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert (
        client.post(
            "/api/v1/tenants", json={"slug": "acme", "name": "A"}, headers=admin
        ).status_code
        == 201
    )
    yield client
    catalog.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_maps_tenant_and_role(oidc_client: TestClient, issuer: Issuer) -> None:
    headers = bearer(issuer.token())
    assert oidc_client.get("/api/v1/connections", headers=headers).status_code == 200
    body = {"name": "erp", "type": "postgresql", "config": {"host": "h", "database": "d"}}
    # operator: may not write connections
    assert oidc_client.post("/api/v1/connections", json=body, headers=headers).status_code == 403
    admin = bearer(issuer.token(roles=None, lakegate_role="admin"))
    assert oidc_client.post("/api/v1/connections", json=body, headers=admin).status_code == 201
    assert "/keys" in issuer.requests


def test_invalid_tokens_are_401(oidc_client: TestClient, issuer: Issuer) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad_tokens = {
        "expired": issuer.token(exp=int(time.time()) - 3600),
        "wrong audience": issuer.token(aud="api://other"),
        "wrong issuer": issuer.token(iss="https://evil.example.com"),
        "forged signature": issuer.token(key=other_key),
        "unknown kid": issuer.token(kid="nope"),
        "unsigned": jwt.encode({"sub": "x", "lakegate_tenant": "acme"}, None, algorithm="none"),
        "hs256 with public key": jwt.encode(
            {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
            "shared-secret-0123456789abcdef0123456789",
            algorithm="HS256",
            headers={"kid": issuer.kid},
        ),
    }
    for label, token in bad_tokens.items():
        response = oidc_client.get("/api/v1/connections", headers=bearer(token))
        assert response.status_code == 401, label
        assert token not in response.text


def test_claims_without_tenant_or_role_are_403(oidc_client: TestClient, issuer: Issuer) -> None:
    cases = {
        "no tenant": issuer.token(lakegate_tenant=None),
        "unknown tenant": issuer.token(lakegate_tenant="ghost"),
        "no role": issuer.token(roles=["Something.Else"]),
    }
    for label, token in cases.items():
        response = oidc_client.get("/api/v1/connections", headers=bearer(token))
        assert response.status_code == 403, label


def test_deactivated_tenant_token_is_403(oidc_client: TestClient, issuer: Issuer) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    oidc_client.post("/api/v1/tenants/acme:deactivate", headers=admin)
    response = oidc_client.get("/api/v1/connections", headers=bearer(issuer.token()))
    assert response.status_code == 403
    assert "deactivated" in response.json()["detail"]
