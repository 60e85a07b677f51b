"""``lakegate db upgrade|current``, ``worker`` through the real CLI entry point."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from lakegate.catalog.migrate import head_revision
from lakegate.cli import main


@pytest.fixture(autouse=True)
def _unbind_logging() -> Iterator[None]:
    """main() configures logging onto the captured stderr: undo it for later tests."""
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def test_db_upgrade_then_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    assert main(["db", "current", "-o", "json"]) == 1  # not migrated yet
    assert json.loads(capsys.readouterr().out)["revision"] is None
    assert main(["db", "upgrade", "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"revision": head_revision(), "head": head_revision()}
    assert main(["db", "upgrade"]) == 0  # idempotent
    assert head_revision() in capsys.readouterr().out
    assert main(["db", "current"]) == 0


def test_db_upgrade_with_a_bad_url_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", "nonsense:pa55w0rd")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "LAKEGATE_DATABASE_URL" in err
    assert "pa55w0rd" not in err


@pytest.mark.parametrize("command", ["worker"])  # `scheduler`: tests/unit/jobs/test_periodic.py
def test_worker_is_a_placeholder_exiting_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command]) == 2
    assert "not available in this version" in capsys.readouterr().err


def test_tenant_bootstrap_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    assert main(["db", "upgrade"]) == 0
    assert main(["tenant", "create", "acme", "--name", "Acme", "-o", "json"]) == 0
    created = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert created["lake_prefix"] == "acme/prod"
    assert main(["tenant", "create", "acme"]) == 2  # taken
    assert "already exists" in capsys.readouterr().err
    assert main(["tenant", "create", "Bad Slug"]) == 2
    capsys.readouterr()
    assert main(["tenant", "create-key", "acme", "--role", "operator"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("lg_")
    assert main(["tenant", "create-key", "ghost"]) == 2
    assert main(["tenant", "list", "-o", "json"]) == 0
    assert [t["slug"] for t in json.loads(capsys.readouterr().out)] == ["acme"]

    from fastapi.testclient import TestClient

    from lakegate.api.app import create_app

    client = TestClient(create_app())
    response = client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200  # the CLI-made key works on the API
