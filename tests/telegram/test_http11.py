"""``http11.ConnectionPool`` against a real socket server that answers exactly the bytes given.

The Bot API's own answers (Content-Length, kept alive) are covered by every test that sends
through ``AiohttpRequest`` (the fake Bot API, the request contract); here are the other ways an
HTTP/1.1 answer may come: in chunks, until the connection closes, after an interim answer,
packed, broken, slow, or on a connection the server closed meanwhile.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import ssl
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import InputFile
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter
from yarl import URL

from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.http11 import AnswerError, ConnectionPool, _Connection

BODY = b'{"ok":true,"result":{"message_id":7}}'
Answer = list[bytes]  # the pieces one answer is written in, each written and drained alone


@dataclass
class Received:
    """One request as the server read it."""

    connection: int
    head: bytes
    body: bytes


@dataclass
class ScriptedServer:
    """Answers each request with the next scripted answer; closes after one marked so."""

    answers: list[tuple[Answer, float, bool]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    def answer(self, *pieces: bytes, pause: float = 0.0, close: bool = False) -> None:
        """Queue an answer: its pieces, a pause between them, whether to close after it."""
        self.answers.append((list(pieces), pause, close))

    def url(self, path: str = "/bot1:abc/sendMessage") -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self.handlers.add(handler)  # type: ignore[arg-type]
        self.connections += 1
        number = self.connections
        self.writers.append(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.received.append(Received(number, head, body))
                pieces, pause, close = self.answers.pop(0)
                for index, piece in enumerate(pieces):
                    if index and pause:
                        await asyncio.sleep(pause)
                    writer.write(piece)
                    await writer.drain()
                if close:
                    return
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    listening = await asyncio.start_server(scripted.serve, "127.0.0.1", 0)
    scripted.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield scripted
        for writer in scripted.writers:
            writer.close()
        if scripted.handlers:  # each sees its connection end and returns
            await asyncio.wait(scripted.handlers, timeout=2)


@pytest.fixture
async def pool() -> AsyncIterator[ConnectionPool]:
    connections = ConnectionPool(ssl.create_default_context(), "Fokus-Test/1")
    yield connections
    connections.close()


def sized(body: bytes = BODY, *headers: bytes, status: bytes = b"200 OK") -> bytes:
    lines = [b"HTTP/1.1 " + status, b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(pieces: list[bytes]) -> bytes:
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece)
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + chunks + b"0\r\nX-Trailer: yes\r\n\r\n"


async def send(
    pool: ConnectionPool,
    url: URL,
    body: bytes | None = b"chat_id=5",
    *,
    read: float | None = 5.0,
    total: float | None = 10.0,
) -> tuple[int, bytes]:
    content_type = "application/x-www-form-urlencoded" if body else None
    return await pool.request("POST", url, body, content_type, connect=5.0, read=read, total=total)


async def test_the_request_carries_method_path_host_agent_type_length_and_body(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    server.answer(sized())
    server.answer(sized())

    assert await send(pool, server.url("/bot1:abc/sendMessage?x=%C3%BC")) == (200, BODY)
    assert await send(pool, server.url("/bot1:abc/getMe"), None) == (200, BODY)

    first, second = server.received
    assert first.head == (
        b"POST /bot1:abc/sendMessage?x=%C3%BC HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{server.port}\r\n".encode()
        + b"User-Agent: Fokus-Test/1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 9\r\n\r\n"
    )
    assert first.body == b"chat_id=5"
    assert b"Content-Type" not in second.head
    assert b"Content-Length: 0\r\n" in second.head
    assert second.body == b""


async def test_kept_alive_answers_reuse_one_connection(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    server.answer(sized())
    server.answer(chunked([b"ab", b"cd"]))
    server.answer(sized(b"", status=b"204 No Content"))
    server.answer(b"HTTP/1.1 100 Continue\r\n\r\n", sized(b"after 100"))
    server.answer(sized(b"x", b"Connection: keep-alive"))

    answers = [await send(pool, server.url()) for _ in range(5)]

    assert answers == [(200, BODY), (200, b"abcd"), (204, b""), (200, b"after 100"), (200, b"x")]
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY, id="until-close"),
        pytest.param(b"HTTP/1.0 200 OK\r\n\r\n" + BODY, id="http-1.0"),
        pytest.param(sized(BODY, b"Connection: close"), id="connection-close"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + BODY, id="not-chunked"
        ),
    ],
)
async def test_an_answer_that_ends_the_connection_is_read_and_a_new_one_opened(
    server: ScriptedServer, pool: ConnectionPool, answer: bytes
) -> None:
    server.answer(answer, close=True)
    server.answer(sized())

    assert await send(pool, server.url()) == (200, BODY)
    assert await send(pool, server.url()) == (200, BODY)
    assert server.connections == 2


async def test_packed_bodies_are_unpacked(server: ScriptedServer, pool: ConnectionPool) -> None:
    packed = {
        b"gzip": gzip.compress(BODY),
        b"deflate": zlib.compress(BODY),
    }
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    for coding, body in packed.items():
        server.answer(sized(body, b"Content-Encoding: " + coding))
    server.answer(
        sized(raw_deflate.compress(BODY) + raw_deflate.flush(), b"Content-Encoding: deflate")
    )

    for _ in range(3):
        assert await send(pool, server.url()) == (200, BODY)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"<html>hello</html>\r\n\r\n", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a colon"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "broken Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
            "broken Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n",
            "not hexadecimal",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            "does not end where its size says",
        ),
        (sized(b"not gzip", b"Content-Encoding: gzip"), "does not unpack"),
        (sized(BODY, b"Content-Encoding: br"), "unknown content coding"),
        (sized(BODY)[:-5], "closed the connection before its answer was complete"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000, "head is too long"),
    ],
)
async def test_a_broken_answer_is_an_answer_error_and_the_connection_is_dropped(
    server: ScriptedServer, pool: ConnectionPool, answer: bytes, words: str
) -> None:
    server.answer(answer, close=True)
    server.answer(sized())

    with pytest.raises(AnswerError, match=words):
        await send(pool, server.url())
    assert await send(pool, server.url()) == (200, BODY)
    assert server.connections == 2


async def test_bytes_after_the_answer_spoil_the_connection(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    server.answer(sized() + b"HTTP/1.1 200 OK\r\n")
    server.answer(sized())

    assert await send(pool, server.url()) == (200, BODY)
    assert await send(pool, server.url()) == (200, BODY)
    assert server.connections == 2


async def test_a_slow_answer_that_keeps_coming_is_not_timed_out_by_the_read_timeout(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    answer = sized(b"x" * 8)
    server.answer(*(answer[i : i + 8] for i in range(0, len(answer), 8)), pause=0.05)

    # Eight pieces 0.05 s apart: 0.35 s in all, never 0.2 s without a piece.
    assert await send(pool, server.url(), read=0.2) == (200, b"x" * 8)


async def test_a_silent_server_is_timed_out_after_the_read_timeout(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    answer = sized()
    server.answer(answer[:10], answer[10:], pause=1.0)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(TimeoutError):
        await send(pool, server.url(), read=0.2, total=None)

    assert 0.15 < loop.time() - started < 0.9


async def test_an_answer_that_keeps_coming_is_timed_out_by_the_total_timeout(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    answer = sized(b"x" * 40)
    server.answer(*(answer[i : i + 4] for i in range(0, len(answer), 4)), pause=0.05)

    with pytest.raises(TimeoutError):
        await send(pool, server.url(), read=0.2, total=0.3)


async def test_a_connection_closed_while_idle_or_idle_too_long_is_not_used(
    server: ScriptedServer,
) -> None:
    connections = ConnectionPool(ssl.create_default_context(), "Fokus-Test/1", idle_seconds=0.1)
    try:
        server.answer(sized())
        server.answer(sized())
        server.answer(sized())
        assert await send(connections, server.url()) == (200, BODY)
        server.writers[-1].close()  # the server ends the kept-alive connection
        await asyncio.sleep(0.05)
        assert await send(connections, server.url()) == (200, BODY)
        await asyncio.sleep(0.2)  # longer idle than the pool keeps a connection
        assert await send(connections, server.url()) == (200, BODY)
    finally:
        connections.close()

    assert server.connections == 3


async def test_closing_the_pool_ends_a_waiting_call(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    answer = sized()
    server.answer(answer[:10], answer[10:], pause=5.0)
    call = asyncio.ensure_future(send(pool, server.url()))
    while not server.received:
        await asyncio.sleep(0.01)

    pool.close()

    with pytest.raises(AnswerError):
        await call


async def test_a_call_given_up_drops_its_connection(
    server: ScriptedServer, pool: ConnectionPool
) -> None:
    answer = sized()
    server.answer(answer[:10], answer[10:], pause=0.3)
    server.answer(sized(b"second"))
    call = asyncio.ensure_future(send(pool, server.url()))
    while not server.received:
        await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    # The late rest of the first answer cannot be taken for the second one's.
    assert await send(pool, server.url()) == (200, b"second")
    assert server.connections == 2


async def test_a_broken_answer_through_the_request_is_a_network_error_with_its_cause(
    server: ScriptedServer,
) -> None:
    server.answer(b"<html>hello</html>\r\n\r\n", close=True)
    request_data = RequestData([RequestParameter.from_input("chat_id", 5)])

    async with AiohttpRequest(2) as request:
        with pytest.raises(NetworkError, match=r"AnswerError: not an HTTP/1\.1 answer") as raised:
            await request.do_request(str(server.url()), "POST", request_data)

    assert isinstance(raised.value.__cause__, AnswerError)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


AnswerMaker = Callable[[bytes], bytes]
FRAMINGS: dict[str, AnswerMaker] = {
    "sized": sized,
    "chunked": lambda body: chunked([body[: len(body) // 3], body[len(body) // 3 :]]),
    "interim-then-sized": lambda body: (
        b"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + sized(body)
    ),
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=3000),
    framing=st.sampled_from(sorted(FRAMINGS)),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12),
)
async def test_an_answer_in_any_pieces_reads_as_the_same_body(
    server: ScriptedServer, pool: ConnectionPool, body: bytes, framing: str, cuts: list[int]
) -> None:
    answer = FRAMINGS[framing](body)
    server.answer(*_split(answer, cuts), pause=0.001)

    assert await send(pool, server.url()) == (200, body)


async def test_the_request_sends_calls_without_files_the_direct_way_and_uploads_by_aiohttp(
    server: ScriptedServer,
) -> None:
    server.answer(sized())
    server.answer(sized())
    form = RequestData([RequestParameter.from_input("chat_id", 5)])
    upload = RequestData(
        [
            RequestParameter.from_input("chat_id", 5),
            RequestParameter.from_input("document", InputFile(b"a;b\n", filename="x.csv")),
        ]
    )

    async with AiohttpRequest(2) as request:
        assert await request.do_request(str(server.url()), "POST", form) == (200, BODY)
        assert await request.do_request(str(server.url()), "POST", upload) == (200, BODY)

    direct, by_aiohttp = server.received
    assert direct.head == (
        b"POST /bot1:abc/sendMessage HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{server.port}\r\n".encode()
        + f"User-Agent: {BaseRequest.USER_AGENT}\r\n".encode()
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 9\r\n\r\n"
    )
    assert direct.body == b"chat_id=5"
    assert b"multipart/form-data" in by_aiohttp.head
    assert b"Accept-Encoding" in by_aiohttp.head  # aiohttp's own header: it sent this one


async def test_a_connection_lost_before_its_request_is_written_fails_the_call_at_once(
    server: ScriptedServer,
) -> None:
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(
        lambda: _Connection(loop), "127.0.0.1", server.port
    )
    connection.close()  # as if lost between being picked and being written to

    # Without a timeout nothing else would ever end the wait.
    answer = connection.exchange(b"POST / HTTP/1.1\r\n\r\n", None, None)

    with pytest.raises(AnswerError, match="before the request was written"):
        await asyncio.wait_for(answer, 1)


async def test_a_url_with_credentials_goes_through_aiohttp_which_logs_in_with_them(
    server: ScriptedServer,
) -> None:
    server.answer(sized())
    form = RequestData([RequestParameter.from_input("chat_id", 5)])
    url = f"http://user:secret@127.0.0.1:{server.port}/bot1:abc/getMe"

    async with AiohttpRequest(2) as request:
        assert await request.do_request(url, "POST", form) == (200, BODY)

    (received,) = server.received
    assert b"Authorization: Basic dXNlcjpzZWNyZXQ=\r\n" in received.head
