"""Engine replies -> Bot API calls, through the real Application on an offline request.

Each test speaks to the bot with Telegram updates and compares the calls it makes with what a
twin engine (same content, same conversation) replies: the adapter must show exactly that.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from pathlib import Path

import pytest
from tg_harness import Harness, as_inbound, keyboard_json
from tg_offline import Call, callback_update

from bot.core.engine import DialogueEngine
from bot.core.messages import ButtonPress, Reply, ReplyKind
from storage import TinyDBUserRepository


def without_answers(calls: list[Call]) -> list[Call]:
    return [call for call in calls if call.method != "answerCallbackQuery"]


def sent(call: Call, reply: Reply, *, chat_id: int = 1001) -> None:
    """``call`` is a new message showing ``reply`` as HTML with its buttons."""
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == chat_id
    assert call.params["text"] == reply.text
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert call.params.get("reply_markup") == (
        keyboard_json(reply.buttons) if reply.buttons else None
    )


def edited(call: Call, reply: Reply, *, message_id: int) -> None:
    """``call`` rewrites message ``message_id`` to show ``reply`` (no buttons: keyboard gone)."""
    assert call.method == "editMessageText"
    assert (call.params["chat_id"], call.params["message_id"]) == (1001, message_id)
    assert call.params["text"] == reply.text
    assert call.params["parse_mode"] == "HTML"
    assert call.params.get("reply_markup") == (
        keyboard_json(reply.buttons) if reply.buttons else None
    )


async def start(h: Harness, language: str = "de") -> int:
    """/start; returns the id of the welcome message."""
    calls = await h.send("/start", language_code=language)
    h.expect(as_inbound("/start"), language=language)
    return calls[-1].message_id


async def at_channels(h: Harness) -> int:
    """Through the welcome to the channels question; returns its message id."""
    welcome = await start(h)
    go_on = h.data("continue")
    calls = await h.press(go_on, message_id=welcome)
    h.expect(ButtonPress(go_on))
    return next(c for c in calls if c.method == "sendMessage").message_id


async def test_start_sends_the_question_as_html_with_its_keyboard(harness: Harness) -> None:
    calls = await harness.send("/start")

    expected = harness.expect(as_inbound("/start"))
    assert [c.method for c in calls] == ["sendMessage"]
    assert expected[0].kind is ReplyKind.QUESTION
    sent(calls[0], expected[0])


async def test_language_code_is_the_hint_for_a_new_user(harness: Harness) -> None:
    calls = await harness.send("/start", language_code="en-GB")

    expected = harness.expect(as_inbound("/start"), language="en-GB")
    sent(calls[0], expected[0])
    assert "Nobody can do every social network" in calls[0].params["text"]


async def test_press_is_answered_and_the_old_keyboard_removed(harness: Harness) -> None:
    welcome = await start(harness)
    go_on = harness.data("continue")

    calls = await harness.press(go_on, message_id=welcome)

    expected = harness.expect(ButtonPress(go_on))
    assert [c.method for c in calls if c.method == "answerCallbackQuery"] == [
        "answerCallbackQuery"
    ]
    rest = without_answers(calls)
    assert [c.method for c in rest] == ["sendMessage", "editMessageReplyMarkup"]
    sent(rest[0], expected[0])
    assert rest[1].params["message_id"] == welcome
    assert "reply_markup" not in rest[1].params


async def test_toggle_edits_the_pressed_message_text_and_keyboard(harness: Harness) -> None:
    channels = await at_channels(harness)
    linkedin = harness.data("linkedin")

    calls = await harness.press(linkedin, message_id=channels)

    expected = harness.expect(ButtonPress(linkedin))
    assert len(expected) == 1 and expected[0].edits_question
    rest = without_answers(calls)
    assert len(rest) == 1
    edited(rest[0], expected[0], message_id=channels)
    assert "✅ LinkedIn" in json.dumps(rest[0].params["reply_markup"], ensure_ascii=False)


async def test_done_echoes_the_choice_on_the_question_and_asks_the_next(
    harness: Harness,
) -> None:
    channels = await at_channels(harness)
    linkedin = harness.data("linkedin")
    await harness.press(linkedin, message_id=channels)
    harness.expect(ButtonPress(linkedin))
    done = harness.data("done")

    calls = await harness.press(done, message_id=channels)

    echo, question = harness.expect(ButtonPress(done))
    assert echo.kind is ReplyKind.ANSWERED
    rest = without_answers(calls)
    assert [c.method for c in rest] == ["editMessageText", "sendMessage"]
    edited(rest[0], echo, message_id=channels)
    sent(rest[1], question)


async def test_typed_answer_is_echoed_on_the_last_question(harness: Harness) -> None:
    channels = await at_channels(harness)
    done = harness.data("done")
    calls = await harness.press(done, message_id=channels)
    harness.expect(ButtonPress(done))
    hours_question = without_answers(calls)[-1].message_id

    calls = await harness.send("5")

    echo, question = harness.expect(as_inbound("5"))
    assert [c.method for c in calls] == ["editMessageText", "sendMessage"]
    edited(calls[0], echo, message_id=hours_question)
    sent(calls[1], question)


async def test_stray_text_gets_a_short_hint_pointing_at_the_question(harness: Harness) -> None:
    channels = await at_channels(harness)

    calls = await harness.send("Instagram bitte")

    hint, question = harness.expect(as_inbound("Instagram bitte"))
    assert question.repeat
    assert [c.method for c in calls] == ["sendMessage"]
    sent(calls[0], hint)
    assert calls[0].params["reply_parameters"]["message_id"] == channels


async def test_stale_button_says_out_of_date_and_is_answered(harness: Harness) -> None:
    welcome = await start(harness)
    stale = harness.data("continue")
    await harness.press(stale, message_id=welcome)
    harness.expect(ButtonPress(stale))

    calls = await harness.press(stale, message_id=welcome)

    expected = harness.expect(ButtonPress(stale))
    assert "nicht mehr aktuell" in expected[0].text
    assert [c.method for c in calls].count("answerCallbackQuery") == 1
    rest = without_answers(calls)
    sent(rest[0], expected[0])
    sent(rest[1], expected[1])


@pytest.mark.parametrize(
    ("presser", "chat_id"),
    [(1001, 2002), (1001, -100123), (2002, 1001)],
    ids=["in-another-private-chat", "in-a-group", "someone-else-in-the-users-chat"],
)
async def test_a_press_outside_the_pressers_own_chat_is_only_answered(
    harness: Harness, caplog: pytest.LogCaptureFixture, presser: int, chat_id: int
) -> None:
    welcome = await start(harness)  # user 1001, in their private chat 1001
    go_on = harness.data("continue")
    elsewhere = callback_update(
        harness.app.bot, go_on, message_id=welcome, user_id=presser, chat_id=chat_id
    )

    with caplog.at_level(logging.INFO, logger="bot.telegram.handlers"):
        calls = await harness.process(elsewhere)

    assert [c.method for c in calls] == ["answerCallbackQuery"]  # the spinner stops, no more
    assert f"of user {presser} not applied" in caplog.text
    # Nothing moved on: the same button in the user's own chat still does what it did.
    calls = await harness.press(go_on, message_id=welcome)
    expected = harness.expect(ButtonPress(go_on))
    sent(without_answers(calls)[0], expected[0])


async def test_edit_of_a_vanished_message_sends_a_new_one(harness: Harness) -> None:
    channels = await at_channels(harness)
    harness.request.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    xing = harness.data("xing")

    calls = await harness.press(xing, message_id=channels)

    expected = harness.expect(ButtonPress(xing))
    rest = without_answers(calls)
    assert [c.method for c in rest] == ["editMessageText", "sendMessage"]
    sent(rest[1], expected[0])
    # The new message is the question now: the next typed answer's echo goes there.
    await harness.press(harness.data("done"), message_id=rest[1].message_id)
    echo_calls = without_answers(harness.request.calls)
    assert echo_calls[0].params["message_id"] == rest[1].message_id


async def test_message_not_modified_is_ignored(harness: Harness) -> None:
    channels = await at_channels(harness)
    harness.request.fail_next(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )

    calls = await harness.press(harness.data("xing"), message_id=channels)

    assert [c.method for c in without_answers(calls)] == ["editMessageText"]


async def test_fast_taps_are_applied_once_each_in_order(harness: Harness) -> None:
    channels = await at_channels(harness)
    keys = ["linkedin", "xing", "linkedin", "tiktok", "instagram"]
    taps = [harness.data(key) for key in keys]
    updates = [callback_update(harness.app.bot, data, message_id=channels) for data in taps]
    harness.request.clear()

    # All at once, as concurrent_updates would run them; the per-user lock keeps the order.
    await asyncio.gather(*(harness.app.process_update(update) for update in updates))

    expected = [harness.expect(ButtonPress(data))[0] for data in taps]
    edits = harness.request.of("editMessageText")
    assert len(edits) == len(taps)
    for call, reply in zip(edits, expected, strict=True):
        edited(call, reply, message_id=channels)
    assert len(harness.request.of("answerCallbackQuery")) == len(taps)


async def test_export_sends_the_json_file_and_the_summary(
    harness: Harness, file_repo: TinyDBUserRepository
) -> None:
    channels = await at_channels(harness)
    for key in ("linkedin", "xing"):
        data = harness.data(key)
        await harness.press(data, message_id=channels)
        harness.expect(ButtonPress(data))

    calls = await harness.send("/export")

    document, question = harness.expect(as_inbound("/export"))
    assert document.document is not None
    assert [c.method for c in calls[:2]] == ["sendDocument", "sendMessage"]
    filename, content = calls[0].files["document"]
    assert filename == document.document.filename
    exported = json.loads(content)
    assert exported["dialogue"]["selection"] == ["linkedin", "xing"]
    assert exported["user_id"] == "1001"
    assert calls[0].params["caption"] == document.text
    assert calls[0].params["parse_mode"] == "HTML"
    sent(calls[1], question)


async def test_delete_removes_every_file_of_the_user(
    harness: Harness, file_repo: TinyDBUserRepository
) -> None:
    await at_channels(harness)
    confirm = await harness.send("/delete")
    harness.expect(as_inbound("/delete"))
    assert file_repo.get("1001") is not None

    yes = harness.data("delete_yes")
    calls = await harness.press(yes, message_id=confirm[-1].message_id)

    expected = harness.expect(ButtonPress(yes))
    sent(without_answers(calls)[0], expected[0])
    assert file_repo.get("1001") is None
    leftovers = [
        path
        for path in Path(file_repo.data_dir).rglob("*")
        if path.is_file() and "1001" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert leftovers == []


async def test_command_for_this_bot_with_args_is_understood(harness: Harness) -> None:
    calls = await harness.send("/Language@Fokus_Coach_Test_Bot en")

    expected = harness.expect(as_inbound("/language en"))
    assert "Nobody can do every social network" in expected[-1].text
    sent(calls[-1], expected[-1])


async def test_command_for_another_bot_is_ignored(
    harness: Harness, file_repo: TinyDBUserRepository
) -> None:
    calls = await harness.send("/start@some_other_bot")

    assert calls == []
    assert file_repo.get("1001") is None


async def test_engine_failure_tells_the_user_and_logs(
    harness: Harness,
    coach_engine: DialogueEngine,
    file_repo: TinyDBUserRepository,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await start(harness)

    def failing_disk(user_id: str) -> None:
        # An I/O error, not damaged content (a damaged file starts the user afresh, see
        # tests/reliability/test_damaged_files.py).
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(file_repo, "get", failing_disk)

    calls = await harness.send("/start")

    failed = coach_engine.content.texts.render("de", "telegram/failed")
    assert [(c.method, c.params["text"]) for c in calls] == [("sendMessage", failed)]
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)
