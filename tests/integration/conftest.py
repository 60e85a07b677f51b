"""Fixtures of integration tests: Azurite, the Azure Storage emulator (blob service).

``make test`` runs ``npm install`` (``package.json`` declares azurite) and puts
``node_modules/.bin`` on PATH. The fixture starts ``azurite-blob`` on a free loopback
port with a temporary ``--location``, waits until it answers and stops it after the
session (each xdist worker gets its own). Without azurite the tests fail under
``CI=true`` and are skipped loudly otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""The documented, public key of Azurite's well-known development account."""

_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Azurite:
    """A running Azurite blob service."""

    host: str
    port: int
    blob_url: str
    connection_string: str
    account_name: str = AZURITE_ACCOUNT
    account_key: str = AZURITE_KEY


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def azurite_binary() -> str | None:
    """Path of ``azurite-blob`` (PATH first, then the project's node_modules)."""
    found = shutil.which("azurite-blob")
    if found:
        return found
    local = _REPO / "node_modules" / ".bin" / "azurite-blob"
    return str(local) if local.exists() else None


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (required under CI=true)", pytrace=False)
    warnings.warn(f"SKIPPED: {message}", stacklevel=2)
    pytest.skip(f"SERVICE MISSING: {message}")


def start_azurite(
    location: Path, *, cert: Path | None = None, key: Path | None = None, oauth: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``azurite-blob`` (HTTPS with ``cert``, basic OAuth with ``oauth``); wait for it."""
    binary = azurite_binary()
    if binary is None:
        _missing("azurite-blob is not installed (run `npm install` in the repo root)")
        raise AssertionError("unreachable")
    port = _free_port()
    args = [
        binary,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(location),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
        "--disableTelemetry",
    ]
    if cert and key:
        args += ["--cert", str(cert), "--key", str(key)]
    if oauth:
        args += ["--oauth", "basic"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"azurite-blob exited with {proc.returncode}: {err[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("azurite-blob did not answer within 30 s")
    raise AssertionError("unreachable")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process started by a fixture (by its own handle)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """An Azurite blob service on a free loopback port (plain HTTP, shared key auth)."""
    proc, port = start_azurite(tmp_path_factory.mktemp("azurite"))
    blob_url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={blob_url};"
    )
    try:
        yield Azurite("127.0.0.1", port, blob_url, conn)
    finally:
        stop(proc)
