"""Fixtures for adapter tests: the real Application on an offline request, a real engine on disk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fakebotapi import FakeTelegram
from tg_harness import Harness
from tg_offline import TOKEN, RecordingRequest

from bot.config import TelegramSettings
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.telegram.app import build_application
from storage import TinyDBUserRepository


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # As run_bot sets it: PTB 22 warns (an error here) when a 429's retry_after is an int.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    """The project's fake Bot API server, running for one test."""
    yield from FakeTelegram.running()


@pytest.fixture
def settings() -> TelegramSettings:
    return TelegramSettings(token=TOKEN)


@pytest.fixture
def coach_engine(content: Content, file_repo: TinyDBUserRepository) -> DialogueEngine:
    return DialogueEngine(content, file_repo)


@pytest.fixture
async def harness(
    settings: TelegramSettings, coach_engine: DialogueEngine, content: Content
) -> AsyncIterator[Harness]:
    request = RecordingRequest()
    app = build_application(settings, coach_engine, request=request)
    async with app:
        yield Harness(app, request, content)
