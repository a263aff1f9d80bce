"""Settings from the command line and the environment, validated once."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_data_dir

from bot.core.content import DEFAULT_PROMPTS_DIR

__all__ = [
    "BASE_URL_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_BASE_URL",
    "GRACE_HOURS_ENV",
    "LOG_FORMATS",
    "LOG_FORMAT_ENV",
    "LOG_LEVELS",
    "LOG_LEVEL_ENV",
    "METRICS_LISTEN_ENV",
    "METRICS_PORT_ENV",
    "PROMPTS_DIR_ENV",
    "TICK_SECONDS_ENV",
    "TOKEN_ENV",
    "TOKEN_FILE_ENV",
    "WEBHOOK_LISTEN_ENV",
    "WEBHOOK_PATH_ENV",
    "WEBHOOK_PORT_ENV",
    "WEBHOOK_SECRET_ENV",
    "WEBHOOK_SECRET_FILE_ENV",
    "WEBHOOK_URL_ENV",
    "ConfigError",
    "LogSettings",
    "MetricsSettings",
    "ReminderSettings",
    "Settings",
    "TelegramSettings",
    "WebhookSettings",
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

logger = logging.getLogger(__name__)

# A secret file other users can read: still used, but said (as ssh does for a private key).
_READABLE_BY_OTHERS = stat.S_IRGRP | stat.S_IROTH

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


def _log_warning(text: str) -> None:
    logger.warning("%s", text)


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
        cls,
        *,
        base_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        warn: Callable[[str], None] = _log_warning,
    ) -> TelegramSettings:
        """Read the token and the server from the environment; raise ConfigError with a fix.

        ``warn`` hears of a token file that other users can read (the token is still used).
        """
        env = os.environ if environ is None else environ
        token = _read_token(env, warn)
        url = (base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or not url.endswith(_API_SUFFIX):
            raise ConfigError(
                f"the Bot API base URL {url!r} must start with http:// or https:// and end "
                f"with {_API_SUFFIX}, like {DEFAULT_BASE_URL} or http://127.0.0.1:8081/bot "
                f"(--base-url or {BASE_URL_ENV})"
            )
        file_url = url.removesuffix(_API_SUFFIX) + _FILE_SUFFIX
        return cls(token=token, base_url=url, base_file_url=file_url)


def _read_token(env: Mapping[str, str], warn: Callable[[str], None]) -> str:
    """The token from ``TELEGRAM_BOT_TOKEN``, else from the file ``TELEGRAM_BOT_TOKEN_FILE``."""
    token = env.get(TOKEN_ENV, "").strip()
    token_file = env.get(TOKEN_FILE_ENV, "").strip()
    if not token and token_file:
        token = _read_secret_file(token_file, TOKEN_FILE_ENV, "token", warn)
    if not token:
        raise ConfigError(_NO_TOKEN)
    if any(character.isspace() for character in token):
        # Never echo the value: it is a secret, even when it is malformed.
        raise ConfigError(
            "the Telegram bot token contains spaces or line breaks; copy it again from "
            "@BotFather (/mybots, API Token)"
        )
    return token


def _read_secret_file(name: str, variable: str, what: str, warn: Callable[[str], None]) -> str:
    """The stripped text of the file ``name`` (named by ``variable``); ConfigError if unusable.

    A regular file that its group or others may read is still used, and ``warn`` says so. A
    pipe (``<(pass show ...)``) is read as it is: its mode says nothing about who saw it.
    """
    path = Path(name).expanduser()
    try:
        with path.open(encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode  # of the very file read, not a later one
            value = handle.read().strip()
    except OSError as error:
        raise ConfigError(
            f"cannot read the {what} file {path} named by {variable}: "
            f"{error.strerror or 'unreadable'}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"the {what} file {path} named by {variable} is not a text file"
        ) from None
    if not value:
        raise ConfigError(f"the {what} file {path} named by {variable} is empty")
    if stat.S_ISREG(mode) and mode & _READABLE_BY_OTHERS:
        warn(
            f"the {what} file {path} ({variable}) is readable by other users (mode "
            f"{stat.S_IMODE(mode):04o}); make it private with: chmod 600 {path}"
        )
    return value


WEBHOOK_URL_ENV = "TELEGRAM_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"  # noqa: S105 - the variable's name
WEBHOOK_SECRET_FILE_ENV = "TELEGRAM_WEBHOOK_SECRET_FILE"  # noqa: S105 - the variable's name
WEBHOOK_LISTEN_ENV = "TELEGRAM_WEBHOOK_LISTEN"
WEBHOOK_PORT_ENV = "TELEGRAM_WEBHOOK_PORT"
WEBHOOK_PATH_ENV = "TELEGRAM_WEBHOOK_PATH"
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8443
# Telegram allows 1-256 characters of this alphabet; fewer than 16 can be guessed (and could
# not be told apart from ordinary words when the logs are redacted).
MIN_WEBHOOK_SECRET_LENGTH = 16
MAX_WEBHOOK_SECRET_LENGTH = 256
_SECRET_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105

_NO_SECRET = (
    "webhook mode needs a secret token: Telegram sends it with every update, and requests "
    "without it are refused, so nobody else can post updates to the bot.\n"
    f"  Make one with {_MAKE_SECRET}\n"
    f"  and set it in {WEBHOOK_SECRET_ENV}, or put it in a file and set "
    f"{WEBHOOK_SECRET_FILE_ENV}=<path to the file> (--webhook-secret works too, but the "
    "command line is visible to other users of the machine)."
)


@dataclass(frozen=True)
class WebhookSettings:
    """Receive updates by webhook: the public URL, the secret (never in ``repr``), the socket."""

    url: str
    secret: str = field(repr=False)
    listen: str = DEFAULT_WEBHOOK_LISTEN
    port: int = DEFAULT_WEBHOOK_PORT
    url_path: str = ""

    @classmethod
    def resolve(
        cls,
        *,
        url: str | None = None,
        secret: str | None = None,
        listen: str | None = None,
        port: int | None = None,
        url_path: str | None = None,
        environ: Mapping[str, str] | None = None,
        warn: Callable[[str], None] = _log_warning,
    ) -> WebhookSettings | None:
        """Webhook settings from the options and the environment; None means long polling.

        ``warn`` hears of a secret file that other users can read (the secret is still used).

        Raises:
            ConfigError: webhook options without a URL, no or a malformed secret, a bad URL or
                port. The message never quotes the secret.
        """
        env = os.environ if environ is None else environ
        webhook_url = (url or env.get(WEBHOOK_URL_ENV, "")).strip()
        if not webhook_url:
            if secret is not None or listen is not None or port is not None or url_path:
                raise ConfigError(
                    "--webhook-secret, --listen, --port and --webhook-path only apply in "
                    f"webhook mode: add --webhook-url (or set {WEBHOOK_URL_ENV})"
                )
            return None
        try:
            parts = urlsplit(webhook_url)
            usable = parts.scheme in {"http", "https"} and bool(parts.hostname)
            usable = usable and not parts.fragment and parts.port != 0
        except ValueError:
            usable = False
        if not usable:
            # The URL is not quoted: its path may carry something secret.
            raise ConfigError(
                f"the webhook URL (--webhook-url or {WEBHOOK_URL_ENV}) must be a public "
                "https:// address like https://bot.example.org/telegram/<something "
                "unguessable> (api.telegram.org accepts no other; a self-hosted Bot API "
                "server also takes http://)"
            )
        path = url_path if url_path is not None else env.get(WEBHOOK_PATH_ENV, "").strip()
        return cls(
            url=webhook_url,
            secret=_webhook_secret(secret, env, warn),
            listen=(listen or env.get(WEBHOOK_LISTEN_ENV, "")).strip() or DEFAULT_WEBHOOK_LISTEN,
            port=_webhook_port(port, env),
            url_path=path or parts.path,
        )


def _webhook_secret(
    option: str | None, env: Mapping[str, str], warn: Callable[[str], None]
) -> str:
    """The secret from the option, ``TELEGRAM_WEBHOOK_SECRET`` or the file it names."""
    secret = (option or env.get(WEBHOOK_SECRET_ENV, "")).strip()
    secret_file = env.get(WEBHOOK_SECRET_FILE_ENV, "").strip()
    if not secret and secret_file:
        secret = _read_secret_file(secret_file, WEBHOOK_SECRET_FILE_ENV, "webhook secret", warn)
    if not secret:
        raise ConfigError(_NO_SECRET)
    length_ok = MIN_WEBHOOK_SECRET_LENGTH <= len(secret) <= MAX_WEBHOOK_SECRET_LENGTH
    if not length_ok or not _SECRET_ALPHABET.fullmatch(secret):
        # Never echo the value: it is a secret, even when it is malformed.
        raise ConfigError(
            f"the webhook secret must be {MIN_WEBHOOK_SECRET_LENGTH} to "
            f"{MAX_WEBHOOK_SECRET_LENGTH} characters of A-Z, a-z, 0-9, _ and - (Telegram "
            f"allows only these; fewer than {MIN_WEBHOOK_SECRET_LENGTH} can be guessed). "
            f"Make one with {_MAKE_SECRET}"
        )
    return secret


def _webhook_port(option: int | None, env: Mapping[str, str]) -> int:
    if option is not None:
        value, source = option, "--port"
    else:
        raw = env.get(WEBHOOK_PORT_ENV, "").strip()
        if not raw:
            return DEFAULT_WEBHOOK_PORT
        try:
            value, source = int(raw), WEBHOOK_PORT_ENV
        except ValueError:
            raise ConfigError(f"{WEBHOOK_PORT_ENV} must be a port number, got {raw!r}") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{source} must be a port number from 1 to 65535, got {value}")
    return value


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


LOG_LEVEL_ENV = "FOCUS_COACH_LOG_LEVEL"
LOG_FORMAT_ENV = "FOCUS_COACH_LOG_FORMAT"
_LEVEL_NUMBERS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
LOG_LEVELS = tuple(_LEVEL_NUMBERS)
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class LogSettings:
    """How much the bot logs (its own loggers) and whether as text or JSON lines."""

    level: int = logging.INFO
    json_lines: bool = False

    @classmethod
    def resolve(
        cls,
        *,
        level: str | None = None,
        log_format: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> LogSettings:
        """The options, else ``FOCUS_COACH_LOG_LEVEL`` and ``FOCUS_COACH_LOG_FORMAT``.

        Raises:
            ConfigError: a level or format that is not one of the known ones (any letter case).
        """
        env = os.environ if environ is None else environ
        level_name = (level or env.get(LOG_LEVEL_ENV, "")).strip().upper() or "INFO"
        if level_name not in LOG_LEVELS:
            source = "--log-level" if level else LOG_LEVEL_ENV
            raise ConfigError(
                f"{source} must be one of {', '.join(LOG_LEVELS)}, got {level_name.lower()!r}"
            )
        format_name = (log_format or env.get(LOG_FORMAT_ENV, "")).strip().lower() or "text"
        if format_name not in LOG_FORMATS:
            source = "--log-format" if log_format else LOG_FORMAT_ENV
            raise ConfigError(
                f"{source} must be one of {', '.join(LOG_FORMATS)}, got {format_name!r}"
            )
        return cls(level=_LEVEL_NUMBERS[level_name], json_lines=format_name == "json")


ADMIN_IDS_ENV = "FOCUS_COACH_ADMIN_IDS"
METRICS_PORT_ENV = "FOCUS_COACH_METRICS_PORT"
METRICS_LISTEN_ENV = "FOCUS_COACH_METRICS_LISTEN"
DEFAULT_METRICS_LISTEN = "127.0.0.1"


def admin_ids(environ: Mapping[str, str] | None = None) -> frozenset[int]:
    """The Telegram user ids in ``FOCUS_COACH_ADMIN_IDS`` (comma-separated); empty: nobody.

    Raises:
        ConfigError: an entry is not a positive whole number (a user id, not a @name).
    """
    env = os.environ if environ is None else environ
    found: set[int] = set()
    for entry in env.get(ADMIN_IDS_ENV, "").split(","):
        text = entry.strip()
        if not text:
            continue
        if not text.isascii() or not text.isdigit() or int(text) == 0:
            raise ConfigError(
                f"{ADMIN_IDS_ENV} must list numeric Telegram user ids separated by commas, "
                f"like 123456789,987654321; {text[:40]!r} is not one (@userinfobot tells you "
                "your id)"
            )
        found.add(int(text))
    return frozenset(found)


@dataclass(frozen=True)
class MetricsSettings:
    """Where the optional Prometheus endpoint listens."""

    port: int
    listen: str = DEFAULT_METRICS_LISTEN

    @classmethod
    def resolve(
        cls,
        *,
        port: int | None = None,
        listen: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> MetricsSettings | None:
        """From ``--metrics-port``/``--metrics-listen`` or the environment; None: no endpoint.

        Raises:
            ConfigError: a port outside 1-65535, or a listen address without a port.
        """
        env = os.environ if environ is None else environ
        address = (listen or env.get(METRICS_LISTEN_ENV, "")).strip()
        if port is not None:
            value, source = port, "--metrics-port"
        else:
            raw = env.get(METRICS_PORT_ENV, "").strip()
            if not raw:
                if address:
                    raise ConfigError(
                        f"--metrics-listen ({METRICS_LISTEN_ENV}) needs a port: add "
                        f"--metrics-port (or set {METRICS_PORT_ENV})"
                    )
                return None
            try:
                value, source = int(raw), METRICS_PORT_ENV
            except ValueError:
                raise ConfigError(
                    f"{METRICS_PORT_ENV} must be a port number, got {raw[:40]!r}"
                ) from None
        if not 1 <= value <= 65535:
            raise ConfigError(f"{source} must be a port number from 1 to 65535, got {value}")
        return cls(port=value, listen=address or DEFAULT_METRICS_LISTEN)
