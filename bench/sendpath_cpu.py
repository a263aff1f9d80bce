"""CPU per check-in send: ``CheckinSender`` -> ``ReplyRenderer.show`` -> ``ExtBot`` -> fake API.

``python -m bench.sendpath_cpu`` starts the fake Bot API in a process of its own (its CPU is not
counted), then, in this process, sends check-in reminders the way the bot's fan-out does: a
``CheckinSender`` with the claim's composed reply (a real reminder: text and five buttons), the
``ReplyRenderer``, an ``ExtBot`` built like the composition root's (HTML and no link preview as
``Defaults``, ``PriorityRateLimiter`` with the limits lifted as ``bench.botproc``'s,
``AiohttpRequest`` with 128 connections), 32 check-ins in flight, one per chat. Measured: this
process's CPU time (``time.process_time``) per check-in after a warm-up. With ``--baseline REF``
the send path of that git commit (renderer, sender, transport and rate limiter: the four modules
in ``SEND_PATH``) runs too, interleaved run by run with the worktree's.

Options: ``--runs N`` (3), ``--checkins N`` (3,000 per run), ``--in-flight N`` (32),
``--baseline REF`` (none; with it, also the saving of each run's pair), ``--live`` (each chat
has a previous live question: the send also takes its buttons off, one
``editMessageReplyMarkup`` more).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bot.core.checkin_claims import Claim
from bot.core.keyed_locks import AsyncKeyedLocks
from bot.core.messages import Button, Reply, ReplyKind
from bot.telegram import aiohttp_request, checkin_sender, ratelimit, render

ROOT = Path(__file__).resolve().parent.parent
_FIRST_CHAT = 6001
_WARM_UP = 200
_POOL = 128

# A weekly reminder as the engine composes it (tests/core/test_checkin_dialogue.py).
REMINDER = Reply(
    text=(
        "<b>⏰ Zeit für deinen Fokus-Check-in (KW 48)</b>\n\nWie war deine Woche auf deinen "
        "Kanälen? Zwei Minuten reichen.\n<i>„Diese Woche auslassen“ setzt einen deiner Joker "
        "ein (noch 2 Joker in diesem Quartal); deine Serie bleibt.</i>"
    ),
    kind=ReplyKind.QUESTION,
    buttons=(
        (Button("▶️ Check-in starten", "15.k.start"),),
        (Button("⏰ In 1 Stunde", "15.k.snooze_1h"),),
        (Button("🌙 Heute Abend", "15.k.snooze_evening"),),
        (Button("📅 Morgen", "15.k.snooze_tomorrow"),),
        (Button("⏭ Diese Woche auslassen", "15.k.skip"),),
    ),
)


def _serve(chats: int) -> None:
    """The fake Bot API, knowing ``chats`` users; prints its base URL and token, runs until EOF."""
    sys.path[:0] = [str(ROOT / "tests")]
    from fakebotapi import FakeTelegram

    with FakeTelegram() as tg:
        for chat_id in range(_FIRST_CHAT, _FIRST_CHAT + chats):
            tg.user(chat_id, f"User{chat_id}").had_started_the_bot()
        print(tg.base_url, tg.token, flush=True)
        sys.stdin.read()


# The modules of the send path, in import order (the sender imports the renderer).
SEND_PATH = ("ratelimit", "aiohttp_request", "render", "checkin_sender")


def _modules_at(ref: str) -> dict[str, types.ModuleType]:
    """The modules of ``SEND_PATH`` as they were at ``ref``, by their short names."""
    loaded: dict[str, types.ModuleType] = {}
    saved = sys.modules["bot.telegram.render"]
    try:
        for name in SEND_PATH:
            source = subprocess.run(
                ["git", "show", f"{ref}:bot/telegram/{name}.py"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            spec = importlib.util.spec_from_loader(f"baseline_{name}", loader=None)
            assert spec is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            exec(compile(source, f"{ref}:{name}.py", "exec"), module.__dict__)
            if name == "render":
                sys.modules["bot.telegram.render"] = module  # the sender imports it
            loaded[name] = module
    finally:
        sys.modules["bot.telegram.render"] = saved
    return loaded


async def _measure(
    modules: dict[str, types.ModuleType],
    base_url: str,
    token: str,
    chat_ids: list[int],
    in_flight: int,
    live: bool,
) -> float:
    """CPU ms per check-in for one run: a fresh renderer, each chat once."""
    render_module, sender_module = modules["render"], modules["checkin_sender"]
    bot: ExtBot[Any] = ExtBot(
        token,
        base_url=base_url,
        request=modules["aiohttp_request"].AiohttpRequest(_POOL),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=modules["ratelimit"].PriorityRateLimiter(
            overall_per_second=0, per_chat_interval=0
        ),
    )
    async with bot:
        previous: dict[int, int] = {}
        if live:
            # Each chat's earlier reminder, its buttons still live (sent before the clock runs).
            for chat_id in chat_ids:
                message = await bot.send_message(chat_id, "earlier")
                previous[chat_id] = message.message_id
        sender = sender_module.CheckinSender(
            None, render_module.ReplyRenderer(), AsyncKeyedLocks(), bot
        )
        slots = asyncio.Semaphore(in_flight)

        async def one(chat_id: int) -> None:
            claim = Claim(
                str(chat_id),
                "2026-W48",
                late=False,
                resend=False,
                missed_weeks=(),
                replies=(REMINDER,),
                live_message=previous.get(chat_id),
            )
            async with slots:
                result = await sender(claim)
            assert not isinstance(result, checkin_sender.SendResult) or result.name == "SENT", (
                result
            )

        await asyncio.gather(*(one(chat_id) for chat_id in chat_ids[:_WARM_UP]))
        measured = chat_ids[_WARM_UP:]
        cpu = time.process_time()
        await asyncio.gather(*(one(chat_id) for chat_id in measured))
        cpu = time.process_time() - cpu
    return cpu / len(measured) * 1e3


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checkins", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--baseline")
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    chats = args.checkins + _WARM_UP
    variants: dict[str, dict[str, types.ModuleType]] = {}
    if args.baseline:
        variants[args.baseline] = _modules_at(args.baseline)
    variants["worktree"] = {
        "ratelimit": ratelimit,
        "aiohttp_request": aiohttp_request,
        "render": render,
        "checkin_sender": checkin_sender,
    }
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.sendpath_cpu", "--serve", str(chats)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    results: dict[str, list[float]] = {name: [] for name in variants}
    try:
        assert fake.stdout is not None
        base_url, token = fake.stdout.readline().split()
        for run in range(args.runs):
            for name, modules in variants.items():
                # A fresh renderer each run: no chat has a question remembered from before.
                chat_ids = list(range(_FIRST_CHAT, _FIRST_CHAT + chats))
                cpu = asyncio.run(
                    _measure(modules, base_url, token, chat_ids, args.in_flight, args.live)
                )
                results[name].append(cpu)
                print(f"run {run + 1} {name}: {cpu:.3f} ms CPU/check-in", file=sys.stderr)
    finally:
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(timeout=30)
    print(
        f"CPU per check-in send (CheckinSender -> ReplyRenderer -> ExtBot), {args.in_flight} in "
        f"flight, {args.checkins:,} per run, {args.runs} runs"
        + (", with a previous live question" if args.live else "")
    )
    print("| Code | CPU ms/check-in, median (min-max) |")
    print("|---|---|")
    for name, cpus in results.items():
        print(f"| {name} | {statistics.median(cpus):.3f} ({min(cpus):.3f}-{max(cpus):.3f}) |")
    if args.baseline:
        # Each run's pair measured back to back: the saving is steadier than either median.
        saved = [b - w for b, w in zip(results[args.baseline], results["worktree"], strict=True)]
        print(
            f"| saved per check-in, run by run | {statistics.median(saved):.3f} "
            f"({min(saved):.3f}-{max(saved):.3f}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
