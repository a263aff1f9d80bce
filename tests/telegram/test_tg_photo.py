"""A PHOTO reply (the picture of progress) goes out as sendPhoto, its words as the caption."""

from __future__ import annotations

from tg_harness import Harness

from bot.core.content import Content
from bot.core.messages import Photo, Reply, ReplyKind
from bot.core.progress_view import progress_reply
from bot.core.state import UserState
from bot.telegram.render import ReplyRenderer
from bot.telegram.splitting import MAX_CAPTION_LENGTH

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def checked_in_user() -> UserState:
    user = UserState(user_id="1001", lang="de")
    user.checkins = [
        {"week": f"2026-W{n}", "channels": {"linkedin": "on_plan"}, "hours": 2.0, "budget": 2.0}
        for n in (47, 48)
    ]
    return user


async def test_the_picture_is_sent_as_a_photo_with_its_caption(
    harness: Harness, content: Content
) -> None:
    reply = progress_reply(content, checked_in_user())
    assert reply is not None and reply.photo is not None

    harness.request.clear()
    await ReplyRenderer().show(harness.app.bot, 1001, [reply])

    (call,) = harness.request.calls
    assert call.method == "sendPhoto"
    filename, png = call.files["photo"]
    assert filename == "fokus-coach-progress-1001.png"
    assert png == reply.photo.content and png.startswith(PNG_MAGIC)
    assert call.params["caption"] == reply.text
    assert call.params["parse_mode"] == "HTML"
    assert "Serie: 2 Wochen nach Plan" in call.params["caption"]


async def test_a_caption_too_long_for_a_photo_follows_it_as_a_message(harness: Harness) -> None:
    words = "x" * (MAX_CAPTION_LENGTH + 1)
    reply = Reply(
        text=words,
        kind=ReplyKind.PHOTO,
        photo=Photo(filename="p.png", content=PNG_MAGIC + b"rest"),
    )

    harness.request.clear()
    await ReplyRenderer().show(harness.app.bot, 1001, [reply])

    photo, message = harness.request.calls
    assert photo.method == "sendPhoto" and "caption" not in photo.params
    assert message.method == "sendMessage" and message.params["text"] == words
