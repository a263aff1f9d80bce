"""The composition root of the Telegram bot: build the Application, wire handlers, run it."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, TypeAlias

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import TelegramSettings
from bot.core.engine import DialogueEngine
from bot.telegram.handlers import CoachHandlers
from bot.telegram.logs import configure_logging
from bot.telegram.menu import publish_menu

__all__ = [
    "ALLOWED_UPDATES",
    "BotApiUnreachableError",
    "TokenRejectedError",
    "build_application",
    "run_bot",
]

log = logging.getLogger(__name__)

# Only what the handlers use; everything else Telegram would send is noise.
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER)
# A 429 from Telegram is waited out and retried this often before the reply is given up.
_RATE_LIMIT_RETRIES = 3

# What ApplicationBuilder builds with a rate limiter whose per-call argument is an int.
CoachApplication: TypeAlias = Application[
    ExtBot[int],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]


class TokenRejectedError(Exception):
    """Telegram answered the token with 401/404: it is wrong or revoked."""


class BotApiUnreachableError(Exception):
    """The Bot API server did not answer at start-up."""


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
    # 4. Private commands and free text go to the engine alike (it knows every command).
    application.add_handler(
        MessageHandler(private & new_message & filters.TEXT, handlers.on_message)
    )
    # 5. Anything else in private (photo, sticker, voice ...): "text and buttons only".
    application.add_handler(MessageHandler(private & new_message, handlers.on_other_message))
    application.add_error_handler(handlers.on_error)


async def _post_init(engine: DialogueEngine, application: CoachApplication) -> None:
    """Publish the command menu once the token is known to work (getMe ran in initialize)."""
    await publish_menu(application.bot, engine.content)
    log.info("Fokus-Coach is running as @%s", application.bot.username)


async def _post_shutdown(engine: DialogueEngine, application: CoachApplication) -> None:
    """Release the data folder (the engine calls have all finished by now)."""
    engine.repository.close()


def build_application(
    settings: TelegramSettings, engine: DialogueEngine, *, request: BaseRequest | None = None
) -> CoachApplication:
    """Wire the bot; ``request`` replaces the network for tests (used for every call)."""
    builder = (
        ApplicationBuilder()
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
        .rate_limiter(AIORateLimiter(max_retries=_RATE_LIMIT_RETRIES))
        .post_init(partial(_post_init, engine))
        .post_shutdown(partial(_post_shutdown, engine))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    _register(application, CoachHandlers(engine))
    return application


def run_bot(settings: TelegramSettings, engine: DialogueEngine) -> None:
    """Long-poll until SIGINT/SIGTERM; the repository is closed on the way out.

    Raises:
        TokenRejectedError: Telegram does not accept the token.
        BotApiUnreachableError: the Bot API server cannot be reached.
    """
    redactor = configure_logging([settings.token])
    application = build_application(settings, engine)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Initialise (getMe) ourselves: a bad token then surfaces as one clear error instead of
    # the traceback PTB's start-up retry loop logs. run_polling skips the done initialisation.
    try:
        loop.run_until_complete(application.initialize())
    except InvalidToken:
        loop.close()
        raise TokenRejectedError from None  # its message quotes the token
    except NetworkError as error:
        loop.close()
        raise BotApiUnreachableError(redactor.redact(str(error))) from None
    application.run_polling(allowed_updates=list(ALLOWED_UPDATES), close_loop=True)
