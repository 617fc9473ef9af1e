"""``wagate user create`` acts on the database directly (CONTRACT §3)."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from wagate.cli.main import app
from wagate.config import Settings
from wagate.services.users import check_credentials
from wagate.store.database import Database


def test_user_create_makes_a_user_who_can_sign_in(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAGATE_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(
        app, ["user", "create", "--login", "Anna", "--password", "long enough", "--role", "admin", "--name", "Anna K"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "user anna (admin) created"

    async def sign_in() -> tuple[str, str] | None:
        from wagate.channels.registry import default_registry
        from wagate.clock import SystemClock
        from wagate.runtime import Runtime

        db = Database(sqlite_url)
        try:
            rt = Runtime(
                settings=Settings(database_url=sqlite_url), db=db, clock=SystemClock(), registry=default_registry()
            )
            user = await check_credentials(rt, "anna", "long enough")
            return (user.login, user.role) if user else None
        finally:
            await db.close()

    assert asyncio.run(sign_in()) == ("anna", "admin")


def test_user_create_refuses_a_taken_login_and_a_weak_password(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAGATE_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    assert runner.invoke(app, ["user", "create", "--login", "bob", "--password", "long enough"]).exit_code == 0
    taken = runner.invoke(app, ["user", "create", "--login", "bob", "--password", "long enough"])
    assert taken.exit_code == 2
    assert "taken" in taken.output
    weak = runner.invoke(app, ["user", "create", "--login", "carl", "--password", "short"])
    assert weak.exit_code == 2
    role = runner.invoke(app, ["user", "create", "--login", "dan", "--password", "long enough", "--role", "api"])
    assert role.exit_code == 2
