"""``focus-coach run`` with Telegram's limits lifted: the bot's own ceiling for the fan-out.

Runs exactly ``bot.cli.main(["run", ...])``; the one difference is that the composition root
builds its ``PriorityRateLimiter`` with no global budget and no per-chat gap (retries on 429 stay
as they are). Used only by the benchmark: ``python -m bench.botproc run --data-dir ...``.

``FOKUS_BENCH_TRANSPORT=httpx`` in the environment sends through PTB's ``HTTPXRequest`` (same
pool sizes) instead of ``AiohttpRequest``: the fan-out before and after the transport changed.

``FOKUS_BENCH_CPU_FILE=<path>`` times the bot's CPU per part (storage, transport, engine, other;
``bench/cpu_split.py``) and writes the figures to that file when the bot has shut down; with
``FOKUS_BENCH_CPU_TOTAL_ONLY=1`` as well, only the total (nothing wrapped: the measurement's cost).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from telegram.request import HTTPXRequest

import bot.telegram.app as composition_root
from bench.cpu_split import CPU_FILE_VARIABLE, TOTAL_ONLY_VARIABLE, install
from bot.cli import main
from bot.telegram.ratelimit import PriorityRateLimiter


def _unlimited(**kwargs: Any) -> PriorityRateLimiter:
    return PriorityRateLimiter(overall_per_second=0, per_chat_interval=0, **kwargs)


def _httpx(connection_pool_size: int) -> HTTPXRequest:
    return HTTPXRequest(connection_pool_size=connection_pool_size)


if __name__ == "__main__":
    # The composition root looks the classes up when it builds the bot.
    vars(composition_root)["PriorityRateLimiter"] = _unlimited
    if os.environ.get("FOKUS_BENCH_TRANSPORT") == "httpx":
        vars(composition_root)["AiohttpRequest"] = _httpx
    cpu_file = os.environ.get(CPU_FILE_VARIABLE)
    if cpu_file:
        # bot.cli imports run_bot from the composition root when it runs: it gets this one.
        vars(composition_root)["run_bot"] = install(
            composition_root.run_bot,
            Path(cpu_file),
            split=os.environ.get(TOTAL_ONLY_VARIABLE) != "1",
        )
    sys.exit(main(sys.argv[1:]))
