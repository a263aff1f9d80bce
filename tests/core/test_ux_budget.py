"""Keyboards that fit a phone: every step of every flow, in both languages, at its widest.

Each step is rendered with the real renderer for a user who ticked every channel (the worst
case), as first asked and at its fullest: at most 8 rows, every label within the width of its
row, every option of the step reachable as a button, every button's data within 64 bytes.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import questions
from bot.core.callbacks import MAX_CALLBACK_BYTES, Action, decode
from bot.core.checker import _sample_answers, _sample_inputs, _sample_plans, _sample_user
from bot.core.content import Content
from bot.core.flow_model import AskType, Flow, Step
from bot.core.keyboard_check import KeyboardView, keyboard_views, widest_answers
from bot.core.messages import Button
from bot.core.questions.layout import MAX_ROWS, in_rows, label_width, row_limit
from bot.core.state import DialogueState, UserState

FLOWS = ("onboarding", "checkin", "review", "settings", "sunset", "rules")
# Button actions that carry an option of the step (the rest: done, back, more ...).
_OPTION_ACTIONS = (Action.CHOOSE, Action.TOGGLE, Action.NUMBER, Action.EDIT)


def _setting(content: Content, flow: Flow) -> tuple[UserState, dict[str, Any]]:
    """The sample user with a plan, and answers where every multi choice holds everything."""
    user = _sample_user(_sample_plans(content.catalogue)[0], _sample_inputs(content.catalogue)[0])
    return user, widest_answers(content, flow, user, _sample_answers(flow, content, user))


def _expected(content: Content, flow: Flow, step: Step, user: UserState, answers: Any) -> set[str]:
    """The values an option button of ``step`` must offer."""
    if step.ask in (AskType.NUMBER, AskType.TIME_OF_DAY):
        return {f"{v:g}" for v in step.suggestions}
    if step.ask is AskType.SUMMARY:
        return set(step.edits)
    dialogue = DialogueState(flow=flow.id, step=step.id, answers=dict(answers))
    asked = questions.asked(content, user, dialogue, step)
    if step.ask is AskType.TIMEZONE:
        return {data.value for data in _tokens(asked.kind.buttons(asked))}
    return {oid for oid, _ in asked.options}


def _tokens(rows: Any) -> list[Any]:
    return [decode(button.data) for row in rows for button in row]


def _waiting_steps(content: Content) -> list[tuple[str, str]]:
    return [
        (flow_id, step.id)
        for flow_id in FLOWS
        for step in content.flows[flow_id].steps.values()
        if questions.kind_of(step).waits
    ]


@pytest.fixture(scope="module")
def views(content: Content) -> dict[tuple[str, str], tuple[set[str], list[KeyboardView]]]:
    """Every waiting step's views, with the option values it must offer."""
    found = {}
    for flow_id, step_id in _waiting_steps(content):
        flow = content.flows[flow_id]
        step = flow.steps[step_id]
        user, answers = _setting(content, flow)
        expected = _expected(content, flow, step, user, answers)
        found[flow_id, step_id] = (
            expected,
            list(keyboard_views(content, flow, step, user, answers)),
        )
    return found


def test_every_flow_is_covered(content: Content) -> None:
    assert set(FLOWS) == set(content.flows)


def test_keyboards_fit_a_phone(views: dict[Any, Any]) -> None:
    too_big = [
        f"{flow}/{step} ({view.lang}, {list(view.selection)}): {len(view.reply.buttons)} rows"
        for (flow, step), (_, found) in views.items()
        for view in found
        if len(view.reply.buttons) > MAX_ROWS
    ]
    too_wide = [
        f"{flow}/{step} ({view.lang}): '{button.label}' {label_width(button.label)} wide, "
        f"{len(row)} to a row"
        for (flow, step), (_, found) in views.items()
        for view in found
        for row in view.reply.buttons
        for button in row
        if label_width(button.label) > row_limit(len(row))
    ]
    assert too_big == []
    assert too_wide == []


def test_every_option_is_a_button(views: dict[Any, Any]) -> None:
    missing = {}
    for (flow, step), (expected, found) in views.items():
        for lang in ("de", "en"):
            offered = {
                token.value
                for view in found
                if view.lang == lang
                for token in _tokens(view.reply.buttons)
                if token is not None and token.action in _OPTION_ACTIONS
            }
            if expected - offered:
                missing[flow, step, lang] = sorted(expected - offered)
    assert missing == {}


def test_button_data_fits_telegram(views: dict[Any, Any]) -> None:
    too_long = [
        button.data
        for _, found in views.values()
        for view in found
        for row in view.reply.buttons
        for button in row
        if len(button.data.encode()) > MAX_CALLBACK_BYTES or decode(button.data) is None
    ]
    assert too_long == []


def test_the_keyboards_people_asked_for(views: dict[Any, Any]) -> None:
    """Done and Back share a row; the energy scale is one row; channels go in columns."""

    def labels(flow: str, step: str) -> list[list[str]]:
        view = next(v for v in views[flow, step][1] if v.lang == "en")  # as first asked
        return [[button.label for button in row] for row in view.reply.buttons]

    assert labels("onboarding", "channels")[-1] == ["Done ✔️", "⬅️ Back"]
    assert labels("checkin", "energy")[0] == ["● 1 😩", "2 😕", "3 😐", "4 🙂", "5 🤩"]
    assert len(labels("onboarding", "channels")) <= MAX_ROWS
    assert all(len(row) >= 2 for row in labels("onboarding", "channels")[:-1])


def test_the_pressure_question_offers_the_ticked_channels(content: Content) -> None:
    flow = content.flows["onboarding"]
    step = flow.steps["pressure"]
    user, answers = _setting(content, flow)
    answers = {**answers, "channels": ["instagram", "x"], "pressure": None}
    first, opened = [
        view for view in keyboard_views(content, flow, step, user, answers) if view.lang == "en"
    ]
    shown = [button.label for row in first.reply.buttons for button in row]
    assert shown == ["Instagram", "X/Twitter", "➕ Other", "None", "⬅️ Back"]
    everything = {token.value for token in _tokens(opened.reply.buttons) if token is not None}
    assert {c.id for c in content.catalogue.channels} <= everything


def test_sunset_buttons_say_what_happens(views: dict[Any, Any], content: Content) -> None:
    names = {c.label["en"] for c in content.catalogue.channels}
    names |= {c.short["en"] for c in content.catalogue.channels if c.short}
    view = next(v for v in views["sunset", "choose"][1] if v.lang == "en")
    labels = [button.label for row in view.reply.buttons for button in row]
    assert labels and not names & {label.removeprefix("● ") for label in labels}
    assert any(label.startswith(("Leave", "● Leave")) for label in labels)


@pytest.mark.parametrize(
    ("label", "width"),
    [("LinkedIn", 8), ("✅ Ja", 5), ("⬅️ Back", 7), ("👩‍💻 Dev", 6), ("▶️ End", 6), ("", 0)],
)
def test_label_width_counts_emoji_twice(label: str, width: int) -> None:
    assert label_width(label) == width


def test_a_short_caption_only_where_the_long_one_does_not_fit() -> None:
    buttons = [
        Button("X (formerly Twitter)", "1.o.x", short="X/Twitter"),
        Button("LinkedIn", "1.o.linkedin", short="LI"),
        Button("Newsletter", "1.o.newsletter"),
    ]
    rows = in_rows(buttons)
    assert [[b.label for b in row] for row in rows] == [["X/Twitter", "LinkedIn", "Newsletter"]]
    assert in_rows(buttons, per_row=1)[0][0].label == "X (formerly Twitter)"


def test_more_columns_only_when_every_label_fits() -> None:
    wide = [Button(f"Option number {n}", f"1.o.{n}") for n in range(6)]
    narrow = [Button(f"Opt {n}", f"1.o.{n}") for n in range(7)]
    assert {len(row) for row in in_rows(wide)} == {2}
    assert [len(row) for row in in_rows(narrow)] == [3, 3, 1]
