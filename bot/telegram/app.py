"""The composition root of the Telegram bot: build the Application, wire handlers, run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

import bot
from bot.config import LogSettings, MetricsSettings, TelegramSettings, WebhookSettings
from bot.core.checkin_claims import ReminderService
from bot.core.engine import DialogueEngine
from bot.core.operations import OperationsRecorder
from bot.core.operator_status import (
    HEARTBEAT_STATUS_KEY,
    OperatorAccess,
    OperatorView,
    heartbeat_status,
)
from bot.core.user_standings import StandingsRepository
from bot.core.zone_finder import warm_up
from bot.dispatcher import Dispatcher
from bot.heap import settle_heap
from bot.heartbeat import Health, HeartbeatWriter, check_health
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.checkin_sender import CheckinSender
from bot.telegram.handlers import CoachHandlers
from bot.telegram.logs import (
    TokenRedactor,
    configure_logging,
    not_json_preview,
    not_json_reported_by_caller,
)
from bot.telegram.menu import publish_menu, publish_profile
from bot.telegram.ratelimit import PriorityRateLimiter
from bot.telegram.webhook_server import WebhookServer

if TYPE_CHECKING:
    from bot.metrics import MetricsServer

__all__ = [
    "ALLOWED_UPDATES",
    "BotApiAnswerError",
    "BotApiRefusedError",
    "BotApiUnreachableError",
    "BotStartError",
    "MetricsListenError",
    "TokenRejectedError",
    "WebhookListenError",
    "build_application",
    "run_bot",
]

log = logging.getLogger(__name__)

# Only what the handlers use; everything else Telegram would send is noise.
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER)
# Connections for the bot's calls: the dispatcher's 64 check-ins in flight (of which the rate
# limiter lets 16 broadcasts onto the wire) plus replies, with room to spare. PTB's default is 256;
# an idle keep-alive connection costs nothing per call over aiohttp (unlike httpcore's pool).
_CONNECTIONS = 128
# A 429 from Telegram is waited out and retried this often before the reply is given up.
_RATE_LIMIT_RETRIES = 3

# What ApplicationBuilder builds with our rate limiter (per-call arguments are a dict) and
# without PTB's JobQueue (the dispatcher is the one scheduler).
CoachApplication: TypeAlias = Application[
    ExtBot[dict[str, Any]],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    None,
]


class BotStartError(Exception):
    """The bot could not start; the subclass says why (messages never hold a secret)."""


class TokenRejectedError(BotStartError):
    """Telegram answered the token with 401/404: it is wrong or revoked."""


class BotApiUnreachableError(BotStartError):
    """The Bot API server did not answer at start-up."""


class BotApiAnswerError(BotStartError):
    """Something answered at the Bot API's address, but not like the Bot API (an HTML page)."""


class BotApiRefusedError(BotStartError):
    """The Bot API refused a start-up call (say setWebhook); the message is redacted."""


class WebhookListenError(BotStartError):
    """The webhook server cannot listen on the configured address and port."""


class MetricsListenError(BotStartError):
    """The metrics endpoint cannot listen on the configured address and port."""


def _register(application: CoachApplication, handlers: CoachHandlers) -> None:
    """Register the handlers; within group 0 the first matching one wins, so order matters."""
    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE  # edits of old messages are not new answers
    # 1. Membership changes: a user blocks the bot, the bot joins a group.
    application.add_handler(
        ChatMemberHandler(handlers.on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    # 2. Button taps: always answered; the engine tells current from outdated buttons.
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    # 3. Commands in groups get the "private chat only" note; other group talk is not ours.
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & new_message & filters.COMMAND, handlers.on_group_command
        )
    )
    # 4. Private commands, free text and a shared location go to the engine alike.
    application.add_handler(
        MessageHandler(
            private & new_message & (filters.TEXT | filters.LOCATION), handlers.on_message
        )
    )
    # 5. Anything else in private (photo, sticker, voice ...): "text and buttons only".
    application.add_handler(MessageHandler(private & new_message, handlers.on_other_message))
    application.add_error_handler(handlers.on_error)


class _Lifecycle:
    """What starts after the token is known to work and stops before the data folder closes."""

    def __init__(
        self,
        engine: DialogueEngine,
        handlers: CoachHandlers,
        reminders: ReminderService | None,
        tick_seconds: float,
        *,
        heartbeat: HeartbeatWriter | None = None,
        recorder: OperationsRecorder | None = None,
    ) -> None:
        self.engine = engine
        self.handlers = handlers
        self.reminders = reminders
        self.tick_seconds = tick_seconds
        self.heartbeat = heartbeat
        self.recorder = recorder
        self.dispatcher: Dispatcher | None = None
        self._pulse_task: asyncio.Task[None] | None = None
        # Set when someone will ask for the user figures (admins or a metrics endpoint).
        self.standings: StandingsRepository | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._stop_counting = threading.Event()
        # The transports the composition root opened itself (none with a test's request).
        self.requests: tuple[BaseRequest, ...] = ()

    def last_tick_at(self) -> datetime | None:
        """When the dispatcher's last tick ended, for the operator's view."""
        return None if self.dispatcher is None else self.dispatcher.last_tick_at

    def _count_users_in_background(self, repository: StandingsRepository) -> None:
        """Read the stored users' standings once (about 11 s at 100,000 users) off the loop."""
        counting = asyncio.to_thread(repository.seed, self._stop_counting)
        task = asyncio.get_running_loop().create_task(counting)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def post_init(self, application: CoachApplication) -> None:
        """Publish the menu and profile, rebuild the due index, start the one reminder job."""
        await publish_menu(application.bot, self.engine.content)
        await publish_profile(application.bot, self.engine.content)
        # The zone data open once (~0.3 s), here rather than on the first shared location.
        await asyncio.to_thread(warm_up)
        if self.heartbeat is not None:
            await asyncio.to_thread(self.heartbeat.started)
        if self.standings is not None:
            self._count_users_in_background(self.standings)
        if self.reminders is not None:
            await asyncio.to_thread(self.reminders.load)
            sender = CheckinSender(
                self.engine, self.handlers.renderer, self.handlers.locks, application.bot
            )
            self.dispatcher = Dispatcher(
                self.reminders,
                sender,
                clock=self.engine.clock,
                interval=self.tick_seconds,
                on_tick=self._ticked,
                recorder=self.recorder,
            )
            self.dispatcher.start()  # its first tick catches up on what came due while down
            if self.heartbeat is not None:
                pulse = self._pulse(self.dispatcher, self.heartbeat)
                self._pulse_task = asyncio.get_running_loop().create_task(pulse)
        # Last: the content, the application and the due index are built and stay for good.
        settle_heap()
        log.info("Fokus-Coach is running as @%s", application.bot.username)

    async def post_stop(self, application: CoachApplication) -> None:
        """Stop ticking and let the reminders in flight finish (before the loop stops)."""
        await self._stop_dispatcher()

    async def post_shutdown(self, application: CoachApplication) -> None:
        """Release the data folder (the engine calls have all finished by now)."""
        # PTB skips post_stop when starting the updater failed after post_init (setWebhook
        # refused, port taken): the reminder job must not outlive the loop then either.
        await self._stop_dispatcher()
        if self._background:
            # A start-up count still reading: ended, and the folder released only after it.
            self._stop_counting.set()
            await asyncio.wait(self._background)
        if self.heartbeat is not None:
            await asyncio.to_thread(self.heartbeat.stopped)
        self.engine.repository.close()

    async def _ticked(self, at: datetime) -> None:
        """Renew the heartbeat after each dispatcher tick (it fsyncs: off the event loop)."""
        if self.heartbeat is not None:
            await asyncio.to_thread(self.heartbeat.ticked, at)

    async def _pulse(self, dispatcher: Dispatcher, heartbeat: HeartbeatWriter) -> None:
        """Each interval, while a tick runs longer than one, write how far it has got.

        A tick ends only when its check-ins are settled; a fan-out to thousands of users at 30
        messages a second runs for minutes, and without this its heartbeat would look stale.
        """
        interval = timedelta(seconds=self.tick_seconds)
        while True:
            await asyncio.sleep(self.tick_seconds)
            progress = dispatcher.progress
            if progress is None or self.engine.clock() - progress.started_at < interval:
                continue
            await asyncio.to_thread(
                heartbeat.pulse, progress.started_at, progress.settled, progress.last_settled_at
            )

    async def _stop_dispatcher(self) -> None:
        pulse, self._pulse_task = self._pulse_task, None
        if pulse is not None:
            pulse.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pulse
        dispatcher, self.dispatcher = self.dispatcher, None
        if dispatcher is not None:
            await dispatcher.shutdown()


def build_application(
    settings: TelegramSettings,
    engine: DialogueEngine,
    *,
    reminders: ReminderService | None = None,
    tick_seconds: float = 60.0,
    request: BaseRequest | None = None,
    heartbeat: HeartbeatWriter | None = None,
    own_webhook_server: bool = False,
    admins: frozenset[int] = frozenset(),
    recorder: OperationsRecorder | None = None,
    count_users: bool = False,
) -> CoachApplication:
    """Wire the bot; ``request`` replaces the network for tests (used for every call).

    Without ``request`` the Bot API is called over aiohttp (``AiohttpRequest``): one instance
    for the bot's calls and one for the long poll, as PTB builds its own httpx ones.

    With ``reminders``, one dispatcher job sends the weekly check-ins every ``tick_seconds``;
    ``heartbeat`` is written at start, after every tick and at a clean stop. With
    ``own_webhook_server`` there is no Updater: ``WebhookServer`` feeds the update queue.
    ``recorder`` counts the sends for the operator's view; ``admins`` (Telegram user ids) may
    ask for it with /status. Its user figures need the engine's repository to be a
    ``StandingsRepository``, counted at start-up with admins or ``count_users`` (metrics).
    """
    application, _ = _build(
        settings,
        engine,
        reminders=reminders,
        tick_seconds=tick_seconds,
        request=request,
        heartbeat=heartbeat,
        own_webhook_server=own_webhook_server,
        admins=admins,
        recorder=recorder,
        count_users=count_users,
    )
    return application


def _build(
    settings: TelegramSettings,
    engine: DialogueEngine,
    *,
    reminders: ReminderService | None,
    tick_seconds: float,
    request: BaseRequest | None,
    heartbeat: HeartbeatWriter | None,
    own_webhook_server: bool,
    admins: frozenset[int],
    recorder: OperationsRecorder | None,
    count_users: bool,
) -> tuple[CoachApplication, _Lifecycle]:
    """The Application and the lifecycle whose hooks it calls (run_bot drives a webhook's)."""
    recorder = recorder or OperationsRecorder(engine.clock)
    limiter = PriorityRateLimiter(max_retries=_RATE_LIMIT_RETRIES, recorder=recorder)
    handlers = CoachHandlers(engine, reminders=reminders)
    lifecycle = _Lifecycle(
        engine, handlers, reminders, tick_seconds, heartbeat=heartbeat, recorder=recorder
    )
    view = _operator_view(engine, reminders, recorder, limiter, lifecycle)
    if heartbeat is not None:
        # The cheap figures go into every heartbeat, for `focus-coach health --details`.
        heartbeat.report(
            lambda: {
                HEARTBEAT_STATUS_KEY: heartbeat_status(
                    recorder, reminders, lambda: limiter.waiting
                )
            }
        )
    if (admins or count_users) and view is None:
        raise ValueError("the operator's view needs the repository to be a StandingsRepository")
    if view is not None and (admins or count_users):
        lifecycle.standings = view.repository
    if view is not None and admins:
        handlers.operator = OperatorAccess(admins, view)
    builder = (
        ApplicationBuilder()
        # The dispatcher is the one scheduler; PTB's JobQueue would start a second, idle one.
        .job_queue(None)
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Different users at once; one user's updates stay in order (CoachHandlers' locks).
        .concurrent_updates(True)
        # Telegram's limits (30/s overall, 1/s per chat for broadcasts); replies go first.
        .rate_limiter(limiter)
        .post_init(lifecycle.post_init)
        .post_stop(lifecycle.post_stop)
        .post_shutdown(lifecycle.post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        # One long poll at a time; Bot.get_updates adds its poll time to the read timeout.
        lifecycle.requests = (AiohttpRequest(_CONNECTIONS), AiohttpRequest(1))
        calls, long_poll = lifecycle.requests
        builder = builder.request(calls).get_updates_request(long_poll)
    if own_webhook_server:
        builder = builder.updater(None)
    application = builder.build()
    _register(application, handlers)
    application.bot_data[_VIEW] = view
    return application, lifecycle


_VIEW = "operator_view"  # bot_data key: the OperatorView of this application, or None


def _operator_view(
    engine: DialogueEngine,
    reminders: ReminderService | None,
    recorder: OperationsRecorder,
    limiter: PriorityRateLimiter,
    lifecycle: _Lifecycle,
) -> OperatorView | None:
    """The operator's view over the running parts; None without user standings to count."""
    repository = engine.repository
    if not isinstance(repository, StandingsRepository):
        return None
    return OperatorView(
        version=bot.__version__,
        recorder=recorder,
        repository=repository,
        reminders=reminders,
        last_tick=lifecycle.last_tick_at,
        queue=lambda: limiter.waiting,
    )


def run_bot(
    settings: TelegramSettings,
    engine: DialogueEngine,
    *,
    webhook: WebhookSettings | None = None,
    reminders: ReminderService | None = None,
    tick_seconds: float = 60.0,
    log: LogSettings | None = None,
    heartbeat: HeartbeatWriter | None = None,
    admins: frozenset[int] = frozenset(),
    metrics: MetricsSettings | None = None,
) -> None:
    """Long-poll, or serve ``webhook``, until SIGINT/SIGTERM; the repository is closed on exit.

    ``log`` sets the level and format of the log lines; ``heartbeat`` is written at start,
    after every dispatcher tick and at a clean stop, and judged by the webhook's ``/healthz``.
    ``admins`` may ask for /status; ``metrics`` serves the same figures to Prometheus.

    Raises:
        TokenRejectedError: Telegram does not accept the token.
        BotApiUnreachableError: the Bot API server cannot be reached.
        BotApiAnswerError: what answers at its address is not the Bot API (an HTML page).
        BotApiRefusedError: the Bot API refused to set (or delete) the webhook.
        WebhookListenError: the webhook server cannot listen on its address.
        MetricsListenError: the metrics endpoint cannot listen on its address.
    """
    # PTB 22 warns on every RetryAfter unless it may give retry_after as a timedelta; our rate
    # limiter reads either form, so opt in to the future behaviour.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    secrets = [settings.token] if webhook is None else [settings.token, webhook.secret]
    log = log or LogSettings()
    redactor = configure_logging(secrets, level=log.level, json_lines=log.json_lines)
    application, lifecycle = _build(
        settings,
        engine,
        reminders=reminders,
        tick_seconds=tick_seconds,
        request=None,
        heartbeat=heartbeat,
        own_webhook_server=webhook is not None,
        admins=admins,
        recorder=None,
        count_users=metrics is not None,
    )
    # Before getMe, so a taken port is said at once (its daemon thread ends with the process).
    metrics_server = _start_metrics(application.bot_data[_VIEW], metrics)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        _initialize(application, loop, redactor, lifecycle.requests)
        if webhook is None:
            application.run_polling(allowed_updates=list(ALLOWED_UPDATES), close_loop=True)
        else:
            _serve_webhook(application, webhook, lifecycle, loop)
    except InvalidToken:
        raise TokenRejectedError from None
    except BadRequest as error:  # a NetworkError in PTB's hierarchy, but an answer
        raise BotApiRefusedError(redactor.redact(error.message)) from None
    except NetworkError as error:
        raise BotApiUnreachableError(redactor.redact(str(error))) from None
    except TelegramError as error:
        raise BotApiRefusedError(redactor.redact(error.message)) from None
    except OSError as error:
        if webhook is None:
            raise
        raise WebhookListenError(
            f"cannot listen on {webhook.listen}:{webhook.port}: {error.strerror or error}"
        ) from None
    finally:
        if metrics_server is not None:
            metrics_server.stop()


def _start_metrics(
    view: OperatorView | None, metrics: MetricsSettings | None
) -> MetricsServer | None:
    """Serve the metrics endpoint, if asked for; MetricsListenError if it cannot listen."""
    if metrics is None or view is None:
        return None
    from bot.metrics import MetricsServer

    server = MetricsServer(view, metrics)
    try:
        server.start()
    except OSError as error:
        raise MetricsListenError(
            f"cannot listen on {metrics.listen}:{metrics.port} for metrics: "
            f"{error.strerror or error}"
        ) from None
    log.info("serving metrics on http://%s:%d/metrics", metrics.listen, metrics.port)
    return server


def _initialize(
    application: CoachApplication,
    loop: asyncio.AbstractEventLoop,
    redactor: TokenRedactor,
    requests: tuple[BaseRequest, ...],
) -> None:
    """Initialise (getMe) ourselves, so each way it fails is one BotStartError, not a traceback.

    PTB's own start-up retry loop would log a traceback instead. run_polling/run_webhook skip
    the done initialisation but still run post_init, so the reminder job starts in either mode.
    A failed getMe leaves ``requests`` open (PTB shuts down only what initialised): they are
    closed here, before the loop, or aiohttp would log its unclosed session at exit.
    """
    try:
        with not_json_reported_by_caller():
            loop.run_until_complete(application.initialize())
    except TelegramError as error:
        _close(requests, loop)
        raise _start_error(error, redactor) from None
    except (KeyError, TypeError, AttributeError) as error:
        # PTB takes the answer's "result" as a getMe result without checking: JSON, but not
        # the Bot API's ({"ok": true} alone, a list ...).
        _close(requests, loop)
        what = redactor.redact(f"{type(error).__name__}: {error}")
        raise BotApiAnswerError(f"its answer to getMe is JSON but no bot ({what})") from None


def _close(requests: tuple[BaseRequest, ...], loop: asyncio.AbstractEventLoop) -> None:
    """Shut the transports down (each tolerates a second shutdown), then close the loop."""
    try:
        for request in requests:
            loop.run_until_complete(request.shutdown())
    finally:
        loop.close()


def _start_error(error: TelegramError, redactor: TokenRedactor) -> BotStartError:
    """The BotStartError for a failed getMe."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ValueError):
        cause = cause.__cause__
    if cause is not None:
        # PTB could not parse the answer: whatever the HTTP status, not Telegram speaking.
        preview = not_json_preview(cause, redactor.redact)
        return BotApiAnswerError(f"its answer to getMe is not JSON; it starts with {preview}")
    if isinstance(error, InvalidToken):
        return TokenRejectedError()  # its message quotes the token
    if isinstance(error, NetworkError):
        return BotApiUnreachableError(redactor.redact(str(error)))
    return BotApiRefusedError(redactor.redact(error.message))


def _serve_webhook(
    application: CoachApplication,
    webhook: WebhookSettings,
    lifecycle: _Lifecycle,
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Set the webhook (with its secret) and serve it with our own server, then close the loop."""
    # The URL's path (or user info) may be what keeps the webhook unguessable: only the host
    # is logged.
    log.info(
        "receiving updates by webhook: listening on %s:%d for %s",
        webhook.listen,
        webhook.port,
        urlsplit(webhook.url).hostname,
    )
    try:
        loop.run_until_complete(_webhook_lifecycle(application, webhook, lifecycle))
    finally:
        loop.close()


async def _webhook_lifecycle(
    application: CoachApplication, webhook: WebhookSettings, lifecycle: _Lifecycle
) -> None:
    """What run_webhook did, around our server: start, serve until a stop signal, stop.

    PTB calls post_init, post_stop and post_shutdown only inside run_polling/run_webhook, so
    they are called here, in PTB's order: post_stop only after a started application stopped,
    post_shutdown always (it closes the data folder). Stopping finishes the updates already
    received and then the dispatcher's sends, as run_webhook did.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    heartbeat = lifecycle.heartbeat
    health: Callable[[], Health] | None = None
    if heartbeat is not None:
        data_dir = heartbeat.path.parent

        def health() -> Health:
            return check_health(data_dir, now=datetime.now(UTC))

    server = WebhookServer(
        url_path=webhook.url_path,
        bot=application.bot,
        queue=application.update_queue,
        secret=webhook.secret,
        health=health,
    )
    try:
        await lifecycle.post_init(application)
        # As PTB: the webhook is set first, then the port opens (a taken port is reported).
        await application.bot.set_webhook(
            url=webhook.url,
            secret_token=webhook.secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        server.listen(webhook.listen, webhook.port)
        await application.start()
        await stop.wait()
        log.info("stopping: finishing the updates received and the check-ins in flight")
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
        await server.shutdown()
        if application.running:
            await application.stop()
            await lifecycle.post_stop(application)
        await application.shutdown()
        await lifecycle.post_shutdown(application)
