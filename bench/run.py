"""The benchmark suite: ``python -m bench`` (see bench/README.md); prints one table.

Performance is measured here, never asserted in tests: the figures depend on the machine and on
what else runs on it, so this prints them, with the targets of issues 5 and 16 beside them.

Every figure comes from ``--runs`` runs (3) and is printed as min / median / max. The sizes are
measured interleaved: run 1 takes them in the order given, each further run starts one size
later (1k 10k 100k, then 10k 100k 1k, then 100k 1k 10k), so that a slow minute of a shared
machine falls on one block of one size, not on everything measured at one size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent / "tests"))  # fakebotapi

from fakebotapi import FakeTelegram

from bench.chart_bench import table as chart_table
from bench.cpu_split import PARTS
from bench.datagen import ensure_folder, make_due, user_ids
from bench.fanout import FanoutResult, run_fanout
from bench.inprocess import DueTick, measure_due_tick, measure_steps_and_idle_tick
from bench.process import REPO_ROOT, BotRun, bot_env
from bench.stats import Spread, percentile

__all__ = ["main"]

FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
_STEP_SEED = 7  # run r samples its users with seed 7 + r: other users, other files, each run
_MB = 1024 * 1024


@dataclass
class SizeRun:
    """What one run measured on one folder size (one block of the interleaved suite)."""

    run: int
    position: int
    """Where this size came in the run's order (0: first)."""
    load_average: float
    """The machine's one-minute load average when the block began."""
    rolled_forward: int
    step_median: float
    step_p99: float
    steps: int
    load_seconds: float
    idle_tick_median: float
    idle_tick_p99: float
    startup_seconds: list[float] = field(default_factory=list)
    startup_breakdown: dict[str, float] = field(default_factory=dict)
    peak_rss: int = 0
    due_tick: DueTick | None = None


@dataclass
class SizeResult:
    """Everything measured on one folder size: once for the folder, then once per run."""

    users: int
    generated_seconds: float
    built_seconds: float
    disk_bytes: int = 0
    json_bytes: int = 0
    runs: list[SizeRun] = field(default_factory=list)

    def spread(self, figure: Callable[[SizeRun], float]) -> Spread:
        """min / median / max of ``figure`` over the runs."""
        return Spread.of([figure(run) for run in self.runs])


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the 100,000-user size and the fan-out under Telegram's limits",
    )
    parser.add_argument("--sizes", help="comma-separated user counts (default 1000,10000,100000)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/fokus-bench"))
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs over all sizes, interleaved; each figure is given as min / median / max",
    )
    parser.add_argument(
        "--steps", type=int, default=3_000, help="dialogue steps per size in each run"
    )
    parser.add_argument(
        "--startup-runs", type=int, default=1, help="start-ups per size in each run"
    )
    parser.add_argument(
        "--fanout-users", type=int, default=10_000, help="check-ins in the fan-out (0: skip)"
    )
    parser.add_argument(
        "--fanout-runs",
        type=int,
        default=None,
        help="fan-outs with the limits lifted (default: --runs); the limited one runs once",
    )
    parser.add_argument(
        "--fanout-cpu",
        choices=["split", "total", "off"],
        default="split",
        help="the lifted fan-out's CPU per check-in: split into storage / transport / engine / "
        "other (default), the total only (nothing wrapped), or not measured",
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
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.fanout_runs is None:
        args.fanout_runs = args.runs
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


def _prepare_size(args: argparse.Namespace, count: int) -> SizeResult:
    """Generate (or reuse) the folder of ``count`` users and measure what runs do not change."""
    _say(f"== {count:,} users: the folder")
    folder = ensure_folder(args.cache_dir, count, log=_say)
    if folder.generated_seconds:
        what = "rolled forward" if folder.rolled_forward else "generated"
        _say(f"  {what} in {folder.generated_seconds:.1f} s")
    allocated, size = _disk_usage(folder.path)
    return SizeResult(
        users=count,
        generated_seconds=folder.generated_seconds,
        built_seconds=folder.built_seconds,
        disk_bytes=allocated // count,
        json_bytes=size // count,
    )


def _measure_block(
    args: argparse.Namespace, count: int, tg: FakeTelegram, run: int, position: int
) -> SizeRun:
    """One run's block at one size: dialogue steps, idle ticks, start-ups, the due tick."""
    load_average = os.getloadavg()[0]
    _say(f"== run {run + 1} of {args.runs}: {count:,} users (load average {load_average:.2f})")
    # Rolled forward again: a long suite must not let the bots started below find users due.
    folder = ensure_folder(args.cache_dir, count, log=_say)
    _say(f"  dialogue steps ({args.steps}) and idle ticks ...")
    steps = measure_steps_and_idle_tick(
        folder.path, user_ids(count), args.steps, seed=_STEP_SEED + run
    )
    result = SizeRun(
        run=run,
        position=position,
        load_average=load_average,
        rolled_forward=folder.rolled_forward,
        step_median=percentile(steps.step_seconds, 0.5),
        step_p99=percentile(steps.step_seconds, 0.99),
        steps=len(steps.step_seconds),
        load_seconds=steps.load_seconds,
        idle_tick_median=percentile(steps.idle_tick_seconds, 0.5),
        idle_tick_p99=percentile(steps.idle_tick_seconds, 0.99),
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


def _rotated(sizes: tuple[int, ...], run: int) -> list[tuple[int, int]]:
    """The sizes of run ``run`` (from 0), each with its index in ``sizes``: started one later."""
    shift = run % len(sizes)
    order = list(range(len(sizes)))[shift:] + list(range(len(sizes)))[:shift]
    return [(index, sizes[index]) for index in order]


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


def _ratio(sizes: list[SizeResult], size: SizeResult) -> str:
    """Step median at ``size`` over the smallest size's: from the medians of the runs, and the
    least and most of the same ratio taken run by run (both sizes measured in the same run)."""
    base = sizes[0]
    ratio = (
        size.spread(lambda r: r.step_median).median / base.spread(lambda r: r.step_median).median
    )
    per_run = [
        run.step_median / base_run.step_median
        for run, base_run in zip(size.runs, base.runs, strict=True)
    ]
    if len(per_run) == 1:
        return f"{ratio:.2f}x"
    return f"{ratio:.2f}x (runs {min(per_run):.2f}x-{max(per_run):.2f}x)"


def _each_run(values: list[str]) -> str:
    """One value if every run gave it, else every run's."""
    if len(set(values)) == 1:
        return values[0] if len(values) == 1 else f"{values[0]} each run"
    return ", ".join(values)


def _size_table(sizes: list[SizeResult], runs: int) -> list[str]:
    header = "| Measure | " + " | ".join(f"{s.users:,} users" for s in sizes) + " | Target |"
    rule = "|---|" + "---|" * len(sizes) + "---|"

    def row(name: str, values: list[str], target: str = "") -> str:
        return f"| {name} | " + " | ".join(values) + f" | {target} |"

    def spread(figure: Callable[[SizeRun], float], number: Callable[[float], str]) -> list[str]:
        return [s.spread(figure).format(number) for s in sizes]

    def micro(seconds: float) -> str:
        return f"{seconds * 1e6:.1f}"

    lines = [
        f"Each figure from {runs} run(s), sizes interleaved"
        + (": min / median / max of the runs" if runs > 1 else "")
        + ".",
        "",
        header,
        rule,
        row(
            "Dialogue step, median (ms)",
            spread(lambda r: r.step_median, _fmt_ms),
            "within 1.2x of 1,000 users",
        ),
        row(
            "Dialogue step, median / median at the smallest size",
            [_ratio(sizes, s) for s in sizes],
            "<= 1.2x (median of runs)",
        ),
        row(
            "Dialogue step, 99th percentile (ms)",
            spread(lambda r: r.step_p99, _fmt_ms),
            "< 5 (median of runs)",
        ),
        row(
            "Start-up to first getUpdates (s)",
            spread(lambda r: percentile(r.startup_seconds, 0.5), lambda v: f"{v:.2f}"),
            "< 3 at 100,000",
        ),
        row(
            "  in a fresh process, median of runs: imports / flows / open store / due index (s)",
            [
                " / ".join(
                    f"{Spread.of([r.startup_breakdown.get(k, 0.0) for r in s.runs]).median:.2f}"
                    for k in ("import", "flows", "open_store", "due_index")
                )
                for s in sizes
            ],
        ),
        row(
            "Peak RSS of the bot process (MB)",
            spread(lambda r: r.peak_rss, lambda v: f"{v / _MB:.0f}"),
            "< 150 at 100,000",
        ),
        row(
            "Disk per user: allocated / file bytes",
            [f"{s.disk_bytes:,} / {s.json_bytes:,}" for s in sizes],
        ),
        row(
            "Dispatcher tick, nobody due: median (µs)",
            spread(lambda r: r.idle_tick_median, micro),
            "< 1 ms at 100,000",
        ),
        row("Dispatcher tick, nobody due: p99 (µs)", spread(lambda r: r.idle_tick_p99, micro)),
    ]
    if all(run.due_tick is not None for s in sizes for run in s.runs):

        def tick(figure: Callable[[DueTick], float]) -> Callable[[SizeRun], float]:
            return lambda r: figure(r.due_tick) if r.due_tick is not None else 0.0

        lines += [
            row(
                "Dispatcher tick, users due in the same minute",
                [
                    _each_run([f"{r.due_tick.users:,}" for r in s.runs if r.due_tick])
                    for s in sizes
                ],
                "10,000",
            ),
            row(
                "  picking them from the due index (ms)",
                spread(tick(lambda t: t.select_seconds), lambda v: f"{v * 1e3:.1f}"),
            ),
            row(
                "  whole tick, claim + confirm on disk, send stubbed (s)",
                spread(tick(lambda t: t.tick_seconds), lambda v: f"{v:.1f}"),
            ),
            row(
                "  per due user (ms)",
                spread(
                    tick(lambda t: t.tick_seconds / max(t.users, 1)), lambda v: f"{v * 1e3:.2f}"
                ),
            ),
            row(
                "  claimed / recorded as sent on disk",
                [
                    _each_run(
                        [
                            f"{r.due_tick.claimed:,} / {r.due_tick.confirmed_on_disk:,}"
                            for r in s.runs
                            if r.due_tick
                        ]
                    )
                    for s in sizes
                ],
                "all",
            ),
        ]
    lines.append(
        row(
            "Data generation (s) / users rolled forward in the cache, all runs",
            [f"{s.built_seconds:.1f} / {sum(r.rolled_forward for r in s.runs):,}" for s in sizes],
        )
    )
    return lines


def _checkins(fanout: FanoutResult) -> int:
    """Check-ins the fake answered (a doubled one counts: the bot spent its CPU on it)."""
    return fanout.users - fanout.lost + fanout.doubled


def _fanout_table(lifted: list[FanoutResult], limited: list[FanoutResult]) -> list[str]:
    columns = [runs for runs in (lifted, limited) if runs]
    first = columns[0][0]
    names = {
        True: f"Rate limits lifted (own ceiling), {len(lifted)} run(s)",
        False: f"Telegram's limits, {len(limited)} run(s)",
    }

    def row(
        name: str,
        figure: Callable[[FanoutResult], float],
        number: Callable[[float], str],
        target: str = "",
    ) -> str:
        cells = [Spread.of([figure(f) for f in runs]).format(number) for runs in columns]
        return f"| {name} | " + " | ".join(cells) + f" | {target} |"

    def whole(value: float) -> str:
        return f"{value:,.0f}"

    lines = [
        "",
        f"Fan-out of {first.users:,} due check-ins through the real bot process to the fake "
        f"Bot API ({first.latency * 1e3:.0f} ms answer delay)"
        + ("; several runs: min / median / max" if any(len(c) > 1 for c in columns) else "")
        + ":",
        "",
        "| Measure | " + " | ".join(names[runs[0].lifted] for runs in columns) + " | Target |",
        "|---|" + "---|" * len(columns) + "---|",
        row(
            "Check-ins per second, first to last",
            lambda f: f.rate,
            lambda v: f"{v:.1f}",
            ">= 300 lifted; >= 29 with limits",
        ),
        row(
            "Most check-ins within one second",
            lambda f: f.max_per_second,
            whole,
            "<= 30 with limits (at the fake: jitter)",
        ),
        row("Due instant to first check-in (s)", lambda f: f.due_to_first, lambda v: f"{v:.1f}"),
        row(
            "Due instant to last check-in (s)",
            lambda f: f.due_to_last,
            lambda v: f"{v:.1f}",
            "< 360 with limits",
        ),
        "| Lost / doubled, all runs | "
        + " | ".join(
            f"{sum(f.lost for f in runs)} / {sum(f.doubled for f in runs)}" for runs in columns
        )
        + " | 0 / 0 |",
        "| Recorded as sent on disk | "
        + " | ".join(_each_run([f"{f.recorded:,}" for f in runs]) for runs in columns)
        + " | all |",
        row("Refused by the fake (429 ...)", lambda f: f.refused, whole),
        row("Peak RSS of the bot process (MB)", lambda f: f.peak_rss / _MB, whole),
    ]
    measured = [f for f in lifted if f.cpu is not None]
    if measured:
        lines += ["", *_cpu_table(measured)]
        if all(f.cpu is not None and f.cpu.keys_seconds for f in measured):
            lines += ["", *_cpu_calls_table(measured)]
    return lines


def _cpu_calls_table(fanouts: list[FanoutResult]) -> list[str]:
    """Each timed method of the run with the median total: calls and ms per check-in."""
    ranked = sorted(
        (f for f in fanouts if f.cpu is not None),
        key=lambda f: f.cpu.total_seconds if f.cpu else 0,
    )
    middle = ranked[(len(ranked) - 1) // 2]
    cpu = middle.cpu
    if cpu is None:
        return []
    checkins = _checkins(middle)
    lines = [
        f"Where it goes, method by method (the run with the median total of {len(ranked)}; "
        "each method's own CPU, the parts it calls taken out):",
        "",
        "| Part: method | Calls per check-in | ms per check-in |",
        "|---|---|---|",
    ]
    keys = set(cpu.keys_seconds) | set(cpu.keys_calls)
    ordered = sorted(
        keys, key=lambda k: (PARTS.index(k.split(":")[0]), -cpu.keys_seconds.get(k, 0))
    )
    for key in ordered:
        per_checkin = cpu.keys_seconds.get(key, 0.0) * 1e3 / checkins
        calls = cpu.keys_calls.get(key, 0) / checkins
        if per_checkin < 0.005 and calls < 0.5:
            continue  # start-up and shutdown calls, once per fan-out
        lines.append(f"| {key} | {calls:.2f} | {per_checkin:.2f} |")
    return lines


def _cpu_table(fanouts: list[FanoutResult]) -> list[str]:
    """The lifted fan-out's CPU per check-in (bench/cpu_split.py), min / median / max."""
    split = all(f.cpu is not None and f.cpu.keys_seconds for f in fanouts)
    per_checkin = [f.cpu.per_checkin_ms(_checkins(f)) for f in fanouts if f.cpu is not None]
    user_system = [
        (f.cpu.user_seconds * 1e3 / _checkins(f), f.cpu.system_seconds * 1e3 / _checkins(f))
        for f in fanouts
        if f.cpu is not None
    ]

    def cell(values: list[float]) -> str:
        return Spread.of(values).format(lambda v: f"{v:.2f}")

    lines = [
        "CPU of the bot process per check-in, rate limits lifted (ms; "
        + ("split by bench/cpu_split.py" if split else "total only, nothing wrapped")
        + f", {len(fanouts)} run(s)):",
        "",
        "| Part | ms per check-in | Share of the total (medians) | Target |",
        "|---|---|---|---|",
    ]
    totals = [p["total"] for p in per_checkin]
    median_total = Spread.of(totals).median
    lines.append(f"| Total (user + system, all threads) | {cell(totals)} | 100 % | <= 2.5 |")
    lines.append(f"|   of it user | {cell([u for u, _ in user_system])} | | |")
    lines.append(f"|   of it system (kernel) | {cell([s for _, s in user_system])} | | |")
    if split:
        for part in PARTS:
            values = [p[part] for p in per_checkin]
            share = Spread.of(values).median / median_total * 100 if median_total else 0.0
            lines.append(f"| {part.capitalize()} | {cell(values)} | {share:.0f} % | |")
        lines.append(
            "| The measurement's own clock readings, estimated (in the above) | "
            + f"{cell([p['overhead'] for p in per_checkin])} | | |"
        )
    return lines


def _table(
    sizes: list[SizeResult],
    fanouts: list[FanoutResult],
    machine: dict[str, str],
    runs: int,
) -> str:
    lines = [
        f"Machine: {machine['cores']} cores, {machine['cpu']}, {machine['memory']} RAM, "
        f"Python {machine['python']}, {machine['system']}; load average (1 min) "
        f"{machine['load_average']}",
        "",
    ]
    if sizes:
        lines += _size_table(sizes, runs)
    if fanouts:
        lifted = [f for f in fanouts if f.lifted]
        limited = [f for f in fanouts if not f.lifted]
        lines += _fanout_table(lifted, limited)
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
    loads = [os.getloadavg()[0]]
    sizes = [_prepare_size(args, count) for count in args.size_list]
    with FakeTelegram() as tg:
        for run in range(args.runs):
            for position, (index, count) in enumerate(_rotated(args.size_list, run)):
                sizes[index].runs.append(_measure_block(args, count, tg, run, position))
                loads.append(sizes[index].runs[-1].load_average)
    fanouts: list[FanoutResult] = []
    if args.fanout_users:
        plan = [True] * args.fanout_runs + ([] if args.quick else [False])
        for number, lifted in enumerate(plan):
            what = "rate limits lifted" if lifted else "Telegram's limits"
            loads.append(os.getloadavg()[0])
            _say(
                f"== fan-out of {args.fanout_users:,} check-ins, {what}"
                + (f", run {number + 1} of {args.fanout_runs}" if lifted else "")
                + f" (load average {loads[-1]:.2f})"
            )
            fanouts.append(
                run_fanout(
                    args.cache_dir / ("fanout-lifted" if lifted else "fanout-limited"),
                    args.fanout_users,
                    lifted=lifted,
                    latency=args.latency_ms / 1000,
                    due_mode=args.fanout_due,
                    cpu=args.fanout_cpu if lifted else "off",
                    log=_say,
                )
            )
            if lifted and fanouts[-1].cpu is not None:
                figures = fanouts[-1].cpu.per_checkin_ms(_checkins(fanouts[-1]))
                _say(
                    f"  {fanouts[-1].rate:.1f} check-ins/s; CPU per check-in "
                    + ", ".join(f"{k} {v:.2f} ms" for k, v in figures.items())
                )
    loads.append(os.getloadavg()[0])
    machine["load_average"] = f"{min(loads):.2f} to {max(loads):.2f} during the suite"
    chart = _chart(args.chart_runs) if args.chart_runs > 0 else None
    table = _table(sizes, fanouts, machine, args.runs)
    if chart is not None:
        table += "\n\nThe progress chart (`python -m bench.chart_bench`):\n\n" + chart_table(chart)
    print(table)
    _say(f"(the suite took {time.perf_counter() - started:.0f} s)")
    if args.json:
        raw = {
            "machine": machine,
            "command": " ".join(["python -m bench", *(argv or sys.argv[1:])]),
            "runs": args.runs,
            "load_averages": loads,
            "sizes": [asdict(s) for s in sizes],
            "fanouts": [asdict(f) for f in fanouts],
            "chart": chart,
        }
        args.json.write_text(json.dumps(raw, indent=2))
    broken = [f for f in fanouts if f.lost or f.doubled or f.exit_code or f.recorded != f.users]
    unrecorded = [
        run.due_tick
        for s in sizes
        for run in s.runs
        if run.due_tick and run.due_tick.confirmed_on_disk != run.due_tick.users
    ]
    return 1 if broken or unrecorded else 0
