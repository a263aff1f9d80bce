"""Where ``focus-coach run`` spends its start-up: run as its own process, prints JSON.

``python -m bench.startup_probe DATA_DIR`` times, in a fresh interpreter, the same steps
``bot.cli`` takes before polling: importing the Telegram side, validating the flows, opening
(locking, tidying) the data folder and loading the dispatcher's due index.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main(data_dir: Path) -> dict[str, float]:
    """Time each start-up step; returns seconds per step."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    import bot.telegram.app  # noqa: F401 - PTB, httpx, APScheduler, Jinja: what `run` imports

    timings["import"] = time.perf_counter() - started
    from bot.core.checker import load_content
    from bot.core.checkin_claims import ReminderService
    from bot.core.content import DEFAULT_PROMPTS_DIR
    from storage import ScheduleIndex, open_repository

    step = time.perf_counter()
    load_content(DEFAULT_PROMPTS_DIR)
    timings["flows"] = time.perf_counter() - step
    step = time.perf_counter()
    repository = open_repository(data_dir)
    timings["open_store"] = time.perf_counter() - step
    try:
        service = ReminderService(
            repository, ScheduleIndex(data_dir), clock=lambda: datetime.now(UTC)
        )
        step = time.perf_counter()
        service.load()
        timings["due_index"] = time.perf_counter() - step
    finally:
        repository.close()
    return timings


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
