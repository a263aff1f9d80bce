"""The fan-out under Telegram's limits at several round trips: ``python -m bench.limited_fanout``.

For each round trip the real bot process (``focus-coach run``, limiter as shipped: 30 a second,
one a second per chat) sends the check-ins of a fresh folder of users all due at once to the fake
Bot API, which waits that long before each answer. Printed per round trip: messages per second
from the first check-in to the last, the most within one second (at the fake, on arrival), the
time the whole fan-out took, and what that rate makes of 10,000 due check-ins. None lost, none
doubled and every one recorded on disk, or the exit code is 1. See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent / "tests"))  # fakebotapi

from bench.fanout import FanoutResult, run_fanout

__all__ = ["main"]

_TARGET_RATE = 29.0
_TARGET_USERS = 10_000


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.limited_fanout", description=__doc__)
    parser.add_argument(
        "--latencies-ms",
        default="50,150,300",
        help="the fake Bot API's answer delays to run, comma-separated (a round trip each)",
    )
    parser.add_argument("--users", type=int, default=1_000, help="check-ins due at each")
    parser.add_argument(
        "--due",
        choices=["past-minute", "next-minute"],
        default="past-minute",
        help="due at the minute that has begun, caught up by the first tick (default, no wait), "
        "or at the next whole minute with the bot running",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/fokus-bench"))
    return parser.parse_args(argv)


def _table(results: list[FanoutResult]) -> str:
    lines = [
        f"Fan-out under Telegram's limits, {results[0].users:,} due check-ins per round trip:",
        "",
        "| Round trip (ms) | msg/s, first to last | Most in one second | First to last (s) "
        f"| {_TARGET_USERS:,} due at this rate, first to last (s) "
        "| Lost / doubled | Recorded | Refused |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        span = r.due_to_last - r.due_to_first
        # First to last only: with --due past-minute the due instant lies before the bot started.
        projected = (_TARGET_USERS - 1) / r.rate if r.rate else float("inf")
        lines.append(
            f"| {r.latency * 1e3:.0f} | {r.rate:.2f} | {r.max_per_second} | {span:.1f} "
            f"| {projected:.0f} | {r.lost} / {r.doubled} | {r.recorded:,} | {r.refused} |"
        )
    lines += [
        "",
        f"Targets: >= {_TARGET_RATE:g} msg/s at each round trip; {_TARGET_USERS:,} due "
        "check-ins out in < 360 s at 300 ms.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the fan-out at each round trip, print the table; 1 if a check-in went wrong."""
    args = _parse_args(argv)
    latencies = [float(part) for part in args.latencies_ms.split(",") if part.strip()]
    results: list[FanoutResult] = []
    for latency_ms in latencies:
        _say(f"== {args.users:,} check-ins at a {latency_ms:g} ms round trip")
        result = run_fanout(
            args.cache_dir / f"fanout-limited-{latency_ms:g}ms",
            args.users,
            lifted=False,
            latency=latency_ms / 1000,
            due_mode=args.due,
            log=_say,
        )
        _say(f"  {result.rate:.2f} msg/s, most in one second {result.max_per_second}")
        results.append(result)
    print(_table(results))
    broken = [r for r in results if r.lost or r.doubled or r.exit_code or r.recorded != r.users]
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
