"""Fixtures for end-to-end tests: a fake Telegram and real bot processes talking to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from e2e_bot import BotProcess, assert_token_hidden
from fakebotapi import FakeTelegram


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    yield from FakeTelegram.running()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def launch(
    tg: FakeTelegram, data_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., BotProcess]]:
    """Start bot processes on ``data_dir``; at the end each stops cleanly, token never printed."""
    launched: list[BotProcess] = []
    running: list[BotProcess] = []

    def start(env: dict[str, str] | None = None) -> BotProcess:
        bot = BotProcess(tg, data_dir, tmp_path, f"bot{len(launched)}", env)
        launched.append(bot)
        running.append(bot.start())  # a failed start has already been reported
        return bot

    yield start
    codes = [bot.stop() for bot in running]
    for bot in launched:
        assert_token_hidden(bot.output(), tg.token)
    assert codes == [0] * len(running), "\n".join(bot.output() for bot in running)
