"""Settings are read once, with embedded defaults, and a bad value names its variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hub.settings import SettingsError, load_settings


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./entraide-hub.db"
    assert settings.broker_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.is_sqlite


def test_environment_and_dotenv_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with open(".env", "w", encoding="utf-8") as handle:
        handle.write("HUB_PORT=9001\nHUB_LOG_LEVEL=debug\n")
    monkeypatch.setenv("HUB_HOST", "0.0.0.0")
    settings = load_settings()
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 9001, "debug")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HUB_PORT", "eighty"),
        ("HUB_PORT", "70000"),
        ("HUB_DATABASE_URL", "mysql://localhost/hub"),
        ("HUB_BROKER_URL", "kafka://x"),
        ("HUB_LOG_LEVEL", "loud"),
        ("HUB_PAGE_SIZE_MAX", "0"),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_the_command_stops_at_start_with_the_variable_named(tmp_path: os.PathLike[str]) -> None:
    env = {**os.environ, "HUB_PORT": "eighty"}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "HUB_PORT" in result.stderr
    assert "Traceback" not in result.stderr
