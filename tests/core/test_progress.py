"""The picture of progress: its data (score, streak, sparkline), the PNG, and when it is sent."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from dialogue_driver import Chat, plain
from PIL import Image
from test_checkin_dialogue import Clock, do_checkin
from test_engine import onboard_de

from bot.core.checkin_stats import WeekStatus, evaluate
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.messages import Reply, ReplyKind
from bot.core.progress import CHART_WEEKS, forgiving_score, progress, sparkline
from bot.core.progress_chart import CHART_DPI, CHART_INCHES, render_chart
from bot.core.progress_view import CAPTION_LIMIT, chart_texts, progress_reply
from bot.core.state import UserState
from storage import InMemoryUserRepository

ON, PARTLY, OFF = WeekStatus.ON_PLAN, WeekStatus.PARTLY, WeekStatus.OFF
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def week(number: int, rating: str = "on_plan", hours: float = 2.0, **more: Any) -> dict[str, Any]:
    """A stored check-in of one focus channel (LinkedIn) with a 2-hour budget."""
    return {
        "week": f"2026-W{number:02d}",
        "channels": {"linkedin": rating},
        "hours": hours,
        "budget": 2.0,
        "energy": 3,
        **more,
    }


def photos(replies: list[Reply]) -> list[Reply]:
    return [reply for reply in replies if reply.kind is ReplyKind.PHOTO]


# ---- plain data ---------------------------------------------------------------------------


def test_the_forgiving_score_counts_weeks_on_plan_in_the_last_four() -> None:
    assert forgiving_score([OFF, ON, ON, PARTLY, ON]) == forgiving_score([ON, ON, PARTLY, ON])
    assert forgiving_score([ON, ON, PARTLY, ON]).on_plan == 3
    assert forgiving_score([ON, ON, PARTLY, ON]).weeks == 4
    assert forgiving_score([PARTLY]).on_plan == 0
    assert forgiving_score([ON, OFF], window=1).on_plan == 0
    with pytest.raises(ValueError, match="window"):
        forgiving_score([ON], window=0)


def test_the_sparkline_starts_at_zero_and_tops_out_at_the_largest_week() -> None:
    assert sparkline([0, 2, 4, 8]) == "▁▃▅█"
    assert sparkline([3, 3, 3]) == "███"  # steady weeks are full, not nothing
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""


def test_progress_uses_the_week_status_the_feedback_states() -> None:
    records = [
        week(1),
        week(2, "partly"),
        week(3, "not", hours=0.0),
        week(4, hours=2.2),  # within the 10 % tolerance
        week(5, hours=3.0),  # over budget: partly
        week(6, creep="xing"),  # a dropped channel came back: partly
        week(7),
        week(8),
    ]
    chart = progress(records, 2.0)

    assert [bar.status for bar in chart.bars] == [ON, PARTLY, OFF, ON, PARTLY, PARTLY, ON, ON]
    assert chart.streak == evaluate(records, 2.0).streak == 2
    assert (chart.score.on_plan, chart.score.weeks) == (2, 4)
    assert [bar.number for bar in chart.bars] == list(range(1, 9))
    assert chart.as_context()["bars"][1]["status"] == "partly"


def test_progress_draws_the_weeks_history_lists_and_the_latest_budget() -> None:
    records = [week(n) for n in range(1, 21)] + [{**week(21), "budget": 3.5}]
    chart = progress(records, 2.0)

    assert len(chart.bars) == CHART_WEEKS
    assert chart.bars[-1].week == "2026-W21"
    assert chart.budget == 3.5
    assert chart.streak == 21  # the streak counts every check-in, not only the drawn ones
    with pytest.raises(ValueError, match="at least one"):
        progress([], 2.0)


# ---- the picture --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, CHART_WEEKS])
def test_the_chart_is_a_phone_sized_png(content: Content, count: int) -> None:
    statuses = ("on_plan", "partly", "not")
    chart = progress([week(n, statuses[n % 3], hours=n / 2) for n in range(1, count + 1)], 2.0)

    png = render_chart(chart, chart_texts(content, "de", chart))

    assert png.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (CHART_INCHES[0] * CHART_DPI, CHART_INCHES[1] * CHART_DPI)
    assert len(png) < 200_000  # a light upload


def test_the_charts_words_are_the_users_language_and_number_format(content: Content) -> None:
    chart = progress([week(1), week(2, hours=1.5), {**week(3), "budget": 3.5}], 2.0)

    german = chart_texts(content, "de", chart)
    english = chart_texts(content, "en", chart)

    assert german.budget == "Budget: 3,5 Std."
    assert english.budget == "Budget: 3.5 h"
    assert german.title == "Serie: 3 Wochen nach Plan\n3 der letzten 3 Wochen nach Plan"
    assert english.title == "Streak: 3 weeks on plan\n3 of the last 3 weeks on plan"
    assert german.weeks == ("KW 1", "KW 2", "KW 3")
    assert english.hours_axis == "Hours per week"


def test_the_caption_says_the_same_in_words_and_fits_telegram(content: Content) -> None:
    user = UserState(user_id="anna", lang="de")
    user.checkins = [week(n, "partly", hours=12.5) for n in range(1, 30)]
    user.checkins[-1] = week(29, hours=2.0)

    reply = progress_reply(content, user)

    assert reply is not None and reply.photo is not None
    assert reply.kind is ReplyKind.PHOTO
    caption = plain(reply.text)
    assert len(caption) <= CAPTION_LIMIT
    assert "Serie: 1 Woche nach Plan · 1 der letzten 4 Wochen nach Plan" in caption
    assert "KW 28: 12,5 Std. von 2 geplant – Teilweise nach Plan" in caption
    assert "KW 29: 2 Std. von 2 geplant – Nach Plan" in caption
    assert "KW 17:" not in caption  # the twelve weeks drawn, as /history lists them
    assert reply.photo.content.startswith(PNG_MAGIC)
    assert reply.photo.filename == "fokus-coach-progress-anna.png"
    assert reply.photo.text_line == "███████████▂"


def test_no_picture_before_the_first_checkin(content: Content) -> None:
    assert progress_reply(content, UserState(user_id="anna", lang="de")) is None


# ---- when it is sent ----------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Friday 2026-11-27 09:00 UTC: week 48


@pytest.fixture
def engine(content: Content, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, InMemoryUserRepository(), clock=clock)


@pytest.fixture
def planned(engine: DialogueEngine) -> Chat:
    """A German user with a plan: LinkedIn kept (2,1 of her 3 hours)."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    return chat


def test_the_second_checkin_brings_the_picture_the_first_does_not(
    planned: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    planned.send("/checkin")
    do_checkin(planned, hours="2")
    assert "Danke, dein Check-in für KW 48" in planned.text
    assert photos(planned.replies) == []

    clock.now += timedelta(days=7)
    planned.send("/checkin")
    do_checkin(planned, hours="6")

    (picture,) = photos(planned.replies)
    texts = [reply.text for reply in planned.replies]
    assert "Check-in für KW 49" in texts[texts.index(picture.text) - 1]  # right after it
    assert "Serie: 0 Wochen nach Plan · 1 der letzten 2 Wochen nach Plan" in plain(picture.text)
    assert "KW 49: 6 Std. von 2,1 geplant – Teilweise nach Plan" in plain(picture.text)
    assert picture.photo is not None and picture.photo.content.startswith(PNG_MAGIC)


def test_history_brings_the_picture_after_the_list(planned: Chat) -> None:
    planned.send("/history")
    assert photos(planned.replies) == []

    planned.send("/checkin")
    do_checkin(planned, hours="2")
    planned.send("/history")

    (picture,) = photos(planned.replies)
    kinds = [reply.kind for reply in planned.replies]
    assert kinds == [ReplyKind.INFO, ReplyKind.PHOTO, ReplyKind.QUESTION]
    assert "KW 48: 2 Std. von 2,1 geplant – Nach Plan" in plain(picture.text)


def test_starting_the_bot_does_not_load_matplotlib() -> None:
    """The chart's library is loaded with the first chart, so start-up and idle memory stay."""
    probe = (
        "import sys, bot.cli, bot.telegram.app, bot.console\n"
        "from bot.core.checker import load_content\n"
        "from bot.core.content import DEFAULT_PROMPTS_DIR\n"
        "load_content(DEFAULT_PROMPTS_DIR)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr
