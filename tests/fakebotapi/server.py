"""The HTTP side of the fake Bot API (aiohttp): routing, parameters, errors, long polling.

Serves ``/bot<TOKEN>/<method>`` like api.telegram.org. Runs on one event loop (the background
thread of FakeTelegram); the test thread talks to it only through the thread-safe world and
``inject_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import traceback
from typing import Any

from aiohttp import web

from .methods import METHODS, api_error_for, canonical_name
from .model import ApiError, InjectedError, JSONDict, RawAnswerError, UploadedFile
from .state import TelegramWorld

_LOG = logging.getLogger(__name__)
_PATH = re.compile(r"/bot([^/]+)/([A-Za-z0-9_]*)/?")
MAX_BODY_BYTES = 64 * 1024 * 1024
_UPDATES_PER_CALL = 100

# Parameters whose form value is a plain string; every other form value is JSON-decoded
# (python-telegram-bot JSON-encodes numbers, booleans, lists and objects, but not strings).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "language_code",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "description",
        "short_description",
        "name",
        "title",
        "business_connection_id",
        "message_effect_id",
    }
)


def decode_value(name: str, value: Any) -> Any:
    """Decode one parameter the way Telegram does: JSON where it parses, else the raw string."""
    if not isinstance(value, str) or name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> JSONDict:
    """Parameters from the query string and a JSON, url-encoded or multipart body."""
    params: JSONDict = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        data = value.file.read()
                    params[key] = UploadedFile(key, value.filename, value.content_type, data)
                else:
                    params[key] = value
    return {name: decode_value(name, value) for name, value in params.items()}


def _answer(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(error: ApiError) -> web.Response:
    if isinstance(error, RawAnswerError):
        return web.Response(
            status=error.error_code, text=error.body, content_type=error.content_type
        )
    return web.json_response(error.to_json(), status=error.error_code)


class FakeBotApiServer:
    """aiohttp application serving the Bot API methods of the fake world."""

    def __init__(self, world: TelegramWorld, tokens: set[str]) -> None:
        self.world = world
        self.valid_tokens = tokens
        self.latency = 0.0
        """Seconds to wait before answering each request (simulated network round trip)."""
        self._closing = False
        self._poll_generation = 0
        self._updates_arrived: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    # --- test-facing -------------------------------------------------------------------------

    def inject_error(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally for one chat) with an error.

        Thread-safe. ``description`` defaults to Telegram's wording for the code (403: "Forbidden:
        bot was blocked by the user", 429: "Too Many Requests: retry after N", ...).
        """
        error = api_error_for(error_code, description, retry_after)
        self.world.add_injected_error(InjectedError(canonical_name(method), error, chat_id, times))

    def inject_raw_answer(
        self, method: str, status: int, body: str, content_type: str = "text/html", times: int = 1
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``body`` as it is (not JSON).

        Thread-safe. What a proxy or captive portal in front of the Bot API may send.
        """
        answer = RawAnswerError(status, body, content_type)
        self.world.add_injected_error(InjectedError(canonical_name(method), answer, None, times))

    # --- lifecycle (on the server loop) ------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port (port 0 picks a free one, see ``self.port``)."""
        self._updates_arrived = asyncio.Event()
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port = self._socket.getsockname()[1]
        await web.SockSite(self._runner, self._socket).start()

    async def stop(self) -> None:
        """Answer waiting long polls with no updates and shut down."""
        self._closing = True
        self.wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._socket is not None:
            self._socket.close()

    def wake_pollers(self) -> None:
        """Wake every waiting getUpdates (call on the server loop)."""
        if self._updates_arrived is not None:
            self._updates_arrived.set()
            self._updates_arrived = asyncio.Event()

    # --- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        match = _PATH.fullmatch(request.path)
        if match is None:
            return _error(ApiError(404, "Not Found"))
        token, method = match.groups()
        if token not in self.valid_tokens:
            return _error(ApiError(401, "Unauthorized"))
        try:
            params = await read_params(request)
        except ValueError:
            return _error(ApiError(400, "Bad Request: can't parse request body"))
        try:
            name = canonical_name(method)
        except ValueError:
            name = method
        record = self.world.record_request(name, params, token)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        try:
            result = await self._call(name, params)
        except ApiError as error:
            self.world.finish_request(record, error.error_code, error.description)
            return _error(error)
        except Exception as error:
            _LOG.exception("fake Bot API failed on %s", name)
            with self.world.lock:
                self.world.internal_errors.append(
                    f"{name}: {error!r}\n{traceback.format_exc(limit=5)}"
                )
            self.world.finish_request(record, 500, repr(error))
            return _error(ApiError(500, f"Internal Server Error: fake Bot API: {error!r}"))
        self.world.finish_request(record, 200, None)
        return _answer(result)

    async def _call(self, name: str, params: JSONDict) -> Any:
        if name not in METHODS and name != "getUpdates":
            raise ApiError(404, "Not Found")
        injected = self.world.take_injected_error(name, params)
        if injected is not None:
            raise injected
        if name == "getUpdates":
            return await self._get_updates(params)
        with self.world.lock:
            return METHODS[name](self.world, params)

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long polling: wait up to ``timeout`` s for updates; a newer poll ends this one (409)."""
        with self.world.lock:
            if self.world.webhook.url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
        offset = params.get("offset")
        limit = params.get("limit")
        allowed = params.get("allowed_updates")
        timeout = float(params.get("timeout") or 0)
        limit = min(max(int(limit), 1), _UPDATES_PER_CALL) if limit else _UPDATES_PER_CALL
        self._poll_generation += 1
        generation = self._poll_generation
        self.wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        updates = self.world.take_updates(
            None if offset is None else int(offset),
            limit,
            allowed if isinstance(allowed, list) else None,
        )
        while not updates and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            arrived = self._updates_arrived
            assert arrived is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            updates = self.world.take_updates(None, limit, None)
        return updates
