"""Restart test: SIGKILL the real ``focus-coach chat`` and ``focus-coach run`` processes at random
instants and start them again on the same folder; nothing acknowledged is lost, and the user goes
on at the question they were at.

Run from the repository root::

    .venv/bin/python bench/restart_test.py                      # 200 kills of each process
    .venv/bin/python bench/restart_test.py --mode chat --kills 20 --seed 7 --data-dir /tmp/r --keep

For each mode one cooperative user goes through the onboarding, sets up the weekly check-in, then
alternates ``/checkin`` and ``/settings`` (new schedule, pause, its end, the other language), so
that a check-in or a settings flow is open at most kills. The process is the real one:
``python -m bot chat --data-dir D`` with stdin and stdout on pipes (the answer is acknowledged
when its reply is printed), or ``python -m bot run --base-url <fake Bot API> --data-dir D`` with
the fake's token (acknowledged when the reply reached the fake). It is SIGKILLed during start-up,
a random time into its life, or a few milliseconds after a message (while it saves), and started
again. The engine itself, on an in-memory store (the *oracle*), predicts every reply: each must
be exactly what the process shows.

After each kill, before the restart: every user file is whole JSON of the expected layout and
passes the document schema; the store is at the acknowledged state or at most the message in
flight further; every answer taken so far is found (in the open flow, the onboarding answers,
the reminder block, the language, the check-in record of its week). After each restart: with a
side flow open, /start (the chat sends it by itself) shows "Welcome back ... continue or start
over?" naming that flow, and "continue" shows the question the user was at, text and buttons
unchanged; otherwise /start shows that question. On Telegram the user sometimes taps the
buttons still shown instead (the bot must take them as current); an update the killed bot had
not confirmed is delivered again and must do no harm.

It prints the figures of each mode and exits 1 on any violation. Options: ``--mode chat|run|both``,
``--kills N`` (per mode, 200), ``--seed N``, ``--max-life S`` (longest time after start-up
before a timed kill, 0.8), ``--latency S`` (the fake Bot API's answer delay, 0; with a round
trip, Telegram confirms updates later, so a resent update the bot had handled becomes more
likely), ``--data-dir D`` (``D/chat``, ``D/run``; must not hold data yet),
``--keep`` (keep the folders and the processes' logs).
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file runs as a script; the fake Bot API is a test helper, not an installed package.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakebotapi import FakeTelegram  # noqa: E402

from bench.restart_ledger import DISCARDED, SUPERSEDED, VERIFIED  # noqa: E402
from bench.restart_modes import ChatSession, TelegramSession  # noqa: E402
from bench.restart_procs import CHAT_USER  # noqa: E402
from bench.restart_sessions import Session, Tally  # noqa: E402
from bot.core.checker import load_content  # noqa: E402
from bot.core.content import DEFAULT_PROMPTS_DIR, Content  # noqa: E402

TELEGRAM_ID = 7_100_000_001
PROGRESS_EVERY = 25


@dataclass(frozen=True)
class Options:
    """How long and how hard to test."""

    kills: int = 200
    seed: int = 20261205
    max_life: float = 0.8
    latency: float = 0.0  # the fake Bot API's answer delay


@contextmanager
def session(mode: str, content: Content, folder: Path, options: Options) -> Iterator[Session]:
    """The session of ``mode`` on ``folder`` (with the fake Bot API running for ``run``)."""
    rng = random.Random(f"{options.seed}-{mode}")
    lang = rng.choice(("de", "en"))
    log = folder.parent / f"{mode}.log"
    if mode == "chat":
        yield ChatSession(
            content,
            folder,
            log=log,
            user_id=f"console:{CHAT_USER}",
            lang=lang,
            rng=rng,
            max_life=options.max_life,
        )
        return
    with FakeTelegram() as tg:
        tg.latency = options.latency
        yield TelegramSession(
            content,
            folder,
            log=log,
            tg=tg,
            telegram_id=TELEGRAM_ID,
            lang=lang,
            rng=rng,
            max_life=options.max_life,
        )


def run_mode(
    mode: str, options: Options, *, data_dir: Path, content: Content, progress: bool = False
) -> Tally:
    """Kill the process of ``mode`` ``options.kills`` times, checking after each; the figures."""
    folder = data_dir / mode
    if folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"{folder} holds data already: the test needs an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with session(mode, content, folder, options) as current:
        while current.tally.kills < options.kills and not current.tally.problems:
            current.life()
            done = current.tally.kills
            if progress and done % PROGRESS_EVERY == 0:
                print(
                    f"  {mode}: {done} kills, {current.ledger.acknowledged()} answers",
                    file=sys.stderr,
                )
        current.tally.seconds = time.monotonic() - started
        current.tally.answers_checked = current.ledger.checked()
        return current.tally


def report(tally: Tally) -> list[str]:
    """The printed figures of one mode."""
    last = tally.last
    acknowledged = sum(last.counts.values())
    lost = last.counts["lost"] + last.unacknowledged["lost"]
    saved = sum(last.unacknowledged.values())
    return [
        f"mode {tally.mode}: {tally.kills} kills ({tally.kills_starting} during start-up, "
        f"{tally.kills_in_flight} with a message in flight, {tally.kills_idle} between answers; "
        f"{tally.kills_mid_write} left a half-written temp file)",
        f"  messages answered: {tally.exchanges}; in flight at a kill and saved, reply not yet "
        f"seen: {tally.saved_unacknowledged}",
        f"  acknowledged answers: {acknowledged}; lost: {lost}",
        f"    after the last kill: {last.counts[VERIFIED]} in the store, "
        f"{last.counts[SUPERSEDED]} replaced later by the user (a newer check-in of the same "
        f"week, a newer schedule ...), {last.counts[DISCARDED]} dropped by 'start over'",
        f"    found in the store at one kill or more: {tally.answers_checked} (the others were "
        "replaced by the user before the next kill); found, summed over the checks after every "
        f"kill: {tally.checks}",
        f"  answers saved before their reply was seen: {saved}, checked the same way",
        f"  restarts resumed at the same question: {tally.resumed_same} / "
        f"{tally.restarts_checked} ({tally.via_prompt} through the resume prompt, "
        f"{tally.via_buttons} by tapping the buttons still shown; {tally.started_over} more "
        "chose 'start over')",
        *(
            [
                f"  Telegram: {tally.redelivered} updates delivered again after a restart; "
                f"{tally.duplicates_harmless + tally.duplicates_harmful} of them the bot had "
                f"handled before the kill: {tally.duplicates_harmless} not applied again, "
                f"{tally.duplicates_harmful} applied a second time; "
                f"{tally.fetched_not_handled} fetched by the bot but not handled before the "
                "kill (not resent; the user got no reply)"
            ]
            if tally.mode == "run"
            else []
        ),
        f"  time: {tally.seconds:.1f} s; start-up to taking messages, median "
        f"{statistics.median(tally.ready_seconds or [0]):.2f} s",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the modes asked for; 0 if nothing acknowledged was lost and every restart resumed."""
    defaults = Options()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--mode", choices=("chat", "run", "both"), default="both")
    parser.add_argument("--kills", type=int, default=defaults.kills, help="kills per mode")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--max-life", type=float, default=defaults.max_life, help="seconds")
    parser.add_argument("--latency", type=float, default=defaults.latency, help="seconds")
    parser.add_argument("--data-dir", type=Path, help="default: a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the data folders and logs")
    args = parser.parse_args(argv)
    options = Options(args.kills, args.seed, args.max_life, args.latency)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="focus-coach-restart-"))
    modes = ("chat", "run") if args.mode == "both" else (args.mode,)
    content = load_content(DEFAULT_PROMPTS_DIR)
    # A bot killed in the middle of a request is the point here, not a fault of the fake.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    ok = True
    try:
        for mode in modes:
            tally = run_mode(mode, options, data_dir=data_dir, content=content, progress=True)
            print("\n".join(report(tally)), flush=True)
            for problem in tally.problems[:10]:
                print(f"PROBLEM ({mode}): {problem}", file=sys.stderr)
            for finding in tally.findings[:10]:
                print(f"FINDING ({mode}): {finding}", file=sys.stderr)
            complete = tally.kills == options.kills and tally.resumed_same > 0
            ok = ok and complete and not tally.problems and not tally.findings
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.keep or args.data_dir is not None:
        print(f"data folders and logs: {data_dir}")
    print(f"seed {options.seed}")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
