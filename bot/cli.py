"""``focus-coach``: the one entry point (``chat``, ``run``, ``check``, ``health``).

Also ``python -m bot``.
"""

from __future__ import annotations

import argparse
import getpass
import locale
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.config import Settings

if TYPE_CHECKING:  # heavy imports stay out of start-up until a subcommand needs them
    from datetime import datetime

    from bot.config import (
        LogSettings,
        MetricsSettings,
        ReminderSettings,
        TelegramSettings,
        WebhookSettings,
    )
    from bot.core.content import Content
    from bot.telegram.app import BotStartError
    from storage import TinyDBUserRepository

__all__ = ["main"]

EXIT_OK = 0
EXIT_BROKEN_CONTENT = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_UNHEALTHY = 1
_LONGEST_MAX_AGE = 10 * 365 * 86400.0  # seconds; beyond it (or inf) a timedelta overflows


def _system_language() -> str:
    """German unless the system locale says English (the coach is German first)."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "en" if value.lower().startswith("en") else "de"
    code = locale.getlocale()[0] or ""
    return "en" if code.lower().startswith("en") else "de"


def _console_user_id() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return "console:" + (re.sub(r"[^A-Za-z0-9_-]", "_", name)[:48] or "local")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prompts-dir",
        type=Path,
        default=None,
        help="folder with flows/, templates/ and rules/ (default: the shipped prompts/; "
        "env FOCUS_COACH_PROMPTS_DIR)",
    )


def _add_webhook(run: argparse.ArgumentParser) -> None:
    webhook = run.add_argument_group(
        "webhook mode", "receive updates by webhook instead of long polling"
    )
    webhook.add_argument(
        "--webhook-url",
        default=None,
        help="public https URL Telegram posts updates to, best with an unguessable path "
        "(env TELEGRAM_WEBHOOK_URL); turns webhook mode on",
    )
    webhook.add_argument(
        "--webhook-secret",
        default=None,
        help="secret Telegram sends with every update; requests without it are refused "
        "(required; 16-256 of A-Z a-z 0-9 _ -; prefer env TELEGRAM_WEBHOOK_SECRET or "
        "TELEGRAM_WEBHOOK_SECRET_FILE: a command line is visible to other users)",
    )
    webhook.add_argument(
        "--listen",
        default=None,
        help="address the webhook server listens on (env TELEGRAM_WEBHOOK_LISTEN; "
        "default 127.0.0.1, behind a TLS reverse proxy)",
    )
    webhook.add_argument(
        "--port",
        type=int,
        default=None,
        help="port the webhook server listens on (env TELEGRAM_WEBHOOK_PORT; default 8443)",
    )
    webhook.add_argument(
        "--webhook-path",
        default=None,
        help="path the webhook server answers on, if a proxy rewrites it (env "
        "TELEGRAM_WEBHOOK_PATH; default: the path of --webhook-url)",
    )


def _add_logging(run: argparse.ArgumentParser) -> None:
    logs = run.add_argument_group("logging", "what the bot logs to stderr, and how")
    logs.add_argument(
        "--log-level",
        default=None,
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING or ERROR, for the bot's own log lines (env "
        "FOCUS_COACH_LOG_LEVEL; default INFO)",
    )
    logs.add_argument(
        "--log-format",
        default=None,
        metavar="FORMAT",
        help="text, or json for one JSON object per line for log shippers (env "
        "FOCUS_COACH_LOG_FORMAT; default text)",
    )


def _add_health(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    health = commands.add_parser(
        "health",
        help="exit 0 if the bot running on a data folder ticks, 1 if not (one line says why)",
    )
    health.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the running bot's data folder (default: your user data folder; env "
        "FOCUS_COACH_DATA_DIR)",
    )
    health.add_argument(
        "--max-age",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how old the last tick may be (default: three ticks, at least 180 s)",
    )
    health.add_argument(
        "--details",
        action="store_true",
        help="after the verdict, the figures the running bot last wrote: check-ins due in the "
        "next hour, sends, 429s and failures in the last 24 h, the rate limiter's queue",
    )


def _add_metrics(run: argparse.ArgumentParser) -> None:
    metrics = run.add_argument_group(
        "metrics",
        "the operator's figures for Prometheus (needs: pip install 'focus-coach[metrics]')",
    )
    metrics.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve Prometheus metrics on this port at /metrics (env FOCUS_COACH_METRICS_PORT; "
        "default: off)",
    )
    metrics.add_argument(
        "--metrics-listen",
        default=None,
        help="address the metrics endpoint listens on (env FOCUS_COACH_METRICS_LISTEN; "
        "default 127.0.0.1)",
    )


def _operator_settings(
    args: argparse.Namespace,
) -> tuple[frozenset[int], MetricsSettings | None] | int:
    """Who may ask for /status, and the metrics endpoint; or the exit code of a usage error."""
    from bot.config import ConfigError, MetricsSettings, admin_ids

    try:
        admins = admin_ids()
        metrics = MetricsSettings.resolve(port=args.metrics_port, listen=args.metrics_listen)
    except ConfigError as error:
        print(f"focus-coach: {error}", file=sys.stderr)
        return EXIT_USAGE
    if metrics is not None:
        from bot.metrics import INSTALL_HINT, metrics_available

        if not metrics_available():
            print(
                "focus-coach: --metrics-port (FOCUS_COACH_METRICS_PORT) needs the package "
                f"prometheus-client: {INSTALL_HINT}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    return admins, metrics


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="focus-coach",
        description="Fokus-Coach: keep the few social channels that fit your audience and time.",
    )
    parser.add_argument("--version", action="version", version=f"focus-coach {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chat = commands.add_parser("chat", help="talk to the coach in this terminal (no token needed)")
    chat.add_argument(
        "--lang",
        choices=["de", "en"],
        default=None,
        help="language (default: from the system locale, German otherwise)",
    )
    chat.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where answers are stored (default: your user data folder; env FOCUS_COACH_DATA_DIR)",
    )
    _add_common(chat)
    run = commands.add_parser(
        "run",
        help="run the Telegram bot with long polling, or by webhook (needs TELEGRAM_BOT_TOKEN)",
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where answers are stored (default: your user data folder; env FOCUS_COACH_DATA_DIR)",
    )
    run.add_argument(
        "--base-url",
        default=None,
        help="Bot API server to use, e.g. a local one: http://127.0.0.1:8081/bot "
        "(env TELEGRAM_BASE_URL; default https://api.telegram.org/bot)",
    )
    _add_webhook(run)
    _add_logging(run)
    _add_metrics(run)
    _add_common(run)
    _add_health(commands)
    check = commands.add_parser("check", help="validate flows, templates and rules in prompts/")
    check.add_argument("--mermaid", action="store_true", help="also print each flow as Mermaid")
    _add_common(check)
    return parser


def _check(settings: Settings, *, mermaid: bool) -> int:
    from bot.core.checker import check_prompts, flow_to_mermaid

    content, problems = check_prompts(settings.prompts_dir)
    if content is None:
        print(
            f"focus-coach check: {len(problems)} problem(s) in {settings.prompts_dir}:",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BROKEN_CONTENT
    if mermaid:
        for flow in content.flows.values():
            print(f"%% {flow.path.name}")
            print(flow_to_mermaid(flow))
    print(
        f"focus-coach check: OK ({len(content.flows)} flow(s), "
        f"{len(content.catalogue.channels)} channels)"
    )
    return EXIT_OK


def _open_content_and_store(
    settings: Settings, *, what: str
) -> tuple[Content, TinyDBUserRepository] | int:
    """Load the checked content and lock the data folder; an exit code if either fails."""
    from bot.core.checker import load_content
    from bot.core.document_schema import USER_DOCUMENTS
    from bot.core.flow_model import FlowError
    from storage import StorageError, open_repository

    try:
        content = load_content(settings.prompts_dir)
    except FlowError as error:
        print(
            f"focus-coach: the coaching content is broken, so the {what} does not start:",
            file=sys.stderr,
        )
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        print("Run `focus-coach check` after fixing it.", file=sys.stderr)
        return EXIT_BROKEN_CONTENT
    try:
        # Every document is checked against its declared schema when it is read.
        repository = open_repository(settings.data_dir, migrator=USER_DOCUMENTS)
    except StorageError as error:
        print(f"focus-coach: {error}", file=sys.stderr)
        return EXIT_USAGE
    return content, repository


def _chat(settings: Settings, *, lang: str | None) -> int:
    from bot.console import CHARTS_FOLDER, EXPORTS_FOLDER, ConsoleChat
    from bot.core.engine import DialogueEngine

    opened = _open_content_and_store(settings, what="chat")
    if isinstance(opened, int):
        return opened
    content, repository = opened
    try:
        engine = DialogueEngine(content, repository)
        chat = ConsoleChat(
            engine,
            _console_user_id(),
            language_hint=lang or _system_language(),
            reader=input,
            out=sys.stdout,
            exports=settings.data_dir / EXPORTS_FOLDER,
            charts=settings.data_dir / CHARTS_FOLDER,
            color=sys.stdout.isatty() and "NO_COLOR" not in os.environ,
        )
        chat.run()
    finally:
        repository.close()
    return EXIT_OK


def _run_settings(
    args: argparse.Namespace,
) -> tuple[TelegramSettings, WebhookSettings | None, ReminderSettings] | int:
    """The bot's settings from the command line and the environment, or the exit code."""
    from bot.config import ConfigError, ReminderSettings, TelegramSettings, WebhookSettings

    def warn(text: str) -> None:
        print(f"focus-coach: warning: {text}", file=sys.stderr)

    try:
        telegram = TelegramSettings.resolve(base_url=args.base_url, warn=warn)
        webhook = WebhookSettings.resolve(
            url=args.webhook_url,
            secret=args.webhook_secret,
            listen=args.listen,
            port=args.port,
            url_path=args.webhook_path,
            warn=warn,
        )
        timing = ReminderSettings.resolve()
    except ConfigError as error:
        print(f"focus-coach: {error}", file=sys.stderr)
        return EXIT_USAGE
    return telegram, webhook, timing


def _log_settings(args: argparse.Namespace) -> LogSettings | int:
    """The log level and format from the command line and the environment, or the exit code."""
    from bot.config import ConfigError, LogSettings

    try:
        return LogSettings.resolve(level=args.log_level, log_format=args.log_format)
    except ConfigError as error:
        print(f"focus-coach: {error}", file=sys.stderr)
        return EXIT_USAGE


def _health(settings: Settings, *, max_age: float | None, details: bool) -> int:
    """Say in one line whether the bot on the data folder ticks; exit 0 if so, 1 if not.

    Reads the heartbeat only: the running bot holds the data folder's lock.
    """
    from datetime import UTC, datetime, timedelta

    from bot.heartbeat import check_health

    if max_age is not None and not 0 < max_age < _LONGEST_MAX_AGE:
        print(
            f"focus-coach: --max-age must be a number of seconds above 0, got {max_age:g}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    verdict = check_health(
        settings.data_dir,
        now=datetime.now(UTC),
        max_age=None if max_age is None else timedelta(seconds=max_age),
    )
    print(verdict.line)
    if details:
        for line in _status_lines(settings.data_dir, now=datetime.now(UTC)):
            print(f"  {line}")
    return EXIT_OK if verdict.healthy else EXIT_UNHEALTHY


def _status_lines(data_dir: Path, *, now: datetime) -> list[str]:
    """The figures in the heartbeat, for the operator (a figure the file lacks reads "?")."""
    from bot.core.operations import Event
    from bot.core.operator_status import HEARTBEAT_STATUS_KEY, read_offline_status
    from bot.heartbeat import HeartbeatError, read_heartbeat

    try:
        beat = read_heartbeat(data_dir)
    except HeartbeatError:
        return []  # the verdict line has said why
    status = None if beat is None else read_offline_status(beat.extra.get(HEARTBEAT_STATUS_KEY))
    if status is None:
        return ["no figures in the heartbeat (an older release wrote it)"]

    def shown(value: int | None) -> str:
        return "?" if value is None else f"{value:,}"

    last = status.last_24h
    age = max(0, int((now - status.taken_at).total_seconds()))
    return [
        f"figures as of {age} s ago:",
        f"check-ins due in the next hour: {shown(status.due_next_hour)}",
        f"last 24 h: {shown(last[Event.SENT])} messages sent or edited, "
        f"{shown(last[Event.RATE_LIMITED])} 429s ({shown(last[Event.RETRIED])} retried), "
        f"{shown(last[Event.FAILED])} given up",
        f"last 24 h: {shown(last[Event.CHECKIN_SENT])} check-ins delivered, "
        f"{shown(last[Event.CHECKIN_FAILED])} given back to try again",
        f"waiting for the rate limiter: {shown(status.queue)}",
    ]


def _run(settings: Settings, args: argparse.Namespace) -> int:
    log = _log_settings(args)
    if isinstance(log, int):
        return log
    resolved = _run_settings(args)
    if isinstance(resolved, int):
        return resolved
    telegram, webhook, timing = resolved
    operator = _operator_settings(args)
    if isinstance(operator, int):
        return operator
    admins, metrics = operator

    from datetime import UTC, datetime

    from bot import __version__
    from bot.core.checkin_claims import ReminderService
    from bot.core.engine import DialogueEngine
    from bot.core.sent_records import journaled
    from bot.core.user_standings import StandingsRepository, UserStandings
    from bot.heartbeat import HeartbeatWriter
    from bot.telegram.app import BotStartError, run_bot
    from storage import ScheduleIndex, UserRepository

    opened = _open_content_and_store(settings, what="bot")
    if isinstance(opened, int):
        return opened
    content, stored = opened
    # Sent check-ins are journalled and reach the documents with the next write (issue 16).
    sent = journaled(stored)
    repository: UserRepository = sent
    if admins or metrics is not None:
        # Every write tells the operator's user figures (blocked, paused) what changed.
        repository = StandingsRepository(sent, UserStandings())

    def clock() -> datetime:
        return datetime.now(UTC)

    reminders = ReminderService(
        repository, ScheduleIndex(settings.data_dir), grace=timing.grace, clock=clock, sent=sent
    )
    engine = DialogueEngine(content, repository, clock=clock, reminders=reminders)
    reminders.compose_with(engine.compose_reminder)
    heartbeat = HeartbeatWriter(
        settings.data_dir,
        version=__version__,
        mode="polling" if webhook is None else "webhook",
        tick_seconds=timing.tick_seconds,
        clock=clock,
    )
    try:
        run_bot(
            telegram,
            engine,
            webhook=webhook,
            reminders=reminders,
            tick_seconds=timing.tick_seconds,
            log=log,
            heartbeat=heartbeat,
            admins=admins,
            metrics=metrics,
        )
    except BotStartError as error:
        return _start_failed(error, telegram, webhook)
    finally:
        repository.close()
    return EXIT_OK


def _start_failed(
    error: BotStartError, telegram: TelegramSettings, webhook: WebhookSettings | None
) -> int:
    """Say why the bot could not start, for the operator; return the exit code."""
    from bot.telegram.app import (
        BotApiAnswerError,
        BotApiRefusedError,
        BotApiUnreachableError,
        TokenRejectedError,
    )

    if isinstance(error, TokenRejectedError):
        print(
            "focus-coach: Telegram rejected the bot token (it is wrong or was revoked). Copy it "
            "again from @BotFather (/mybots, API Token) into TELEGRAM_BOT_TOKEN or the file "
            "named by TELEGRAM_BOT_TOKEN_FILE.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if isinstance(error, BotApiUnreachableError):
        print(
            f"focus-coach: cannot reach the Bot API at {telegram.base_url}: {error}",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    if isinstance(error, BotApiAnswerError):
        print(
            f"focus-coach: the server at {telegram.base_url} does not answer like the Bot API: "
            f"{error}. Check --base-url (or TELEGRAM_BASE_URL) and any proxy in between.",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    if isinstance(error, BotApiRefusedError):
        what = "set the webhook" if webhook is not None else "start long polling"
        print(f"focus-coach: the Bot API refused to {what}: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"focus-coach: {error}", file=sys.stderr)  # the webhook server cannot listen
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run the ``focus-coach`` command line."""
    args = _build_parser().parse_args(argv)
    settings = Settings.resolve(
        data_dir=getattr(args, "data_dir", None), prompts_dir=getattr(args, "prompts_dir", None)
    )
    if args.command == "check":
        return _check(settings, mermaid=args.mermaid)
    if args.command == "run":
        return _run(settings, args)
    if args.command == "health":
        return _health(settings, max_age=args.max_age, details=args.details)
    return _chat(settings, lang=args.lang)


if __name__ == "__main__":
    sys.exit(main())
