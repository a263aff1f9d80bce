"""The plan as the user reads it: short enough for a phone, every judgement with its sources."""

from __future__ import annotations

import re

from dialogue_driver import Chat, plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_coaching import AUDIENCE_IDS, CHANNEL_IDS, GOAL_IDS, SHIPPED

from bot.core.checker import load_content
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.engine import DialogueEngine
from bot.core.plan_view import plan_reply
from storage import InMemoryUserRepository

CONTENT = load_content(DEFAULT_PROMPTS_DIR)  # hypothesis tests take no function fixtures
TELEGRAM_SHORT = 1800  # visible characters: one screen and a bit on a phone

five_channel_users = st.builds(
    PlanInput,
    channels_used=st.lists(st.sampled_from(CHANNEL_IDS), min_size=5, max_size=5, unique=True).map(
        tuple
    ),
    hours=st.sampled_from([0.5, 1, 1.5, 2, 3, 4, 5, 8, 12, 20]),
    audiences=st.lists(st.sampled_from(AUDIENCE_IDS), min_size=1, max_size=2, unique=True).map(
        tuple
    ),
    goals=st.lists(st.sampled_from(GOAL_IDS), min_size=1, max_size=2, unique=True).map(tuple),
    team=st.booleans(),
    pressure=st.none() | st.sampled_from(CHANNEL_IDS),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(five_channel_users, st.sampled_from(["de", "en"]))
def test_the_plan_of_a_five_channel_user_fits_a_phone(answers: PlanInput, lang: str) -> None:
    text = plain(plan_reply(CONTENT, build_plan(answers, SHIPPED), lang).text)
    assert len(text) < TELEGRAM_SHORT, text
    assert "/sources" in text  # the full list is one tap away
    # Each judgement cites at most three sources, after a dash; never a bare source key.
    for line in text.splitlines():
        if " – " in line and line.rstrip().endswith(("2023", "2024", "2025")):
            assert line.rsplit(" – ", 1)[1].count(",") <= 2, line
    assert not re.search(r"\b(BIT23|LI-DACH|SMA24|E)\b,", text), text


def test_an_estimate_is_named_as_the_coachs_never_as_a_study() -> None:
    # WhatsApp fits, but not into one hour next to Facebook; only the coach's estimate of its
    # hours backs that.
    plan = build_plan(
        PlanInput(("facebook", "whatsapp"), 1, ("consumers_50plus",), ("community",), False, None),
        SHIPPED,
    )
    de = plain(plan_reply(CONTENT, plan, "de").text)
    en = plain(plan_reply(CONTENT, plan, "en").text)
    assert "Einschätzung des Coachs" in de and "coach's estimate" in en
    assert "Estimate" not in de  # no English inside a German plan


def test_sources_lists_every_source_of_the_plan_in_full() -> None:
    chat = Chat(DialogueEngine(CONTENT, InMemoryUserRepository()), "anna", language_hint="de")
    chat.send("/start")
    chat.send("/sources")
    assert "Noch hast du keinen Plan" in chat.text
    chat.press("continue")
    chat.press("linkedin", "xing", "done")
    chat.send("3")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press("none")
    chat.press("show_plan")

    chat.send("/sources")

    listed = chat.text
    assert "LinkedIn DACH 2024: LinkedIn-Mitgliederzahlen DACH (2024)" in listed
    assert "socialmediastatistik.de" in listed  # where it was read
    assert "Bitkom, Februar 2023" in listed  # titles in the user's language
    assert "Dein Plan – wie geht es weiter?" in chat.question_text  # the compact plan menu


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(five_channel_users)
def test_the_hours_on_screen_add_up_and_spare_hours_are_not_called_a_buffer(
    answers: PlanInput,
) -> None:
    plan = build_plan(answers, SHIPPED)
    text = plain(plan_reply(CONTENT, plan, "en").text)
    line = next(line for line in text.splitlines() if line.startswith("⏱"))
    # "⏱ x of y h planned; r h stay free ..." and, when a ceiling left hours over, "the other s h"
    head = re.match(r"⏱ (\d+(?:\.\d+)?) of (\d+(?:\.\d+)?) h planned", line)
    assert head is not None, line
    planned, capacity = float(head[1]), float(head[2])
    rest = [float(number) for number in re.findall(r"(\d+(?:\.\d+)?) h", line[head.end() :])]
    if rest:
        assert abs(planned + sum(rest) - capacity) <= 0.15, line
    if "Put the other" in line:
        assert rest[-1] >= SHIPPED.scoring.spare_note_from_hours - 0.05, line
        assert rest[0] <= capacity * SHIPPED.scoring.buffer_share + 0.05, line
    elif rest:
        # All that is left is called a buffer only when it is not much more than one.
        limit = capacity * SHIPPED.scoring.buffer_share + SHIPPED.scoring.spare_note_from_hours
        assert rest[0] <= limit + 0.05, line


def test_a_good_fit_held_back_by_the_pace_is_explained_as_next_in_line() -> None:
    def plan_with(pressure: str | None) -> str:
        answers = PlanInput((), 12, ("consumers_u30",), ("awareness",), False, pressure)
        return plain(plan_reply(CONTENT, build_plan(answers, SHIPPED), "de").text)

    answers = PlanInput((), 12, ("consumers_u30",), ("awareness",), False, None)
    plan = build_plan(answers, SHIPPED)
    (started,) = plan.kept  # one new channel at a time
    paced = next(p for p in plan.parked if p.reason.value == "pace")
    started_name = SHIPPED.channel(started.channel).label["de"]
    paced_name = SHIPPED.channel(paced.channel).label["de"]

    text = plan_with(paced.channel)

    assert "weitere erst, wenn dieser läuft (Lally 2010" in plan_with(None)
    assert f"Neu für dich: {started_name}." in text
    assert f"{paced_name} ist als Nächstes dran, sobald dein Plan läuft." in text
