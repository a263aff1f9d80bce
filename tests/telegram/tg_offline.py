"""Real python-telegram-bot objects on an offline request: calls are recorded, answers canned.

``RecordingRequest`` is a ``BaseRequest`` (PTB's own tests use the same seam, see
``tests/auxil/networking.py`` there): every Bot API call lands in ``calls`` with its decoded
parameters and files, and gets a plausible answer built from those parameters. Errors can be
queued per method. ``updates`` builds the JSON Telegram would send, parsed into real ``Update``s.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Fokus-Coach",
    "username": "fokus_coach_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TOKEN = "7000000001:AAOfflineTokenForAdapterTests-0123456789"


@dataclass
class Call:
    """One Bot API call: method name, decoded parameters, uploaded files (name, bytes)."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    result: Any = None

    @property
    def message_id(self) -> int:
        """Id of the message this call created or changed."""
        return int(self.result["message_id"])


class RecordingRequest(BaseRequest):
    """Answers every Bot API call from memory and records it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._message_ids = itertools.count(500)

    # --- test controls ---------------------------------------------------------------------

    def fail_next(self, method: str, code: int, description: str) -> None:
        """Answer the next call of ``method`` with a Bot API error."""
        self._failures.setdefault(method, []).append((code, description))

    def of(self, *methods: str) -> list[Call]:
        """Calls of these methods, in order."""
        return [call for call in self.calls if call.method in methods]

    def clear(self) -> None:
        """Forget the calls so far."""
        self.calls.clear()

    # --- BaseRequest -----------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None and request_data.contains_files:
            for part, value in request_data.multipart_data.items():
                filename, content = value[0], value[1]
                files[part] = (str(filename), content if isinstance(content, bytes) else b"")
        call = Call(name, params, files)
        self.calls.append(call)
        queued = self._failures.get(name)
        if queued:
            code, description = queued.pop(0)
            body = {"ok": False, "error_code": code, "description": description}
            return code, json.dumps(body).encode()
        call.result = self._result(name, params, files)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()

    def _result(self, name: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendDocument", "sendPhoto"):
            return self._message(params, next(self._message_ids), files)
        if name in ("editMessageText", "editMessageReplyMarkup"):
            return self._message(params, int(params["message_id"]), files)
        return True

    @staticmethod
    def _message(params: dict[str, Any], message_id: int, files: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": 1_780_000_000,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
        }
        if "document" in files:
            message["document"] = {
                "file_id": "BQAC-offline",
                "file_unique_id": "AgAD-offline",
                "file_name": files["document"][0],
            }
        elif "photo" in files:
            message["photo"] = [
                {
                    "file_id": "AgAC-offline",
                    "file_unique_id": "AQAD-offline",
                    "width": 1000,
                    "height": 625,
                }
            ]
        else:
            message["text"] = params.get("text", "")
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message


# --- updates as Telegram sends them ----------------------------------------------------------

_update_ids = itertools.count(1)
_query_ids = itertools.count(1)


def user_json(user_id: int, language_code: str | None = "de") -> dict[str, Any]:
    """A Telegram ``User``."""
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if language_code:
        data["language_code"] = language_code
    return data


def chat_json(chat_id: int) -> dict[str, Any]:
    """A private chat for positive ids, a group for negative ones."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
    return {"id": chat_id, "type": "group", "title": "Testgruppe"}


def message_update(
    bot: Bot,
    text: str | None,
    *,
    user_id: int = 1001,
    chat_id: int | None = None,
    language_code: str | None = "de",
    message_id: int = 1,
    command: bool = False,
    extra: dict[str, Any] | None = None,
) -> Update:
    """A new message; ``command`` adds the bot_command entity Telegram sets for ``/name``."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": 1_780_000_000,
        "chat": chat_json(chat_id if chat_id is not None else user_id),
        "from": user_json(user_id, language_code),
        **(extra or {}),
    }
    if text is not None:
        message["text"] = text
    if command and text:
        length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return Update.de_json({"update_id": next(_update_ids), "message": message}, bot)


def callback_update(
    bot: Bot,
    data: str,
    *,
    message_id: int,
    user_id: int = 1001,
    chat_id: int | None = None,
    language_code: str | None = "de",
) -> Update:
    """A button press on the bot's message ``message_id``."""
    chat = chat_json(chat_id if chat_id is not None else user_id)
    query = {
        "id": str(next(_query_ids)),
        "from": user_json(user_id, language_code),
        "chat_instance": "42",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": 1_780_000_000,
            "chat": chat,
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "text": "?",
        },
    }
    return Update.de_json({"update_id": next(_update_ids), "callback_query": query}, bot)


def my_chat_member_update(
    bot: Bot, *, chat_id: int, user_id: int, old: str, new: str, language_code: str = "en"
) -> Update:
    """The bot's own membership in a chat changed (blocked, unblocked, added to a group)."""
    bot_user = {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")}
    change = {
        "chat": chat_json(chat_id),
        "from": user_json(user_id, language_code),
        "date": 1_780_000_000,
        "old_chat_member": {"user": bot_user, "status": old, **_until(old)},
        "new_chat_member": {"user": bot_user, "status": new, **_until(new)},
    }
    return Update.de_json({"update_id": next(_update_ids), "my_chat_member": change}, bot)


def _until(status: str) -> dict[str, Any]:
    return {"until_date": 0} if status == "kicked" else {}
