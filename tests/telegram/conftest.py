"""Fixtures for adapter tests: the real Application on an offline request, a real engine on disk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tg_harness import Harness
from tg_offline import TOKEN, RecordingRequest

from bot.config import TelegramSettings
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.telegram.app import build_application
from storage import TinyDBUserRepository


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
