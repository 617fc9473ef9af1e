"""One data location: every command resolves the database the same way, and says which one it uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wagate.cli.main import app
from wagate.cli.settings_flags import settings_flags
from wagate.config import Settings


def test_the_default_database_lives_inside_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAGATE_DATABASE_URL", raising=False)
    monkeypatch.setenv("WAGATE_DATA_DIR", str(tmp_path / "state"))
    settings = Settings()
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/state/wagate.db"
    assert settings.sqlite_path == tmp_path / "state" / "wagate.db"


def test_an_explicit_database_url_wins_over_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql+asyncpg://u@db/wagate")
    assert settings.database_url == "postgresql+asyncpg://u@db/wagate"
    assert settings.sqlite_path is None


def test_token_create_in_the_wrong_directory_refuses_instead_of_creating_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WAGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("WAGATE_DATA_DIR", raising=False)
    result = CliRunner().invoke(app, ["token", "create", "--name", "crm", "--role", "api"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no database at" in result.stderr and str(tmp_path / "data" / "wagate.db") in result.stderr
    assert not (tmp_path / "data").exists()


def test_token_create_names_the_database_it_writes_to(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAGATE_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(app, ["token", "create", "--name", "crm", "--role", "api"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("wg_")
    assert "using database " + str(Path(sqlite_url.split(":///", 1)[1]).resolve()) in result.stderr


def test_user_create_in_the_wrong_directory_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WAGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("WAGATE_DATA_DIR", raising=False)
    result = CliRunner().invoke(app, ["user", "create", "--login", "anna", "--password", "long enough"])
    assert result.exit_code == 2
    assert "no database at" in result.stderr


def test_a_database_named_on_purpose_is_created_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A set-up script may create the first user before the first start: the location is given."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WAGATE_DATABASE_URL", raising=False)
    monkeypatch.setenv("WAGATE_DATA_DIR", str(tmp_path / "state"))
    (tmp_path / "state").mkdir()
    result = CliRunner().invoke(app, ["user", "create", "--login", "anna", "--password", "long enough"])
    assert result.exit_code == 0, result.output
    assert "creating database " + str(tmp_path / "state" / "wagate.db") in result.stderr
    assert (tmp_path / "state" / "wagate.db").exists()


def test_every_setting_is_a_serve_flag() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for name in Settings.model_fields:
        assert f"--{name.replace('_', '-')}" in result.stdout, name
        assert f"WAGATE_{name.upper()}" in result.stdout, name
    assert len(settings_flags()) == len(Settings.model_fields)


def test_a_bad_serve_flag_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "eighty", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--port" in result.stderr
