"""The lives of one real process in the restart test: start, talk, get killed, check, again.

A ``Session`` plays one user against one mode (``ChatSession``: ``focus-coach chat`` on a pipe;
``TelegramSession``: ``focus-coach run`` against the fake Bot API). Every message the user sends
is first fed to the ``Oracle`` (the engine in memory), which predicts the replies and the state
after it; the real process must show exactly those replies. An *exchange* is acknowledged once
its reply reached the user (printed on the pipe; arrived at the Bot API server).

After each kill: every user file parses, the store is at the acknowledged state or at most the
message in flight further (one of the oracle's states), and the ``Ledger`` finds every answer.
After each restart: the process shows the resume prompt when a side flow was open, and after
"continue" (or directly) the question the user was at, unchanged.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.crash_test import check_state
from bench.restart_ledger import VERIFIED, Ledger, Verdict
from bench.restart_user import (
    Move,
    Oracle,
    current_question,
    is_resume_prompt,
    next_move,
    position,
    shown,
    side_flow,
)
from bot.console import html_to_terminal
from bot.core.content import Content
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.flow_ids import ONBOARDING_FLOW
from bot.core.messages import Button, Reply
from bot.core.state import UserState
from storage import StorageError, TinyDBUserRepository
from storage.atomic import is_temp_file
from storage.errors import DamagedDocumentError
from storage.history_archive import ARCHIVE_SUFFIX, side_records

__all__ = ["Exchange", "KillPlan", "Session", "Tally", "read_store"]

STARTUP_SHARE = 0.1  # lives killed at a random instant of start-up
TIMED_SHARE = 0.45  # lives killed at a random time after start-up; the rest just after a send
MAX_SENDS = 20  # ... within ``write_window`` after the n-th message (n from 1 to this)
THINK_SHARE = 0.2  # the user pauses before a message (a kill may fall between answers)
MAX_THINK = 0.02
BATCH_SHARE = 0.5  # in the chat, further ticks of a multi choice go in the same line
CARRY_ON_SHARE = 0.4  # on Telegram, after a restart: tap the buttons still shown, no /start
REPLY_TIMEOUT = 15.0  # a guard: no reply in this time is a problem


@dataclass
class Tally:
    """The figures of one mode."""

    mode: str
    kills: int = 0
    kills_starting: int = 0  # before the process took messages
    kills_in_flight: int = 0  # a message sent, its reply not complete
    kills_idle: int = 0  # between answers
    kills_mid_write: int = 0  # a half-written temp file was left
    saved_unacknowledged: int = 0  # the message in flight was saved, its reply not seen
    fetched_not_handled: int = 0  # Telegram: the bot took the update, died, it is not resent
    redelivered: int = 0  # Telegram: updates delivered again after the restart
    duplicates_harmless: int = 0  # ... of them already handled, and not applied again
    duplicates_harmful: int = 0  # ... of them already handled, and handled again
    exchanges: int = 0
    checks: int = 0  # answers found, summed over the checks after every kill
    answers_checked: int = 0  # acknowledged answers found at one kill or more
    ready_seconds: list[float] = field(default_factory=list)  # spawn to taking messages
    last: Verdict = field(default_factory=Verdict)
    restarts_checked: int = 0
    resumed_same: int = 0
    via_prompt: int = 0  # ... through "Welcome back! ... continue?"
    via_buttons: int = 0  # ... by tapping the buttons still on screen (Telegram)
    started_over: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # the first one ends the run
    findings: list[str] = field(default_factory=list)  # violations the run goes on after


@dataclass
class Exchange:
    """One chat line or Telegram update: its moves and what the oracle predicts for each."""

    before: dict[str, Any] | None
    moves: list[Move] = field(default_factory=list)
    replies: list[list[Reply]] = field(default_factory=list)
    states: list[dict[str, Any] | None] = field(default_factory=list)
    mark: int = 0  # chat: output length at sending; Telegram: the fake's revision
    expected: bytes = b""  # chat: what it must print, prompt included
    offsets: list[int] = field(default_factory=list)  # chat: where each move's output starts
    acknowledged: int = 0  # moves whose reply reached the user
    complete: bool = False
    duplicate: bool = False  # Telegram: the resend of an update already handled
    original_acknowledged: bool = False  # ... whose first reply had reached the user
    delivery: int | None = None  # Telegram: the update's id
    buttons: list[Button] | None = None  # chat: the buttons on screen once it is printed

    def add(self, move: Move, replies: list[Reply], state: dict[str, Any] | None) -> None:
        """One more move, with its predicted replies and state."""
        self.moves.append(move)
        self.replies.append(replies)
        self.states.append(state)


class KillPlan:
    """When a life ends: during start-up, a random time after it, or just after a send."""

    def __init__(self, rng: random.Random, session: Session) -> None:
        """Draw the plan for ``session``'s process, spawned now."""
        draw = rng.random()
        self.deadline = math.inf
        self._after_ready: float | None = None
        self._sends: int | None = None
        self._delay = rng.uniform(0, session.write_window)
        if draw < STARTUP_SHARE:
            self.deadline = time.monotonic() + rng.uniform(0, session.startup_seconds())
        elif draw < STARTUP_SHARE + TIMED_SHARE:
            self._after_ready = rng.uniform(0, session.max_life)
        else:
            self._sends = rng.randint(1, MAX_SENDS)

    def ready(self) -> None:
        """The process takes messages now."""
        if self._after_ready is not None:
            self.deadline = time.monotonic() + self._after_ready

    def sent(self) -> None:
        """A message was just sent."""
        if self._sends is not None:
            self._sends -= 1
            if self._sends == 0:
                self.deadline = time.monotonic() + self._delay

    def due(self) -> bool:
        """Whether it is time to kill."""
        return time.monotonic() >= self.deadline


def read_store(
    content: Content, data_dir: Path, user_id: str
) -> tuple[dict[str, Any] | None, bool, list[str]]:
    """After a kill, before anything tidies: every file whole; then the user's document."""
    users = data_dir / "users"
    temp_seen, problems = False, []
    for path in sorted(users.rglob("*")) if users.exists() else []:
        if path.is_dir():
            continue
        if is_temp_file(path.name):
            temp_seen = True
            continue
        if ".damaged-" in path.name:
            problems.append(f"damaged copy {path}: a document was found torn")
            continue
        if path.name.endswith(ARCHIVE_SUFFIX):  # older check-ins: whole, in their layout
            try:
                side_records(path.read_bytes(), path)
            except DamagedDocumentError as error:
                problems.append(f"torn or invalid side file: {error}")
            continue
        try:
            data = json.loads(path.read_bytes())
            assert list(data) == ["user"] and list(data["user"]) == ["1"], "layout"
            check_state(content, UserState.from_document(data["user"]["1"]))
        except Exception as error:  # any failure here is the finding
            problems.append(f"torn or invalid document {path}: {error!r}")
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        try:
            document = repo.get(user_id)
        except StorageError as error:
            problems.append(f"the store refuses the document: {error}")
            document = None
    return document, temp_seen, problems


def _differing(stored: dict[str, Any], candidates: list[dict[str, Any]]) -> str:
    """The top-level keys in which ``stored`` differs from each candidate, with both values."""
    reports = []
    for candidate in candidates:
        keys = sorted(
            k for k in stored.keys() | candidate.keys() if stored.get(k) != candidate.get(k)
        )
        reports.append(
            ", ".join(f"{k}: stored {stored.get(k)!r} expected {candidate.get(k)!r}" for k in keys)
        )
    return " | ".join(reports) or "none"


def _where(document: dict[str, Any] | None) -> str:
    """A short description of a state, for problem reports."""
    if document is None:
        return "no document"
    parts = []
    for key in ("dialogue", "suspended"):
        dialogue = document.get(key)
        if dialogue is not None:
            answers = json.dumps(dialogue["answers"], ensure_ascii=False)
            parts.append(
                f"{key} {dialogue['flow']}.{dialogue['step']} turn {dialogue['turn']} "
                f"confirm {dialogue['confirm']} answers {answers}"
            )
    return "; ".join(parts) + f"; {len(document.get('checkins', []))} check-ins"


class Session:
    """One user, one real process, killed and started again; subclasses know the transport."""

    mode = ""
    startup_guess = 1.5  # seconds from spawn to taking messages, until measured
    write_window = 0.005  # seconds after a send: the message is handled and saved within it

    def __init__(
        self,
        content: Content,
        data_dir: Path,
        *,
        user_id: str,
        language_hint: str,
        rng: random.Random,
        max_life: float,
    ) -> None:
        """Play ``user_id`` on ``data_dir`` (empty at first)."""
        self.content = content
        self.data_dir = data_dir
        self.user_id = user_id
        self.rng = rng
        self.max_life = max_life
        self.oracle = Oracle(content, user_id, language_hint)
        self.ledger = Ledger()
        self.tally = Tally(self.mode)
        self.inflight: Exchange | None = None
        self.reference: dict[str, Any] | None = None  # the state at the last kill
        self.ready = False

    def startup_seconds(self) -> float:
        """How long a start-up takes here (the median so far): start-up kills fall within it."""
        times = self.tally.ready_seconds
        return statistics.median(times) if times else self.startup_guess

    # ---- what a transport provides ---------------------------------------------------------
    def spawn(self) -> None:
        """Start the process (and put what it handles by itself in flight)."""
        raise NotImplementedError

    def wait_ready(self, plan: KillPlan) -> bool:
        """Wait until it takes messages; False if the kill came first."""
        raise NotImplementedError

    def resume(self, plan: KillPlan) -> bool:
        """Come back after the restart and check the question; False if killed meanwhile."""
        raise NotImplementedError

    def send(self, exchange: Exchange) -> bool:
        """Send the exchange's message(s); False (and a problem) if that is impossible."""
        raise NotImplementedError

    def await_reply(self, exchange: Exchange, deadline: float) -> None:
        """Wait for the predicted reply until ``deadline``; set acknowledged and complete."""
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the process; afterwards count what of the exchange in flight arrived."""
        raise NotImplementedError

    def batches(self, exchange: Exchange, move: Move) -> bool:
        """Whether ``move`` may go in the same transmission as the exchange's moves."""
        return False

    # ---- one life ------------------------------------------------------------------------------
    def life(self) -> None:
        """Start the process, resume, talk until the planned kill; kill and check the store."""
        plan = KillPlan(self.rng, self)
        self.ready = False
        spawned = time.monotonic()
        self.spawn()
        try:
            if self.wait_ready(plan):
                self.ready = True
                self.tally.ready_seconds.append(time.monotonic() - spawned)
                plan.ready()
                if self.resume(plan):
                    self.converse(plan)
        except BaseException:
            self.kill()
            raise
        self.kill_and_check()

    def converse(self, plan: KillPlan) -> None:
        """Answer question after question until the planned kill (or a problem)."""
        while not plan.due() and not self.tally.problems:
            if self.rng.random() < THINK_SHARE:
                pause = min(self.rng.uniform(0, MAX_THINK), plan.deadline - time.monotonic())
                time.sleep(max(pause, 0))
                continue
            if not self.transmit(self.plan_exchange(), plan):
                return

    def plan_exchange(self) -> Exchange:
        """The user's next message(s), predicted by the oracle (which moves on with them)."""
        exchange = Exchange(before=self.oracle.document())
        while True:
            move = next_move(
                self.content, self.oracle.user(), self.rng, len(self.ledger.instances)
            )
            if exchange.moves and not self.batches(exchange, move):
                return exchange
            exchange.add(move, self.oracle.apply(move.inbound), self.oracle.document())
            if self.rng.random() >= BATCH_SHARE:
                return exchange

    def transmit(self, exchange: Exchange, plan: KillPlan) -> bool:
        """Send, wait for the reply; True once it is complete (and entered)."""
        self.inflight = exchange
        if not self.send(exchange):
            return False
        plan.sent()
        self.await_reply(exchange, plan.deadline)
        if not exchange.complete:
            return False
        self.enter(exchange, len(exchange.moves))
        self.inflight = None
        self.tally.exchanges += 1
        return True

    def enter(self, exchange: Exchange, applied: int) -> None:
        """Enter the first ``applied`` moves in the ledger (as acknowledged, where they were)."""
        if exchange.duplicate:
            return
        for index, move in enumerate(exchange.moves[:applied]):
            before = exchange.before if index == 0 else exchange.states[index - 1]
            after = exchange.states[index]
            _check_declared(move, after)
            acknowledged = index < exchange.acknowledged
            self.ledger.enter(move, before, after, acknowledged=acknowledged)

    # ---- after the restart: the same question ---------------------------------------------
    def check_resumed(self, replies: list[Reply], plan: KillPlan) -> bool:
        """What the restarted process showed for /start (and "continue") is where the user was."""
        reference = self.reference
        expected = current_question(self.content, reference)
        if expected is None:
            return True  # nobody there yet: a first start, nothing to resume
        last = replies[-1]
        flow = side_flow(reference)
        if flow is not None:
            if not self._names_flow(last, flow, reference):
                return False
            answer = self.plan_exchange()
            if not self.transmit(answer, plan):
                return False
            if answer.moves[0].starts is not None:
                self.tally.started_over += 1
                return True
            self.tally.via_prompt += 1
            last = answer.replies[-1][-1]
        return self.same_question(last, expected)

    def same_question(self, last: Reply, expected: Any) -> bool:
        """Count one checked restart; a problem if it showed another question."""
        self.tally.restarts_checked += 1
        if shown(last) != expected:
            self.tally.problems.append(
                f"after the restart the user is at another question: shown {shown(last)}, "
                f"expected {expected} ({_where(self.reference)})"
            )
            return False
        self.tally.resumed_same += 1
        return True

    def _names_flow(self, reply: Reply, flow: str, reference: dict[str, Any] | None) -> bool:
        lang = str((reference or {}).get("lang", "de"))
        name = self.content.texts.label(lang, f"flow_{flow}")
        if is_resume_prompt(reply) and name in html_to_terminal(reply.text, color=False):
            return True
        self.tally.problems.append(
            f"a {flow} was open, but /start showed {reply.text!r} ({_where(reference)})"
        )
        return False

    # ---- the kill and the checks after it ---------------------------------------------------
    def kill_and_check(self) -> None:
        """Kill; check the files, the position, every answer; go on from the store."""
        exchange = self.inflight
        in_flight = exchange is not None and not exchange.complete
        self.tally.kills += 1
        self.tally.kills_starting += not self.ready
        self.tally.kills_in_flight += self.ready and in_flight
        self.tally.kills_idle += self.ready and not in_flight
        self.kill()
        document, temp_seen, problems = read_store(self.content, self.data_dir, self.user_id)
        self.tally.kills_mid_write += temp_seen
        self.tally.problems.extend(problems)
        applied = self.locate(exchange, document)
        verdict = self.ledger.verify(document)
        self.tally.checks += verdict.counts[VERIFIED]
        self.tally.last = verdict
        self.tally.problems.extend(verdict.problems)
        self.oracle.reset(document)
        self.after_check(exchange, applied)

    def locate(self, exchange: Exchange | None, document: dict[str, Any] | None) -> int:
        """Which of the oracle's states the store is at; enter what was applied. -1: none."""
        candidates = [self.oracle.document()]
        first = 0
        if exchange is not None:
            candidates = [exchange.before, *exchange.states]
            first = exchange.acknowledged  # an acknowledged move must have been applied
        stored = position(document)
        for index in range(first, len(candidates)):
            if position(candidates[index]) == stored:
                self.reference = candidates[index]
                if exchange is not None:
                    self.enter(exchange, index)
                    self.inflight = None
                    self.tally.saved_unacknowledged += index > exchange.acknowledged
                return index
        self.tally.problems.append(
            f"after the kill the store is not where the user was: stored {_where(document)}; "
            f"acknowledged {_where(candidates[first])}; differing keys: "
            f"{_differing(stored, [position(c) for c in candidates[first:]])}"
        )
        return -1

    def after_check(self, exchange: Exchange | None, applied: int) -> None:
        """What a transport does after the checks (Telegram: remember what it will resend)."""


def _check_declared(move: Move, after: dict[str, Any] | None) -> None:
    """The answer a move declares is what the engine stored (a check of this test itself)."""
    if move.answer is None or after is None:
        return
    flow, key, value = move.answer
    user = UserState.from_document(after)
    dialogue = user.onboarding() if flow == ONBOARDING_FLOW else user.dialogue
    if dialogue is None or dialogue.flow != flow or key not in dialogue.answers:
        return  # the flow finished with it: the ledger looks where it went
    if dialogue.answers[key] != value:
        raise RuntimeError(
            f"test bug: {flow} {key} stored {dialogue.answers[key]!r}, not {value!r}"
        )
