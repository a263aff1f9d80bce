"""PTB's ``BaseRequest`` over aiohttp: the Bot API calls at a fifth of httpx's CPU per call.

PTB sends through httpx by default; per ``sendMessage`` at 16 in flight that costs about 2.7 ms
of CPU (busy 2-core machine), most of it in httpx/httpcore/anyio, against about 0.5 ms over
aiohttp (bench/README.md, "The transport" and "Proxy lookup once per host").
``AiohttpRequest`` is PTB's documented extension point filled with one ``aiohttp.ClientSession``;
it behaves like ``telegram.request.HTTPXRequest`` towards PTB
(tests/telegram/test_request_contract.py runs the same tests against both).

Almost every call (no files, no proxy: every check-in, every reply) skips aiohttp's request
machinery and goes over kept-alive HTTP/1.1 connections of ``http11.ConnectionPool``, the same
request bytes written to the socket and the answer read by a small asyncio protocol: about 0.2
ms of CPU less per call (bench/README.md, "The send path without aiohttp's request"). Uploads
(multipart), calls through a proxy and to a URL with credentials in it still go through the
aiohttp session. The timeouts below
mean the same on both ways, and so do the errors (``http11.AnswerError``, a broken answer, is a
``NetworkError`` as aiohttp's are).

How PTB's four timeouts map onto aiohttp (a timeout of ``None`` waits for ever, as in httpx):

* ``pool_timeout``: how long a call waits for one of the ``connection_pool_size`` connections.
  aiohttp only knows ``ClientTimeout.connect``, which lumps waiting for the pool together with
  connecting, so the pool is our own semaphore of that size (and the connector's limit is the
  same): a call that gets no slot in time is ``TimedOut("Pool timeout: ...")``, as in PTB, and
  was never sent.
* ``connect_timeout`` -> ``ClientTimeout.sock_connect``: opening a new connection (TCP and TLS).
  A reused keep-alive connection does not connect at all.
* ``read_timeout`` -> ``ClientTimeout.sock_read``: the longest wait for the next piece of the
  answer, counted from when the request body has been written (aiohttp starts it then), the
  same per-read meaning httpx gives it. ``Bot.get_updates`` adds its long-poll time to it.
* ``write_timeout``: aiohttp has no per-write timeout. The whole call is bounded instead by
  ``ClientTimeout.total = connect + write + read`` (``None`` if any of them is ``None``): a
  write that stalls still ends, at the latest when every phase has used up its budget. As in
  httpx, uploads (``multipart_data``) get ``media_write_timeout`` instead of ``write_timeout``.

Errors are mapped as ``HTTPXRequest`` maps them: any timeout -> ``TimedOut``; any other aiohttp
error (connection refused, reset, a broken answer) -> ``NetworkError`` naming the aiohttp class
(on the direct way: the ``OSError`` or ``AnswerError``) and the cause; an HTTP status is
returned, and ``BaseRequest`` turns it into its error type.

Proxies: like httpx, calls honour ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` from the
environment; there is no proxy argument and no SOCKS support. A proxy's credentials come from its
URL (``http://user:password@host:port``), else from ``~/.netrc`` (or ``$NETRC``) for the proxy's
host, as aiohttp's ``trust_env`` takes them. The proxy is looked up once per scheme and host of
a session (aiohttp's ``get_env_proxy_for_url``), not per call: ``trust_env`` would read the
environment and ``~/.netrc`` again on every call, in a worker thread, about a tenth of the wall
time of a fan-out (bench/README.md, "Proxy lookup once per host"). So a change to the
environment applies from the next session (``initialize`` after ``shutdown``). ``~/.netrc`` is
not used to log in to the Bot API host itself (httpx does not either). TLS trusts the same
certificates as httpx (``SSL_CERT_FILE``/``SSL_CERT_DIR``, else certifi's bundle).

The body of a call without files is the form PTB's ``RequestData.url_encoded_parameters()``
makes, byte for byte (tests/telegram/test_form_body.py compares them), built in one pass. Asked
whether there are parameters and then for the form, PTB JSON-encoded each value four times
(``json_parameters`` reads ``RequestParameter.json_value`` twice per parameter), and
``urllib``'s quoting looks up each byte in Python; here each value is encoded once and quoted
by ``str.translate`` with a table: 97 to 40 µs for a check-in (bench/README.md, "The send
path's CPU").
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple, TypeGuard

import aiohttp
import certifi
from aiohttp import hdrs
from aiohttp import helpers as aiohttp_helpers
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

from bot.telegram.http11 import AnswerError, ConnectionPool

__all__ = ["AiohttpRequest"]

# PTB's own words for a full pool (telegram/request/_httpxrequest.py), so logs read the same.
POOL_TIMEOUT_MESSAGE: Final = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)
_FORM_URLENCODED: Final = "application/x-www-form-urlencoded"

# What ``urllib.parse.quote_plus`` makes of each byte of a value's UTF-8: letters, digits and
# ``_.-~`` stay, a space becomes ``+``, every other byte ``%XX`` (upper-case hex).
_ALWAYS_SAFE: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_QUOTED_BYTE: Final = [
    chr(byte) if byte in _ALWAYS_SAFE else "+" if byte == 0x20 else f"%{byte:02X}"
    for byte in range(256)
]


def _quote_plus(text: str) -> str:
    """``urllib.parse.quote_plus(text)``: the same characters, the same error for a lone
    surrogate (``UnicodeEncodeError``), each byte looked up by ``str.translate`` in C."""
    raw = text.encode("utf-8")
    if not raw.rstrip(_ALWAYS_SAFE):
        return raw.decode("ascii")  # nothing to quote (urllib returns it as it is too)
    # Each byte as the one character of the same number, then each replaced by its quoted form.
    return raw.decode("latin-1").translate(_QUOTED_BYTE)


def _form_body(request_data: RequestData) -> bytes:
    """``request_data.url_encoded_parameters()`` as ASCII bytes, each parameter encoded once.

    PTB's JSON for a parameter (``RequestParameter.json_value``): a string as it is, anything
    else through ``json.dumps``; ``RequestData.parameters`` holds the values that are not None,
    in PTB's order. ``urlencode`` then quotes ``str()`` of each name and value.
    """
    return "&".join(
        f"{_quote_plus(str(name))}="
        f"{_quote_plus(str(value if isinstance(value, str) else json.dumps(value)))}"
        for name, value in request_data.parameters.items()
    ).encode("ascii")


class _Route(NamedTuple):
    """How calls to one scheme and host travel: directly, or through the environment's proxy."""

    proxy: URL | None = None
    # Sent to the proxy with a CONNECT (https): the proxy's credentials, if it wants any.
    proxy_headers: Mapping[str, str] | None = None
    # Added to each call itself (plain http through a proxy: the proxy reads them there).
    headers: Mapping[str, str] = MappingProxyType({})


_DIRECT: Final = _Route()
_TUNNELLED_SCHEMES: Final = frozenset({"https", "wss"})
_OWN_SCHEMES: Final = frozenset({"http", "https"})


def _route_for(url: URL) -> _Route:
    """The environment's proxy for ``url``'s scheme and host, as aiohttp's ``trust_env`` finds it.

    aiohttp's own lookup: ``NO_PROXY`` first, then ``HTTP_PROXY``/``HTTPS_PROXY``, credentials
    from the proxy URL or else ``~/.netrc``. It reads a file, so it blocks; it runs once per
    scheme and host of a session, where aiohttp would run it in a thread on every call.
    """
    try:
        proxy, credentials = aiohttp_helpers.get_env_proxy_for_url(url)
    except LookupError:  # no proxy for this scheme, or NO_PROXY names the host
        return _DIRECT
    if credentials is None:
        return _Route(proxy)
    # aiohttp deprecates proxy_auth= (a warning on every call); the header it would build does
    # the same: on the CONNECT for a tunnel, on the call itself for plain http.
    authorization: dict[str, str] = {hdrs.PROXY_AUTHORIZATION: credentials.encode()}
    if url.scheme in _TUNNELLED_SCHEMES:
        return _Route(proxy, proxy_headers=authorization)
    return _Route(proxy, headers=authorization)


def _total(connect: float | None, write: float | None, read: float | None) -> float | None:
    """The bound on a whole call: the sum of its phases' budgets, or none if one is unbounded."""
    if connect is None or write is None or read is None:
        return None
    return connect + write + read


class AiohttpRequest(BaseRequest):
    """Bot API calls over one ``aiohttp.ClientSession`` with keep-alive connections.

    Args:
        connection_pool_size: Connections (and so calls) open at once; a call beyond them waits
            up to ``pool_timeout`` for one. PTB's defaults: 256 for the bot's calls, 1 for
            ``getUpdates``.
        read_timeout: Seconds to wait for the next piece of an answer (``None``: for ever).
        write_timeout: Seconds a call without files may take to be written.
        connect_timeout: Seconds to open a new connection.
        pool_timeout: Seconds to wait for a free connection.
        media_write_timeout: ``write_timeout`` for calls that upload files.
    """

    __slots__ = (
        "_connect_timeout",
        "_connections",
        "_loop",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_routes",
        "_session",
        "_slots",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        """Remember the settings; the session is opened by ``initialize`` on the running loop."""
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._connections: ConnectionPool | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The route per (scheme, host), looked up on a session's first call there.
        self._routes: dict[tuple[str, str | None], _Route] = {}

    @property
    def read_timeout(self) -> float | None:
        """The read timeout of calls that pass none (``Bot.get_updates`` adds its poll time)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session on the running loop; again only after a shutdown or on a new loop.

        A session belongs to the loop it was opened on; one left behind on a closed loop cannot
        be closed any more and is dropped (its sockets went with that loop).
        """
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed and self._loop is loop:
            return
        tls = _tls_context()
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0, ssl=tls)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            # Our own timeouts are given per call; none from aiohttp's defaults (5 min total).
            timeout=aiohttp.ClientTimeout(total=None),
            # HTTP(S)_PROXY and NO_PROXY apply as in httpx, but looked up once per host by
            # _route_for: trust_env would look them (and ~/.netrc) up on every call.
            trust_env=False,
            # The body is read as bytes; no cookies are kept between Bot API calls.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self._connections = ConnectionPool(tls, self.USER_AGENT)
        self._slots = asyncio.Semaphore(self._pool_size)
        self._loop = loop
        self._routes = {}  # a new session reads the environment anew

    async def shutdown(self) -> None:
        """Close the session and its connections; nothing to do if it is not open."""
        session, self._session = self._session, None
        connections, self._connections = self._connections, None
        self._slots = None
        if session is None or session.closed:
            return
        if self._loop is not asyncio.get_running_loop():
            return  # opened on another loop: its connections cannot be closed from this one
        if connections is not None:
            connections.close()
        await session.close()

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one call and return its HTTP status and body; see ``BaseRequest.do_request``."""
        session, slots, connections = self._session, self._slots, self._connections
        if session is None or slots is None or connections is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if uploads else self._write_timeout
        else:
            write = write_timeout
        total = _total(connect, write, read)
        target, route = self._route(url)
        if slots.locked():  # all connections busy: wait for one, at most pool_timeout
            try:
                async with asyncio.timeout(pool):
                    await slots.acquire()
            except TimeoutError as error:
                raise TimedOut(POOL_TIMEOUT_MESSAGE) from error
        else:
            await slots.acquire()  # free: taken at once, no timer to set up
        try:
            if uploads or route is not _DIRECT or not _plain_http(target):
                timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
                return await self._send(
                    session, target, method, request_data, route, limits=timeout
                )
            return await _send_directly(
                connections,
                target,  # _plain_http made sure it is a parsed URL
                method,
                request_data,
                connect=connect,
                read=read,
                total=total,
            )
        finally:
            slots.release()

    def _route(self, url: str) -> tuple[URL | str, _Route]:
        """The parsed URL and its route, looked up on the session's first call to its host.

        No await between the lookup and the store: calls arriving together look it up once.
        A URL yarl cannot parse goes on as it is, for aiohttp to refuse as it always has.
        """
        try:
            target = URL(url)  # parsed here instead of in aiohttp, which takes it as it is
        except ValueError:
            return url, _DIRECT
        key = (target.scheme, target.host)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = _route_for(target)
        return target, route

    @staticmethod
    async def _send(
        session: aiohttp.ClientSession,
        url: URL | str,
        method: str,
        request_data: RequestData | None,
        route: _Route,
        *,
        limits: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        """The call itself, along ``route``, with aiohttp's errors turned into PTB's."""
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] = {**route.headers}
        if request_data is not None and request_data.contains_files:
            body = _multipart(request_data)
        elif request_data is not None and (form := _form_body(request_data)):
            # The same url-encoded form httpx sends, without a FormData object.
            body = form
            headers["Content-Type"] = _FORM_URLENCODED
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                proxy=route.proxy,
                proxy_headers=route.proxy_headers,
                timeout=limits,
                allow_redirects=False,  # as httpx: a redirect is an answer, not followed
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's ServerTimeoutError is one too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _plain_http(url: URL | str) -> TypeGuard[URL]:
    """Whether ``ConnectionPool`` can carry a call to ``url``: a parsed http(s) URL with a host.

    A URL with credentials in it (``http://user:password@host``, a self-hosted Bot API behind
    basic authentication) goes through aiohttp, which logs in with them as httpx does.
    """
    return (
        isinstance(url, URL)
        and url.scheme in _OWN_SCHEMES
        and bool(url.raw_host)
        and url.raw_user is None
    )


async def _send_directly(
    connections: ConnectionPool,
    url: URL,
    method: str,
    request_data: RequestData | None,
    *,
    connect: float | None,
    read: float | None,
    total: float | None,
) -> tuple[int, bytes]:
    """A call without files on a direct route, over ``connections`` (module docstring).

    The same body and headers as ``_send`` makes for aiohttp, the same errors: a timeout is
    ``TimedOut``, a refused connection or a broken answer ``NetworkError``.
    """
    form = None if request_data is None else _form_body(request_data)
    try:
        return await connections.request(
            method,
            url,
            form or None,
            _FORM_URLENCODED if form else None,
            connect=connect,
            read=read,
            total=total,
        )
    except TimeoutError as error:  # before OSError: TimeoutError is one too
        raise TimedOut from error
    except (OSError, AnswerError) as error:
        raise NetworkError(f"{type(error).__name__}: {error}") from error


def _tls_context() -> ssl.SSLContext:
    """The certificates httpx trusts: SSL_CERT_FILE or SSL_CERT_DIR if set, else certifi's.

    aiohttp alone would use the system's store, which slim container images may lack.
    """
    if cert_file := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=cert_dir)
    return ssl.create_default_context(cafile=certifi.where())


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The fields and files of an upload as one multipart/form-data body.

    Each file is PTB's (filename, bytes or file object, mimetype), under its part name.
    """
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
