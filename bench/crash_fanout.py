"""Crash test of the weekly fan-out: SIGKILL the coach while it claims, sends, journals, compacts.

Run from the repository root::

    .venv/bin/python bench/crash_fanout.py                  # 200 kills, fan-outs of 120 users
    .venv/bin/python -m bench.crash_fanout --kills 40 --users 30 --seed 7 --data-dir /tmp/cf --keep

Each round is one fan-out: a fresh data folder of ``--users`` users (``bench.datagen``: onboarded,
a plan, 52 answered weeks; every round a copy of the same seeded folder) whose weekly check-in
is due at the same minute. A child process
(forked from this one, so the prompts are loaded once) opens the folder and wires what
``focus-coach run`` wires: ``TinyDBUserRepository`` read through the journal of sent check-ins
(``journaled``), a ``ReminderService`` with ``sent=`` that composes each reminder in its claim's
write (``compose_with(engine.compose_reminder)``), and a ``Dispatcher`` whose ticks it runs. Its
sender "delivers" a claim by writing ``sent <user> <week> <kind> <live message>`` to a pipe
after a short ``asyncio.sleep``; it returns ``SendResult.SENT`` or a ``Sent`` with a new message
id (and sometimes ``FAILED``: the claim is released and sent at a later tick). After
``confirm_many`` returns, the child writes ``recorded <user> <week> <kind>`` per check-in.
The child's clock runs at real speed, and jumps ahead ten minutes after each tick that found
nothing due while sent records wait and no compaction runs (up to an hour since the compaction
last wrote): so the dispatcher's compaction writes the journalled records into the documents
(an hour after it first saw them) a few ticks after the sends, as in the quiet hour after a
fan-out. A restart continues the clock where the last process left it.

The parent kills the child with SIGKILL: at random instants, during start-up, and a few
milliseconds after the child announces (on the same pipe) the n-th document write of a claim,
send, delivery ("sent": its journal record is not durable yet), journal append or document write
of the compaction. After every kill it checks that every user file is complete JSON of a valid
state, that the journal loads (only the last line of a segment may be cut off), that the
schedule index is complete JSON, that every check-in said "recorded" is in the store and that
no week is recorded as sent that was not. A round ends when the child
says it is idle (everyone sent, every record compacted); then a last child runs until idle and
exits by itself, and the round's checks follow: every user was sent the check-in at least once,
the documents (the journal applied) record the week in ``sent_weeks`` with no claim pending and
the live message of the last send; no user was sent the check-in again once the store recorded
it (a "recorded" line, or the store after a kill), nor twice by one process, nor more than
1 + kills times; no error was logged. It prints the kills by what they followed, the sends and
the resends after a crash, and exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the bench package is not installed
    sys.path.insert(0, str(ROOT))

from bench.crash_fanout_ledger import Ledger, StoreView, read_store  # noqa: E402
from bench.datagen import DocumentFactory, user_ids  # noqa: E402
from bot.core.checker import load_content  # noqa: E402
from bot.core.checkin_claims import (  # noqa: E402
    COMPACT_AFTER,
    Claim,
    Delivered,
    ReminderService,
)
from bot.core.content import DEFAULT_PROMPTS_DIR, Content  # noqa: E402
from bot.core.due_kinds import effective_due  # noqa: E402
from bot.core.engine import DialogueEngine  # noqa: E402
from bot.core.quiet_hours import QUIET_HOURS  # noqa: E402
from bot.core.schedule import local_week_key  # noqa: E402
from bot.core.sent_records import LIVE_MESSAGE, SentRecords  # noqa: E402
from bot.dispatcher import Dispatcher, SendResult, Sent  # noqa: E402
from storage import ScheduleIndex, TinyDBUserRepository  # noqa: E402
from storage.journal import AppendJournal  # noqa: E402

DUE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday noon: the same week everywhere
# An operator's FOCUS_COACH_GRACE_HOURS: long enough that no check-in of a slow round (the
# clock runs fast) is given up as missed; a round ends long before its follow-ups are due.
GRACE = timedelta(hours=72)
TICK_GAP = 0.01  # seconds between the child's dispatcher ticks
# Ways to kill: during start-up, at a random instant, or just after the child announced a
# document write of a claim, a send, a delivery ("sent": before its journal record is
# durable), a journal append, a document write of the compaction.
PHASES = ("startup", "random", "claim", "send", "sent", "append", "compact")
# How often each is chosen while check-ins are still to be sent, and after (when only the
# compaction has work left).
WEIGHTS_SENDING = (1, 3, 2, 2, 2, 2, 0)
WEIGHTS_COMPACTING = (1, 1, 0, 0, 0, 0, 4)
JITTER = 0.003  # seconds after a marker: the kill lands in the announced write or just after
GUARD = 60.0  # seconds: a child that neither gets there nor says idle has hung
IDLE_STEP = timedelta(minutes=10)  # the clock's jump after a tick with nothing due
# A round stops killing once its clock has run this long: the follow-ups of the check-ins (the
# next day) must not come due before its last child has settled everything.
ROUND_CLOCK = timedelta(hours=14)


# ---- the child: the fan-out as `focus-coach run` wires it, announcing what it does ----------
class _Pipe:
    """Lines to the parent; each is one write() below PIPE_BUF, so lines never interleave."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def say(self, line: str) -> None:
        os.write(self.fd, (line.replace("\n", " ")[:2000] + "\n").encode())


_phase = threading.local()  # what the worker thread writes for: claim, compact, confirm ...


@contextmanager
def _doing(name: str) -> Iterator[None]:
    before = getattr(_phase, "name", "other")
    _phase.name = name
    try:
        yield
    finally:
        _phase.name = before


class _AnnouncedStore(TinyDBUserRepository):
    """The file store; says "put <user> <phase>" before each document write."""

    pipe: _Pipe

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        self.pipe.say(f"put {user_id} {getattr(_phase, 'name', 'other')}")
        super().put(user_id, document)


class _AnnouncedJournal(AppendJournal):
    """The journal of sent check-ins; says "append <n>" before each append."""

    def __init__(self, data_dir: Path, pipe: _Pipe) -> None:
        super().__init__(data_dir)
        self.pipe = pipe

    def append(self, records: Sequence[dict[str, Any]]) -> str:
        self.pipe.say(f"append {len(records)}")
        return super().append(records)


class _AnnouncedReminders(ReminderService):
    """The reminder service; names the phase of its writes, says "recorded" after confirms."""

    pipe: _Pipe
    compacting = False  # a compact_sent call is running (at most one: the dispatcher's)

    def claim_many(self, user_ids: Sequence[str], now: datetime) -> list[Claim | None]:
        with _doing("claim"):
            return super().claim_many(user_ids, now)

    def confirm_many(self, delivered: Sequence[Delivered]) -> None:
        with _doing("confirm"):
            super().confirm_many(delivered)
        for item in delivered:
            claim = item.claim
            self.pipe.say(f"recorded {claim.user_id} {claim.week} {claim.kind.value}")

    def compact_sent(
        self, now: datetime, *, older_than: timedelta | None = None, limit: int = 256
    ) -> int:
        self.compacting = True
        try:
            with _doing("compact"):
                if older_than is None:
                    return super().compact_sent(now, limit=limit)
                return super().compact_sent(now, older_than=older_than, limit=limit)
        finally:
            self.compacting = False

    def release(self, claim: Claim, *, retry_at: datetime | None = None) -> None:
        with _doing("release"):
            super().release(claim, retry_at=retry_at)


class _PipeLog(logging.Handler):
    """Warnings and errors of the bot, as "log <level> <text>" lines."""

    def __init__(self, pipe: _Pipe) -> None:
        super().__init__(logging.WARNING)
        self.pipe = pipe

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({record.exc_info[1]!r})"
        self.pipe.say(f"log {record.levelname} {record.name}: {text}")


@dataclass(frozen=True)
class ChildPlan:
    """What one child does: its randomness, where its clock starts, whether it runs to idle."""

    seed: int
    clock_start: datetime
    """Where the earlier processes of this round left the clock."""
    send_delay: float
    fail_rate: float
    settle: bool


def child_main(content: Content, data_dir: Path, plan: ChildPlan, out: int) -> NoReturn:
    """Run the fan-out on ``data_dir`` until killed (or, settling, until idle); never returns."""
    pipe = _Pipe(out)
    root = logging.getLogger()
    root.handlers[:] = [_PipeLog(pipe)]
    root.setLevel(logging.WARNING)
    try:
        asyncio.run(_fan_out(content, data_dir, plan, pipe))
    except BaseException:
        traceback.print_exc()
        pipe.say("crashed")
        os._exit(3)
    os._exit(0)


async def _fan_out(content: Content, data_dir: Path, plan: ChildPlan, pipe: _Pipe) -> None:
    rng = random.Random(plan.seed)
    started = time.monotonic()
    skipped = timedelta(0)

    def clock() -> datetime:
        return plan.clock_start + timedelta(seconds=time.monotonic() - started) + skipped

    # What `focus-coach run` wires (bot/cli.py _run), each part announcing its writes.
    stored = _AnnouncedStore(data_dir)
    stored.pipe = pipe
    sent = SentRecords(stored, _AnnouncedJournal(data_dir, pipe))  # = journaled(stored)
    reminders = _AnnouncedReminders(
        sent, ScheduleIndex(data_dir), grace=GRACE, clock=clock, sent=sent
    )
    reminders.pipe = pipe
    engine = DialogueEngine(content, sent, clock=clock, reminders=reminders)
    reminders.compose_with(engine.compose_reminder)
    await asyncio.to_thread(reminders.load)

    async def send(claim: Claim) -> SendResult | Sent:
        pipe.say(f"send {claim.user_id}")
        if not claim.replies:
            pipe.say(f"log ERROR crash_fanout: the claim of {claim.user_id} came without replies")
        await asyncio.sleep(rng.uniform(0, plan.send_delay))
        if rng.random() < plan.fail_rate:
            pipe.say(f"failed {claim.user_id}")
            return SendResult.FAILED
        live = rng.randrange(1, 2**31) if rng.random() < 0.4 else None
        shown = "-" if live is None else str(live)
        pipe.say(f"sent {claim.user_id} {claim.week} {claim.kind.value} {shown}")
        return SendResult.SENT if live is None else Sent(live_message=live)

    dispatcher = Dispatcher(reminders, send, clock=clock)
    pipe.say("ready")
    idle_said = False
    waiting_before = 0
    quiet = timedelta(0)  # skipped since the compaction last wrote a record
    while True:
        await dispatcher.tick()
        waiting = len(sent.pending_users())
        if waiting < waiting_before:
            quiet = timedelta(0)
        waiting_before = waiting
        if reminders.due_before(clock()) == 0:
            if not waiting:
                if plan.settle:
                    break
                if not idle_said:
                    pipe.say("idle")
                    idle_said = True
            elif not reminders.compacting and quiet <= COMPACT_AFTER:
                # Only sent records wait, and no compaction writes them now: let the quiet
                # time after a fan-out pass until the dispatcher's compaction takes them.
                quiet += IDLE_STEP
                skipped += IDLE_STEP
                pipe.say(f"skipped {skipped.total_seconds():.0f}")
        await asyncio.sleep(TICK_GAP)
    await dispatcher.shutdown()
    stored.close()


# ---- the parent: seed, kill, check ------------------------------------------------------------
@dataclass
class Tally:
    rounds: int = 0
    rounds_cut: int = 0  # rounds whose clock ran out before a child was killed idle
    users: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    """Kills by what triggered them: a phase of PHASES, or "idle"."""
    kills_mid_write: int = 0  # a temp file was left: the kill hit a document write
    torn_lines: int = 0
    sends: int = 0
    resends: int = 0
    most_sends: int = 0
    recorded: int = 0
    failed_sends: int = 0
    warnings: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


@dataclass
class ChildRun:
    lines: list[str]
    seconds: float
    trigger: str  # what the kill followed ("" for a child that ended by itself)
    exit_status: int


def seed_round(content: Content, data_dir: Path, users: int, rng: random.Random) -> Ledger:
    """A fresh folder of ``users`` users whose check-in is due at ``DUE``; its empty ledger.

    Quiet hours are off (a user's option): a check-in re-sent after a kill is late, and the
    default quiet hours would hold it back until morning in some of the zones.
    """
    shutil.rmtree(data_dir, ignore_errors=True)
    factory = DocumentFactory(content)
    weeks: dict[str, str] = {}
    live: dict[str, int | None] = {}
    entries: dict[str, datetime] = {}
    with TinyDBUserRepository(data_dir) as repo:
        for user_id in user_ids(users):
            document = factory.document(user_id, DUE, due=DUE)
            document[QUIET_HOURS] = {"start": "21:00", "end": "08:00", "on": False}
            live[user_id] = rng.randrange(1, 10**6) if rng.random() < 0.5 else None
            document[LIVE_MESSAGE] = live[user_id]
            repo.put(user_id, document)
            weeks[user_id] = local_week_key(DUE, document["reminder"]["zone"])
            instant = effective_due(document)
            assert instant == DUE, (user_id, instant)
            entries[user_id] = instant
    ScheduleIndex(data_dir).rebuild(entries)
    return Ledger(weeks=weeks, live=live)


def _kill_rule(rng: random.Random, ledger: Ledger, max_delay: float) -> tuple[str, int, float]:
    """How to kill the next child: (phase, which marker of it, delay after ready or start)."""
    all_sent = len(ledger.settled_users) == len(ledger.weeks)
    phase = rng.choices(PHASES, WEIGHTS_COMPACTING if all_sent else WEIGHTS_SENDING)[0]
    if phase == "startup":
        return phase, 0, rng.uniform(0, 0.03)
    if phase == "random":
        return phase, 0, rng.uniform(0, max_delay)
    # The n-th marker, n within the work left (a claim, send or delivery per user not yet sent,
    # a confirm batch per few, a compaction write per record in the journal).
    left = len(ledger.weeks) - len(ledger.settled_users)
    if phase == "append":
        left = left // 4 + 1
    elif phase == "compact":
        left = ledger.journal_records
    return phase, 1 + rng.randrange(max(1, left)), rng.uniform(0, JITTER)


def _matches(phase: str, line: str) -> bool:
    word, _, rest = line.partition(" ")
    if phase in ("claim", "compact"):
        return word == "put" and rest.endswith(f" {phase}")
    return word == phase


def run_child(
    content: Content,
    data_dir: Path,
    plan: ChildPlan,
    rule: tuple[str, int, float] | None,
    tally: Tally,
) -> ChildRun:
    """Fork a child; kill it by ``rule`` (None: let it run to idle and exit by itself)."""
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_end)
            child_main(content, data_dir, plan, write_end)
        finally:
            os._exit(3)
    os.close(write_end)
    phase, count, delay = rule or ("", 0, 0.0)
    deadline = started + (delay if phase == "startup" else GUARD)
    trigger = phase if phase == "startup" else ""
    buffer = b""
    lines: list[str] = []
    seen = 0
    ended = False
    while not ended:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if not trigger:
                tally.problems.append(f"a child got nowhere in {GUARD:.0f} s (rule {rule})")
                trigger = "hung"
            break
        readable, _, _ = select.select([read_end], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            ended = True
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            line = raw.decode()
            lines.append(line)
            if trigger or rule is None:
                continue
            if phase == "random" and line == "ready":
                trigger, deadline = phase, time.monotonic() + delay
            elif phase not in ("startup", "random") and _matches(phase, line):
                seen += 1
                if seen == count:
                    trigger, deadline = phase, time.monotonic() + delay
            if line == "idle" and not trigger:
                trigger, deadline = "idle", time.monotonic()
    if not ended:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - started
    while chunk := os.read(read_end, 65536):
        buffer += chunk
    os.close(read_end)
    *complete, _ = buffer.split(b"\n")  # a line without its newline was never written
    lines.extend(raw.decode() for raw in complete)
    if rule is not None and ended:
        tally.problems.append(f"a child exited by itself before it was killed: {lines[-3:]}")
    return ChildRun(lines, seconds, trigger, os.waitstatus_to_exitcode(status))


def _clock_after(start: datetime, child: ChildRun) -> datetime:
    """The child's clock when it ended, or a little later (never earlier)."""
    skipped = [line for line in child.lines if line.startswith("skipped ")]
    jumped = float(skipped[-1].split()[1]) if skipped else 0.0
    return start + timedelta(seconds=child.seconds + jumped)


def _take_lines(ledger: Ledger, run: ChildRun, tally: Tally) -> None:
    ledger.start_process()
    ledger.read(run.lines)
    for line in run.lines:
        word, _, rest = line.partition(" ")
        if word == "sent":
            tally.sends += 1
        elif word == "failed":
            tally.failed_sends += 1
        elif word == "log":
            level, _, text = rest.partition(" ")
            if level in ("ERROR", "CRITICAL"):
                tally.problems.append(f"process {ledger.process} logged: {text}")
            else:
                tally.warnings[_warning_kind(text)] += 1
        elif word == "crashed":
            tally.problems.append(f"process {ledger.process} crashed (traceback above)")


def _warning_kind(text: str) -> str:
    """A warning without its user, path and figures, to count alike ones together."""
    words = [w for w in text.split() if not any(c.isdigit() for c in w) and "/" not in w]
    return " ".join(words)[:90]


def _note_store(view: StoreView, tally: Tally) -> None:
    tally.kills_mid_write += view.temp_files > 0
    tally.torn_lines += view.torn_lines


@dataclass(frozen=True)
class Options:
    """The run's settings (see ``main``)."""

    kills: int
    users: int
    max_delay: float
    send_delay: float
    fail_rate: float
    progress: bool = False


def run(options: Options, *, seed: int, data_dir: Path, content: Content | None = None) -> Tally:
    """Kill fan-out children ``options.kills`` times in rounds, checking after each kill.

    Every round starts from a copy of the same seeded folder (seeding writes every file with
    an fsync, which nothing here needs twice).
    """
    content = content or load_content(DEFAULT_PROMPTS_DIR)
    rng = random.Random(seed)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="focus-coach-fanout-seed-") as seeds:
        pristine = Path(seeds) / "data"
        seeded = seed_round(content, pristine, options.users, rng)
        while sum(tally.kills.values()) < options.kills and not tally.problems:
            shutil.rmtree(data_dir, ignore_errors=True)
            shutil.copytree(pristine, data_dir)
            ledger = Ledger(weeks=dict(seeded.weeks), live=dict(seeded.live))
            _round(content, data_dir, ledger, rng, tally, options)
    return tally


def _round(
    content: Content,
    data_dir: Path,
    ledger: Ledger,
    rng: random.Random,
    tally: Tally,
    options: Options,
) -> None:
    """One fan-out: kill children until it is done (or the kills are), settle, check."""
    tally.rounds += 1
    tally.users += len(ledger.weeks)
    at = DUE

    def plan(*, settle: bool) -> ChildPlan:
        return ChildPlan(rng.randrange(2**32), at, options.send_delay, options.fail_rate, settle)

    while sum(tally.kills.values()) < options.kills and not tally.problems:
        rule = _kill_rule(rng, ledger, options.max_delay)
        child = run_child(content, data_dir, plan(settle=False), rule, tally)
        at = _clock_after(at, child)
        tally.kills[child.trigger] += 1
        _take_lines(ledger, child, tally)
        view = read_store(data_dir)
        _note_store(view, tally)
        ledger.killed(view)
        if "idle" in child.lines:  # everything was sent and settled before the kill
            break
        if at - DUE > ROUND_CLOCK:
            tally.rounds_cut += 1
            break
    child = run_child(content, data_dir, plan(settle=True), None, tally)
    hours = (_clock_after(at, child) - DUE).total_seconds() / 3600
    _take_lines(ledger, child, tally)
    if child.exit_status != 0:
        tally.problems.append(f"the settling child exited with {child.exit_status}")
    view = read_store(data_dir)
    _note_store(view, tally)
    ledger.finished(view)
    tally.problems.extend(ledger.problems)
    tally.resends += ledger.resends
    tally.most_sends = max(tally.most_sends, ledger.most_sends)
    tally.recorded += len(ledger.durable)
    if options.progress:
        print(
            f"  round {tally.rounds}: {ledger.kills} kills, {sum(tally.kills.values())} in all, "
            f"{ledger.resends} resends, clock at the end +{hours:.1f} h"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--users", type=int, default=120, help="users per fan-out")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--max-delay", type=float, default=0.3, help="seconds after ready")
    parser.add_argument("--send-delay", type=float, default=0.02, help="seconds, at most")
    parser.add_argument("--fail-rate", type=float, default=0.03, help="sends that fail")
    parser.add_argument("--data-dir", type=Path, help="default: a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="focus-coach-crash-fanout-"))
    started = time.monotonic()
    try:
        options = Options(
            kills=args.kills,
            users=args.users,
            max_delay=args.max_delay,
            send_delay=args.send_delay,
            fail_rate=args.fail_rate,
            progress=True,
        )
        tally = run(options, seed=args.seed, data_dir=data_dir)
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    seconds = time.monotonic() - started
    by_phase = ", ".join(f"{tally.kills[p]} {p}" for p in (*PHASES, "idle"))
    print(f"kills: {sum(tally.kills.values())} ({by_phase})")
    print(
        f"  {tally.kills_mid_write} left a half-written temp file, "
        f"{tally.torn_lines} a torn journal line"
    )
    print(
        f"users: {tally.users} in {tally.rounds} fan-outs of {args.users} "
        f"({tally.rounds_cut} ended by the round's clock, the others idle)"
    )
    print(
        f"sends: {tally.sends}, resends after a crash: {tally.resends} "
        f"(at most {tally.most_sends} sends of one check-in), failed and retried: "
        f"{tally.failed_sends}"
    )
    print(f"recorded as sent: {tally.recorded} of {tally.users}")
    for text, count in tally.warnings.most_common(6):
        print(f"  logged {count}x: {text}")
    print(f"time: {seconds:.1f} s, seed {args.seed}")
    for problem in tally.problems[:20]:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    ok = not tally.problems and sum(tally.kills.values()) == args.kills
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
