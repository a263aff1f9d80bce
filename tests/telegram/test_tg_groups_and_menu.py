"""Group chats, membership changes, non-text messages and the command menu."""

from __future__ import annotations

import html
import logging
import re

import pytest
from tg_harness import Harness
from tg_offline import message_update, my_chat_member_update

from bot.core.commands import MENU_COMMANDS
from bot.core.content import Content
from storage import TinyDBUserRepository

GROUP = -100123


def group_note(content: Content, lang: str) -> tuple[str, dict[str, object]]:
    label = content.texts.label(lang, "telegram_open_private")
    button = {"text": label, "url": "https://t.me/fokus_coach_test_bot"}
    return content.texts.render(lang, "telegram/group_only"), {"inline_keyboard": [[button]]}


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_command_in_a_group_gets_the_private_chat_note_in_the_senders_language(
    harness: Harness, content: Content, file_repo: TinyDBUserRepository, lang: str
) -> None:
    update = message_update(
        harness.app.bot, "/start", user_id=1001, chat_id=GROUP, language_code=lang, command=True
    )

    calls = await harness.process(update)

    text, markup = group_note(content, lang)
    assert [(c.method, c.params["chat_id"]) for c in calls] == [("sendMessage", GROUP)]
    assert (calls[0].params["text"], calls[0].params["reply_markup"]) == (text, markup)
    assert file_repo.get("1001") is None  # no dialogue was started


async def test_group_note_follows_the_language_the_user_chose(
    harness: Harness, content: Content
) -> None:
    await harness.send("/language en", language_code="de")

    update = message_update(
        harness.app.bot, "/plan", user_id=1001, chat_id=GROUP, language_code="de", command=True
    )
    calls = await harness.process(update)

    assert calls[0].params["text"] == group_note(content, "en")[0]


async def test_group_talk_and_other_bots_commands_are_left_alone(harness: Harness) -> None:
    bot = harness.app.bot
    chatter = message_update(bot, "Guten Morgen", chat_id=GROUP)
    other = message_update(bot, "/start@other_bot", chat_id=GROUP, command=True)

    assert await harness.process(chatter) == []
    assert await harness.process(other) == []


async def test_bot_added_to_a_group_introduces_itself(harness: Harness, content: Content) -> None:
    update = my_chat_member_update(
        harness.app.bot, chat_id=GROUP, user_id=1002, old="left", new="member", language_code="en"
    )

    calls = await harness.process(update)

    assert [(c.method, c.params["text"]) for c in calls] == [
        ("sendMessage", group_note(content, "en")[0])
    ]


async def test_blocking_the_bot_is_logged_only(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    update = my_chat_member_update(
        harness.app.bot, chat_id=1001, user_id=1001, old="member", new="kicked"
    )

    with caplog.at_level(logging.INFO, logger="bot.telegram"):
        calls = await harness.process(update)

    assert calls == []
    assert "user 1001 blocked the bot" in caplog.messages


async def test_sticker_gets_the_text_only_note(harness: Harness, content: Content) -> None:
    sticker = {
        "sticker": {
            "file_id": "CAAC",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }
    update = message_update(harness.app.bot, None, language_code="en", extra=sticker)

    calls = await harness.process(update)

    assert [(c.method, c.params["text"]) for c in calls] == [
        ("sendMessage", content.texts.render("en", "telegram/text_only"))
    ]


async def test_menu_is_set_per_language_with_the_default_in_german(
    harness: Harness, content: Content
) -> None:
    harness.request.clear()
    assert harness.app.post_init is not None

    await harness.app.post_init(harness.app)

    calls = harness.request.of("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == [None, "de", "en"]
    for call, lang in zip(calls, ["de", "de", "en"], strict=True):
        assert call.params["commands"] == [
            {"command": name, "description": content.texts.label(lang, f"command_{name}")}
            for name in MENU_COMMANDS
        ]


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_help_lists_exactly_the_command_menu_with_the_same_descriptions(
    harness: Harness, lang: str
) -> None:
    assert harness.app.post_init is not None
    await harness.app.post_init(harness.app)
    menu = {
        call.params.get("language_code"): call.params["commands"]
        for call in harness.request.of("setMyCommands")
    }
    await harness.send("/start", language_code=lang)

    calls = await harness.send("/help", language_code=lang)

    messages = [c for c in calls if c.method == "sendMessage"]
    assert len(messages) == 2  # the help, then the question again
    help_text = html.unescape(messages[0].params["text"])
    listed = [
        {"command": name, "description": description}
        for name, description in re.findall(r"^/(\w+) – (.+)$", help_text, re.MULTILINE)
    ]
    assert listed == menu[lang]
    assert [entry["command"] for entry in listed] == list(MENU_COMMANDS)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("template", ["group_only", "text_only", "failed"])
def test_telegram_templates_render_in_both_languages(
    content: Content, lang: str, template: str
) -> None:
    text = content.texts.render(lang, f"telegram/{template}")

    assert text.strip() and len(text) < 500
    assert content.texts.label(lang, "telegram_open_private")
