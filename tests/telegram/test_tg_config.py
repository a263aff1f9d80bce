"""Token, Bot API server and webhook settings; `focus-coach run` refusing to start without them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    LOG_FORMAT_ENV,
    LOG_LEVEL_ENV,
    TOKEN_ENV,
    TOKEN_FILE_ENV,
    WEBHOOK_LISTEN_ENV,
    WEBHOOK_PATH_ENV,
    WEBHOOK_PORT_ENV,
    WEBHOOK_SECRET_ENV,
    WEBHOOK_SECRET_FILE_ENV,
    WEBHOOK_URL_ENV,
    ConfigError,
    LogSettings,
    TelegramSettings,
    WebhookSettings,
)

TOKEN = "7000000001:AASecretPartOfTheToken-0123456789abc"
SECRET_PART = TOKEN.partition(":")[2]


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


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o444], ids=oct)
def test_a_token_file_others_can_read_is_used_with_a_warning_like_ssh_gives(
    tmp_path: Path, mode: int
) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    secret.chmod(mode)
    said: list[str] = []

    settings = TelegramSettings.resolve(environ={TOKEN_FILE_ENV: str(secret)}, warn=said.append)

    assert settings.token == TOKEN
    assert said == [
        f"the token file {secret} ({TOKEN_FILE_ENV}) is readable by other users (mode "
        f"{mode:04o}); make it private with: chmod 600 {secret}"
    ]
    assert SECRET_PART not in said[0]


@pytest.mark.parametrize("mode", [0o600, 0o400], ids=oct)
def test_a_private_token_file_gives_no_warning(tmp_path: Path, mode: int) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN, encoding="utf-8")
    secret.chmod(mode)
    said: list[str] = []

    TelegramSettings.resolve(environ={TOKEN_FILE_ENV: str(secret)}, warn=said.append)

    assert said == []


def test_a_token_from_a_pipe_gives_no_warning() -> None:
    # Like TELEGRAM_BOT_TOKEN_FILE=<(pass show bot-token): the pipe's mode says nothing.
    read_end, write_end = os.pipe()
    os.write(write_end, TOKEN.encode())
    os.close(write_end)
    said: list[str] = []
    try:
        settings = TelegramSettings.resolve(
            environ={TOKEN_FILE_ENV: f"/proc/self/fd/{read_end}"}, warn=said.append
        )
    finally:
        os.close(read_end)

    assert settings.token == TOKEN
    assert said == []


def test_a_webhook_secret_file_others_can_read_is_used_with_a_warning(tmp_path: Path) -> None:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(WEBHOOK_SECRET, encoding="utf-8")
    secret_file.chmod(0o644)
    said: list[str] = []

    webhook = WebhookSettings.resolve(
        environ={WEBHOOK_URL_ENV: HOOK, WEBHOOK_SECRET_FILE_ENV: str(secret_file)},
        warn=said.append,
    )

    assert webhook is not None and webhook.secret == WEBHOOK_SECRET
    assert said == [
        f"the webhook secret file {secret_file} ({WEBHOOK_SECRET_FILE_ENV}) is readable by "
        f"other users (mode 0644); make it private with: chmod 600 {secret_file}"
    ]
    assert WEBHOOK_SECRET not in said[0]


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


WEBHOOK_SECRET = "Webhook_Secret-0123456789abcdefXYZ"
HOOK = "https://bot.example.org/telegram/hook-5f1c0a7e"


def test_without_a_webhook_url_the_bot_long_polls() -> None:
    assert WebhookSettings.resolve(environ={WEBHOOK_SECRET_ENV: WEBHOOK_SECRET}) is None


def test_webhook_from_the_options_with_the_defaults() -> None:
    webhook = WebhookSettings.resolve(url=HOOK, secret=WEBHOOK_SECRET, environ={})

    assert webhook == WebhookSettings(
        url=HOOK,
        secret=WEBHOOK_SECRET,
        listen="127.0.0.1",
        port=8443,
        url_path="/telegram/hook-5f1c0a7e",
    )


def test_webhook_from_the_environment_with_the_secret_in_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(WEBHOOK_SECRET + "\n", encoding="utf-8")
    env = {
        WEBHOOK_URL_ENV: HOOK,
        WEBHOOK_SECRET_FILE_ENV: str(secret_file),
        WEBHOOK_LISTEN_ENV: "0.0.0.0",
        WEBHOOK_PORT_ENV: "8080",
        WEBHOOK_PATH_ENV: "/hook-behind-proxy",
    }

    webhook = WebhookSettings.resolve(environ=env)

    assert webhook == WebhookSettings(
        url=HOOK,
        secret=WEBHOOK_SECRET,
        listen="0.0.0.0",
        port=8080,
        url_path="/hook-behind-proxy",
    )


def test_options_win_over_the_environment() -> None:
    env = {
        WEBHOOK_URL_ENV: "https://old.example.org/x",
        WEBHOOK_SECRET_ENV: "Old_Secret-0123456789abcdef",
        WEBHOOK_PORT_ENV: "8080",
    }

    webhook = WebhookSettings.resolve(url=HOOK, secret=WEBHOOK_SECRET, port=88, environ=env)

    assert webhook is not None
    assert (webhook.url, webhook.secret, webhook.port) == (HOOK, WEBHOOK_SECRET, 88)


def test_webhook_mode_without_a_secret_says_how_to_make_one() -> None:
    with pytest.raises(ConfigError) as caught:
        WebhookSettings.resolve(url=HOOK, environ={})

    message = str(caught.value)
    assert "webhook mode needs a secret token" in message
    assert WEBHOOK_SECRET_ENV in message and WEBHOOK_SECRET_FILE_ENV in message
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize(
    "secret",
    [
        "Too_Short-0123",  # 14 characters: Telegram would take it, but it can be guessed
        "With spaces-0123456789abcdef",
        "With;Semicolon-0123456789abcdef",
        "Ümlaut_Secret-0123456789abcdef",
        "x" * 257,
    ],
)
def test_a_malformed_webhook_secret_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ConfigError) as caught:
        WebhookSettings.resolve(url=HOOK, secret=secret, environ={})

    message = str(caught.value)
    assert "16 to 256 characters of A-Z, a-z, 0-9, _ and -" in message
    assert secret not in message


@pytest.mark.parametrize("secret", ["a" * 16, "A-z_0" * 51 + "9"])
def test_webhook_secrets_at_the_limits_are_taken(secret: str) -> None:
    webhook = WebhookSettings.resolve(url=HOOK, secret=secret, environ={})

    assert webhook is not None and webhook.secret == secret


@pytest.mark.parametrize(
    "url",
    [
        "bot.example.org/hook",
        "ftp://bot.example.org/hook",
        "https:///hook",
        "https://bot.example.org/hook#part",
        "https://[::1/hook",
        f"https//bot.example.org/{TOKEN}",  # a token as the path, and a typo
    ],
)
def test_an_unusable_webhook_url_is_refused_without_quoting_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        WebhookSettings.resolve(url=url, secret=WEBHOOK_SECRET, environ={})

    assert "must be a public https:// address" in str(caught.value)
    assert url not in str(caught.value) and SECRET_PART not in str(caught.value)


@pytest.mark.parametrize(
    ("port", "env", "expected"),
    [
        (None, "http", "TELEGRAM_WEBHOOK_PORT must be a port number, got 'http'"),
        (None, "0", "TELEGRAM_WEBHOOK_PORT must be a port number from 1 to 65535, got 0"),
        (70000, "", "--port must be a port number from 1 to 65535, got 70000"),
    ],
)
def test_an_unusable_port_is_refused(port: int | None, env: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        WebhookSettings.resolve(
            url=HOOK, secret=WEBHOOK_SECRET, port=port, environ={WEBHOOK_PORT_ENV: env}
        )


def test_webhook_options_without_a_url_are_refused() -> None:
    with pytest.raises(ConfigError, match="only apply in webhook mode: add --webhook-url"):
        WebhookSettings.resolve(secret=WEBHOOK_SECRET, port=8443, environ={})


def test_repr_never_shows_the_webhook_secret() -> None:
    assert WEBHOOK_SECRET not in repr(WebhookSettings(url=HOOK, secret=WEBHOOK_SECRET))


def test_run_in_webhook_mode_without_a_secret_stops_at_once_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    for name in (WEBHOOK_SECRET_ENV, WEBHOOK_SECRET_FILE_ENV, WEBHOOK_URL_ENV):
        monkeypatch.delenv(name, raising=False)

    code = main(["run", "--data-dir", str(tmp_path / "data"), "--webhook-url", HOOK])

    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("focus-coach: webhook mode needs a secret token")
    assert out == ""
    assert not (tmp_path / "data").exists()  # stopped before touching the data folder


@pytest.mark.parametrize(
    ("level", "log_format", "env", "expected"),
    [
        (None, None, {}, LogSettings(level=logging.INFO, json_lines=False)),
        ("debug", "JSON", {}, LogSettings(level=logging.DEBUG, json_lines=True)),
        (
            None,
            None,
            {LOG_LEVEL_ENV: " Warning ", LOG_FORMAT_ENV: "json"},
            LogSettings(logging.WARNING, True),
        ),
        (
            "error",
            "text",
            {LOG_LEVEL_ENV: "debug", LOG_FORMAT_ENV: "json"},
            LogSettings(logging.ERROR, False),
        ),
        (None, None, {LOG_LEVEL_ENV: "", LOG_FORMAT_ENV: ""}, LogSettings()),
    ],
)
def test_log_settings_from_options_else_the_environment(
    level: str | None, log_format: str | None, env: dict[str, str], expected: LogSettings
) -> None:
    assert LogSettings.resolve(level=level, log_format=log_format, environ=env) == expected


@pytest.mark.parametrize(
    ("level", "log_format", "env", "message"),
    [
        (
            "verbose",
            None,
            {},
            "--log-level must be one of DEBUG, INFO, WARNING, ERROR, got 'verbose'",
        ),
        (
            None,
            None,
            {LOG_LEVEL_ENV: "critical"},
            f"{LOG_LEVEL_ENV} must be one of DEBUG, INFO, WARNING, ERROR, got 'critical'",
        ),
        (None, "xml", {}, "--log-format must be one of text, json, got 'xml'"),
        (
            None,
            None,
            {LOG_FORMAT_ENV: "logfmt"},
            f"{LOG_FORMAT_ENV} must be one of text, json, got 'logfmt'",
        ),
    ],
)
def test_an_unknown_log_level_or_format_is_refused(
    level: str | None, log_format: str | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        LogSettings.resolve(level=level, log_format=log_format, environ=env)

    assert str(refused.value) == message


def test_run_with_a_bad_log_level_stops_at_once_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)

    code = main(["run", "--data-dir", str(tmp_path / "data"), "--log-level", "Loud"])

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert (
        err == "focus-coach: --log-level must be one of DEBUG, INFO, WARNING, ERROR, got 'loud'\n"
    )
    assert not (tmp_path / "data").exists()
