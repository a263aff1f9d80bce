"""What the operator's /status costs at N users: the start-up count and each /status after it.

    .venv/bin/python -m bench.status_cost --users 100000 [--cache-dir /tmp/fokus-bench]

Uses a cached synthetic folder (``bench.datagen``); the figures are gathered exactly as the bot
gathers them for /status and for each metrics scrape (``OperatorView.figures``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import bot
from bench.datagen import ensure_folder
from bot.core.checkin_claims import ReminderService
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.operations import OperationsRecorder
from bot.core.operator_status import OperatorView
from bot.core.user_standings import StandingsRepository, UserStandings
from storage import ScheduleIndex, TinyDBUserRepository


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/fokus-bench"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = ensure_folder(args.cache_dir, args.users)

    def clock() -> datetime:
        return datetime.now(UTC)

    inner = TinyDBUserRepository(folder.path, migrator=USER_DOCUMENTS)
    repository = StandingsRepository(inner, UserStandings())
    try:
        reminders = ReminderService(repository, ScheduleIndex(folder.path), clock=clock)
        reminders.load()
        started = time.perf_counter()
        repository.seed()
        seeded = time.perf_counter() - started
        view = OperatorView(
            version=bot.__version__,
            recorder=OperationsRecorder(clock),
            repository=repository,
            reminders=reminders,
            last_tick=lambda: None,
            queue=lambda: 0,
        )
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            figures = view.figures()
            timings.append(time.perf_counter() - started)
    finally:
        repository.close()
    print(f"{args.users:,} users: start-up count {seeded:.1f} s (once, in a worker thread)")
    print(
        f"/status figures: median {statistics.median(timings):.3f} s, "
        f"max {max(timings):.3f} s over {args.repeat} runs; {figures.users}, "
        f"due next hour {figures.due_next_hour}"
    )


if __name__ == "__main__":
    main()
