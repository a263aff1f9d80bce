"""The webhook server: Telegram's updates on the webhook path, and ``GET /healthz``.

PTB's ``run_webhook`` serves the update path only and has no hook for another route, so, as PTB
documents for a custom webhook server, the Application is built without an Updater and this
server (tornado, which PTB's ``webhooks`` extra installs anyway) puts each update on the
Application's ``update_queue``. It does what PTB's server did and a little more:

- the secret header is compared in constant time; without it or with a wrong one: 403, before
  the body is read;
- a body over ``MAX_UPDATE_BYTES``: 413; a body that is no update (not JSON, not an object, not
  an update): 400; another method on the update path: 405; any other path: 404;
- ``GET /healthz`` answers 200 "ok" while the heartbeat is fresh and 503 with the reason
  otherwise (no secret needed: it says nothing but that line).

Nothing is logged per request (tornado's access log would print the webhook's path, which may
be what keeps it unguessable); refusals go to DEBUG with their status and method only.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final

import tornado.web
from telegram import Update
from telegram.ext import ExtBot
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPServer

from bot.heartbeat import Health

__all__ = ["HEALTH_PATH", "MAX_UPDATE_BYTES", "SECRET_HEADER", "WebhookServer"]

logger = logging.getLogger(__name__)

HEALTH_PATH: Final = "/healthz"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
# An update is a few kilobytes (a message is at most 4096 characters); a megabyte is no update.
MAX_UPDATE_BYTES: Final = 1024 * 1024
# A client that opens a connection and sends nothing, or a body slowly, is dropped after these.
_IDLE_SECONDS: Final = 75.0
_BODY_SECONDS: Final = 30.0


class _RefusedError(Exception):
    """A request that gets an error status (and a one-line reason) instead of being served."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _PlainErrors(tornado.web.RequestHandler):
    """Error answers as one line of plain text; no request logged past DEBUG."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write the reason (never a traceback)."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{self._reason}\n")

    def log_exception(self, *args: Any) -> None:
        """Refusals are ordinary; they are logged at DEBUG in ``on_finish``."""

    def on_finish(self) -> None:
        """Log a refused request at DEBUG, without its path."""
        if self.get_status() >= HTTPStatus.BAD_REQUEST:
            logger.debug(
                "webhook server: %d for a %s request", self.get_status(), self.request.method
            )


@tornado.web.stream_request_body
class _UpdateHandler(_PlainErrors):
    """POST of one update: checked, parsed and put on the Application's queue."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: ExtBot[Any], queue: asyncio.Queue[object], secret: str) -> None:
        """Per request: where updates go and the secret they must carry."""
        self._bot = bot
        self._queue = queue
        self._secret = secret.encode("utf-8")
        self._body = bytearray()
        self._too_big = False
        self._refusal: _RefusedError | None = None

    def prepare(self) -> None:
        """Check the secret; refuse a body announced too big at once, without reading it.

        A wrong secret is answered after the (small) body is read: closing a connection with
        unread data makes the kernel reset it, and the client may lose the 403 with it.
        """
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            self._refusal = _RefusedError(HTTPStatus.FORBIDDEN, "wrong or missing secret token")
        announced = self.request.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > MAX_UPDATE_BYTES:
            # Tornado would answer a second time (400) for a body over its own limit; the
            # connection is closed after this answer anyway, with the body unread.
            connection = self.request.connection
            if isinstance(connection, HTTP1Connection):
                connection.set_max_body_size(int(announced))
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, reason="too big for an update")

    def data_received(self, chunk: bytes) -> None:
        """Collect the body, up to ``MAX_UPDATE_BYTES`` (a chunked body has no announced size)."""
        if self._refusal is not None or self._too_big:
            return
        if len(self._body) + len(chunk) > MAX_UPDATE_BYTES:
            self._too_big = True
            self._body.clear()
        else:
            self._body.extend(chunk)

    async def post(self) -> None:
        """Queue the update; 200 once it is queued, an error status if it is none."""
        try:
            if self._refusal is not None:
                raise self._refusal
            update = self._update()
        except _RefusedError as refused:
            self.send_error(refused.status, reason=refused.reason)
            return
        self._bot.insert_callback_data(update)
        await self._queue.put(update)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("ok\n")

    def _update(self) -> Update:
        if self._too_big:
            raise _RefusedError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too big for an update")
        try:
            data = json.loads(self._body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _RefusedError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise _RefusedError(HTTPStatus.BAD_REQUEST, "the body is not a JSON object")
        try:
            update = Update.de_json(data, self._bot)
        except Exception as error:
            # The secret was right, so this came from Telegram (or a test) and matters; only
            # the kind of error is logged: an update carries what users wrote.
            logger.warning(
                "an update from the webhook could not be read (%s)", type(error).__name__
            )
            raise _RefusedError(HTTPStatus.BAD_REQUEST, "the body is not an update") from None
        return update


class _HealthHandler(_PlainErrors):
    """GET /healthz: 200 "ok" while the heartbeat is fresh, 503 with the reason otherwise."""

    SUPPORTED_METHODS = ("GET",)

    def initialize(self, health: Callable[[], Health]) -> None:
        """Per request: how to judge the heartbeat."""
        self._health = health

    async def get(self) -> None:
        """Judge the heartbeat (a file read, off the event loop) and answer."""
        verdict = await asyncio.to_thread(self._health)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if verdict.healthy:
            self.finish("ok\n")
        else:
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            self.finish(f"{verdict.line}\n")


class WebhookServer:
    """The HTTP server of webhook mode; ``listen`` binds, ``shutdown`` stops it."""

    def __init__(
        self,
        *,
        url_path: str,
        bot: ExtBot[Any],
        queue: asyncio.Queue[object],
        secret: str,
        health: Callable[[], Health] | None,
    ) -> None:
        """Serve updates on ``url_path`` (and its form with a trailing slash, as PTB did).

        The update path comes first, so a webhook path of ``/healthz`` stays the webhook's.
        """
        path = "/" + url_path.strip("/") if url_path.strip("/") else "/"
        routes: list[Any] = [
            (
                re.escape(path.rstrip("/")) + "/?",
                _UpdateHandler,
                {
                    "bot": bot,
                    "queue": queue,
                    "secret": secret,
                },
            )
        ]
        if health is not None:
            routes.append((re.escape(HEALTH_PATH), _HealthHandler, {"health": health}))
        application = tornado.web.Application(routes, log_function=_no_access_log)
        # Above the update limit: a chunked body is cut off by tornado only far beyond it (and
        # answered 413 by the handler before that).
        self._server = HTTPServer(
            application,
            max_body_size=4 * MAX_UPDATE_BYTES,
            idle_connection_timeout=_IDLE_SECONDS,
            body_timeout=_BODY_SECONDS,
        )
        self._listening = False

    def listen(self, address: str, port: int) -> None:
        """Bind and accept connections (on the running loop).

        Raises:
            OSError: the address cannot be bound (the port is taken, the address is not ours).
        """
        self._server.listen(port, address=address)
        self._listening = True

    async def shutdown(self) -> None:
        """Stop accepting connections and close the open ones (their updates are queued)."""
        if not self._listening:
            return
        self._listening = False
        self._server.stop()
        await self._server.close_all_connections()


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log would name the webhook's path; ``on_finish`` logs refusals."""
