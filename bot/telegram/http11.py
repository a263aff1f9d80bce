"""Bot API calls over kept-alive HTTP/1.1 connections, without aiohttp's request machinery.

A check-in's ``sendMessage`` is one small form POST answered by one small JSON body. aiohttp
builds a ``ClientRequest``, a ``ClientResponse``, a task to write the body, a timer per read and
the multidicts of both heads for it: about 240 µs of CPU per call against the fake Bot API,
where writing the same request to a kept-alive connection and reading its answer with the
asyncio protocol below takes about 100 µs, most of it the kernel's send and receive
(bench/README.md, "The send path without aiohttp's request"). ``AiohttpRequest`` sends calls
without files on a direct route (no proxy) through ``ConnectionPool``; uploads and calls
through a proxy still go through aiohttp.

What it does of HTTP/1.1 (RFC 9112), as much as a Bot API answer needs:

* One request at a time per connection; a connection is used again only after a complete
  answer that lets it stay open (HTTP/1.1 without ``Connection: close``), and not after it
  sat idle for ``IDLE_SECONDS`` (aiohttp's keep-alive time: the server may be closing it). An
  idle connection is closed when it is next picked, not by a timer (aiohttp has one): at most
  the pool's size of them stay open between fan-outs, until the server closes them.
* An answer's body is framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or the end of
  the connection; 1xx answers before the real one are skipped; 204 and 304 have no body; a
  ``gzip`` or ``deflate`` body (never asked for: no ``Accept-Encoding`` is sent) is unpacked.
* Anything else (a head that is not HTTP/1.x, a broken length or chunk, the connection closed
  before the answer is complete) is an ``AnswerError``; the connection is dropped.

Timeouts: ``connect`` bounds opening a connection (TCP and TLS); ``read`` is the longest wait
for the next piece of the answer from when the request was written (aiohttp's ``sock_read``);
``total`` bounds the whole call from its start. Each raises ``TimeoutError``. One timer per
call serves both ``read`` and ``total``: it is moved on only when it fires early, not on every
piece of the answer that arrives (aiohttp re-arms its read timer per piece).
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from typing import Final, NamedTuple, cast

from yarl import URL

__all__ = ["IDLE_SECONDS", "AnswerError", "ConnectionPool"]

IDLE_SECONDS: Final = 15.0
"""A connection idle longer than this is closed instead of used again (aiohttp's default)."""

# Longest answer head (status line and headers) accepted, and longest chunk-size line.
_MAX_HEAD: Final = 64 * 1024
_MAX_LINE: Final = 8 * 1024
_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")
_NO_BODY_STATUSES: Final = frozenset({204, 304})
_CRLF: Final = b"\r\n"
_NEXT_ADDRESS_AFTER: Final = 0.25  # seconds; aiohttp's TCPConnector default

# Where the reading of an answer is: its head, a body of known length, the chunks of a chunked
# body (a size line, the data, the CRLF after it, the trailer after the last), until the end.
_HEAD, _SIZED, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE = range(7)

Key = tuple[str, str, int]


class AnswerError(Exception):
    """The server's answer was not the HTTP/1.1 this client reads, or it broke off."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection, carrying one request and its answer at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._buffer = bytearray()
        self._body = bytearray()
        self._state = _HEAD
        self._status = 0
        self._remaining = 0  # bytes of the sized body, or of the current chunk, still to come
        self._encoding = b""
        self._keep_alive = False
        self._read_timeout: float | None = None
        self._deadline: float | None = None
        self._last_read = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        # The reading steps by state (_HEAD ... _TRAILER), bound once.
        self._steps = (
            self._take_head,
            self._take_sized_body,
            self._take_chunk_size,
            self._take_chunk_data,
            self._take_chunk_end,
            self._take_trailer,
        )

    # --- asyncio's side ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is one without deriving from asyncio.Transport).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Bytes nobody asked for (a late answer after a timeout): the connection is spoilt.
            self.abort()
            return
        self._last_read = self._loop.time()
        self._buffer += data
        try:
            done = self._read()
        except AnswerError as error:
            self._fail(error)
            return
        if done:
            self._finish()

    def eof_received(self) -> bool | None:
        return None  # close; connection_lost ends a body that runs until the end

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._waiter is None:
            return
        if self._state == _UNTIL_CLOSE and exc is None:
            self._body += self._buffer
            self._buffer.clear()
            self._finish()
            return
        error = AnswerError("the server closed the connection before its answer was complete")
        error.__cause__ = exc
        self._fail(error)

    # --- the caller's side -------------------------------------------------------------------

    def exchange(
        self, request: bytes, read_timeout: float | None, deadline: float | None
    ) -> asyncio.Future[tuple[int, bytes]]:
        """Write ``request``; the future gets the answer's status and body."""
        assert self._transport is not None
        waiter = self._waiter = self._loop.create_future()
        if self.closed:
            # Lost since it was picked: a write would go nowhere and nothing would end the wait.
            self._fail(AnswerError("the connection was closed before the request was written"))
            return waiter
        self.reusable = False
        self._state = _HEAD
        self._body.clear()
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._transport.write(request)
        self._last_read = now = self._loop.time()
        due = self._due()
        if due is not None:
            self._timer = self._loop.call_at(max(due, now), self._on_timer)
        return waiter

    def abort(self) -> None:
        """Drop the connection at once (a call that failed or was given up)."""
        self.closed = True
        self.reusable = False
        self._cancel_timer()
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        """Close the connection after what is already written (shutdown)."""
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    # --- timeouts ----------------------------------------------------------------------------

    def _due(self) -> float | None:
        """When the call times out unless more of the answer arrives (read) or at all (total)."""
        read_due = None if self._read_timeout is None else self._last_read + self._read_timeout
        if self._deadline is None:
            return read_due
        return self._deadline if read_due is None else min(read_due, self._deadline)

    def _on_timer(self) -> None:
        self._timer = None
        if self._waiter is None:
            return
        due = self._due()
        assert due is not None  # the timer runs only for a call with a timeout
        if due <= self._loop.time():
            waiter, self._waiter = self._waiter, None
            if not waiter.done():
                waiter.set_exception(TimeoutError())
            self.abort()
        else:  # part of the answer came in meanwhile (or the loop woke a hair early): wait on
            self._timer = self._loop.call_at(due, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- reading the answer ------------------------------------------------------------------

    def _read(self) -> bool:
        """Take what the buffer holds; True once the answer is complete."""
        steps = self._steps
        while self._state != _UNTIL_CLOSE:  # that body is ended by connection_lost
            complete = steps[self._state]()
            if complete is not None:
                return complete
        return False

    # Each step takes its part from the buffer: True when the answer is complete, False when
    # more must arrive first, None when the next step may go on at once.

    def _take_head(self) -> bool | None:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEAD:
                raise AnswerError("the answer's head is too long")
            return False
        head = _parse_head(bytes(buffer[:end]))
        del buffer[: end + 4]
        if head is None:
            return None  # an interim answer (100 Continue, 103): the real one follows
        self._status = head.status
        self._encoding = head.encoding
        self._keep_alive = head.keep_alive
        if head.status in _NO_BODY_STATUSES:
            return True
        if head.transfer_coding is not None:
            # A body in chunks, or (another last coding) one that runs until the end.
            self._state = _CHUNK_SIZE if head.transfer_coding == b"chunked" else _UNTIL_CLOSE
        elif head.length is not None:
            self._state, self._remaining = _SIZED, head.length
        else:
            self._state = _UNTIL_CLOSE  # ended by connection_lost: not used again
        return None

    def _take_sized_body(self) -> bool | None:
        buffer = self._buffer
        if len(buffer) < self._remaining:
            return False
        self._body += buffer[: self._remaining]
        del buffer[: self._remaining]
        return True

    def _take_chunk_size(self) -> bool | None:
        line = self._line()
        if line is None:
            return False
        size = line.split(b";", 1)[0].strip()
        if not size or not _HEX_DIGITS.issuperset(size):
            raise AnswerError(f"a chunk's size is not hexadecimal: {line[:40]!r}")
        self._remaining = int(size, 16)
        self._state = _CHUNK_DATA if self._remaining else _TRAILER
        return None

    def _take_chunk_data(self) -> bool | None:
        buffer = self._buffer
        take = min(len(buffer), self._remaining)
        self._body += buffer[:take]
        del buffer[:take]
        self._remaining -= take
        if self._remaining:
            return False
        self._state = _CHUNK_END
        return None

    def _take_chunk_end(self) -> bool | None:
        buffer = self._buffer
        if len(buffer) < len(_CRLF):
            return False
        if buffer[:2] != _CRLF:
            raise AnswerError("a chunk does not end where its size says")
        del buffer[:2]
        self._state = _CHUNK_SIZE
        return None

    def _take_trailer(self) -> bool | None:
        line = self._line()
        if line is None:
            return False
        return True if not line else None  # trailer fields are read past

    def _line(self) -> bytes | None:
        """The next line (without its CRLF), taken from the buffer; None if not all there."""
        buffer = self._buffer
        end = buffer.find(_CRLF)
        if end < 0:
            if len(buffer) > _MAX_LINE:
                raise AnswerError("a line of the chunked body is too long")
            return None
        line = bytes(buffer[:end])
        del buffer[: end + 2]
        return line

    def _finish(self) -> None:
        """Hand the complete answer over; keep the connection for the next call if it may."""
        waiter, self._waiter = self._waiter, None
        self._cancel_timer()
        assert waiter is not None
        try:
            body = _decoded(bytes(self._body), self._encoding)
        except AnswerError as error:
            waiter.set_exception(error)
            self.abort()
            return
        self._body.clear()
        # Bytes after the answer were never asked for: the connection cannot be trusted.
        self.reusable = self._keep_alive and not self._buffer and not self.closed
        if not waiter.done():
            waiter.set_result((self._status, body))
        if not self.reusable:
            self.close()

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.abort()


class _Head(NamedTuple):
    """What the status line and the headers say about an answer."""

    status: int
    keep_alive: bool
    length: int | None
    transfer_coding: bytes | None  # the last coding of Transfer-Encoding, lower-case
    encoding: bytes  # Content-Encoding, lower-case; empty without one


def _parse_head(head: bytes) -> _Head | None:
    """The head of an answer; None for an interim (1xx) answer."""
    status_line, *lines = head.split(_CRLF)
    version, _, rest = status_line.partition(b" ")
    code = rest[:3]
    if version not in {b"HTTP/1.1", b"HTTP/1.0"} or len(code) != 3 or not code.isdigit():
        raise AnswerError(f"not an HTTP/1.1 answer: {status_line[:40]!r}")
    status = int(code)
    if 100 <= status < 200:
        return None
    keep_alive = version == b"HTTP/1.1"
    length: int | None = None
    transfer_coding: bytes | None = None
    encoding = b""
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon:
            raise AnswerError(f"a header line without a colon: {line[:40]!r}")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            if not value.isdigit() or (length is not None and length != int(value)):
                raise AnswerError(f"a broken Content-Length: {value[:40]!r}")
            length = int(value)
        elif name == b"transfer-encoding":
            transfer_coding = value.rsplit(b",", 1)[-1].strip().lower()
        elif name == b"connection":
            tokens = {token.strip().lower() for token in value.split(b",")}
            keep_alive = b"close" not in tokens and (keep_alive or b"keep-alive" in tokens)
        elif name == b"content-encoding":
            encoding = value.lower()
    return _Head(status, keep_alive, length, transfer_coding, encoding)


def _decoded(body: bytes, encoding: bytes) -> bytes:
    """The body without its content coding (``gzip``, ``deflate``), as aiohttp unpacks it."""
    if not encoding or encoding == b"identity":
        return body
    try:
        if encoding in {b"gzip", b"x-gzip"}:
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == b"deflate":
            try:
                return zlib.decompress(body)  # zlib-wrapped, as RFC 9110 means it
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some send it
    except zlib.error as error:
        raise AnswerError(f"a {encoding.decode('latin-1')} body that does not unpack") from error
    raise AnswerError(f"an answer in an unknown content coding: {encoding[:40]!r}")


class ConnectionPool:
    """Kept-alive connections per scheme, host and port; the caller bounds calls at once.

    Args:
        tls: The TLS settings for ``https`` hosts.
        user_agent: The ``User-Agent`` of every request.
        idle_seconds: How long an unused connection is kept for the next call.
    """

    def __init__(
        self, tls: ssl.SSLContext, user_agent: str, *, idle_seconds: float = IDLE_SECONDS
    ) -> None:
        """Start without connections; they are opened on the running loop as calls need them."""
        self._tls = tls
        self._user_agent = user_agent
        self._idle_seconds = idle_seconds
        self._idle: dict[Key, list[_Connection]] = {}
        self._open: set[_Connection] = set()
        # Per host: the start of each request's head (Host and User-Agent), made once.
        self._heads: dict[Key, bytes] = {}

    async def request(
        self,
        method: str,
        url: URL,
        body: bytes | None,
        content_type: str | None,
        *,
        connect: float | None,
        read: float | None,
        total: float | None,
    ) -> tuple[int, bytes]:
        """Send one request to an ``http`` or ``https`` URL; its answer's status and body.

        Raises:
            TimeoutError: ``connect``, ``read`` or ``total`` ran out.
            OSError: The connection could not be opened (refused, no route, TLS refused).
            AnswerError: The answer broke off or was not HTTP/1.1 as this client reads it.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        key: Key = (url.scheme, url.raw_host or "", url.port or 0)
        connection = self._idle_connection(key, started)
        if connection is None:
            async with asyncio.timeout(connect):
                connection = await self._connect(loop, key)
        request = b"".join(
            (
                method.encode("ascii"),
                b" ",
                url.raw_path_qs.encode("ascii"),
                b" HTTP/1.1\r\n",
                self._head(key, url),
                b"" if content_type is None else f"Content-Type: {content_type}\r\n".encode(),
                b"Content-Length: %d\r\n\r\n" % (len(body) if body else 0),
                body or b"",
            )
        )
        try:
            answer = await connection.exchange(
                request, read, None if total is None else started + total
            )
        except BaseException:
            connection.abort()  # whatever happened, the connection is mid-answer
            self._open.discard(connection)
            raise
        if connection.reusable:
            connection.idle_since = loop.time()
            self._idle.setdefault(key, []).append(connection)
        else:
            self._open.discard(connection)
        return answer

    def close(self) -> None:
        """Close every connection; calls still waiting on one end with ``AnswerError``."""
        for connection in self._open:
            connection.close()
        self._open.clear()
        self._idle.clear()

    def _idle_connection(self, key: Key, now: float) -> _Connection | None:
        """The most recently used open connection to ``key``; stale ones are closed."""
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.closed:
                self._open.discard(connection)
            elif now - connection.idle_since > self._idle_seconds:
                connection.close()
                self._open.discard(connection)
            else:
                return connection
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop, key: Key) -> _Connection:
        scheme, host, port = key
        tls = self._tls if scheme == "https" else None
        _, connection = await loop.create_connection(
            lambda: _Connection(loop),
            host,
            port,
            ssl=tls,
            server_hostname=host if tls is not None else None,
            # As aiohttp's connector: the next address (IPv4 after a silent IPv6) after 0.25 s.
            happy_eyeballs_delay=_NEXT_ADDRESS_AFTER,
        )
        self._open.add(connection)
        return connection

    def _head(self, key: Key, url: URL) -> bytes:
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = (
                f"Host: {url.host_port_subcomponent}\r\nUser-Agent: {self._user_agent}\r\n"
            ).encode("ascii")
        return head
