"""An update Telegram delivers again after a crash is not applied a second time.

Telegram counts an update as delivered only when the bot's *next* getUpdates (with a higher
offset) reaches it. A bot killed after it handled and saved an update, but before that next
poll arrived, gets the same update again when it starts. Found by bench/restart_test.py: a tick
on a multi choice keeps the question's turn (so that several ticks can be made on one message),
so the resent tap was taken as a new one and unticked what the user had ticked. The engine now
keeps the ids of the last updates it applied with the user's answers (``UserState.handled``).

Here the window is held open on purpose: the fake answers the bot's polls with 502 from just
before the tap, so the bot cannot confirm the tap before it is killed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_bot import BotProcess, question, tap
from fakebotapi import FakeTelegram

pytestmark = pytest.mark.e2e


def test_a_tick_resent_after_a_crash_is_not_toggled_back(
    tg: FakeTelegram, launch: Callable[[], BotProcess], data_dir: Path, tmp_path: Path
) -> None:
    first = BotProcess(tg, data_dir, tmp_path, "killed").start()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    tap(anna, question(anna, "Hallo, ich bin dein Fokus-Coach"), "continue")
    channels = question(anna, "Deine Kanäle heute")
    # The bot waits in a long poll; every later poll fails, so the tap stays unconfirmed.
    tg.wait_for_request("getUpdates", lambda r: r.status is None)
    tg.inject_error("getUpdates", 502, times=10_000)

    tap(anna, channels, "linkedin")
    anna.wait_for(lambda m: "✅ LinkedIn" in m.button_texts)  # acknowledged: the tick is shown
    assert tg.pending_updates() == 1
    assert first.process is not None
    first.process.kill()
    first.process.wait()
    with tg.world.lock:
        tg.world.injected_errors.clear()
    launch()
    start = anna.send_command("/start")

    resumed = anna.wait_for(lambda m: m.message_id > start and "Deine Kanäle heute" in m.text)
    assert "✅ LinkedIn" in resumed.button_texts, anna.transcript()
