"""Bot API methods of the fake, one function each, run under the world lock.

Each takes the world and the decoded parameters and returns the ``result`` or raises ApiError
with Telegram's wording. ``getUpdates`` waits, so the server implements it (see server.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .entities import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    EntityParseError,
    ParsedText,
    parse_text,
)
from .model import (
    BOT_SENDER,
    ApiError,
    CallbackAnswer,
    ChatRecord,
    FileRecord,
    JSONDict,
    MessageRecord,
    UploadedFile,
    bad_request,
)
from .state import TelegramWorld, now_timestamp

Method = Callable[[TelegramWorld, JSONDict], Any]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
MAX_CALLBACK_DATA_BYTES = 64
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# --- parameter helpers -----------------------------------------------------------------------


def _int(params: JSONDict, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"wrong parameter {name} in request") from None


def _bool(params: JSONDict, name: str) -> bool:
    return params.get(name) in (True, 1, "true", "True", "1")


def _json_list(value: Any, name: str) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON array") from None
    if not isinstance(value, list):
        raise bad_request(f"can't parse {name} JSON array")
    return value


def _parsed(params: JSONDict, text_key: str, entities_key: str) -> ParsedText:
    source = params.get(text_key)
    if not isinstance(source, str):
        source = "" if source is None else str(source)
    try:
        return parse_text(source, _parse_mode(params), params.get(entities_key))
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None


def _parse_mode(params: JSONDict) -> str | None:
    value = params.get("parse_mode")
    return value if isinstance(value, str) and value else None


def _reply_markup(params: JSONDict, *, inline_only: bool = False) -> JSONDict | None:
    """Validate ``reply_markup`` like Telegram: an inline keyboard, or (when sending) a reply
    keyboard or its removal."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "keyboard" in markup or "remove_keyboard" in markup:
        if inline_only:
            # Telegram edits inline keyboards only; a reply keyboard comes with a new message.
            raise bad_request("inline keyboard expected")
        _check_reply_keyboard(markup)
        return markup
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
    return markup


def _check_reply_keyboard(markup: JSONDict) -> None:
    if "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
        return
    rows = markup["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) and row for row in rows):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise bad_request("can't parse keyboard button: Text must be non-empty")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    elif not any(
        key in button
        for key in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
    ):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def _own_message(world: TelegramWorld, params: JSONDict, missing: str) -> MessageRecord:
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = world.writable_chat(params.get("chat_id"))
    message_id = _int(params, "message_id")
    message = world.messages.get((chat.id, message_id or 0))
    if message is None or message.deleted:
        raise bad_request(missing)
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _store_text(message: MessageRecord, source: str, params: JSONDict, parsed: ParsedText) -> None:
    message.source = source
    message.text = parsed.text
    message.entities = parsed.entities
    message.parse_mode = _parse_mode(params)


# --- methods ---------------------------------------------------------------------------------


def get_me(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """getMe: the bot user."""
    return world.bot.to_get_me()


def log_out(world: TelegramWorld, params: JSONDict) -> bool:
    """logOut / close: nothing to do in a fake."""
    return True


def get_chat(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """getChat: ChatFullInfo of a known chat."""
    return world.find_chat(params.get("chat_id")).to_full_info()


def set_webhook(world: TelegramWorld, params: JSONDict) -> bool:
    """setWebhook: record it (an empty url removes it)."""
    url = str(params.get("url") or "")
    if url and not url.startswith("https://") and not url.startswith("http://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook.url = url
    secret = params.get("secret_token")
    world.webhook.secret_token = str(secret) if secret else None
    world.webhook.max_connections = _int(params, "max_connections")
    world.webhook.allowed_updates = _json_list(params.get("allowed_updates"), "allowed_updates")
    if _bool(params, "drop_pending_updates"):
        world.drop_pending_updates()
    return True


def delete_webhook(world: TelegramWorld, params: JSONDict) -> bool:
    """deleteWebhook: forget the webhook (and maybe the queued updates)."""
    world.webhook.url = ""
    world.webhook.secret_token = None
    if _bool(params, "drop_pending_updates"):
        world.drop_pending_updates()
    return True


def get_webhook_info(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """getWebhookInfo."""
    info: JSONDict = {
        "url": world.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending_updates),
    }
    if world.webhook.max_connections is not None:
        info["max_connections"] = world.webhook.max_connections
    if world.webhook.allowed_updates is not None:
        info["allowed_updates"] = world.webhook.allowed_updates
    return info


def _commands_key(params: JSONDict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    if isinstance(scope, str):
        scope = json.loads(scope)
    language = params.get("language_code") or ""
    return json.dumps(scope, sort_keys=True), str(language)


def set_my_commands(world: TelegramWorld, params: JSONDict) -> bool:
    """setMyCommands per scope and language."""
    commands = _json_list(params.get("commands"), "commands") or []
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
            str(command.get("command", ""))
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    world.commands[_commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


def get_my_commands(world: TelegramWorld, params: JSONDict) -> list[JSONDict]:
    """getMyCommands for exactly this scope and language."""
    return list(world.commands.get(_commands_key(params), []))


def delete_my_commands(world: TelegramWorld, params: JSONDict) -> bool:
    """deleteMyCommands for this scope and language."""
    world.commands.pop(_commands_key(params), None)
    return True


# setMyDescription / setMyShortDescription: the parameter and Telegram's limit.
_PROFILE_TEXTS = {"description": 512, "short_description": 120}


def _set_profile_text(world: TelegramWorld, params: JSONDict, field: str) -> bool:
    text = params.get(field) or ""
    if not isinstance(text, str) or len(text) > _PROFILE_TEXTS[field]:
        raise bad_request(f"BOT_{field.upper()}_INVALID")
    key = (field, str(params.get("language_code") or ""))
    if text:
        world.profile[key] = text
    else:
        world.profile.pop(key, None)  # an empty text removes it for this language
    return True


def set_my_description(world: TelegramWorld, params: JSONDict) -> bool:
    """setMyDescription for a language (or the default)."""
    return _set_profile_text(world, params, "description")


def get_my_description(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """getMyDescription for exactly this language."""
    key = ("description", str(params.get("language_code") or ""))
    return {"description": world.profile.get(key, "")}


def set_my_short_description(world: TelegramWorld, params: JSONDict) -> bool:
    """setMyShortDescription for a language (or the default)."""
    return _set_profile_text(world, params, "short_description")


def get_my_short_description(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """getMyShortDescription for exactly this language."""
    key = ("short_description", str(params.get("language_code") or ""))
    return {"short_description": world.profile.get(key, "")}


def send_chat_action(world: TelegramWorld, params: JSONDict) -> bool:
    """sendChatAction: record it."""
    chat = world.writable_chat(params.get("chat_id"))
    action = params.get("action")
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.chat_actions.append((chat.id, str(action)))
    return True


def send_message(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """sendMessage with parse_mode, entities and reply_markup checks."""
    chat = world.writable_chat(params.get("chat_id"))
    parsed = _parsed(params, "text", "entities")
    if not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    markup = _reply_markup(params)
    message = world.add_message(chat, BOT_SENDER, "text")
    _store_text(message, str(params.get("text")), params, parsed)
    message.reply_markup = markup
    if markup is not None and "keyboard" in markup:
        chat.reply_keyboard = [
            [b if isinstance(b, dict) else {"text": b} for b in row] for row in markup["keyboard"]
        ]
    elif markup is not None and markup.get("remove_keyboard"):
        chat.reply_keyboard = None
    return world.message_json(message)


def edit_message_text(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """editMessageText; without reply_markup the keyboard goes away, as in Telegram."""
    message = _own_message(world, params, "message to edit not found")
    if message.file is not None:
        raise bad_request("there is no text in the message to edit")
    parsed = _parsed(params, "text", "entities")
    if not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > MAX_TEXT_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    markup = _reply_markup(params, inline_only=True)
    if (parsed.text, parsed.entities, markup) == (
        message.text,
        message.entities,
        message.reply_markup,
    ):
        raise bad_request(NOT_MODIFIED)
    _store_text(message, str(params.get("text")), params, parsed)
    message.reply_markup = markup
    _mark_edited(world, message)
    return world.message_json(message)


def edit_message_reply_markup(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """editMessageReplyMarkup."""
    message = _own_message(world, params, "message to edit not found")
    markup = _reply_markup(params, inline_only=True)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    _mark_edited(world, message)
    return world.message_json(message)


def _mark_edited(world: TelegramWorld, message: MessageRecord) -> None:
    message.edited_count += 1
    message.edit_date = now_timestamp()
    world.bump_revision(message)


def delete_message(world: TelegramWorld, params: JSONDict) -> bool:
    """deleteMessage (bots may delete their own and, in private chats, the user's messages)."""
    chat = world.find_chat(params.get("chat_id"))
    message = world.messages.get((chat.id, _int(params, "message_id") or 0))
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    if not message.from_bot and chat.type != "private":
        raise bad_request("message can't be deleted")
    message.deleted = True
    world.bump_revision(message)
    return True


def answer_callback_query(world: TelegramWorld, params: JSONDict) -> bool:
    """answerCallbackQuery: once per press; unknown or repeated ids fail like Telegram."""
    query = world.callback_queries.get(str(params.get("callback_query_id")))
    if query is None or query.answer is not None:
        raise bad_request(QUERY_INVALID)
    text = params.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    url = params.get("url")
    query.answer = CallbackAnswer(
        query_id=query.query_id,
        callback_data=query.data,
        message_id=query.message_id,
        text=None if text is None else str(text),
        show_alert=_bool(params, "show_alert"),
        url=None if url is None else str(url),
        cache_time=_int(params, "cache_time"),
    )
    return True


def _upload(world: TelegramWorld, params: JSONDict, kind: str) -> FileRecord:
    value = params.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value.removeprefix("attach://"))
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        default_type = "image/jpeg" if kind == "photo" else "application/octet-stream"
        mime_type = value.content_type or default_type
        return world.add_file(kind, value.filename, mime_type, value.data)
    if isinstance(value, str) and value in world.files:
        return world.files[value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return world.add_file(kind, value.rsplit("/", 1)[-1], "application/octet-stream", b"")
    raise bad_request("wrong file identifier/HTTP URL specified")


def _send_file(world: TelegramWorld, params: JSONDict, kind: str) -> JSONDict:
    chat: ChatRecord = world.writable_chat(params.get("chat_id"))
    parsed = _parsed(params, "caption", "caption_entities")
    if len(parsed.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    markup = _reply_markup(params)
    record = _upload(world, params, kind)
    message = world.add_message(chat, BOT_SENDER, kind)
    message.file = record
    _store_text(message, str(params.get("caption") or ""), params, parsed)
    message.reply_markup = markup
    return world.message_json(message)


def send_document(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """sendDocument: multipart upload, a known file_id, or a URL."""
    return _send_file(world, params, "document")


def send_photo(world: TelegramWorld, params: JSONDict) -> JSONDict:
    """sendPhoto: multipart upload, a known file_id, or a URL."""
    return _send_file(world, params, "photo")


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "logOut": log_out,
    "close": log_out,
    "getChat": get_chat,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setMyDescription": set_my_description,
    "getMyDescription": get_my_description,
    "setMyShortDescription": set_my_short_description,
    "getMyShortDescription": get_my_short_description,
    "sendChatAction": send_chat_action,
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendDocument": send_document,
    "sendPhoto": send_photo,
}
"""Synchronous methods; ``getUpdates`` is served by the server itself."""

CANONICAL_NAMES: dict[str, str] = {name.lower(): name for name in [*METHODS, "getUpdates"]}
"""Lower-case method name -> Telegram's spelling (method names are case-insensitive)."""


def canonical_name(method: str) -> str:
    """Telegram's spelling of a method name; ValueError for methods the fake does not serve."""
    try:
        return CANONICAL_NAMES[method.lower()]
    except KeyError:
        raise ValueError(f"the fake Bot API does not serve {method!r}") from None


def api_error_for(error_code: int, description: str | None, retry_after: int | None) -> ApiError:
    """An ApiError with Telegram's default wording for common codes."""
    if description is None:
        description = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
            429: f"Too Many Requests: retry after {retry_after}",
            502: "Bad Gateway",
        }.get(error_code, "Internal Server Error")
    return ApiError(error_code, description, retry_after)
