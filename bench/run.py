"""The benchmark suite: ``python -m bench`` (see bench/README.md); prints one table.

Performance is measured here, never asserted in tests: the figures depend on the machine and on
what else runs on it, so this prints them, with the targets of issue 5 beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent / "tests"))  # fakebotapi

from fakebotapi import FakeTelegram

from bench.chart_bench import table as chart_table
from bench.datagen import ensure_folder, make_due, user_ids
from bench.fanout import FanoutResult, run_fanout
from bench.inprocess import DueTick, measure_due_tick, measure_steps_and_idle_tick
from bench.process import REPO_ROOT, BotRun, bot_env
from bench.stats import percentile

__all__ = ["main"]

FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
_MB = 1024 * 1024


@dataclass
class SizeResult:
    """Everything measured on one folder size."""

    users: int
    generated_seconds: float
    rolled_forward: int
    built_seconds: float
    step_median: float
    step_p99: float
    steps: int
    load_seconds: float
    idle_tick_median: float
    idle_tick_p99: float
    startup_seconds: list[float] = field(default_factory=list)
    startup_breakdown: dict[str, float] = field(default_factory=dict)
    peak_rss: int = 0
    disk_bytes: int = 0
    json_bytes: int = 0
    due_tick: DueTick | None = None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the 100,000-user size and the fan-out under Telegram's limits",
    )
    parser.add_argument("--sizes", help="comma-separated user counts (default 1000,10000,100000)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/fokus-bench"))
    parser.add_argument("--steps", type=int, default=3_000, help="dialogue steps per size")
    parser.add_argument("--startup-runs", type=int, default=3, help="start-ups per size")
    parser.add_argument(
        "--fanout-users", type=int, default=10_000, help="check-ins in the fan-out (0: skip)"
    )
    parser.add_argument(
        "--due-users",
        type=int,
        default=10_000,
        help="users due in the same minute for the dispatcher tick, at most the size (0: skip)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50.0,
        help="the fake Bot API's answer delay in the fan-out (a round trip to Telegram)",
    )
    parser.add_argument(
        "--fanout-due",
        choices=["next-minute", "past-minute"],
        default="next-minute",
        help="due at the next whole minute with the bot running (default), or at the minute "
        "that has begun, caught up by the first tick at start (fast; for smoke runs)",
    )
    parser.add_argument(
        "--chart-runs",
        type=int,
        default=20,
        help="progress charts drawn after the first in bench.chart_bench (0: skip)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    if args.sizes:
        args.size_list = tuple(int(part) for part in args.sizes.split(",") if part.strip())
    else:
        args.size_list = QUICK_SIZES if args.quick else FULL_SIZES
    return args


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _disk_usage(folder: Path) -> tuple[int, int]:
    """Allocated bytes and file bytes of everything under ``folder``."""
    allocated = size = 0
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    stat = entry.stat(follow_symlinks=False)
                    allocated += stat.st_blocks * 512
                    size += stat.st_size
    return allocated, size


def _startup(
    tg: FakeTelegram, data_dir: Path, logs: Path, runs: int
) -> tuple[list[float], int, dict[str, float]]:
    """Start-up times of ``runs`` bot processes, the largest peak RSS, and a probe breakdown."""
    seconds: list[float] = []
    peak = 0
    for number in range(runs):
        run = BotRun(tg, data_dir, logs, f"startup-{data_dir.parent.name}-{number}")
        run.start()
        try:
            time.sleep(1.0)  # let the first dispatcher tick run: it is part of the steady state
            peak = max(peak, run.peak_rss_bytes())
        finally:
            code = run.stop()
        if code != 0:
            raise RuntimeError(f"the bot exited with {code}:\n{run.output()}")
        seconds.append(run.ready_seconds)
    probe = subprocess.run(
        [sys.executable, "-m", "bench.startup_probe", str(data_dir)],
        env=bot_env(tg.token),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return seconds, peak, json.loads(probe.stdout)


def _measure_size(args: argparse.Namespace, count: int, tg: FakeTelegram) -> SizeResult:
    _say(f"== {count:,} users")
    folder = ensure_folder(args.cache_dir, count, log=_say)
    if folder.generated_seconds:
        what = "rolled forward" if folder.rolled_forward else "generated"
        _say(f"  {what} in {folder.generated_seconds:.1f} s")
    allocated, size = _disk_usage(folder.path)
    _say(f"  dialogue steps ({args.steps}) and idle ticks ...")
    steps = measure_steps_and_idle_tick(folder.path, user_ids(count), args.steps)
    result = SizeResult(
        users=count,
        generated_seconds=folder.generated_seconds,
        rolled_forward=folder.rolled_forward,
        built_seconds=folder.built_seconds,
        step_median=percentile(steps.step_seconds, 0.5),
        step_p99=percentile(steps.step_seconds, 0.99),
        steps=len(steps.step_seconds),
        load_seconds=steps.load_seconds,
        idle_tick_median=percentile(steps.idle_tick_seconds, 0.5),
        idle_tick_p99=percentile(steps.idle_tick_seconds, 0.99),
        disk_bytes=allocated // count,
        json_bytes=size // count,
    )
    _say(
        f"  step median {result.step_median * 1e3:.2f} ms, p99 {result.step_p99 * 1e3:.2f} ms; "
        f"start-up x{args.startup_runs} ..."
    )
    startup, peak, breakdown = _startup(
        tg, folder.path, args.cache_dir / "logs", args.startup_runs
    )
    result.startup_seconds = startup
    result.peak_rss = peak
    result.startup_breakdown = breakdown
    if args.due_users:
        result.due_tick = _due_tick(folder.path, count, args.due_users)
    return result


def _due_tick(data_dir: Path, count: int, wanted: int) -> DueTick:
    """A tick that finds ``wanted`` of the folder's users due in the same minute."""
    every = max(1, count // wanted)
    ids = user_ids(count)[::every][:wanted]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    _say(f"  dispatcher tick with {len(ids):,} users due in the same minute ...")
    make_due(data_dir, ids, now)
    return measure_due_tick(data_dir, ids, now + timedelta(seconds=1))


def _machine() -> dict[str, str]:
    model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def _table(sizes: list[SizeResult], fanouts: list[FanoutResult], machine: dict[str, str]) -> str:
    base = sizes[0].step_median if sizes else 0.0
    header = "| Measure | " + " | ".join(f"{s.users:,} users" for s in sizes) + " | Target |"
    rule = "|---|" + "---|" * len(sizes) + "---|"

    def row(name: str, values: list[str], target: str = "") -> str:
        return f"| {name} | " + " | ".join(values) + f" | {target} |"

    def median(values: list[float]) -> float:
        return percentile(values, 0.5) if values else 0.0

    lines = [
        f"Machine: {machine['cores']} cores, {machine['cpu']}, {machine['memory']} RAM, "
        f"Python {machine['python']}, {machine['system']}",
        "",
        header,
        rule,
        row(
            "Dialogue step, median (ms)",
            [_fmt_ms(s.step_median) for s in sizes],
            "within 1.5x of 1,000 users",
        ),
        row(
            "Dialogue step, median / median at the smallest size",
            [f"{s.step_median / base:.2f}x" for s in sizes],
            "<= 1.5x",
        ),
        row("Dialogue step, 99th percentile (ms)", [_fmt_ms(s.step_p99) for s in sizes], "< 5"),
        row(
            "Start-up to first getUpdates (s, median of runs)",
            [f"{median(s.startup_seconds):.2f}" for s in sizes],
            "< 3 at 100,000",
        ),
        row(
            "  in a fresh process: imports / flows / open store / due index (s)",
            [
                " / ".join(
                    f"{s.startup_breakdown.get(k, 0.0):.2f}"
                    for k in ("import", "flows", "open_store", "due_index")
                )
                for s in sizes
            ],
        ),
        row(
            "Peak RSS of the bot process (MB)",
            [f"{s.peak_rss / _MB:.0f}" for s in sizes],
            "< 150 at 100,000",
        ),
        row(
            "Disk per user: allocated / file bytes",
            [f"{s.disk_bytes:,} / {s.json_bytes:,}" for s in sizes],
        ),
        row(
            "Dispatcher tick, nobody due: median / p99 (µs)",
            [f"{s.idle_tick_median * 1e6:.1f} / {s.idle_tick_p99 * 1e6:.1f}" for s in sizes],
            "< 1 ms at 100,000",
        ),
    ]
    ticks = [s.due_tick for s in sizes]
    if all(tick is not None for tick in ticks):
        done = [tick for tick in ticks if tick is not None]
        lines += [
            row(
                "Dispatcher tick, users due in the same minute",
                [f"{tick.users:,}" for tick in done],
                "10,000",
            ),
            row(
                "  picking them from the due index (ms)",
                [f"{tick.select_seconds * 1e3:.1f}" for tick in done],
            ),
            row(
                "  whole tick, claim + confirm on disk, send stubbed (s)",
                [f"{tick.tick_seconds:.1f}" for tick in done],
            ),
            row(
                "  per due user (ms)",
                [f"{tick.tick_seconds / max(tick.users, 1) * 1e3:.2f}" for tick in done],
            ),
            row(
                "  claimed / recorded as sent on disk",
                [f"{tick.claimed:,} / {tick.confirmed_on_disk:,}" for tick in done],
                "all",
            ),
        ]
    lines.append(
        row(
            "Data generation (s) / users rolled forward in the cache this run",
            [f"{s.built_seconds:.1f} / {s.rolled_forward:,}" for s in sizes],
        )
    )
    if fanouts:
        names = {True: "Rate limits lifted (own ceiling)", False: "Telegram's limits"}
        lines += [
            "",
            f"Fan-out of {fanouts[0].users:,} due check-ins through the real bot process to "
            f"the fake Bot API ({fanouts[0].latency * 1e3:.0f} ms answer delay):",
            "",
            "| Measure | " + " | ".join(names[f.lifted] for f in fanouts) + " | Target |",
            "|---|" + "---|" * len(fanouts) + "---|",
            "| Check-ins per second, first to last | "
            + " | ".join(f"{f.rate:.1f}" for f in fanouts)
            + " | >= 300 lifted; >= 28 with limits |",
            "| Most check-ins within one second | "
            + " | ".join(str(f.max_per_second) for f in fanouts)
            + " | <= 30 with limits |",
            "| Due instant to first / last check-in (s) | "
            + " | ".join(f"{f.due_to_first:.1f} / {f.due_to_last:.1f}" for f in fanouts)
            + " | last < 360 with limits |",
            "| Lost / doubled | "
            + " | ".join(f"{f.lost} / {f.doubled}" for f in fanouts)
            + " | 0 / 0 |",
            "| Recorded as sent on disk | "
            + " | ".join(f"{f.recorded:,}" for f in fanouts)
            + " | all |",
            "| Refused by the fake (429 ...) | "
            + " | ".join(str(f.refused) for f in fanouts)
            + " | |",
            "| Peak RSS of the bot process (MB) | "
            + " | ".join(f"{f.peak_rss / _MB:.0f}" for f in fanouts)
            + " | |",
        ]
    return "\n".join(lines)


def _chart(runs: int) -> dict[str, object]:
    """The progress chart's render time and memory, measured in a fresh interpreter."""
    _say(f"== progress chart: the first and {runs} more, 12 weeks")
    probe = subprocess.run(
        [sys.executable, "-m", "bench.chart_bench", "--runs", str(runs)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, object] = json.loads(probe.stdout)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the table; returns the exit code."""
    args = _parse_args(argv)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    machine = _machine()
    sizes: list[SizeResult] = []
    with FakeTelegram() as tg:
        sizes.extend(_measure_size(args, count, tg) for count in args.size_list)
    fanouts: list[FanoutResult] = []
    if args.fanout_users:
        modes = [True] if args.quick else [True, False]
        for lifted in modes:
            what = "rate limits lifted" if lifted else "Telegram's limits"
            _say(f"== fan-out of {args.fanout_users:,} check-ins, {what}")
            fanouts.append(
                run_fanout(
                    args.cache_dir / ("fanout-lifted" if lifted else "fanout-limited"),
                    args.fanout_users,
                    lifted=lifted,
                    latency=args.latency_ms / 1000,
                    due_mode=args.fanout_due,
                    log=_say,
                )
            )
    chart = _chart(args.chart_runs) if args.chart_runs > 0 else None
    table = _table(sizes, fanouts, machine)
    if chart is not None:
        table += "\n\nThe progress chart (`python -m bench.chart_bench`):\n\n" + chart_table(chart)
    print(table)
    _say(f"(the suite took {time.perf_counter() - started:.0f} s)")
    if args.json:
        raw = {
            "machine": machine,
            "command": " ".join(["python -m bench", *(argv or sys.argv[1:])]),
            "sizes": [asdict(s) for s in sizes],
            "fanouts": [asdict(f) for f in fanouts],
            "chart": chart,
        }
        args.json.write_text(json.dumps(raw, indent=2))
    broken = [f for f in fanouts if f.lost or f.doubled or f.exit_code or f.recorded != f.users]
    unrecorded = [
        s.due_tick
        for s in sizes
        if s.due_tick and s.due_tick.confirmed_on_disk != s.due_tick.users
    ]
    return 1 if broken or unrecorded else 0
