"""The plan menu's "leave gracefully" button and the playbook reach Telegram as the engine says."""

from __future__ import annotations

import json

from tg_harness import Harness, as_inbound
from tg_offline import Call

from bot.core.messages import ButtonPress, Reply, ReplyKind


def question_message(calls: list[Call]) -> int:
    """The message that now carries the keyboard: the newest call that sent one."""
    with_keyboard = [
        c
        for c in calls
        if c.method in ("sendMessage", "editMessageText") and c.params.get("reply_markup")
    ]
    return with_keyboard[-1].message_id


async def tap(h: Harness, key: str, message_id: int) -> tuple[list[Call], list[Reply]]:
    """Press the button ``key`` on ``message_id``; the Bot API calls and the engine's replies."""
    data = h.data(key)
    calls = await h.press(data, message_id=message_id)
    return calls, h.expect(ButtonPress(data))


async def at_plan(h: Harness) -> int:
    """Onboard (LinkedIn kept; Instagram and TikTok dropped); the plan menu's message id."""
    calls = await h.send("/start")
    h.expect(as_inbound("/start"))
    message = question_message(calls)
    answers = ("continue", "linkedin", "instagram", "tiktok", "done", "3")
    answers += ("b2b_dach", "done", "leads", "done", "alone", "none", "show_plan")
    for key in answers:
        calls, _ = await tap(h, key, message)  # a tick redraws the same message
        message = question_message(calls)
    return message


async def test_the_leave_button_and_the_playbook_reach_telegram(harness: Harness) -> None:
    menu = await at_plan(harness)
    keyboard = harness.request.of("sendMessage")[-1].params["reply_markup"]
    assert "🚪 Sauber aussteigen" in json.dumps(keyboard, ensure_ascii=False)

    calls, _ = await tap(harness, "leave_gracefully", menu)
    choice = question_message(calls)
    calls, replies = await tap(harness, "instagram", choice)

    playbook = next(r for r in replies if r.kind is ReplyKind.QUESTION)
    assert "Instagram sauber verlassen" in playbook.text
    texts = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert playbook.text in texts  # sent as one HTML message, exactly as rendered
    (shown,) = [c for c in calls if c.params.get("text") == playbook.text]
    assert shown.params["parse_mode"] == "HTML"
    # Under it, how to leave: a tracked exit (announced or quiet), or only the tips.
    ways = json.dumps(shown.params["reply_markup"], ensure_ascii=False)
    assert "📣 Angekündigt (4 Wochen)" in ways and "Nur die Tipps, danke" in ways
    await tap(harness, "tips", question_message(calls))
    menu_again = harness.request.of("sendMessage")[-1].params
    assert "🚪 Sauber aussteigen" in json.dumps(menu_again["reply_markup"], ensure_ascii=False)
