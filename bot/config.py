"""Settings from the command line and the environment, validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from platformdirs import user_data_dir

from bot.core.content import DEFAULT_PROMPTS_DIR

__all__ = [
    "BASE_URL_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_BASE_URL",
    "GRACE_HOURS_ENV",
    "PROMPTS_DIR_ENV",
    "TICK_SECONDS_ENV",
    "TOKEN_ENV",
    "TOKEN_FILE_ENV",
    "ConfigError",
    "ReminderSettings",
    "Settings",
    "TelegramSettings",
    "default_data_dir",
]

DATA_DIR_ENV = "FOCUS_COACH_DATA_DIR"
PROMPTS_DIR_ENV = "FOCUS_COACH_PROMPTS_DIR"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
TOKEN_FILE_ENV = "TELEGRAM_BOT_TOKEN_FILE"  # noqa: S105 - a name, not a secret
BASE_URL_ENV = "TELEGRAM_BASE_URL"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
_API_SUFFIX = "/bot"
_FILE_SUFFIX = "/file/bot"

_NO_TOKEN = (
    "no Telegram bot token is set, and `focus-coach run` needs one.\n"
    "  1. In Telegram, open @BotFather (https://t.me/BotFather), send /newbot and follow the "
    "steps; it answers with a token like 123456789:AA...\n"
    f"  2. Set it: export {TOKEN_ENV}=<token>, or put the token in a file and set "
    f"{TOKEN_FILE_ENV}=<path to the file> (see bot_example.env).\n"
    "To try the coach without Telegram, run `focus-coach chat`."
)


class ConfigError(Exception):
    """A setting is missing or unusable; the message tells the operator how to fix it."""


def default_data_dir() -> Path:
    """The per-user data folder: ``$FOCUS_COACH_DATA_DIR`` or the platform's user data folder."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(user_data_dir("focus-coach", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Where the data and the coaching content live."""

    data_dir: Path
    prompts_dir: Path

    @classmethod
    def resolve(cls, *, data_dir: Path | None = None, prompts_dir: Path | None = None) -> Settings:
        """Combine command-line values with the environment and the defaults."""
        prompts = prompts_dir or Path(os.environ.get(PROMPTS_DIR_ENV) or DEFAULT_PROMPTS_DIR)
        return cls(data_dir=(data_dir or default_data_dir()).expanduser(), prompts_dir=prompts)


@dataclass(frozen=True)
class TelegramSettings:
    """How to reach the Bot API: the token (never shown in ``repr``) and the server's URLs."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_BASE_URL.removesuffix(_API_SUFFIX) + _FILE_SUFFIX

    @classmethod
    def resolve(
        cls, *, base_url: str | None = None, environ: Mapping[str, str] | None = None
    ) -> TelegramSettings:
        """Read the token and the server from the environment; raise ConfigError with a fix."""
        env = os.environ if environ is None else environ
        token = _read_token(env)
        url = (base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or not url.endswith(_API_SUFFIX):
            raise ConfigError(
                f"the Bot API base URL {url!r} must start with http:// or https:// and end "
                f"with {_API_SUFFIX}, like {DEFAULT_BASE_URL} or http://127.0.0.1:8081/bot "
                f"(--base-url or {BASE_URL_ENV})"
            )
        file_url = url.removesuffix(_API_SUFFIX) + _FILE_SUFFIX
        return cls(token=token, base_url=url, base_file_url=file_url)


def _read_token(env: Mapping[str, str]) -> str:
    """The token from ``TELEGRAM_BOT_TOKEN``, else from the file ``TELEGRAM_BOT_TOKEN_FILE``."""
    token = env.get(TOKEN_ENV, "").strip()
    token_file = env.get(TOKEN_FILE_ENV, "").strip()
    if not token and token_file:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                f"cannot read the token file {path} named by {TOKEN_FILE_ENV}: "
                f"{error.strerror or 'unreadable'}"
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(
                f"the token file {path} named by {TOKEN_FILE_ENV} is not a text file"
            ) from None
        if not token:
            raise ConfigError(f"the token file {path} named by {TOKEN_FILE_ENV} is empty")
    if not token:
        raise ConfigError(_NO_TOKEN)
    if any(character.isspace() for character in token):
        # Never echo the value: it is a secret, even when it is malformed.
        raise ConfigError(
            "the Telegram bot token contains spaces or line breaks; copy it again from "
            "@BotFather (/mybots, API Token)"
        )
    return token


GRACE_HOURS_ENV = "FOCUS_COACH_GRACE_HOURS"
TICK_SECONDS_ENV = "FOCUS_COACH_TICK_SECONDS"


@dataclass(frozen=True)
class ReminderSettings:
    """How late a missed check-in may still go out, and how often the dispatcher looks."""

    grace: timedelta = timedelta(hours=12)
    tick_seconds: float = 60.0

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None = None) -> ReminderSettings:
        """Read ``FOCUS_COACH_GRACE_HOURS`` and ``FOCUS_COACH_TICK_SECONDS``; raise ConfigError."""
        env = os.environ if environ is None else environ
        defaults = cls()
        grace_hours = _positive(env, GRACE_HOURS_ENV, defaults.grace.total_seconds() / 3600)
        tick = _positive(env, TICK_SECONDS_ENV, defaults.tick_seconds)
        return cls(grace=timedelta(hours=grace_hours), tick_seconds=tick)


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be above 0, got {raw!r}")
    return value
