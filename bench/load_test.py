"""Load test: many simulated Telegram users onboard and check in at once against the real bot.

Run from the repository root (the bot must be installed in the venv)::

    .venv/bin/python bench/load_test.py                           # 200 users, no network delay
    .venv/bin/python bench/load_test.py --users 50 --latency 0.05 --keep

It starts the project's fake Bot API server (``tests/fakebotapi``), then the real bot process
(``python -m bot run --base-url <fake> --data-dir <tmp>``, token = the fake's) and lets every
user, each in its own thread and all starting together, go through /start, the whole onboarding
with buttons and typed numbers (answers vary per user, half German, half English), the plan,
/checkin answered with buttons, and /history. A step's latency runs from the user's action to the
moment the awaited reply reached the fake. Afterwards it checks the data folder (plan, check-in
and dialogue of every user), the fake (every update confirmed, every tap answered, no error
answers except Telegram's "message is not modified", which is counted apart) and the bot's log
(no ERROR or Traceback), prints a short table and exits 1 if any check failed.

Options: ``--users N`` (default 200), ``--latency S`` (fake round trip per Bot API call),
``--keep`` (keep the data folder and the bot's log), ``--step-timeout S``, ``--seed N``,
``--calls`` (a table of the Bot API calls per kind of step, from the fake's request log: each
chat's calls go to the step of that chat that acted last before them) and ``--settle S`` (a
pause after each reply, so that calls made after it, such as a keyboard taken off an older
message, count for their own step: exact per-step figures, at the cost of the burst).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The fake Bot API and the e2e bot launcher are test helpers, not installed packages.
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from e2e_bot import BotProcess  # noqa: E402
from fakebotapi import BotMessage, FakeTelegram, FakeUser  # noqa: E402
from fakebotapi.model import MessageRecord  # noqa: E402

FIRST_USER_ID = 700_000_001
RATINGS = ("on_plan", "partly", "not")  # the grid's cycle order, from prompts/flows/checkin.yaml
WINS = {"de": "Zwei Beiträge fertig und gepostet", "en": "Shipped two posts on time"}
PROGRESS_EVERY = 15.0
NOT_MODIFIED = "message is not modified"


class StepFailedError(Exception):
    """A simulated user did not get the reply it waited for, or got an unexpected question."""


# ---- watching the fake -------------------------------------------------------------------------


@dataclass
class ChatWatch:
    """The bot's messages in one chat and when each last changed (guarded by the world lock)."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    version: int = 0
    records: dict[int, MessageRecord] = field(default_factory=dict)
    changed_at: dict[int, float] = field(default_factory=dict)


class FakeWatcher:
    """Per-chat wake-ups and arrival times for bot messages, plus every queued update id.

    ``FakeUser.wait_for`` wakes every waiting thread on any change anywhere and scans every
    message of every chat; with hundreds of users the harness, not the bot, would be measured.
    So the world's two hooks are wrapped on this one instance: each bot change wakes only the
    thread of its chat and records when it reached the fake.
    """

    def __init__(self, tg: FakeTelegram) -> None:
        """Hook into ``tg``'s world; call before any user acts."""
        self.world = tg.world
        self.chats: dict[int, ChatWatch] = {}
        self.update_ids: list[int] = []
        bump, enqueue = self.world.bump_revision, self.world.enqueue_update

        def bump_and_wake(message: MessageRecord) -> None:  # runs under the world lock
            bump(message)
            watch = self.chats.get(message.chat_id)
            if watch is None:
                return
            watch.records[message.message_id] = message
            watch.changed_at[message.message_id] = time.monotonic()
            with watch.changed:
                watch.version += 1
                watch.changed.notify_all()

        def enqueue_and_count(kind: str, payload: dict[str, Any]) -> int:
            with self.world.lock:
                update_id = enqueue(kind, payload)
                self.update_ids.append(update_id)
                return update_id

        self.world.bump_revision = bump_and_wake  # type: ignore[method-assign]
        self.world.enqueue_update = enqueue_and_count  # type: ignore[method-assign]

    def watch(self, chat_id: int) -> ChatWatch:
        """Start watching a chat (before its user acts)."""
        with self.world.lock:
            return self.chats.setdefault(chat_id, ChatWatch())


# ---- button data -------------------------------------------------------------------------------


def parse_data(data: str) -> tuple[int, str, str]:
    """``<turn>.<action>.<value>`` (bot/core/callbacks.py) as its three parts."""
    turn, action, value = data.split(".", 2)
    return int(turn), action, value


def buttons_of(message: BotMessage) -> list[tuple[str, str, str]]:
    """(action, value, data) of every callback button."""
    found = []
    for row in message.buttons:
        for _, data in row:
            if data is not None:
                _, action, value = parse_data(data)
                found.append((action, value, data))
    return found


def actions_of(message: BotMessage) -> set[str]:
    """The button actions a question offers, without "back"."""
    return {action for action, _, _ in buttons_of(message)} - {"b"}


def values_of(message: BotMessage, action: str) -> list[str]:
    """The values of the buttons with ``action``, in button order."""
    return [value for a, value, _ in buttons_of(message) if a == action]


def data_of(message: BotMessage, action: str, value: str = "") -> str:
    """The callback data of the button with this action and value."""
    for a, v, data in buttons_of(message):
        if a == action and v == value:
            return data
    raise StepFailedError(
        f"no button {action}.{value} on #{message.message_id}: {message.buttons}"
    )


def has_callbacks(message: BotMessage) -> bool:
    """Whether the message carries callback buttons (a question)."""
    return bool(buttons_of(message))


# ---- one simulated user ------------------------------------------------------------------------


def typed_hours(value: float, lang: str, rng: random.Random) -> str:
    """A number as people type it: German decimal comma, sometimes with a unit."""
    text = f"{value:g}".replace(".", "," if lang == "de" else ".")
    unit = rng.choice(["", "", " h"] + ([" Std.", " Stunden"] if lang == "de" else [" hours"]))
    return text + unit


@dataclass
class Outcome:
    """What one user did and saw: step latencies, expected stored state, failure if any."""

    user_id: int
    lang: str
    steps: list[tuple[str, float]] = field(default_factory=list)
    acted: list[tuple[str, float]] = field(default_factory=list)  # (step, monotonic time)
    kinds: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    checkin: dict[str, Any] = field(default_factory=dict)
    creep_asked: bool = False
    creep_offered: list[str] = field(default_factory=list)
    history_text: str = ""
    started: float = 0.0
    finished: float = 0.0
    failure: str | None = None


class SimulatedUser:
    """Drives one Telegram user through onboarding, a check-in and /history."""

    def __init__(
        self,
        user: FakeUser,
        watcher: FakeWatcher,
        outcome: Outcome,
        seed: int,
        timeout: float,
        settle: float = 0.0,
    ) -> None:
        """Play ``user``; choices come from ``seed``, each wait gives up after ``timeout``.

        ``settle`` is a pause after each awaited reply, so that calls the bot makes after it
        (a keyboard taken off an older message) count for the step that caused them.
        """
        self.settle = settle
        self.user = user
        self.world = watcher.world
        self.watch = watcher.watch(user.chat_id)
        self.out = outcome
        self.lang = outcome.lang
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.mark = -1
        self.acted_at = 0.0
        self.last_id = 0  # newest bot message id this user has waited for

    # -- acting and waiting --

    def _wait(
        self, predicate: Callable[[BotMessage], bool], what: str
    ) -> tuple[BotMessage, float]:
        deadline = time.monotonic() + self.timeout
        while True:
            with self.watch.changed:
                seen = self.watch.version
            with self.world.lock:
                fresh = sorted(
                    (
                        r
                        for r in self.watch.records.values()
                        if r.revision > self.mark and not r.deleted
                    ),
                    key=lambda r: r.revision,
                )
                for record in fresh:
                    snapshot = self.world.snapshot(record)
                    if predicate(snapshot):
                        self.last_id = max(self.last_id, snapshot.message_id)
                        return snapshot, self.watch.changed_at[record.message_id]
            with self.watch.changed:
                while self.watch.version == seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        tail = "\n".join(self.user.transcript().splitlines()[-12:])
                        raise StepFailedError(f"no {what} within {self.timeout:g} s\n{tail}")
                    self.watch.changed.wait(remaining)

    def _step(
        self, name: str, action: Callable[[], object], predicate: Callable[[BotMessage], bool]
    ) -> BotMessage:
        """Act, wait for the reply, record the latency under ``name``."""
        self.acted_at = time.monotonic()
        self.out.acted.append((name, self.acted_at))
        action()
        with self.world.lock:
            self.mark = self.world.chats[self.user.chat_id].action_mark
        message, arrived = self._wait(predicate, f"reply to {name!r}")
        self.out.steps.append((name, arrived - self.acted_at))
        if self.settle:
            time.sleep(self.settle)
        return message

    def _next_question(self, after: int) -> Callable[[BotMessage], bool]:
        return lambda m: m.message_id > after and has_callbacks(m)

    def _expect(self, question: BotMessage, kind: str, actions: set[str]) -> BotMessage:
        self.out.kinds.append(kind)
        if actions_of(question) != actions:
            raise StepFailedError(
                f"expected the {kind} question (buttons {sorted(actions)}), got "
                f"#{question.message_id} {question.text[:80]!r} {question.buttons}"
            )
        return question

    def press(self, name: str, question: BotMessage, data: str) -> BotMessage:
        """Press a button that answers the question; return the next question."""
        return self._step(
            name,
            lambda: self.user.press(question, callback_data=data),
            self._next_question(question.message_id),
        )

    def type_text(self, name: str, question: BotMessage, text: str) -> BotMessage:
        """Type an answer to the question; return the next question."""
        return self._step(
            name, lambda: self.user.send_text(text), self._next_question(question.message_id)
        )

    def tick(self, name: str, question: BotMessage, value: str) -> BotMessage:
        """Tick an option (or rate a channel); return the redrawn question."""
        data = data_of(question, "t", value)
        before = question.edited_count
        return self._step(
            name,
            lambda: self.user.press(question, callback_data=data),
            lambda m: (
                m.message_id == question.message_id
                and m.edited_count > before
                and has_callbacks(m)
            ),
        )

    def multi_choice(self, name: str, question: BotMessage, chosen: list[str]) -> BotMessage:
        """Tick ``chosen`` one by one, then press Done; return the next question."""
        for value in chosen:
            question = self.tick(f"{name} tick", question, value)
        return self.press(f"{name} done", question, data_of(question, "d"))

    def hours(
        self, name: str, question: BotMessage, typed: list[float]
    ) -> tuple[float, BotMessage]:
        """Answer a number question with a suggestion button or a typed number."""
        if self.rng.random() < 0.5:
            value = self.rng.choice(values_of(question, "n"))
            return float(value), self.press(name, question, data_of(question, "n", value))
        number = self.rng.choice(typed)
        text = typed_hours(number, self.lang, self.rng)
        return number, self.type_text(f"{name} typed", question, text)

    # -- the dialogue --

    def run(self) -> None:
        """The whole visit; a failure is recorded in the outcome, never raised."""
        self.out.started = time.monotonic()
        try:
            menu = self.onboarding()
            self.checkin(menu)
        except (StepFailedError, AssertionError) as error:
            self.out.failure = f"{type(error).__name__}: {error}"
        self.out.finished = time.monotonic()

    def onboarding(self) -> BotMessage:
        """/start to the plan menu; returns the plan menu question."""
        rng, answers = self.rng, self.out.answers
        q = self._step("/start", lambda: self.user.send_command("/start"), self._next_question(0))
        q = self.press("welcome", self._expect(q, "welcome", {"c"}), data_of(q, "c"))

        self._expect(q, "channels", {"t", "d"})
        offered = values_of(q, "t")
        channels = rng.sample(offered, rng.choice([0, 1, 2, 2, 3, 3, 4, 5]))
        answers["channels"] = channels
        q = self.multi_choice("channels", q, channels)

        self._expect(q, "hours", {"n"})
        answers["hours"], q = self.hours("hours", q, [0.5, 1.5, 2.5, 4, 6.5, 7, 10, 15, 20])
        if answers["hours"] < 2:
            q = self.press("low capacity", self._expect(q, "low_capacity", {"c"}), data_of(q, "c"))

        self._expect(q, "audiences", {"t", "d"})
        answers["audiences"] = rng.sample(values_of(q, "t"), rng.choice([1, 2]))
        q = self.multi_choice("audiences", q, answers["audiences"])

        self._expect(q, "goals", {"t", "d"})
        answers["goals"] = rng.sample(values_of(q, "t"), rng.choice([1, 2]))
        q = self.multi_choice("goals", q, answers["goals"])
        if "customer_service" in answers["goals"]:
            q = self.press("service note", self._expect(q, "service_note", {"c"}), data_of(q, "c"))

        self._expect(q, "team", {"o"})
        answers["team"] = rng.choice(values_of(q, "o"))
        q = self.press("team", q, data_of(q, "o", answers["team"]))

        # The ticked channels first, "more" for the others (none ticked: all of them at once).
        everything = offered
        self._expect(q, "pressure", {"o", "m"} if 0 < len(channels) < len(everything) else {"o"})
        offered = values_of(q, "o")
        if set(offered) - {"none"} != set(channels or everything) or "none" not in offered:
            raise StepFailedError(f"pressure offers {offered}, channels were {channels}")
        answers["pressure"] = "none" if rng.random() < 0.3 else rng.choice(offered)
        q = self.press("pressure", q, data_of(q, "o", answers["pressure"]))

        self._expect(q, "summary", {"e", "c"})
        if rng.random() < 0.2:  # change the hours from the summary, typed
            q = self.press("summary edit", q, data_of(q, "e", "hours"))
            self._expect(q, "hours (edit)", {"n"})
            answers["hours"] = rng.choice([3.5, 9, 12.5])
            text = typed_hours(answers["hours"], self.lang, rng)
            q = self.type_text("hours edit typed", q, text)
            self._expect(q, "summary", {"e", "c"})
        summary_id = q.message_id
        q = self.press("plan", q, data_of(q, "c"))
        self._expect(q, "plan menu", {"f", "p"})
        with self.world.lock:  # the plan itself comes before its menu, as its own message
            between = [
                r for r in self.watch.records.values() if summary_id < r.message_id < q.message_id
            ]
            if not any(r.text and not r.reply_markup for r in between):
                raise StepFailedError("no plan message between the summary and the plan menu")
        return q

    def checkin(self, menu: BotMessage) -> None:
        """/checkin answered with buttons, then /history."""
        rng, record = self.rng, self.out.checkin
        q = self._step(
            "/checkin",
            lambda: self.user.send_command("/checkin"),
            self._next_question(menu.message_id),
        )
        self._expect(q, "checkin grid", {"t", "d"})
        record["channels"] = {}
        # "+<channel>" is the channel's 🎯 result toggle, not a rating: left untouched here.
        for channel in [v for v in values_of(q, "t") if not v.startswith("+")]:
            taps = rng.choice([1, 1, 2, 3])
            for _ in range(taps):
                q = self.tick("grid tap", q, channel)
            record["channels"][channel] = RATINGS[(taps - 1) % len(RATINGS)]
        q = self.press("grid done", q, data_of(q, "d"))

        self._expect(q, "checkin hours", {"n"})
        record["hours"], q = self.hours("checkin hours", q, [0, 1.5, 2.5, 4, 6.5, 12])

        record["creep"], record["audit"] = "none", None
        # The creep question ("did a channel you left behind come back?") offers "none"; it is
        # asked when the plan left a channel behind, dropped or kept as a profile only
        # (checkin.yaml: `plan.dropped or plan.profile_only`); otherwise the energy comes next.
        if "o" in actions_of(q) and "none" in values_of(q, "o"):
            self.out.creep_asked = True
            self._expect(q, "creep", {"o"})
            dropped = [v for v in values_of(q, "o") if v != "none"]
            self.out.creep_offered = dropped
            if dropped and rng.random() < 0.4:
                record["creep"] = rng.choice(dropped)
            q = self.press("creep", q, data_of(q, "o", record["creep"]))
            if record["creep"] != "none":
                self._expect(q, "audit", {"o"})
                record["audit"] = rng.choice(values_of(q, "o"))
                q = self.press("audit", q, data_of(q, "o", record["audit"]))

        self._expect(q, "energy", {"o"})
        energy = rng.choice(values_of(q, "o"))
        record["energy"] = int(energy.removeprefix("e"))
        q = self.press("energy", q, data_of(q, "o", energy))

        # The if-then plan for next week: skipped; now and then a win is noted first.
        self._expect(q, "if-then plan", {"o", "c"})
        record["win"] = None
        if rng.random() < 0.3:
            q = self.press("note a win", q, data_of(q, "o", "win_first"))
            self._expect(q, "win", {"c"})
            record["win"] = WINS[self.lang]
            q = self.type_text("win typed", q, WINS[self.lang])
            self._expect(q, "if-then plan (after the win)", {"o", "c"})
            if "win_first" in values_of(q, "o"):
                raise StepFailedError("the if-then plan offers to note a win a second time")
        record["intention"] = None
        self._step(
            "if-then skip",
            lambda: self.user.press(q, callback_data=data_of(q, "c")),
            lambda m: m.message_id > q.message_id and not m.buttons,  # the feedback
        )
        feedback_id = self.last_id
        history = self._step(
            "/history",
            lambda: self.user.send_command("/history"),
            lambda m: m.message_id > feedback_id and not m.buttons,
        )
        self.out.history_text = history.text
        # /history asks the current question again (the plan menu): wait for the last reply.
        again, _ = self._wait(self._next_question(history.message_id), "plan menu after /history")
        self._expect(again, "plan menu", {"f", "p"})


# ---- checks ------------------------------------------------------------------------------------


def stored_user(data_dir: Path, user_id: int) -> dict[str, Any] | None:
    """The user's record as the bot stored it: users/<2 hex>/<id>.json, table "user", id "1"."""
    shard = hashlib.sha256(str(user_id).encode()).hexdigest()[:2]
    path = data_dir / "users" / shard / f"{user_id}.json"
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["user"]["1"]
    return record


def check_stored(outcome: Outcome, record: dict[str, Any] | None) -> list[str]:
    """What in the stored record differs from what the user answered."""
    if record is None:
        return ["no file in the data folder"]
    problems = []
    dialogue, answers = record.get("dialogue") or {}, outcome.answers
    if record.get("lang") != outcome.lang:
        problems.append(f"lang {record.get('lang')!r}")
    if (dialogue.get("flow"), dialogue.get("step"), record.get("suspended")) != (
        "onboarding",
        "plan",
        None,
    ):
        problems.append(f"dialogue at {dialogue.get('flow')}/{dialogue.get('step')}")
    stored = dialogue.get("answers") or {}
    for key in ("channels", "audiences", "goals"):
        if sorted(stored.get(key) or []) != sorted(answers[key]):
            problems.append(f"{key} {stored.get(key)} != {answers[key]}")
    for key in ("hours", "team", "pressure"):
        if stored.get(key) != answers[key]:
            problems.append(f"{key} {stored.get(key)!r} != {answers[key]!r}")
    plan = record.get("plan")
    if not plan or "kept" not in plan:
        problems.append("no plan")
    else:
        # The channels the plan left behind: dropped ones and those kept as a profile only
        # (FocusPlan.left_behind). Both can creep back, so both are offered; an earlier version
        # of this check looked at the dropped ones only and failed every user whose plan kept a
        # channel as a profile only and dropped none.
        left_behind = [
            str(item.get("channel"))
            for key in ("dropped", "profile_only")
            for item in plan.get(key) or []
            if isinstance(item, dict)
        ]
        if outcome.creep_asked != bool(left_behind):
            problems.append(f"creep asked {outcome.creep_asked}, plan leaves {left_behind}")
        elif sorted(outcome.creep_offered) != sorted(left_behind):
            problems.append(f"creep offers {outcome.creep_offered}, plan leaves {left_behind}")
    checkins = record.get("checkins") or []
    if len(checkins) != 1:
        problems.append(f"{len(checkins)} check-ins stored")
    else:
        got = {key: checkins[0].get(key) for key in outcome.checkin}
        if got != outcome.checkin:
            problems.append(f"check-in {got} != {outcome.checkin}")
        week = str(checkins[0].get("week", ""))
        shown = f"{int(week[-2:])}/{week[:4]}" if "-W" in week else week
        if shown not in outcome.history_text:
            problems.append(f"/history does not show week {shown}")
    return problems


def log_errors(text: str) -> list[str]:
    """Lines of the bot's log that report an error."""
    return [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ---- the run -----------------------------------------------------------------------------------


def drive_users(
    tg: FakeTelegram,
    watcher: FakeWatcher,
    count: int,
    seed: int,
    timeout: float,
    settle: float = 0.0,
) -> tuple[list[Outcome], float]:
    """Run ``count`` users at once (one thread each); return their outcomes and the wall time."""
    outcomes, players = [], []
    for index in range(count):
        user_id = FIRST_USER_ID + index
        lang = "de" if index % 2 == 0 else "en"
        user = tg.user(user_id, f"Load{index}", lang)
        outcome = Outcome(user_id, lang)
        outcomes.append(outcome)
        players.append(
            SimulatedUser(user, watcher, outcome, seed * 1_000_003 + index, timeout, settle)
        )
    gate = threading.Barrier(count + 1)

    def play(player: SimulatedUser) -> None:
        gate.wait()
        player.run()

    threads = [threading.Thread(target=play, args=(p,), daemon=True) for p in players]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=max(0.0, next_report - time.monotonic()))
            if time.monotonic() >= next_report:
                next_report += PROGRESS_EVERY
                done = sum(not t.is_alive() for t in threads)
                steps = sum(len(o.steps) for o in outcomes)
                elapsed = time.monotonic() - started
                print(f"  ... {elapsed:5.0f} s: {done}/{count} users done, {steps} steps")
    return outcomes, time.monotonic() - started


# The Bot API methods of the per-step table, in this order; any other method is counted as "other".
TABLE_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery")
MESSAGE_PREFIXES = ("send", "editMessage", "copyMessage", "forwardMessage", "stop")


@dataclass
class StepCalls:
    """The Bot API calls made for one kind of step, over all its steps."""

    steps: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    not_modified: int = 0

    def messages(self) -> int:
        """Calls that take from Telegram's 30 messages a second (bot/telegram/ratelimit.py)."""
        return sum(n for m, n in self.calls.items() if m.startswith(MESSAGE_PREFIXES))


def calls_per_step(
    outcomes: list[Outcome], requests: list[Any], query_chats: dict[str, int]
) -> dict[str, StepCalls]:
    """Each chat's calls, given to the step of that chat that last acted before the call came.

    Calls the bot makes after the awaited reply (a keyboard taken off an older message) can
    arrive after the user's next action and then count for the next step; ``--settle`` pauses
    after each reply so that they do not.
    """
    table: dict[str, StepCalls] = {}
    acts: dict[int, list[tuple[float, str]]] = {}
    for outcome in outcomes:
        acts[outcome.user_id] = sorted((at, name) for name, at in outcome.acted)
        for name, _ in outcome.acted:
            table.setdefault(name, StepCalls()).steps += 1
    for request in requests:
        chat = request.params.get("chat_id")
        if request.method == "answerCallbackQuery":
            chat = query_chats.get(str(request.params.get("callback_query_id")))
        try:
            chat_acts = acts.get(int(chat), []) if chat is not None else []
        except ValueError:
            continue
        step = next((name for at, name in reversed(chat_acts) if at <= request.monotonic), None)
        if step is None:
            continue
        entry = table[step]
        entry.calls[request.method] += 1
        if request.status == 400 and NOT_MODIFIED in (request.error or ""):
            entry.not_modified += 1
    return table


def print_calls_per_step(table: dict[str, StepCalls]) -> None:
    """Calls per step, by step kind; the last row sums them up."""
    short = ("send", "editText", "editMarkup", "answerCb")
    print(
        f"\n  {'calls per step':<24}{'steps':>6}"
        + "".join(f"{name:>11}" for name in short)
        + f"{'other':>7}{'unmod.':>8}{'msgs':>7}"
    )
    total = StepCalls()
    for entry in table.values():
        total.steps += entry.steps
        total.calls.update(entry.calls)
        total.not_modified += entry.not_modified
    for name, entry in [*table.items(), ("all steps", total)]:
        if not entry.steps:
            continue
        other = sum(n for m, n in entry.calls.items() if m not in TABLE_METHODS)
        cells = [entry.calls[m] / entry.steps for m in TABLE_METHODS]
        print(
            f"  {name:<24}{entry.steps:>6}"
            + "".join(f"{cell:>11.2f}" for cell in cells)
            + f"{other / entry.steps:>7.2f}{entry.not_modified / entry.steps:>8.2f}"
            + f"{entry.messages() / entry.steps:>7.2f}"
        )


def wait_for_confirmation(tg: FakeTelegram, watcher: FakeWatcher) -> bool:
    """Wait until the bot's getUpdates offset is past the last update; True if it is."""
    last = max(watcher.update_ids, default=0)

    def confirmed(request: Any) -> bool:
        offset = request.params.get("offset")
        return offset is not None and int(offset) > last

    try:
        tg.wait_for_request("getUpdates", confirmed, timeout=30)
    except AssertionError:
        return False
    return tg.pending_updates() == 0


def main(argv: list[str] | None = None) -> int:
    """Run the load test; 0 when every check passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="fake Bot API delay per call, s"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder and bot log")
    parser.add_argument("--step-timeout", type=float, default=180.0, help="max wait per reply, s")
    parser.add_argument("--seed", type=int, default=6, help="seed of the users' choices")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="pause after each reply, s (exact calls per step; slows the run down)",
    )
    parser.add_argument(
        "--calls", action="store_true", help="print the Bot API calls per kind of step"
    )
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error("--users must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="focus-coach-load-"))
    data_dir = workdir / "data"
    tg = FakeTelegram().start()
    try:
        tg.latency = args.latency
        watcher = FakeWatcher(tg)
        bot = BotProcess(tg, data_dir, workdir, "bot").start()
        try:
            outcomes, wall = drive_users(
                tg, watcher, args.users, args.seed, args.step_timeout, args.settle
            )
            confirmed = wait_for_confirmation(tg, watcher)
            # Before the stop: PTB's last getUpdates at shutdown ends the cancelled long poll,
            # which the fake records as a 409 nobody receives.
            requests = tg.requests()
            calls = [(r.method, r.status, r.error or "") for r in requests]
        finally:
            exit_code = bot.stop()
        log_text = bot.stderr_path.read_text(errors="replace")
        with tg.world.lock:
            unanswered = [q for q in tg.world.callback_queries.values() if q.answer is None]
            query_chats = {q.query_id: q.chat_id for q in tg.world.callback_queries.values()}
            internal = list(tg.world.internal_errors)
    finally:
        tg.stop()

    problems: dict[int, list[str]] = {}
    for outcome in outcomes:
        found = [outcome.failure] if outcome.failure else []
        found += (
            []
            if outcome.failure
            else check_stored(outcome, stored_user(data_dir, outcome.user_id))
        )
        if found:
            problems[outcome.user_id] = found
    # Telegram's "message is not modified" is expected and handled by the bot (a repeated tap,
    # a keyboard already gone); it costs a call but changes nothing, so it is counted apart.
    unchanged = sum(1 for _, status, error in calls if status == 400 and NOT_MODIFIED in error)
    failed_calls = Counter(
        f"{method} {status}"
        for method, status, error in calls
        if status not in (None, 200) and NOT_MODIFIED not in error
    )
    errors = log_errors(log_text)
    sent = sum(1 for method, status, _ in calls if method == "sendMessage" and status == 200)
    edits = sum(
        1 for method, status, _ in calls if method.startswith("editMessage") and status == 200
    )
    checks = {
        "every user completed with a plan, a check-in and the dialogue at the plan": not problems,
        "every update confirmed (no pending updates, offset past the last)": confirmed,
        "every button press answered": not unanswered,
        "no Bot API call answered with an error": not failed_calls and not internal,
        "bot log has no ERROR/Traceback lines": not errors,
        "bot stopped cleanly on SIGTERM": exit_code == 0,
    }

    latencies = [seconds for o in outcomes for _, seconds in o.steps]
    print(f"\nFokus-Coach load test: {args.users} users, fake Bot API latency {args.latency:g} s")
    rows = [
        ("users completed", f"{args.users - len(problems)} / {args.users}"),
        ("total wall time", f"{wall:.1f} s"),
        ("user steps", f"{len(latencies)}"),
    ]
    if latencies:
        slowest = max(outcomes, key=lambda o: o.finished - o.started)
        worst_name, worst = max(slowest.steps, key=lambda s: s[1], default=("-", 0.0))
        rows += [
            ("median step latency", f"{statistics.median(latencies):.3f} s"),
            ("p95 step latency", f"{percentile(latencies, 0.95):.3f} s"),
            ("p99 step latency", f"{percentile(latencies, 0.99):.3f} s"),
            ("max step latency", f"{max(latencies):.3f} s"),
            (
                "slowest user",
                f"{slowest.user_id} ({slowest.lang}): {slowest.finished - slowest.started:.1f} s"
                f" total, worst step {worst_name!r} {worst:.3f} s",
            ),
        ]
    rows += [
        (
            "messages sent by the bot",
            f"{sent} sent + {edits} edits ({(sent + edits) / wall:.1f}/s)",
        ),
        ("updates / taps answered", f"{len(watcher.update_ids)} / {len(unanswered)} unanswered"),
        ("'message is not modified'", f"{unchanged} calls"),
        ("errors", f"{len(errors)} in the bot log, {sum(failed_calls.values())} API errors"),
    ]
    for label, value in rows:
        print(f"  {label:<26} {value}")
    if args.calls:
        print_calls_per_step(calls_per_step(outcomes, requests, query_chats))
    print()
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    for user_id, found in list(problems.items())[:10]:
        print(f"\nuser {user_id}:\n  " + "\n  ".join(found))
    if failed_calls:
        print(f"\nAPI error answers: {dict(failed_calls)}")
    for line in errors[:10]:
        print(f"bot log: {line}")
    if args.keep:
        print(f"\nkept: {data_dir} (bot log: {bot.stderr_path})")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
