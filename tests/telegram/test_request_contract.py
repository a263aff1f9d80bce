"""PTB's request contract, run alike against its HTTPXRequest and our AiohttpRequest.

Every test runs once per transport against a real aiohttp server on 127.0.0.1 (no mocks): what
PTB gets back from ``do_request`` and which ``telegram.error`` ``BaseRequest.post`` raises must
be the same whichever transport carries the call.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.aiohttp_request import POOL_TIMEOUT_MESSAGE, AiohttpRequest

MakeRequest = Callable[..., BaseRequest]
TRANSPORTS: dict[str, MakeRequest] = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}


@dataclass
class FakeServer:
    """A Bot API-like server: echoes what arrived, answers a chosen status, sleeps or hangs."""

    base: str = ""
    peers: list[tuple[str, int]] = field(default_factory=list)
    hanging: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def echo(self, request: web.Request) -> web.Response:
        assert request.transport is not None
        self.peers.append(request.transport.get_extra_info("peername"))  # the client's port
        form = await request.post()
        fields: dict[str, Any] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                with value.file:
                    content = value.file.read()
                fields[name] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "bytes": content.hex(),
                }
            else:
                fields[name] = value
        result = {
            "content_type": request.content_type,
            "user_agent": request.headers.get("User-Agent"),
            "fields": fields,
        }
        return web.json_response({"ok": True, "result": result})

    async def status(self, request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        answer: dict[str, Any] = {"ok": False, "error_code": code, "description": f"Said {code}"}
        if code == 429:
            answer["parameters"] = {"retry_after": 7}
        return web.json_response(answer, status=code)

    async def not_json(self, request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>502 Bad Gateway</html>")

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    async def hang(self, request: web.Request) -> web.Response:
        self.hanging.set()
        await self.release.wait()
        return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    app = web.Application()
    app.router.add_post("/bot/echo", fake.echo)
    app.router.add_post("/bot/status/{code}", fake.status)
    app.router.add_post("/bot/not_json", fake.not_json)
    app.router.add_post("/bot/slow", fake.slow)
    app.router.add_post("/bot/hang", fake.hang)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.base = f"http://{host}:{port}/bot"
    yield fake
    fake.release.set()
    await runner.cleanup()


@pytest.fixture(params=sorted(TRANSPORTS))
def make(request: pytest.FixtureRequest) -> Iterator[MakeRequest]:
    yield TRANSPORTS[request.param]


@pytest.fixture
async def transport(make: MakeRequest) -> AsyncIterator[BaseRequest]:
    async with make(connection_pool_size=4) as request:
        yield request


def data(**parameters: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in parameters.items()])


async def test_a_form_call_returns_the_status_and_the_answer_bytes(
    server: FakeServer, transport: BaseRequest
) -> None:
    status, payload = await transport.do_request(
        f"{server.base}/echo",
        "POST",
        data(chat_id=5, text="Grüße & Hallo", reply_markup={"inline_keyboard": [[]]}),
    )

    assert status == 200
    assert isinstance(payload, bytes)
    result = json.loads(payload)["result"]
    assert result["content_type"] == "application/x-www-form-urlencoded"
    assert result["user_agent"] == BaseRequest.USER_AGENT
    assert result["fields"] == {
        "chat_id": "5",
        "text": "Grüße & Hallo",
        "reply_markup": '{"inline_keyboard": [[]]}',
    }


async def test_a_call_without_parameters_is_sent_as_well(
    server: FakeServer, transport: BaseRequest
) -> None:
    assert await transport.post(f"{server.base}/echo") == {
        "content_type": "application/octet-stream",
        "user_agent": BaseRequest.USER_AGENT,
        "fields": {},
    }


async def test_an_upload_arrives_with_its_file_bytes_name_type_and_fields(
    server: FakeServer, transport: BaseRequest
) -> None:
    png = bytes(range(256)) * 40  # every byte value, 10 KB
    document = b"week;channel\n2026-W49;Instagram\n"

    result = await transport.post(
        f"{server.base}/echo",
        data(
            chat_id=5,
            caption="Dein Fortschritt",
            photo=InputFile(png, filename="chart.png"),
            document=InputFile(document, filename="export.csv"),
        ),
    )

    assert isinstance(result, dict)
    assert result["content_type"] == "multipart/form-data"
    assert result["fields"] == {
        "chat_id": "5",
        "caption": "Dein Fortschritt",
        "photo": {"filename": "chart.png", "content_type": "image/png", "bytes": png.hex()},
        "document": {
            "filename": "export.csv",
            "content_type": "text/csv",
            "bytes": document.hex(),
        },
    }


async def test_calls_one_after_another_reuse_one_connection(
    server: FakeServer, transport: BaseRequest
) -> None:
    for _ in range(3):
        await transport.post(f"{server.base}/echo", data(chat_id=5))

    assert len(server.peers) == 3
    assert len(set(server.peers)) == 1


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(
    server: FakeServer, make: MakeRequest
) -> None:
    async with make(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{server.base}/slow")
        # A read timeout given with the call wins over the default.
        with pytest.raises(TimedOut):
            await request.post(f"{server.base}/slow", read_timeout=0.1)


async def test_a_refused_port_is_a_network_error(make: MakeRequest) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with make() as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot/getMe")

    assert not isinstance(raised.value, TimedOut)
    assert raised.value.__cause__ is not None  # the transport's own error, for the logs


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (400, BadRequest),
        (401, InvalidToken),
        (403, Forbidden),
        (404, InvalidToken),
        (409, Conflict),
        (429, RetryAfter),
        (502, NetworkError),
    ],
)
async def test_a_status_comes_back_as_it_is_and_post_raises_ptbs_error_for_it(
    server: FakeServer, transport: BaseRequest, code: int, error: type[TelegramError]
) -> None:
    url = f"{server.base}/status/{code}"

    status, payload = await transport.do_request(url, "POST", data(chat_id=5))
    with pytest.raises(error) as raised:
        await transport.post(url, data(chat_id=5))

    assert status == code
    assert json.loads(payload)["error_code"] == code
    assert type(raised.value) is error
    if isinstance(raised.value, RetryAfter):
        assert raised.value.retry_after.total_seconds() == 7
    else:
        assert raised.value.message == f"Said {code}"


async def test_an_answer_that_is_not_json_is_the_same_error_with_the_same_words(
    server: FakeServer, transport: BaseRequest
) -> None:
    with pytest.raises(NetworkError) as raised:
        await transport.post(f"{server.base}/not_json")

    assert raised.value.message == (
        "Bad Gateway (502). Parsing the server response b'<html>502 Bad Gateway</html>' failed"
    )
    assert isinstance(raised.value.__cause__, TelegramError)


async def test_a_full_pool_times_a_call_out_before_it_is_sent(
    server: FakeServer, make: MakeRequest
) -> None:
    async with make(connection_pool_size=1, pool_timeout=0.2, read_timeout=None) as request:
        hanging = asyncio.ensure_future(request.post(f"{server.base}/hang"))
        await asyncio.wait_for(server.hanging.wait(), 5)

        with pytest.raises(TimedOut) as raised:
            await request.post(f"{server.base}/echo", data(chat_id=5))

        assert raised.value.message == POOL_TIMEOUT_MESSAGE
        assert server.peers == []  # the second call never reached the server
        server.release.set()
        assert await hanging is True
        # The connection is free again.
        assert await request.post(f"{server.base}/echo") is not None


async def test_the_read_timeout_is_the_one_given(make: MakeRequest) -> None:
    assert make(read_timeout=12.5).read_timeout == 12.5
    assert make(read_timeout=None).read_timeout is None


async def test_shutting_down_twice_is_harmless_and_a_shut_request_refuses_calls(
    server: FakeServer, make: MakeRequest
) -> None:
    request = make()
    await request.initialize()
    await request.initialize()  # a second initialize keeps the open client
    assert await request.post(f"{server.base}/echo") is not None
    await request.shutdown()
    await request.shutdown()

    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{server.base}/echo", "POST")
    await request.initialize()  # and it opens again
    try:
        assert await request.post(f"{server.base}/echo") is not None
    finally:
        await request.shutdown()
