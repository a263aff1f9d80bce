"""The two transports of the restart test: the terminal chat and the Telegram bot.

``ChatSession`` types lines into ``focus-coach chat`` (letters for buttons, several ticks of a
multi choice in one line now and then) and compares every byte it prints with what the oracle
predicts. ``TelegramSession`` plays a Telegram user against ``focus-coach run`` through the fake
Bot API; after a restart it sends /start, or now and then simply taps the buttons still shown.
Telegram delivers an update the killed bot had not confirmed again: the session predicts that
too, and checks that an update handled before the kill does no harm the second time.
"""

from __future__ import annotations

import random
import string
import time
from pathlib import Path
from typing import Any

from fakebotapi import FakeTelegram

from bench.restart_procs import ChatProcess, TelegramChat, TelegramProcess, form
from bench.restart_sessions import (
    CARRY_ON_SHARE,
    REPLY_TIMEOUT,
    Exchange,
    KillPlan,
    Session,
)
from bench.restart_user import Move, position
from bot.console import html_to_terminal
from bot.core.content import Content
from bot.core.messages import Button, ButtonPress, Command, Reply, ReplyKind

__all__ = ["ChatSession", "TelegramSession"]

READY_TIMEOUT = 30.0


def printed(replies: list[Reply], *, questions: bool) -> tuple[str, list[Button] | None]:
    """What the terminal chat prints for ``replies`` (as ``bot.console`` does), and its buttons.

    Without ``questions`` (a press that is not the last of its line) only statements show.
    """
    out: list[str] = []
    buttons = None
    for reply in replies:
        if reply.kind is ReplyKind.ANSWERED or (
            not questions and reply.kind is not ReplyKind.INFO
        ):
            continue
        out.append(html_to_terminal(reply.text, color=False) + "\n")
        if reply.buttons:
            buttons = [button for row in reply.buttons for button in row]
            letters = string.ascii_lowercase
            out.extend(
                f"  [{letter}] {b.label}\n" for letter, b in zip(letters, buttons, strict=False)
            )
        out.append("\n")
    return "".join(out), buttons


class ChatSession(Session):
    """``focus-coach chat`` on a pipe."""

    mode = "chat"
    startup_guess = 1.2
    write_window = 0.006

    def __init__(
        self,
        content: Content,
        data_dir: Path,
        *,
        log: Path,
        user_id: str,
        lang: str,
        rng: random.Random,
        max_life: float,
    ) -> None:
        """Chat in ``lang`` as ``user_id`` (the id the chat derives from the login name)."""
        super().__init__(
            content, data_dir, user_id=user_id, language_hint=lang, rng=rng, max_life=max_life
        )
        self.process = ChatProcess(data_dir, lang, log)
        self.buttons: list[Button] = []  # on screen now, lettered a, b, c ...
        self.start_replies: list[Reply] = []

    def spawn(self) -> None:
        """Start the chat; its own /start is in flight from the first instant."""
        self.buttons = []
        start = Move(Command("start"))
        exchange = Exchange(before=self.oracle.document())
        exchange.add(start, self.oracle.apply(start.inbound), self.oracle.document())
        text, exchange.buttons = printed(exchange.replies[0], questions=True)
        intro = html_to_terminal(self.oracle.render("console/intro"), color=False)
        exchange.expected = f"{text}{intro}\n\n> ".encode()
        exchange.offsets = [0]
        self.inflight = exchange
        self.process.spawn()

    def wait_ready(self, plan: KillPlan) -> bool:
        """Ready once the greeting (the answer to its /start) and the prompt are printed."""
        exchange = self.inflight
        assert exchange is not None
        self.await_reply(exchange, plan.deadline, timeout=READY_TIMEOUT)
        if not exchange.complete:
            return False
        self.enter(exchange, 1)
        self.inflight = None
        self.start_replies = exchange.replies[0]
        return True

    def resume(self, plan: KillPlan) -> bool:
        """The greeting is the resume prompt or the question; check it."""
        return self.check_resumed(self.start_replies, plan)

    def batches(self, exchange: Exchange, move: Move) -> bool:
        """Further taps on the same buttons (ticks redrawn in place) go in one line: ``a,c``."""
        redrawn = [r.edits_question and r.kind is ReplyKind.QUESTION for r in exchange.replies[-1]]
        if redrawn != [True] or not isinstance(move.inbound, ButtonPress):
            return False
        return all(isinstance(m.inbound, ButtonPress) for m in exchange.moves)

    def send(self, exchange: Exchange) -> bool:
        """Type the line; the output it must print is worked out first."""
        line = self._line(exchange)
        if line is None:
            return False
        exchange.mark = len(self.process.output)
        expected = b""
        for index, replies in enumerate(exchange.replies):
            last = index == len(exchange.replies) - 1
            exchange.offsets.append(len(expected))
            text, buttons = printed(replies, questions=last)
            expected += text.encode()
            exchange.buttons = buttons if last else exchange.buttons
        exchange.expected = expected + b"> "
        self.process.send(line)
        return True

    def _line(self, exchange: Exchange) -> str | None:
        first = exchange.moves[0].inbound
        if isinstance(first, Command):
            return f"/{first.name}"
        if not isinstance(first, ButtonPress):
            return first.text
        data = [b.data for b in self.buttons]
        letters = []
        for move in exchange.moves:
            assert isinstance(move.inbound, ButtonPress)
            if move.inbound.data not in data:
                self.tally.problems.append(f"no button {move.inbound.data} on screen: {data}")
                return None
            letters.append(string.ascii_lowercase[data.index(move.inbound.data)])
        return ",".join(letters)

    def await_reply(
        self, exchange: Exchange, deadline: float, timeout: float = REPLY_TIMEOUT
    ) -> None:
        """Read what it prints, up to the prompt."""
        guard = time.monotonic() + timeout
        self.process.read(exchange.mark, exchange.expected, min(deadline, guard))
        self._judge(exchange)
        if exchange.complete or self.tally.problems:
            return
        got = bytes(self.process.output[exchange.mark :]).decode(errors="replace")
        if self.process.ended:
            self.tally.problems.append(f"the chat ended by itself (see its log) after {got!r}")
        elif time.monotonic() >= guard:
            self.tally.problems.append(f"the chat did not answer within {timeout} s: {got!r}")

    def _judge(self, exchange: Exchange) -> None:
        got = bytes(self.process.output[exchange.mark :])
        if not exchange.expected.startswith(got):
            self.tally.problems.append(
                "the chat printed something else than the engine would:\n"
                f"  printed:  {got.decode(errors='replace')!r}\n"
                f"  expected: {exchange.expected.decode(errors='replace')!r}"
            )
        exchange.acknowledged = sum(len(got) > offset for offset in exchange.offsets)
        exchange.complete = got == exchange.expected
        if exchange.complete and exchange.buttons is not None:
            self.buttons = exchange.buttons

    def kill(self) -> None:
        """SIGKILL; what it printed before is read to the end and counts as seen."""
        self.process.kill()
        if self.inflight is not None and not self.tally.problems:
            self._judge(self.inflight)


class TelegramSession(Session):
    """``focus-coach run`` against the fake Bot API, one Telegram user."""

    mode = "run"
    startup_guess = 2.0
    write_window = 0.03  # the update goes through the fake, long polling and a worker thread

    def __init__(
        self,
        content: Content,
        data_dir: Path,
        *,
        log: Path,
        tg: FakeTelegram,
        telegram_id: int,
        lang: str,
        rng: random.Random,
        max_life: float,
    ) -> None:
        """Play the Telegram user ``telegram_id`` whose app speaks ``lang``."""
        super().__init__(
            content,
            data_dir,
            user_id=str(telegram_id),
            language_hint=lang,
            rng=rng,
            max_life=max_life,
        )
        self.chat = TelegramChat(tg, tg.user(telegram_id, "Anna", lang))
        # The update reaches the bot one answer delay after it is sent, and replies take more.
        self.write_window = type(self).write_window + 3 * tg.latency
        self.process = TelegramProcess(tg, data_dir, log)
        self.resend: Exchange | None = None  # an update Telegram will deliver again

    def spawn(self) -> None:
        """Start the bot; an update it has not confirmed comes again, so it is in flight."""
        self.inflight = self.resend
        if self.resend is not None:
            self.resend.mark = self.chat.revision()
        self.process.spawn()

    def wait_ready(self, plan: KillPlan) -> bool:
        """Ready at its first getUpdates."""
        guard = time.monotonic() + READY_TIMEOUT
        while not self.process.ready():
            if plan.due():
                return False
            if self.process.exited() or time.monotonic() > guard:
                self.tally.problems.append("the bot did not start polling (see its log)")
                return False
            self.chat.wait(self.chat.revision(), min(plan.deadline, time.monotonic() + 0.05))
        return True

    def resume(self, plan: KillPlan) -> bool:
        """Take the resent update's reply, then /start, or tap the buttons still shown."""
        resent = self.inflight
        if resent is not None:
            self.await_reply(resent, plan.deadline)
            if not resent.complete or not self._resent(resent):
                return False
        peek = self.plan_exchange()
        move = peek.moves[0].inbound
        if (
            resent is None
            and self.reference is not None
            and isinstance(move, ButtonPress)
            and self.rng.random() < CARRY_ON_SHARE
            and self.chat.shows_button(move.data)
        ):
            return self._carry_on(peek, plan)
        self.oracle.reset(peek.before)
        start = Exchange(before=self.oracle.document())
        command = Move(Command("start"))
        start.add(command, self.oracle.apply(command.inbound), self.oracle.document())
        if not self.transmit(start, plan):
            return False
        return self.check_resumed(start.replies[0], plan)

    def _carry_on(self, tap: Exchange, plan: KillPlan) -> bool:
        """Tap a button still shown: the restarted bot must take it as the current question's."""
        if not self.transmit(tap, plan):
            return False
        if tap.moves[0].starts is not None:  # the resume prompt was on screen: "start over"
            self.tally.started_over += 1
            return True
        self.tally.via_buttons += 1
        self.tally.restarts_checked += 1
        self.tally.resumed_same += 1
        return True

    def _resent(self, resent: Exchange) -> bool:
        """The resent update was answered: where the user is now; harmless if a duplicate."""
        self.tally.redelivered += 1
        if resent.duplicate:
            before, after = _without_turn(resent.before), _without_turn(resent.states[0])
            if before == after:
                self.tally.duplicates_harmless += 1
            else:
                # Handled a second time (tests/e2e/test_e2e_resent_update.py shows why that
                # hurts): listed, and the run goes on from where that left the user.
                self.tally.duplicates_harmful += 1
                self.tally.findings.append(_duplicate_finding(resent, before, after))
        self.enter(resent, 1)
        self.inflight = self.resend = None
        self.reference = resent.states[0]
        return True

    def send(self, exchange: Exchange) -> bool:
        """Send the update (press the newest message that shows the button)."""
        exchange.mark = self.chat.revision()
        exchange.delivery = self.chat.send(exchange.moves[0].inbound)
        if exchange.delivery is not None:
            return True
        self.tally.problems.append(f"no button for {exchange.moves[0].inbound} on screen")
        return False

    def await_reply(self, exchange: Exchange, deadline: float) -> None:
        """Wait until the predicted replies reached the fake (or the deadline)."""
        guard = time.monotonic() + REPLY_TIMEOUT
        while True:
            seen = self.chat.revision()
            if self._judge(exchange):
                return
            now = time.monotonic()
            if now >= deadline:
                return
            if now >= guard or self.process.exited():
                self.tally.problems.append(
                    f"no reply to {exchange.moves[0].inbound} within {REPLY_TIMEOUT} s; "
                    f"expected {form(exchange.replies[0][-1])}"
                )
                return
            self.chat.wait(seen, min(deadline, guard))

    def _judge(self, exchange: Exchange) -> bool:
        """Count what arrived; True once complete, or when the bot showed something else."""
        expected = [form(reply) for reply in exchange.replies[0] if reply.document is None]
        arrived = [form(message) for message in self.chat.changed_since(exchange.mark)]
        exchange.acknowledged = int(any(item in expected for item in arrived))
        strangers = [item for item in arrived if item[1] and item not in expected]
        if strangers:
            self.tally.problems.append(
                f"the bot showed {strangers[0]} for {exchange.moves[0].inbound}; "
                f"the engine would show {expected}"
            )
            return True
        exchange.complete = expected[-1] in arrived
        return exchange.complete

    def kill(self) -> None:
        """SIGKILL; what reaches the fake from the dead bot still counts as acknowledged."""
        self.process.kill()
        self.chat.settle(self.chat.tg.latency)
        if self.inflight is not None and not self.tally.problems:
            self._judge(self.inflight)

    def after_check(self, exchange: Exchange | None, applied: int) -> None:
        """An update still held by Telegram comes again at the next start: predict it."""
        self.resend = None
        if exchange is None:
            return
        if self.chat.pending_updates() == 0:
            # Fetched (the bot's next poll confirmed it) but the bot died before saving it:
            # Telegram will not send it again; the user got no reply and taps again.
            self.tally.fetched_not_handled += applied == 0 and not exchange.duplicate
            return
        move = exchange.moves[0]
        resend = Exchange(
            before=self.oracle.document(),
            duplicate=exchange.duplicate or applied > 0,
            original_acknowledged=exchange.acknowledged > 0 or exchange.original_acknowledged,
            delivery=exchange.delivery,
        )
        # The oracle starts from the store, handled update ids included: with the same id it
        # predicts what the bot must do with the update it gets again.
        replies = self.oracle.apply(move.inbound, delivery=exchange.delivery)
        resend.add(move, replies, self.oracle.document())
        self.resend = resend


def _duplicate_finding(resent: Exchange, before: dict[str, Any], after: dict[str, Any]) -> str:
    """What handling a resent update a second time changed, in one line."""
    seen = "acknowledged" if resent.original_acknowledged else "saved, reply not yet seen"
    changed = {
        key: (before.get(key), after.get(key))
        for key in ("dialogue", "suspended", "reminder", "lang")
        if before.get(key) != after.get(key)
    }
    if set(changed) == {"dialogue"} and all(isinstance(d, dict) for d in changed["dialogue"]):
        old, new = changed["dialogue"]  # only the parts of the dialogue that differ
        changed = {k: (old.get(k), new.get(k)) for k in new if old.get(k) != new.get(k)}
    return (
        f"Telegram resent {resent.moves[0].inbound} after the kill; the bot had handled it "
        f"before ({seen}) and handled it again, changing {changed}"
    )


def _without_turn(document: dict[str, Any] | None) -> dict[str, Any]:
    """A state's position apart from the turn counter (which an outdated tap moves on)."""
    kept = position(document)
    if kept.get("dialogue"):
        kept["dialogue"] = {**kept["dialogue"], "turn": 0}
    return kept
