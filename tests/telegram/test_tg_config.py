"""Token and Bot API server settings, and `focus-coach run` refusing to start without a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    TOKEN_ENV,
    TOKEN_FILE_ENV,
    ConfigError,
    TelegramSettings,
)

TOKEN = "7000000001:AASecretPartOfTheToken-0123456789abc"


def test_token_from_the_environment_with_the_default_server() -> None:
    settings = TelegramSettings.resolve(environ={TOKEN_ENV: f" {TOKEN}\n"})

    assert (settings.token, settings.base_url, settings.base_file_url) == (
        TOKEN,
        DEFAULT_BASE_URL,
        "https://api.telegram.org/file/bot",
    )


def test_token_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")

    settings = TelegramSettings.resolve(environ={TOKEN_FILE_ENV: str(secret)})

    assert settings.token == TOKEN


def test_missing_token_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    with pytest.raises(ConfigError, match=f"cannot read the token file {missing}"):
        TelegramSettings.resolve(environ={TOKEN_FILE_ENV: str(missing)})


def test_no_token_says_how_to_get_one() -> None:
    with pytest.raises(ConfigError) as caught:
        TelegramSettings.resolve(environ={})

    message = str(caught.value)
    assert "@BotFather" in message and TOKEN_ENV in message and TOKEN_FILE_ENV in message


def test_malformed_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        TelegramSettings.resolve(environ={TOKEN_ENV: "7000000001:AA secret part"})

    assert "secret part" not in str(caught.value)


def test_base_url_option_wins_over_the_environment_and_gives_the_file_url() -> None:
    env = {TOKEN_ENV: TOKEN, BASE_URL_ENV: "http://127.0.0.1:1/bot"}

    from_env = TelegramSettings.resolve(environ=env)
    from_option = TelegramSettings.resolve(base_url="http://127.0.0.1:8081/bot/", environ=env)

    assert from_env.base_url == "http://127.0.0.1:1/bot"
    assert (from_option.base_url, from_option.base_file_url) == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )


@pytest.mark.parametrize("url", ["127.0.0.1:8081/bot", "http://127.0.0.1:8081/api"])
def test_unusable_base_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        TelegramSettings.resolve(base_url=url, environ={TOKEN_ENV: TOKEN})


def test_repr_never_shows_the_token() -> None:
    assert TOKEN not in repr(TelegramSettings(token=TOKEN))


def test_run_without_a_token_stops_at_once_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in (TOKEN_ENV, TOKEN_FILE_ENV, BASE_URL_ENV):
        monkeypatch.delenv(name, raising=False)

    code = main(["run", "--data-dir", str(tmp_path / "data")])

    out, err = capsys.readouterr()
    assert code == 2
    assert "@BotFather" in err and TOKEN_ENV in err
    assert out == ""
    assert not (tmp_path / "data").exists()  # stopped before touching the data folder
