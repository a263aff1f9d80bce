"""The environment's proxy, over the real fake Bot API and a real (tiny) proxy on 127.0.0.1.

``AiohttpRequest`` looks the proxy up itself, once per scheme and host of a session, instead of
leaving it to aiohttp's ``trust_env`` (which looks again on every call, in a thread). These
tests hold it to what ``trust_env`` did: ``HTTP_PROXY``/``HTTPS_PROXY`` carry the calls, as in
httpx (the same cases run against PTB's ``HTTPXRequest``), ``NO_PROXY`` bypasses the proxy, and
the proxy's credentials come from its URL or ``~/.netrc`` (which, as in httpx, gives no
credentials for the Bot API host itself); and they count the lookups.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp.client
import aiohttp.helpers
import pytest
from fakebotapi import FakeTelegram
from telegram import Bot
from telegram.error import NetworkError
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram.aiohttp_request import AiohttpRequest

MakeRequest = Callable[..., BaseRequest]
TRANSPORTS: dict[str, MakeRequest] = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass(frozen=True)
class Proxied:
    """One request as the proxy received it."""

    method: str
    target: str
    headers: dict[str, str]


@dataclass
class RecordingProxy:
    """An HTTP proxy that records each request, forwards plain http and refuses every tunnel.

    A forwarded call goes upstream on a connection of its own with ``Connection: close``, so the
    answer (relayed as it comes) closes the client's connection too: one request per connection,
    each one recorded. A CONNECT is answered 403: enough to see that the tunnel was asked for.
    """

    url: str = ""
    seen: list[Proxied] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:  # a connection opened and closed unused
            writer.close()
            return
        request_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        method, target, version = request_line.split(" ")
        headers = {name.strip().lower(): value.strip() for name, _, value in map(_split, lines)}
        self.seen.append(Proxied(method, target, headers))
        if method == "CONNECT":
            writer.write(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            writer.write(await _forward(method, target, version, lines, body))
        await writer.drain()
        writer.close()


def _split(line: str) -> tuple[str, str, str]:
    return line.partition(":")


async def _forward(method: str, target: str, version: str, lines: list[str], body: bytes) -> bytes:
    """Send one absolute-form request on to its server in origin form; its whole answer."""
    parts = urlsplit(target)
    assert parts.hostname is not None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    kept = [line for line in lines if not line.lower().startswith(("connection:", "proxy-"))]
    upstream_head = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(upstream_head.encode("latin-1") + body)
    await writer.drain()
    answer = await reader.read()  # until the server closes, as asked
    writer.close()
    return answer


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # PTB 22 warns (an error here) when RetryAfter.retry_after is read as an int.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    for name in PROXY_VARIABLES:  # no proxy of the machine's own leaks in
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("")  # and no credentials of the user's ~/.netrc
    monkeypatch.setenv("NETRC", str(netrc))


@pytest.fixture
async def proxy() -> AsyncIterator[RecordingProxy]:
    recording = RecordingProxy()
    server = await asyncio.start_server(recording.serve, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    recording.url = f"http://{host}:{port}"
    async with server:
        yield recording


@pytest.fixture(params=sorted(TRANSPORTS))
def make(request: pytest.FixtureRequest) -> MakeRequest:
    return TRANSPORTS[request.param]


def bot_over(tg: FakeTelegram, make: MakeRequest) -> Bot:
    """A PTB bot on the fake Bot API, both its requests over the transport under test."""
    return Bot(tg.token, base_url=tg.base_url, request=make(), get_updates_request=make())


def a_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again: nothing listens there


async def test_http_proxy_from_the_environment_carries_the_bot_api_calls(
    tg: FakeTelegram, proxy: RecordingProxy, make: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    tg.user(5001, "Anna").send_text("Hallo")

    async with bot_over(tg, make) as bot:  # initialize asks getMe
        message = await bot.send_message(5001, "Dein Check-in")

    assert message.text == "Dein Check-in"
    assert [r.method for r in tg.requests() if r.method != "getUpdates"] == [
        "getMe",
        "sendMessage",
    ]
    assert [(seen.method, seen.target) for seen in proxy.seen] == [
        ("POST", f"{tg.base_url}{tg.token}/getMe"),
        ("POST", f"{tg.base_url}{tg.token}/sendMessage"),
    ]


async def test_no_proxy_names_a_host_that_is_reached_directly(
    tg: FakeTelegram, proxy: RecordingProxy, make: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.org,127.0.0.1")
    tg.user(5001, "Anna").send_text("Hallo")

    async with bot_over(tg, make) as bot:
        await bot.send_message(5001, "Dein Check-in")

    assert [r.method for r in tg.requests("sendMessage")] == ["sendMessage"]
    assert proxy.seen == []


async def test_an_https_call_asks_the_https_proxy_for_a_tunnel(
    proxy: RecordingProxy, make: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    port = a_closed_port()  # never reached: the proxy refuses the tunnel

    async with make() as request:
        with pytest.raises(NetworkError):
            await request.post(f"https://127.0.0.1:{port}/bot123:abc/getMe")

    assert [(seen.method, seen.target) for seen in proxy.seen] == [
        ("CONNECT", f"127.0.0.1:{port}")
    ]


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


@pytest.mark.parametrize("source", ["proxy URL", "netrc"])
async def test_the_proxys_credentials_come_from_its_url_or_else_netrc(
    tg: FakeTelegram,
    proxy: RecordingProxy,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    source: str,
) -> None:
    address = proxy.url.removeprefix("http://")
    if source == "netrc":
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login anna password geheim\n")
        proxy_url = proxy.url
    else:
        proxy_url = f"http://anna:geheim@{address}"
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)

    async with AiohttpRequest() as request:
        await request.post(f"{tg.base_url}{tg.token}/getMe")  # plain http: the call carries them
        with pytest.raises(NetworkError):  # https: the CONNECT carries them
            await request.post(f"https://127.0.0.1:{a_closed_port()}/bot{tg.token}/getMe")

    assert [seen.method for seen in proxy.seen] == ["POST", "CONNECT"]
    assert [seen.headers.get("proxy-authorization") for seen in proxy.seen] == [
        basic("anna", "geheim")
    ] * 2
    # ~/.netrc logs in to the proxy only, never to the Bot API host (127.0.0.1 too), as in httpx.
    assert "authorization" not in proxy.seen[0].headers


@dataclass
class Counted:
    """Wraps a function of aiohttp's and counts its calls (which still do their real work)."""

    function: Callable[..., Any]
    calls: int = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.function(*args)


async def test_the_proxy_is_looked_up_once_per_host_and_session_not_per_call(
    tg: FakeTelegram, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiohttp's lookup of the proxy, and its reading of ~/.netrc, wherever aiohttp calls them:
    # in its helpers (our lookup) and in its client (trust_env, on every call).
    lookups = Counted(aiohttp.helpers.get_env_proxy_for_url)
    netrc_reads = Counted(aiohttp.helpers.netrc_from_env)
    for module in (aiohttp.helpers, aiohttp.client):
        monkeypatch.setattr(module, "get_env_proxy_for_url", lookups)
        monkeypatch.setattr(module, "netrc_from_env", netrc_reads)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    by_ip = f"{tg.base_url}{tg.token}/getMe"
    by_name = by_ip.replace("127.0.0.1", "localhost")  # a second host (the proxy resolves it)

    request = AiohttpRequest()
    await request.initialize()
    try:
        for _ in range(10):
            await request.post(by_ip)
            await request.post(by_name)
        assert (lookups.calls, netrc_reads.calls) == (2, 2)  # once per host
        await request.shutdown()
        await request.initialize()  # a new session reads the environment anew
        for _ in range(5):
            await request.post(by_ip)
    finally:
        await request.shutdown()

    assert (lookups.calls, netrc_reads.calls) == (3, 3)
    assert len(proxy.seen) == 25  # and every call went through the proxy
