"""``focus-coach run`` with Telegram's limits lifted: the bot's own ceiling for the fan-out.

Runs exactly ``bot.cli.main(["run", ...])``; the one difference is that the composition root
builds its ``PriorityRateLimiter`` with no global budget and no per-chat gap (retries on 429 stay
as they are). Used only by the benchmark: ``python -m bench.botproc run --data-dir ...``.

``FOKUS_BENCH_TRANSPORT=httpx`` in the environment sends through PTB's ``HTTPXRequest`` (same
pool sizes) instead of ``AiohttpRequest``: the fan-out before and after the transport changed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from telegram.request import HTTPXRequest

import bot.telegram.app as composition_root
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
    sys.exit(main(sys.argv[1:]))
