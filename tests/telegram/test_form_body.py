"""The form ``AiohttpRequest`` sends is PTB's own ``url_encoded_parameters()``, byte for byte.

Another Telegram emulator checks the bot's requests and parses forms only, so the body must be
exactly what PTB's ``RequestData`` makes of the same parameters: names and values quoted as
``urllib.parse.urlencode`` quotes them, each value JSON-encoded as ``RequestParameter`` encodes it.
Hypothesis draws the parameter sets (any text, numbers, nested lists and dicts, PTB's objects);
one test reads the raw bytes a server receives.
"""

from __future__ import annotations

import datetime as dtm
import enum
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.aiohttp_request import AiohttpRequest, _form_body, _quote_plus


def request_data(parameters: dict[str, Any]) -> RequestData:
    """The ``RequestData`` PTB's ``Bot._do_post`` builds for these parameters."""
    return RequestData([RequestParameter.from_input(k, v) for k, v in parameters.items()])


def ptb_form(data: RequestData) -> bytes:
    """The body PTB's HTTPXRequest sends: ``url_encoded_parameters()`` as bytes."""
    return data.url_encoded_parameters().encode("ascii")


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
buttons = st.builds(
    lambda label, data: InlineKeyboardButton(label, callback_data=data),
    st.text(min_size=1),
    st.text(min_size=1, max_size=64),
)
telegram_objects = st.one_of(
    st.lists(st.lists(buttons, min_size=1, max_size=3), min_size=1, max_size=4).map(
        InlineKeyboardMarkup
    ),
    st.builds(LinkPreviewOptions, is_disabled=st.booleans(), url=st.none() | st.text()),
    st.builds(ReplyParameters, st.integers(1, 2**40), allow_sending_without_reply=st.booleans()),
    st.sampled_from(list(ParseMode)),
    st.datetimes(timezones=st.just(ZoneInfo("Europe/Berlin"))),
    st.timedeltas(min_value=dtm.timedelta(0), max_value=dtm.timedelta(days=400)),
)
parameter_sets = st.dictionaries(
    st.text(min_size=1, max_size=24), json_values | telegram_objects, max_size=8
)


@settings(max_examples=600, deadline=None)
@given(parameter_sets)
def test_the_form_is_ptbs_url_encoded_parameters_byte_for_byte(
    parameters: dict[str, Any],
) -> None:
    data = request_data(parameters)

    assert _form_body(data) == ptb_form(data)


@settings(max_examples=600, deadline=None)
@given(st.text() | st.binary().map(lambda raw: raw.decode("utf-8", "replace")))
def test_a_value_is_quoted_as_urllib_quotes_it(text: str) -> None:
    assert _quote_plus(text) == quote_plus(text)


def test_every_byte_value_is_quoted_as_urllib_quotes_it() -> None:
    every_character = "".join(chr(code) for code in range(0x800))
    assert _quote_plus(every_character) == quote_plus(every_character)


def test_a_lone_surrogate_fails_as_in_ptb() -> None:
    data = request_data({"text": "broken \ud800 text"})

    with pytest.raises(UnicodeEncodeError):
        data.url_encoded_parameters()
    with pytest.raises(UnicodeEncodeError):
        _form_body(data)


class _OldStyleEnum(str, enum.Enum):  # noqa: UP042 - its str() is the point
    """A str enum whose ``str()`` is its name, not its value (``urlencode`` quotes the str())."""

    HTML = "HTML"


def test_a_string_value_is_quoted_through_str_as_urlencode_does() -> None:
    data = request_data({"parse_mode": _OldStyleEnum.HTML, "text": "Hallo"})

    assert _form_body(data) == ptb_form(data)
    assert _form_body(data).startswith(b"parse_mode=_OldStyleEnum.HTML&")


class _RawBodies:
    """A server that keeps each request's raw body and content type."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []

    async def keep(self, request: web.Request) -> web.Response:
        self.bodies.append((request.content_type, await request.read()))
        return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def raw_server() -> AsyncIterator[tuple[str, _RawBodies]]:
    bodies = _RawBodies()
    app = web.Application()
    app.router.add_post("/bot/sendMessage", bodies.keep)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/bot/sendMessage", bodies
    await runner.cleanup()


async def test_the_wire_carries_ptbs_form_for_a_checkin(
    raw_server: tuple[str, _RawBodies],
) -> None:
    url, bodies = raw_server
    checkin = request_data(
        {
            "chat_id": 5151,
            "text": "<b>⏰ Zeit für deinen Fokus-Check-in</b>\n„Diese Woche“ & 100 % 😀",
            "parse_mode": ParseMode.HTML,
            "link_preview_options": LinkPreviewOptions(is_disabled=True),
            "reply_markup": InlineKeyboardMarkup(
                [[InlineKeyboardButton("▶️ Check-in starten", callback_data="15.k.start")]]
            ),
        }
    )

    async with AiohttpRequest(connection_pool_size=2) as request:
        status, _ = await request.do_request(url, "POST", checkin)

    assert status == 200
    assert bodies.bodies == [("application/x-www-form-urlencoded", ptb_form(checkin))]
