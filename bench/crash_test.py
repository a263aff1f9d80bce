"""Crash test: SIGKILL the coach at random instants mid-answer; nothing acknowledged is lost.

Run from the repository root::

    .venv/bin/python bench/crash_test.py                  # 300 kills, 4 users
    .venv/bin/python bench/crash_test.py --kills 40 --seed 7 --data-dir /tmp/crash --keep

A child process (forked from this one, so the shipped prompts are loaded only once) opens the data
folder with the real ``TinyDBUserRepository`` and drives a real ``DialogueEngine`` for several
users: onboarding, the weekly check-in schedule, then check-ins week after week (from ``/checkin``
or from the reminder), typing and tapping as a cooperative user would, and going on from whatever
is stored after each restart. After ``engine.handle`` returns it writes one line per saved answer
to a pipe: the acknowledgement. The parent kills it with SIGKILL after a random delay (sometimes
while it still starts up; otherwise not before the child's first acknowledged answer, so every such
kill follows new work however busy the machine), then checks before anything cleans up that every
user file is complete JSON of the expected layout and a valid state (no torn document), opens the
store, and checks that every answer ever acknowledged is stored: onboarding answers in the
onboarding dialogue, schedule answers in the reminder block (or the open settings flow), check-in
answers in that week's record (or the open check-in). Only records older than the 104 weeks a user
keeps may be gone (by design). It prints the number of kills and of verified answers and exits 1 on
any violation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.actions import MAX_CHECKINS, checkin_week
from bot.core.callbacks import Action, encode
from bot.core.checker import load_content
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.engine import DialogueEngine
from bot.core.flow_ids import (
    CHECKIN_FLOW,
    ONBOARDING_FLOW,
    SETTINGS_FLOW,
    WEEKDAYS,
    WIN_FIRST,
    checkin_setup_target,
)
from bot.core.flow_model import AskType, Step
from bot.core.messages import ButtonPress, Command, Inbound, TextMessage
from bot.core.questions import asked
from bot.core.questions.choices import grid_ratings
from bot.core.questions.values import offered_zones
from bot.core.schedule import local_week_key
from bot.core.state import UserState
from storage import TinyDBUserRepository
from storage.atomic import is_temp_file
from storage.errors import DamagedDocumentError
from storage.history_archive import ARCHIVE_SUFFIX, side_records

USERS = ("crash-anna", "crash-ben", "crash-cem", "crash-dora", "crash-emil", "crash-fritz")
FIRST_WEEK = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday noon: same week everywhere
READY = b"ready\n"
# Check-in record field of each check-in answer (energy "e4" is stored as 4).
RECORD_FIELDS: dict[str, Callable[[Any], Any]] = {
    "channels": lambda v: v,
    "hours": float,
    "creep": lambda v: v,
    "audit": lambda v: v,
    "win": lambda v: v,
    "energy": lambda v: int(str(v).removeprefix("e")),
    "intention": lambda v: v,
    "intention_kept": lambda v: v,
}


# ---- the child: a cooperative user per id, resuming from whatever is stored ------------------
def pick(*parts: object) -> int:
    """A stable choice from ``parts`` (the same after every restart)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


@dataclass
class Move:
    """What to send, and the answer it saves (flow, key, value) once acknowledged."""

    inbound: Inbound
    answer: tuple[str, str, Any] | None = None
    reminder_first: bool = False


def week_of(user: UserState) -> datetime:
    """The clock for this user: the week after their last recorded check-in."""
    if not user.checkins:
        return FIRST_WEEK
    year, week = str(user.checkins[-1]["week"]).split("-W")
    return datetime.combine(
        date.fromisocalendar(int(year), int(week), 3), FIRST_WEEK.timetz()
    ) + timedelta(weeks=1)


def next_move(engine: DialogueEngine, user: UserState | None, rng: random.Random) -> Move:
    """The next input of a cooperative user who wants to get on."""
    if user is None or user.dialogue is None:
        return Move(Command("start"))
    dialogue = user.dialogue
    turn = dialogue.turn
    if dialogue.confirm == "checkin":
        return Move(ButtonPress(encode(turn, Action.CHECKIN, "start")))
    if dialogue.confirm is not None:
        return Move(ButtonPress(encode(turn, Action.CONFIRM, "no")))
    step = engine.content.flows[dialogue.flow].step(dialogue.step)
    week = len(user.checkins)
    key = step.save or ""

    def answer(value: Any) -> tuple[str, str, Any]:
        return (dialogue.flow, key, value)

    options = [oid for oid, _ in asked(engine.content, user, dialogue, step).options]
    salt = (user.user_id, dialogue.flow, step.id, week)
    if step.ask is AskType.MULTI_CHOICE:
        most = int(step.max or 3)
        wanted = sorted(options, key=lambda o: pick(*salt, o))[: 1 + pick(*salt) % most]
        selection = dialogue.selection or []
        for option in options:
            if (option in wanted) != (option in selection):
                return Move(ButtonPress(encode(turn, Action.TOGGLE, option)))
        chosen = [o for o in options if o in wanted]
        return Move(ButtonPress(encode(turn, Action.DONE)), answer(chosen))
    if step.ask is AskType.CHANNEL_GRID:
        ratings = [oid for oid, _ in engine.content.fixed_options(step, user.lang)]
        wanted_ratings = {c: ratings[pick(*salt, c) % len(ratings)] for c in options}
        current = grid_ratings(dialogue.selection)
        for channel in options:
            if current.get(channel) != wanted_ratings[channel]:
                return Move(ButtonPress(encode(turn, Action.TOGGLE, channel)))
        return Move(ButtonPress(encode(turn, Action.DONE)), answer(wanted_ratings))
    if step.ask in (AskType.SINGLE_CHOICE, AskType.CREEP_DECISION):
        choice = options[pick(*salt) % len(options)]
        return Move(ButtonPress(encode(turn, Action.CHOOSE, choice)), answer(choice))
    if step.ask is AskType.INTENTION and WIN_FIRST in options and rng.random() < 0.3:
        # Routes to the win question; the if-then plan is answered after it, so this is no
        # answer to keep (the one after it replaces it).
        return Move(ButtonPress(encode(turn, Action.CHOOSE, WIN_FIRST)))
    if step.ask is AskType.NUMBER:
        return number_move(step, turn, rng, answer)
    if step.ask is AskType.TIME_OF_DAY:
        return Move(TextMessage("8:30"), answer("08:30"))
    if step.ask is AskType.TIMEZONE:
        if rng.random() < 0.5:
            return Move(TextMessage("Hamburg"), answer("Europe/Berlin"))
        zone = offered_zones(user.lang)[pick(*salt) % 3]
        return Move(ButtonPress(encode(turn, Action.CHOOSE, zone)), answer(zone))
    if step.ask in (AskType.TEXT, AskType.INTENTION):
        if rng.random() < 0.3:
            return Move(ButtonPress(encode(turn, Action.CONTINUE)), answer(None))
        text = f"Woche {week}: {user.user_id} {rng.randrange(10**6)} ✓ <b>&"
        return Move(TextMessage(text), answer(text))
    if step.ask is AskType.PLAN:
        if user.reminder is None:
            return Move(
                ButtonPress(
                    encode(
                        turn,
                        Action.FLOW,
                        checkin_setup_target(has_reminder=user.reminder is not None),
                    )
                )
            )
        if rng.random() < 0.5:
            return Move(Command(CHECKIN_FLOW))
        return Move(ButtonPress(encode(turn + 1, Action.CHECKIN, "start")), reminder_first=True)
    return Move(ButtonPress(encode(turn, Action.CONTINUE)))


def number_move(
    step: Step, turn: int, rng: random.Random, answer: Callable[[Any], tuple[str, str, Any]]
) -> Move:
    low, high = step.min or 0.0, step.max or 0.0
    if rng.random() < 0.5 and step.suggestions:
        value = float(rng.choice(step.suggestions))
        return Move(ButtonPress(encode(turn, Action.NUMBER, f"{value:g}")), answer(value))
    value = round(rng.uniform(max(low, 0.5), min(high, 20.0)) * 2) / 2
    return Move(TextMessage(f"{value:g}".replace(".", ",")), answer(value))


class Clock:
    def __init__(self) -> None:
        self.now = FIRST_WEEK

    def __call__(self) -> datetime:
        return self.now


def child_main(
    content: Content, data_dir: Path, users: tuple[str, ...], seed: int, out: int
) -> None:
    """Answer forever as ``users``; one line on ``out`` per answer saved and acknowledged."""
    rng = random.Random(seed)
    clock = Clock()
    repo = TinyDBUserRepository(data_dir)
    engine = DialogueEngine(content, repo, clock=clock)
    os.write(out, READY)
    while True:
        user_id = rng.choice(users)
        stored = repo.get(user_id)
        user = None if stored is None else UserState.from_document(stored)
        move = next_move(engine, user, rng)
        hint = "de" if pick(user_id) % 2 else "en"
        week = None
        if user is not None:
            clock.now = week_of(user)
            if move.reminder_first:
                zone = user.reminder.zone if user.reminder else "Europe/Berlin"
                engine.checkin_reminder(user_id, week=local_week_key(clock.now, zone))
                user = UserState.from_document(repo.get(user_id) or {})
            week = checkin_week(user, clock.now)
        engine.handle(user_id, move.inbound, language_hint=hint)
        if move.answer is not None:
            flow, key, value = move.answer
            line = {"u": user_id, "f": flow, "k": key, "v": value}
            if flow == CHECKIN_FLOW:
                line["w"] = week
            os.write(out, json.dumps(line, ensure_ascii=False).encode() + b"\n")


# ---- the parent: kill, then check -----------------------------------------------------------
@dataclass
class Expected:
    """Every acknowledged answer, by where it must be found."""

    onboarding: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkins: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    count: int = 0

    def add(self, ack: dict[str, Any]) -> None:
        user, flow, key, value = ack["u"], ack["f"], ack["k"], ack["v"]
        if flow == ONBOARDING_FLOW:
            self.onboarding.setdefault(user, {})[key] = value
        elif flow == SETTINGS_FLOW:
            self.settings.setdefault(user, {})[key] = value
        else:
            self.checkins.setdefault(user, {}).setdefault(ack["w"], {})[key] = value
        self.count += 1


@dataclass
class Tally:
    kills: int = 0
    kills_before_ready: int = 0
    kills_mid_write: int = 0  # a temp file was left: the kill hit a write
    acknowledged: int = 0
    verified: int = 0  # acknowledged answers found in the store after the last kill
    rotated_out: int = 0  # acknowledged check-in answers older than the weeks a user keeps
    checks: int = 0  # answers found, summed over the checks after every kill
    problems: list[str] = field(default_factory=list)


def run_child(
    content: Content,
    data_dir: Path,
    users: tuple[str, ...],
    seed: int,
    rng: random.Random,
    max_delay: float,
    tally: Tally,
) -> list[dict[str, Any]]:
    """Fork a child, SIGKILL it at a random instant; return its acknowledged answers."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_end)
            child_main(content, data_dir, users, seed, write_end)
        finally:
            os._exit(3)
    os.close(write_end)
    received = bytearray()
    early = rng.random() < 0.1
    if early:
        tally.kills_before_ready += 1
        deadline = time.monotonic() + rng.uniform(0, 0.02)
    else:
        deadline = time.monotonic() + 30.0  # until ready; a guard, never reached
    ready_seen = False
    # After start-up a round kills only once its child has acknowledged an answer: on a busy
    # machine a random delay can run out before the first one, and a run of such rounds would
    # check nothing new. The delay then starts again from that first answer.
    answered = waiting_for_answer = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if early or (ready_seen and answered):
                break
            if ready_seen and not waiting_for_answer:
                waiting_for_answer = True
                deadline = time.monotonic() + 30.0  # a guard, never reached
                continue
            what = "acknowledge an answer" if ready_seen else "get ready"
            tally.problems.append(f"the child did not {what} in 30 s")
            break
        readable, _, _ = select.select([read_end], [], [], remaining)
        if readable:
            chunk = os.read(read_end, 65536)
            if not chunk:
                tally.problems.append("the child exited by itself")
                break
            received += chunk
            if not early and not ready_seen and received.startswith(READY):
                ready_seen = True
                deadline = time.monotonic() + rng.uniform(0, max_delay)
            if ready_seen and not answered and received.count(b"\n") > 1:
                answered = True
                if waiting_for_answer:
                    deadline = time.monotonic() + rng.uniform(0, max_delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while chunk := os.read(read_end, 65536):
        received += chunk
    os.close(read_end)
    tally.kills += 1
    lines = bytes(received).split(b"\n")[:-1]  # a line without its newline was never written
    return [json.loads(line) for line in lines if line and line + b"\n" != READY]


def check_files(content: Content, data_dir: Path, tally: Tally) -> None:
    """Before anything cleans up: every user file is whole, and no damaged copy exists."""
    users = data_dir / "users"
    temp_seen = False
    for path in sorted(users.rglob("*")) if users.exists() else []:
        if path.is_dir():
            continue
        if is_temp_file(path.name):
            temp_seen = True
            continue
        if ".damaged-" in path.name:
            tally.problems.append(f"damaged copy {path}: a document was found torn")
            continue
        if path.name.endswith(ARCHIVE_SUFFIX):  # older check-ins: whole, in their layout
            try:
                side_records(path.read_bytes(), path)
            except DamagedDocumentError as error:
                tally.problems.append(f"torn or invalid side file: {error}")
            continue
        try:
            data = json.loads(path.read_bytes())
            record = data["user"]["1"]
            assert list(data) == ["user"] and list(data["user"]) == ["1"], "layout"
            assert record["schema"] == 1, "schema"
            check_state(content, UserState.from_document(record))
        except Exception as error:  # any failure here is the finding
            tally.problems.append(f"torn or invalid document {path}: {error!r}")
    tally.kills_mid_write += temp_seen


def check_state(content: Content, user: UserState) -> None:
    for dialogue in (user.dialogue, user.suspended):
        if dialogue is not None:
            flow = content.flows[dialogue.flow]
            assert dialogue.step in flow.steps, f"step {dialogue.step} not in {flow.id}"


def check_answers(repo: TinyDBUserRepository, expected: Expected, tally: Tally) -> int:
    """Every acknowledged answer is stored; returns how many were found."""
    found = 0
    for user_id in sorted(
        set(expected.onboarding) | set(expected.settings) | set(expected.checkins)
    ):
        stored = repo.get(user_id)
        if stored is None:
            tally.problems.append(f"{user_id}: acknowledged answers but no document")
            continue
        user = UserState.from_document(stored)
        found += check_user(user, expected, tally)
    return found


def check_user(user: UserState, expected: Expected, tally: Tally) -> int:
    found = 0
    uid = user.user_id
    onboarding = user.onboarding()
    for key, value in expected.onboarding.get(uid, {}).items():
        found += expect(
            tally, uid, f"onboarding {key}", onboarding and onboarding.answers.get(key), value
        )
    open_flow = user.dialogue.flow if user.dialogue else None
    for key, acked in expected.settings.get(uid, {}).items():
        wanted = acked
        if open_flow == SETTINGS_FLOW and key in user.dialogue.answers:  # type: ignore[union-attr]
            actual = user.dialogue.answers[key]  # type: ignore[union-attr]
        elif user.reminder is None:
            actual = None
        elif key == "weekday":
            actual, wanted = user.reminder.weekday, WEEKDAYS.index(acked)
        else:
            actual = user.reminder.to_dict().get(key)
        found += expect(tally, uid, f"settings {key}", actual, wanted)
    records = {str(r["week"]): r for r in user.checkins}
    oldest = min(records) if records else ""
    for week, answers in expected.checkins.get(uid, {}).items():
        for key, acked in answers.items():
            wanted = acked
            if week in records:
                actual, wanted = records[week][key], RECORD_FIELDS[key](acked)
            elif len(records) == MAX_CHECKINS and week < oldest:
                tally.rotated_out += 1
                continue
            elif open_flow == CHECKIN_FLOW and week == checkin_week(user, week_of(user)):
                actual = user.dialogue.answers.get(key, "<missing>")  # type: ignore[union-attr]
            else:
                actual = "<no record, no open check-in>"
            found += expect(tally, uid, f"check-in {week} {key}", actual, wanted)
    return found


def expect(tally: Tally, user_id: str, what: str, actual: Any, wanted: Any) -> int:
    if actual == wanted:
        return 1
    tally.problems.append(f"{user_id}: {what}: stored {actual!r}, acknowledged {wanted!r}")
    return 0


def run(
    *,
    kills: int,
    users: int,
    seed: int,
    data_dir: Path,
    max_delay: float,
    content: Content | None = None,
    progress: bool = False,
) -> Tally:
    """Kill a child ``kills`` times, checking the store after each; returns the figures."""
    content = content or load_content(DEFAULT_PROMPTS_DIR)
    rng = random.Random(seed)
    tally = Tally()
    expected = Expected()
    names = USERS[:users]
    for round_number in range(kills):
        acks = run_child(content, data_dir, names, rng.randrange(2**32), rng, max_delay, tally)
        for ack in acks:
            expected.add(ack)
        tally.acknowledged = expected.count
        check_files(content, data_dir, tally)
        tally.rotated_out = 0  # as of the latest check
        with TinyDBUserRepository(data_dir) as repo:  # removes the temp files of the kill
            found = check_answers(repo, expected, tally)
        tally.checks += found
        if tally.problems:
            break
        if progress and (round_number + 1) % 50 == 0:
            print(f"  {round_number + 1} kills, {tally.acknowledged} answers acknowledged")
    tally.verified = found
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--users", type=int, default=4, choices=range(1, len(USERS) + 1))
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--max-delay", type=float, default=0.06, help="seconds after ready")
    parser.add_argument("--data-dir", type=Path, help="default: a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="focus-coach-crash-"))
    started = time.monotonic()
    try:
        tally = run(
            kills=args.kills,
            users=args.users,
            seed=args.seed,
            data_dir=data_dir,
            max_delay=args.max_delay,
            progress=True,
        )
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    seconds = time.monotonic() - started
    print(
        f"kills: {tally.kills} ({tally.kills_before_ready} during start-up, "
        f"{tally.kills_mid_write} left a half-written temp file)"
    )
    print(
        f"acknowledged answers: {tally.acknowledged}, each checked after every later kill "
        f"({tally.checks} checks)"
    )
    print(
        f"verified answers: {tally.verified} in the store after the last kill "
        f"(+ {tally.rotated_out} check-in answers older than the {MAX_CHECKINS} weeks kept)"
    )
    print(f"torn documents: {sum('torn' in p for p in tally.problems)}")
    print(f"time: {seconds:.1f} s, seed {args.seed}")
    for problem in tally.problems[:20]:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    ok = not tally.problems and tally.kills == args.kills and tally.verified > 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
