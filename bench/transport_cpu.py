"""CPU per Bot API call: PTB over httpx against PTB over ``AiohttpRequest``.

``python -m bench.transport_cpu`` starts the fake Bot API in a process of its own (so its CPU is
not counted), then, in this process, sends ``sendMessage`` through ``telegram.ext.ExtBot`` with
16 calls in flight (16 chats, one call at a time each), once per transport and run, the
transports interleaved (httpx, aiohttp, httpx, ...). Measured: this process's CPU time
(``time.process_time``: the event loop and any helper thread) per message, after a warm-up.
Prints, per transport, the median of the runs with min and max.

Options: ``--runs N`` (3), ``--messages N`` (3,000 per run), ``--in-flight N`` (16).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram.aiohttp_request import AiohttpRequest

ROOT = Path(__file__).resolve().parent.parent
_FIRST_CHAT = 6001
_WARM_UP = 200
_POOL = 128  # as the composition root's (bot/telegram/app.py)

TRANSPORTS: dict[str, Callable[[], BaseRequest]] = {
    "httpx": lambda: HTTPXRequest(connection_pool_size=_POOL),
    "aiohttp": lambda: AiohttpRequest(_POOL),
}


def _serve(chats: int) -> None:
    """The fake Bot API, knowing ``chats`` users; prints its base URL and token, runs until EOF."""
    sys.path[:0] = [str(ROOT / "tests")]
    from fakebotapi import FakeTelegram

    with FakeTelegram() as tg:
        for chat_id in range(_FIRST_CHAT, _FIRST_CHAT + chats):
            tg.user(chat_id, f"User{chat_id}").send_text("Hallo")
        print(tg.base_url, tg.token, flush=True)
        sys.stdin.read()


async def _send(bot: ExtBot[None], chat_ids: list[int], messages: int) -> None:
    """``messages`` sendMessage calls, one chain per chat, all chains at once."""
    share = messages // len(chat_ids)

    async def chain(chat_id: int) -> None:
        for number in range(share):
            await bot.send_message(chat_id, f"Check-in {number}")

    await asyncio.gather(*(chain(chat_id) for chat_id in chat_ids))


async def _measure(
    name: str, base_url: str, token: str, chat_ids: list[int], messages: int
) -> tuple[float, float]:
    """CPU ms per message and messages per second (wall) for one run."""
    async with ExtBot(token, base_url=base_url, request=TRANSPORTS[name]()) as bot:
        await _send(bot, chat_ids, _WARM_UP)
        sent = messages // len(chat_ids) * len(chat_ids)
        cpu, wall = time.process_time(), time.perf_counter()
        await _send(bot, chat_ids, messages)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / sent * 1e3, sent / wall


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.transport_cpu", "--serve", str(args.in_flight)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert fake.stdout is not None
        base_url, token = fake.stdout.readline().split()
        chat_ids = list(range(_FIRST_CHAT, _FIRST_CHAT + args.in_flight))
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in TRANSPORTS}
        for run in range(args.runs):
            for name in TRANSPORTS:
                result = asyncio.run(_measure(name, base_url, token, chat_ids, args.messages))
                results[name].append(result)
                print(
                    f"run {run + 1} {name}: {result[0]:.3f} ms CPU/message, {result[1]:.0f} msg/s",
                    file=sys.stderr,
                )
    finally:
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(timeout=30)
    print(
        f"CPU per sendMessage through ExtBot, {args.in_flight} in flight, "
        f"{args.messages:,} messages per run, {args.runs} runs (fake Bot API in its own process):"
    )
    print("| Transport | CPU ms/message, median (min-max) | messages/s, median (min-max) |")
    print("|---|---|---|")
    for name, runs in results.items():
        cpu = [r[0] for r in runs]
        rate = [r[1] for r in runs]
        print(
            f"| PTB over {name} | {statistics.median(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f}) "
            f"| {statistics.median(rate):.0f} ({min(rate):.0f}-{max(rate):.0f}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
