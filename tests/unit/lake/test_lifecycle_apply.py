"""``lifecycle apply`` at the request level: the real ``azure-mgmt-storage`` client talks
to a loopback HTTPS server posing as Azure Resource Manager (``base_url`` points there).

No ARM can run here; the server records the PUT of
``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/
{account}/managementPolicies/default`` and answers like ARM does (the stored policy).
The bearer token comes from a fixed-token credential given by the test.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

from lakegate.errors import ConfigError, StorageError
from lakegate.lake.lifecycle import (
    apply_management_policy,
    parse_lifecycle,
    render_management_policy,
)
from lakegate.lake.storage import Lake
from lakegate.settings import get_settings
from tests.unit.secrets.keyvault_server import TOKEN, FixedTokenCredential

SUB, RG, ACCOUNT = "00000000-1111-2222-3333-444444444444", "rg-lake", "lakeacct"
POLICY_PATH = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/"
    f"storageAccounts/{ACCOUNT}/managementPolicies/default"
)


@dataclass
class Arm:
    url: str
    ca: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arm]:
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("arm") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    state = Arm("", str(ca_file))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            state.requests.append(
                {
                    "method": "PUT",
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(body),
                }
            )
            if state.fail_with:
                status, payload = (
                    state.fail_with,
                    {"error": {"code": "AuthorizationFailed", "message": "no access"}},
                )
            elif parts.path != POLICY_PATH:
                status, payload = 404, {"error": {"code": "NotFound", "message": parts.path}}
            else:
                status = 200
                stored = json.loads(body)
                stored["properties"]["lastModifiedTime"] = "2026-01-01T00:00:00Z"
                payload = {"id": POLICY_PATH, "name": "DefaultManagementPolicy", **stored}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    state.url = f"https://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    monkeypatch.setenv("LAKEGATE_AZURE_RESOURCE_GROUP", RG)
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", ACCOUNT)
    return get_settings()


def _document() -> dict[str, Any]:
    policy = parse_lifecycle(
        [{"name": "orders", "prefix": "orders/", "cool_after_days": 30, "delete_after_days": 365}]
    )
    return render_management_policy(
        policy, Lake(url="az://raw-data", protocol="az", root="raw-data")
    )


def test_apply_puts_the_policy_through_azure_mgmt_storage(arm: Arm, settings: Any) -> None:
    arm.requests.clear()
    arm.fail_with = None
    document = _document()
    stored = apply_management_policy(
        document,
        settings,
        credential=FixedTokenCredential(),
        base_url=arm.url,
        connection_verify=arm.ca,
    )
    assert len(arm.requests) == 1
    request = arm.requests[0]
    assert request["path"] == POLICY_PATH
    assert "api-version" in request["query"]
    assert request["auth"] == f"Bearer {TOKEN}"
    assert request["body"] == {"properties": document}
    rule = request["body"]["properties"]["policy"]["rules"][0]
    assert rule["definition"]["filters"]["prefixMatch"] == ["raw-data/orders/"]
    assert stored["properties"]["policy"] == document["policy"]


def test_apply_failure_is_a_one_line_storage_error(arm: Arm, settings: Any) -> None:
    arm.fail_with = 403
    try:
        with pytest.raises(StorageError, match=f"lifecycle apply on {ACCOUNT}") as info:
            apply_management_policy(
                _document(),
                settings,
                credential=FixedTokenCredential(),
                base_url=arm.url,
                connection_verify=arm.ca,
            )
        assert "\n" not in str(info.value)
        assert "403" in str(info.value)
    finally:
        arm.fail_with = None


def test_apply_names_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", ACCOUNT)
    with pytest.raises(ConfigError, match="AZURE_SUBSCRIPTION_ID, LAKEGATE_AZURE_RESOURCE_GROUP"):
        apply_management_policy(_document(), get_settings(), credential=FixedTokenCredential())
