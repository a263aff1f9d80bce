"""Long replies are split at line breaks into messages Telegram accepts, HTML kept valid."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot
from tg_harness import Harness

from bot.core.messages import Button, Reply, ReplyKind
from bot.telegram.render import ReplyRenderer
from bot.telegram.splitting import MAX_MESSAGE_LENGTH, split_html, telegram_length

_TAG = re.compile(r"<(/?)(\w+)>")


def balanced(part: str) -> bool:
    stack: list[str] = []
    for closing, name in _TAG.findall(part):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def words(text: str) -> list[str]:
    return html.unescape(re.sub(r"<[^>]+>", " ", text)).split()


def test_short_text_is_one_part() -> None:
    assert split_html("<b>Hallo</b>\nWelt") == ["<b>Hallo</b>\nWelt"]


def test_split_falls_between_lines() -> None:
    lines = [f"<b>Zeile {n}:</b> {'x' * 40}" for n in range(300)]

    parts = split_html("\n".join(lines))

    assert len(parts) > 1
    assert all(telegram_length(part) <= MAX_MESSAGE_LENGTH for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_tag_open_across_a_split_is_closed_and_reopened() -> None:
    text = "<i>" + "\n".join(f"Satz {n} &amp; mehr" for n in range(600)) + "</i>"

    parts = split_html(text, 1000)

    assert len(parts) > 1
    assert all(part.startswith("<i>") and part.endswith("</i>") for part in parts)
    assert all(balanced(part) and telegram_length(part) <= 1000 for part in parts)
    assert words("".join(parts)) == words(text)


def test_endless_line_is_broken_between_words_never_inside_a_tag_or_entity() -> None:
    text = " ".join(f"<b>wort{n}</b>&amp;" for n in range(800))

    parts = split_html(text, 500)

    assert all(balanced(part) and telegram_length(part) <= 500 for part in parts)
    assert all(not re.search(r"<[^>]*$|&[#\w]*$", part) for part in parts)
    assert words(" ".join(parts)) == words(text)


def test_a_word_longer_than_a_message_is_cut() -> None:
    text = "a" * 10_000

    parts = split_html(text)

    assert "".join(parts) == text
    assert all(telegram_length(part) <= MAX_MESSAGE_LENGTH for part in parts)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "b", "i", "code"]),
            st.text(alphabet="abcäöü€😀 -", min_size=0, max_size=120),
        ),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=200, max_value=1200),
)
def test_any_text_splits_into_valid_parts(lines: list[tuple[str, str]], limit: int) -> None:
    text = "\n".join(f"<{tag}>{html.escape(body)}</{tag}>" if tag else body for tag, body in lines)

    parts = split_html(text, limit)

    assert all(balanced(part) and telegram_length(part) <= limit for part in parts)
    assert words(" ".join(parts)) == words(text)


async def test_long_question_is_sent_in_parts_with_buttons_on_the_last(harness: Harness) -> None:
    bot: Bot = harness.app.bot
    body = "\n".join(f"<b>Kanal {n}</b> – {'passt gut ' * 6}" for n in range(200))
    question = Reply(text=body, kind=ReplyKind.QUESTION, buttons=((Button("Weiter", "9.c."),),))
    renderer = ReplyRenderer()
    harness.request.clear()

    await renderer.show(bot, 1001, [question])

    calls = harness.request.of("sendMessage")
    assert len(calls) > 1
    assert all(telegram_length(c.params["text"]) <= MAX_MESSAGE_LENGTH for c in calls)
    assert all(c.params["parse_mode"] == "HTML" for c in calls)
    assert [("reply_markup" in c.params) for c in calls] == [False] * (len(calls) - 1) + [True]
    assert "\n".join(c.params["text"] for c in calls) == body
    assert renderer.question_message(1001) == calls[-1].message_id
