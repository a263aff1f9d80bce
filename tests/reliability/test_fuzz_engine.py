"""Property-based fuzzing of the whole inbound path at the engine level, 2-3 users at once.

Random sequences of typed text (empty, huge, emoji, control and RTL characters, HTML and Jinja
syntax), commands with odd arguments, button presses with random, truncated, forged or other
users' data, weekly reminders and clock jumps run against a real ``TinyDBUserRepository``. After
every step: the engine did not raise and answered; every reply is valid Telegram HTML in the
user's language (each template of ``marked_content`` carries a language marker); nothing the user
typed was rendered as a template or echoed unescaped; button data fit Telegram's 64 bytes; the
stored state is valid, its turn never went back, and no other user's file changed.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from marked_prompts import MARKERS
from tg_html import html_problems

from bot.core.callbacks import MAX_CALLBACK_BYTES, Action, decode, encode
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.flow_model import AskType
from bot.core.messages import ButtonPress, Command, Inbound, Reply, ReplyKind, TextMessage
from bot.core.questions import asked
from bot.core.questions.choices import MARK_PREFIX, grid_ratings
from bot.core.questions.values import offered_zones
from bot.core.state import UserState
from storage import TinyDBUserRepository
from storage.tinydb_repo import shard_of

# A failing example with a huge text is still worth seeing.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

USERS = (("u1", "de"), ("u2", "en-US"), ("u3", "fr"))  # u3: no supported language -> German
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CONFIRMS = (None, "restart", "delete", "language", "checkin", "resume")
# A template expression a user might type; its value must never appear in a reply.
INJECTED = "{{ 1234*5 }}"
INJECTED_VALUE = "6170"

_no_markers = st.characters(exclude_characters="".join(MARKERS.values()))
SPECIAL_TEXTS = [
    "",
    " ",
    "\n\t",
    "{{ 7*7 }}",
    INJECTED,
    "{% raw %}",
    "{% endraw %}{{ lang }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ label('back') }}",
    "<b>bold</b>",
    "<script>alert(1)</script>",
    "</b>",
    "a < b && c > d",
    "&lt;&amp;",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "مرحبا بك",
    "שלום",
    "👍🏽🇩🇪👨‍👩‍👧",
    "\x00\x1b[31mred\x07",
    "\ud800lone",
    "3",
    "2,5",
    "0",
    "61",
    "-1",
    "nan",
    "1e9",
    "8:30",
    "6pm",
    "25:99",
    "Hamburg",
    "Europe/Berlin",
    "Mars/Olympus",
    "x" * 4096,
    "x" * 4097,
    "ü" * 201,
]
texts = st.one_of(
    st.sampled_from(SPECIAL_TEXTS),
    st.text(_no_markers, max_size=40),
    st.builds(
        lambda s, n: s * n, st.text(_no_markers, min_size=1, max_size=3), st.integers(1, 2000)
    ),
)
COMMANDS = [
    "start",
    "back",
    "plan",
    "checkin",
    "history",
    "settings",
    "help",
    "language",
    "cancel",
    "export",
    "delete",
    "restart",
    "quit",
    "start@x",
    "unknown",
    "",
    "<b>",
    "{{7*7}}",
]
command_args = st.one_of(
    st.sampled_from(["", "en", "de", "xx", "EN", " en ", "yes", "ja", INJECTED, "<i>x"]),
    st.text(_no_markers, max_size=30),
)
commands = st.builds(
    Command,
    name=st.one_of(st.sampled_from(COMMANDS), st.text(_no_markers, max_size=20)),
    args=command_args,
)
# Values worth forging per action (what the engine's own buttons carry, and near misses).
FORGEABLE: dict[str, list[str]] = {
    Action.CHOOSE: [
        "linkedin",
        "tiktok",
        "alone",
        "none",
        "e1",
        "e5",
        "mon",
        "w4",
        "schedule",
        "pause",
        "resume",
        "language",
        "drop_again",
        "buffer",
        "de",
        "Europe/Berlin",
        "America/New_York",
        "Mars/Base",
        "on_plan",
        "no_time",
        "tempted",
        "keep",
        "confirm",
        "win_first",
    ],
    Action.TOGGLE: ["linkedin", "xing", "b2b_dach", "leads", "on_plan", "tiktok", "none", "zz"],
    Action.DONE: ["", "x"],
    Action.MORE: ["", "x"],
    Action.NUMBER: ["0", "0.5", "1", "3", "8.5", "61", "-1", "nan", "inf", "1e3", "7", "12"],
    Action.CONTINUE: ["", "x"],
    Action.BACK: ["", "x"],
    Action.EDIT: ["channels", "hours", "summary", "plan", "welcome", "audiences", "team", "x"],
    Action.PLAN: ["show", "restart", "x"],
    Action.CONFIRM: ["yes", "no", "continue", "over", "x"],
    Action.LANGUAGE: ["de", "en", "xx", ""],
    Action.FLOW: [
        "settings",
        "settings:",
        "settings:weekday",
        "settings:scheduled",
        "settings:paused",
        "settings:resumed",
        "settings:language",
        "settings:menu",
        "settings:time",
        "settings:zone",
        "checkin",
        "checkin:feedback",
        "checkin:energy",
        "checkin:win",
        "checkin:obstacle",
        "checkin:intention",
        "onboarding",
        "onboarding:plan",
        "sunset",
        "sunset:choose",
        "sunset:playbook",
        "nope:x",
    ],
    Action.CHECKIN: ["start", "skip", "snooze_1h", "snooze_evening", "snooze_tomorrow", "x"],
    # A plan change waiting out its cool-off: "<plan version>-<request second>".
    Action.UNDO: ["1-1796445514", "2-0", "1-", "-1", "x", ""],
}
JUNK_VALUES = st.text(_no_markers, max_size=12)
RAW_DATA = st.one_of(
    st.text(_no_markers, max_size=80),
    st.sampled_from(
        ["", "1.", ".", "1..", "99999999999999999999.o.x", "\ud800", "1.o." + "x" * 70]
    ),
)
WEEKS = ["2026-W48", "2026-W49", "2026-W47", "2027-W01"]
# What a fuzz step does; repeats weight the draw toward pressing buttons and moving forward.
KINDS = (
    ["text", "command", "reminder", "wait", "raw", "seen", "truncated", "other", "forged"]
    + ["own"] * 2
    + ["mutated"] * 3
    + ["forward"] * 4
)


@dataclass(frozen=True)
class Remind:
    """The weekly reminder going out for this user."""

    week: str
    late: bool
    missed: tuple[str, ...]
    snooze: bool


@dataclass(frozen=True)
class Wait:
    """Time passes."""

    minutes: int


reminders = st.builds(
    Remind,
    week=st.sampled_from(WEEKS),
    late=st.booleans(),
    missed=st.lists(st.sampled_from(WEEKS), max_size=2).map(tuple),
    snooze=st.booleans(),
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Person:
    """What the fuzzer knows about one user."""

    user_id: str
    hint: str
    buttons: list[str] = field(default_factory=list)  # of the last question shown
    turn: int = 0


@dataclass
class Run:
    """One example: an engine on a fresh data folder and what has happened so far."""

    content: Content
    engine: DialogueEngine
    repo: TinyDBUserRepository
    clock: Clock
    people: list[Person]
    seen: list[str] = field(default_factory=list)  # every button data shown to anyone
    typed: list[str] = field(default_factory=list)  # everything users typed

    # ---- choosing what to send ---------------------------------------------------------
    def state(self, person: Person) -> UserState | None:
        stored = self.repo.get(person.user_id)
        return None if stored is None else UserState.from_document(stored)

    def draw_step(self, data: st.DataObject, person: Person) -> Inbound | Remind | Wait:
        """Draw what ``person`` does next; button data is drawn from what they can know."""
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        others = [b for p in self.people if p is not person for b in p.buttons]
        pools = {"own": person.buttons, "other": others, "seen": self.seen}
        if kind == "text":
            return TextMessage(data.draw(texts, label="text"))
        if kind == "command":
            return data.draw(commands, label="command")
        if kind == "reminder":
            return data.draw(reminders, label="reminder")
        if kind == "wait":
            return Wait(data.draw(st.integers(0, 10 * 24 * 60), label="minutes"))
        if kind == "forward":
            return self.forward(person, data.draw(st.integers(0, 5), label="forward"))
        if pools.get(kind):
            return ButtonPress(data.draw(st.sampled_from(pools[kind]), label=kind))
        if kind == "truncated" and self.seen:
            button = data.draw(st.sampled_from(self.seen), label="truncated")
            return ButtonPress(button[: data.draw(st.integers(0, len(button)), label="cut")])
        if kind == "mutated" and person.buttons:
            button = data.draw(st.sampled_from(person.buttons), label="mutated")
            turn, action, _ = button.split(".", 2)
            value = data.draw(
                st.one_of(st.sampled_from(FORGEABLE[Action(action)]), JUNK_VALUES), label="value"
            )
            return ButtonPress(f"{turn}.{action}.{value}")
        if kind == "forged":
            user = self.state(person)
            turn = user.dialogue.turn if user is not None and user.dialogue is not None else 0
            delta = data.draw(st.sampled_from([0, 0, -1, 1, -1000]), label="turn delta")
            action = data.draw(st.sampled_from([a.value for a in Action]), label="action")
            value = data.draw(
                st.one_of(st.sampled_from(FORGEABLE[Action(action)]), JUNK_VALUES), label="value"
            )
            return ButtonPress(f"{turn + delta}.{action}.{value}")
        return ButtonPress(data.draw(RAW_DATA, label="raw"))

    def forward(self, person: Person, index: int) -> Inbound:
        """The input a cooperative user would send now."""
        user = self.state(person)
        if user is None or user.dialogue is None:
            return Command("start")
        dialogue, turn = user.dialogue, user.dialogue.turn
        if dialogue.confirm == "checkin":
            return ButtonPress(
                encode(turn, Action.CHECKIN, ["start", "skip", "snooze_1h"][index % 3])
            )
        if dialogue.confirm == "resume":
            return ButtonPress(encode(turn, Action.CONFIRM, ["continue", "over"][index % 2]))
        if dialogue.confirm == "language":
            return ButtonPress(encode(turn, Action.LANGUAGE, user.lang))
        if dialogue.confirm is not None:
            return ButtonPress(encode(turn, Action.CONFIRM, "no"))
        step = self.content.flows[dialogue.flow].step(dialogue.step)
        options = [oid for oid, _ in asked(self.content, user, dialogue, step).options]
        pick = options[index % len(options)] if options else ""
        ask = step.ask
        if ask is AskType.MULTI_CHOICE:
            selection = dialogue.selection or []
            if len(selection) < max(int(step.min or 0), 1) and options:
                fresh = [o for o in options if o not in selection]
                return ButtonPress(encode(turn, Action.TOGGLE, fresh[index % len(fresh)]))
            return ButtonPress(encode(turn, Action.DONE))
        if ask is AskType.CHANNEL_GRID:
            if step.save_marks and options and index % 4 == 0:  # now and then a 🎯 toggled
                return ButtonPress(encode(turn, Action.TOGGLE, MARK_PREFIX + pick))
            missing = [o for o in options if o not in grid_ratings(dialogue.selection)]
            if missing:
                return ButtonPress(encode(turn, Action.TOGGLE, missing[0]))
            return ButtonPress(encode(turn, Action.DONE))
        if ask is AskType.REASON_GRID:  # every row is preset: sometimes change one, then done
            if index % 3 == 0 and pick:
                return ButtonPress(encode(turn, Action.TOGGLE, pick))
            return ButtonPress(encode(turn, Action.DONE))
        if ask in (AskType.SINGLE_CHOICE, AskType.CREEP_DECISION):
            return ButtonPress(encode(turn, Action.CHOOSE, pick))
        if ask in (AskType.NUMBER, AskType.TIME_OF_DAY):
            number = step.suggestions[index % len(step.suggestions)]
            return ButtonPress(encode(turn, Action.NUMBER, f"{number:g}"))
        if ask is AskType.TIMEZONE:
            zones = offered_zones(user.lang)
            return ButtonPress(encode(turn, Action.CHOOSE, zones[index % len(zones)]))
        if ask is AskType.INTENTION and index % 3 == 0 and pick:
            return ButtonPress(encode(turn, Action.CHOOSE, pick))
        if ask in (AskType.TEXT, AskType.INTENTION):
            return (
                ButtonPress(encode(turn, Action.CONTINUE)) if index % 2 else TextMessage("Fokus!")
            )
        if ask is AskType.PLAN:
            if user.reminder is None:
                return ButtonPress(encode(turn, Action.FLOW, "settings:weekday"))
            commands = ["checkin", "settings", "history", "plan", "export", "review", "rules"]
            return Command(commands[index % len(commands)])
        return ButtonPress(encode(turn, Action.CONTINUE))

    # ---- running one step and checking it ----------------------------------------------
    def files(self) -> dict[str, bytes]:
        found = {}
        for person in self.people:
            path = (
                self.repo.data_dir / "users" / shard_of(person.user_id) / f"{person.user_id}.json"
            )
            found[person.user_id] = path.read_bytes() if path.exists() else b""
        return found

    def step(self, who: int, step: Inbound | Remind | Wait) -> None:
        if isinstance(step, Wait):
            self.clock.now += timedelta(minutes=step.minutes)
            return
        person = self.people[who % len(self.people)]
        before_user = self.state(person)
        lang_before = (
            before_user.lang
            if before_user is not None
            else self.content.pick_language(person.hint)
        )
        files_before = self.files()
        if isinstance(step, Remind):
            inbound: Inbound | None = None
            replies = self.engine.checkin_reminder(
                person.user_id,
                week=step.week,
                late=step.late,
                missed_weeks=step.missed,
                snooze=step.snooze,
            )
        else:
            inbound = step
            self.note_typed(inbound)
            replies = self.engine.handle(person.user_id, inbound, language_hint=person.hint)

        after_user = self.state(person)
        files_after = self.files()
        for other in self.people:
            if other is not person:
                assert files_after[other.user_id] == files_before[other.user_id], other.user_id
        if inbound is not None:
            assert replies, f"no reply to {inbound!r}"
            deleted = before_user is not None and after_user is None
            assert after_user is not None or deleted, "answered but nothing stored"
        lang_after = after_user.lang if after_user is not None else lang_before
        self.check_replies(replies, lang_before, lang_after)
        self.check_state(person, after_user)
        questions = [reply for reply in replies if reply.kind is ReplyKind.QUESTION]
        if questions and after_user is not None and after_user.dialogue is not None:
            # The question shown last is the current one: its buttons carry the current turn.
            turns = {decode(b.data) for row in questions[-1].buttons for b in row}
            assert {t.turn for t in turns if t is not None} <= {after_user.dialogue.turn}
        if after_user is not None and after_user.dialogue is not None:
            event(f"{after_user.dialogue.flow}:{after_user.dialogue.step}")
        self.remember_buttons(person, replies)

    def note_typed(self, inbound: Inbound) -> None:
        if isinstance(inbound, TextMessage):
            self.typed.append(inbound.text)
        elif isinstance(inbound, Command):
            self.typed.extend([inbound.name, inbound.args])

    def check_replies(self, replies: list[Reply], lang_before: str, lang_after: str) -> None:
        for reply in replies:
            text = reply.text
            assert html_problems(text) == [], (html_problems(text), text)
            visible = text
            for marker in MARKERS.values():
                visible = visible.replace(marker, "")
            assert visible.strip(), f"empty reply {reply!r}"
            text.encode("utf-8")  # Telegram needs UTF-8: no lone surrogates
            # An echo rewrites the question shown before, in the language it was shown in.
            allowed = (
                {lang_after, lang_before} if reply.kind is ReplyKind.ANSWERED else {lang_after}
            )
            assert any(MARKERS[lang] in text for lang in allowed), (allowed, text)
            for lang, marker in MARKERS.items():
                if lang not in allowed:
                    assert marker not in text, (lang_after, text)
            if not any(INJECTED_VALUE in typed for typed in self.typed):
                assert INJECTED_VALUE not in text, text
            for typed in self.typed:
                if "<" in typed and len(re.sub(r"<[^>]*>|\W", "", typed)) >= 3:
                    assert typed.strip() not in text, (typed, text)
            for row in reply.buttons:
                for button in row:
                    assert len(button.data.encode("utf-8")) <= MAX_CALLBACK_BYTES, button
                    assert decode(button.data) is not None, button
                    # Labels are plain text on Telegram: no markup, no entities.
                    assert not re.search(r"[<>]|&(#?\w+);", button.label), button
                    for lang, marker in MARKERS.items():
                        if lang not in {lang_after, lang_before}:
                            assert marker not in button.label, (lang_after, button)

    def check_state(self, person: Person, user: UserState | None) -> None:
        if user is None:
            person.turn = 0
            return
        assert user.lang in self.content.languages
        if user.dialogue is None:
            assert user.suspended is None
            return
        for dialogue in (user.dialogue, user.suspended):
            if dialogue is None:
                continue
            flow = self.content.flows[dialogue.flow]
            assert dialogue.step in flow.steps, dialogue
            assert flow.step(dialogue.step).ask is not AskType.FINISH, dialogue
            assert all(step in flow.steps for step in dialogue.history), dialogue
            assert dialogue.return_to is None or dialogue.return_to in flow.steps, dialogue
            assert dialogue.confirm in CONFIRMS, dialogue
            assert dialogue.selection is None or all(
                isinstance(item, str) for item in dialogue.selection
            )
        if user.suspended is not None:
            assert user.suspended.flow == "onboarding" != user.dialogue.flow
        assert user.dialogue.turn >= person.turn, (user.dialogue.turn, person.turn)
        person.turn = user.dialogue.turn

    def remember_buttons(self, person: Person, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.buttons:
                data = [button.data for row in reply.buttons for button in row]
                self.seen.extend(data)
                if reply.kind is ReplyKind.QUESTION:
                    person.buttons = data


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_inbound_sequence_keeps_every_promise(
    marked_content: Content, data: st.DataObject
) -> None:
    users = data.draw(st.integers(2, 3), label="users")
    depths = data.draw(st.lists(st.integers(0, 45), min_size=users, max_size=users), label="depth")
    with tempfile.TemporaryDirectory() as folder:
        clock = Clock()
        with TinyDBUserRepository(Path(folder)) as repo:
            run = Run(
                content=marked_content,
                engine=DialogueEngine(marked_content, repo, clock=clock),
                repo=repo,
                clock=clock,
                people=[Person(uid, hint) for uid, hint in USERS[:users]],
            )
            # First each user goes some way through the dialogue (so the random part starts
            # anywhere: onboarding, plan, settings, check-in), then anything goes.
            for n in range(max(depths)):
                for who in range(users):
                    if n < depths[who]:
                        run.step(who, run.forward(run.people[who], n))
            for _ in range(data.draw(st.integers(10, 40), label="steps")):
                who = data.draw(st.integers(0, users - 1), label="user")
                run.step(who, run.draw_step(data, run.people[who]))
