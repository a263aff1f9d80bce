"""Question kinds on their own (through a recording Turn), and what the flow gives templates."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from dialogue_driver import Chat

from bot.core.callbacks import Action, ButtonToken
from bot.core.checker import load_content
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.engine import DialogueEngine
from bot.core.flow_model import AskType, Step
from bot.core.messages import Reply
from bot.core.questions import KINDS, asked, kind_of
from bot.core.state import DialogueState, UserState
from storage import InMemoryUserRepository


class RecordingTurn:
    """A Turn that records the one move a kind makes."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, Any]] = []

    def _record(self, move: str, value: Any = None) -> list[Reply]:
        self.moves.append((move, value))
        return []

    def ask(self, *, selection: list[str] | None = None) -> list[Reply]:
        return self._record("ask", selection)

    def ask_again(self, hint: str, **context: object) -> list[Reply]:
        return self._record("ask_again", hint)

    def hint(self, hint: str, **context: object) -> list[Reply]:
        return self._record("hint", hint)

    def tell(self, note: str, **context: object) -> list[Reply]:
        return self._record("tell", note)

    def redraw(self, selection: list[str]) -> list[Reply]:
        return self._record("redraw", selection)

    def answer(self, value: object, *, marks: list[str] | None = None) -> list[Reply]:
        if marks:
            self.moves.append(("marks", marks))
        return self._record("answer", value)

    def advance(self) -> list[Reply]:
        return self._record("advance")

    def change(self, step_id: str) -> list[Reply]:
        return self._record("change", step_id)

    def present_plan(self) -> list[Reply]:
        return self._record("present_plan")

    def confirm(self, prompt: str) -> list[Reply]:
        return self._record("confirm", prompt)

    def start_flow(self, flow_id: str, step_id: str | None = None) -> list[Reply]:
        return self._record("start_flow", (flow_id, step_id))

    def finish(self, step: Step) -> list[Reply]:
        return self._record("finish", step.id)


def asked_at(
    content: Content, flow: str, step_id: str, *, selection: list[str] | None = None
) -> Any:
    user = UserState(user_id="kind", lang="de")
    dialogue = DialogueState(flow=flow, step=step_id, turn=7, selection=selection)
    user.dialogue = dialogue
    return asked(content, user, dialogue, content.flows[flow].step(step_id))


def test_every_ask_type_has_a_kind() -> None:
    assert set(KINDS) == set(AskType)


@pytest.mark.parametrize(
    ("typed", "move"),
    [
        ("viel", ("hint", "common/not_a_number")),
        ("99", ("hint", "common/number_out_of_range")),
        ("2,5 Std.", ("answer", 2.5)),
    ],
)
def test_a_number_question_takes_typed_numbers_within_its_bounds(
    content: Content, typed: str, move: tuple[str, Any]
) -> None:
    hours = asked_at(content, "onboarding", "hours")
    turn = RecordingTurn()

    hours.kind.on_text(hours, typed, turn)

    assert turn.moves == [move]


def test_a_multi_choice_stops_at_its_maximum_and_keeps_the_question(content: Content) -> None:
    goals = asked_at(content, "onboarding", "goals", selection=["leads", "awareness"])
    turn = RecordingTurn()

    goals.kind.on_button(goals, ButtonToken(7, Action.TOGGLE, "community"), turn)
    goals.kind.on_button(goals, ButtonToken(7, Action.TOGGLE, "leads"), turn)

    assert turn.moves == [("tell", "common/too_many"), ("redraw", ["awareness"])]


def test_a_kind_refuses_buttons_that_are_not_its_own(content: Content) -> None:
    team = asked_at(content, "onboarding", "team")
    turn = RecordingTurn()

    assert team.kind.on_button(team, ButtonToken(7, Action.CHOOSE, "nobody"), turn) is None
    assert team.kind.on_button(team, ButtonToken(7, Action.DONE, ""), turn) is None
    assert turn.moves == []


def test_the_plan_menu_only_starts_the_check_in_set_up_it_offers(content: Content) -> None:
    plan = asked_at(content, "onboarding", "plan")
    turn = RecordingTurn()

    forged = plan.kind.on_button(plan, ButtonToken(7, Action.FLOW, "settings:scheduled"), turn)
    plan.kind.on_button(plan, ButtonToken(7, Action.FLOW, "settings:weekday"), turn)

    assert forged is None
    assert turn.moves == [("start_flow", ("settings", "weekday"))]


def test_step_numbers_count_the_questions_on_the_main_path(content: Content) -> None:
    progress = content.flows["onboarding"].progress
    numbered = {step: (p.number, p.total) for step, p in progress.items()}
    assert numbered == {
        "channels": (1, 6),
        "hours": (2, 6),
        "audiences": (3, 6),
        "goals": (4, 6),
        "team": (5, 6),
        "pressure": (6, 6),
    }
    assert "low_capacity" not in progress  # a side note, not a numbered question
    assert kind_of(content.flows["onboarding"].step("summary")).saves_answer is False


def test_a_new_onboarding_question_renumbers_every_step_without_touching_them(
    tmp_path: Path,
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, prompts)
    flow = prompts / "flows" / "onboarding.yaml"
    flow.write_text(
        flow.read_text(encoding="utf-8").replace(
            "    save: team\n    next: pressure\n",
            "    save: team\n    next: years\n\n"
            "  - id: years\n    say: onboarding/years\n    ask: number\n"
            "    min: 0\n    max: 50\n    save: years\n    next: pressure\n",
        ),
        encoding="utf-8",
    )
    for lang, text in (("de", "Seit wie vielen Jahren?"), ("en", "For how many years?")):
        template = "<b>{% if progress %}{{ progress.number }}/{{ progress.total }} {% endif %}"
        (prompts / "templates" / lang / "onboarding" / "years.j2").write_text(
            template + text + "</b>", encoding="utf-8"
        )
    content = load_content(prompts)
    chat = Chat(DialogueEngine(content, InMemoryUserRepository()), "nina")

    chat.send("/start")
    chat.press_data(chat.buttons()[0].data)  # continue

    assert "Schritt 1 von 7" in chat.question_text
    step = content.flows["onboarding"]
    assert (step.progress["years"].number, step.progress["pressure"].number) == (6, 7)
