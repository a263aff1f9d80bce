"""``focus-coach run`` with Telegram's limits lifted: the bot's own ceiling for the fan-out.

Runs exactly ``bot.cli.main(["run", ...])``; the one difference is that the composition root
builds its ``PriorityRateLimiter`` with no global budget and no per-chat gap (retries on 429 stay
as they are). Used only by the benchmark: ``python -m bench.botproc run --data-dir ...``.
"""

from __future__ import annotations

import sys
from typing import Any

import bot.telegram.app as composition_root
from bot.cli import main
from bot.telegram.ratelimit import PriorityRateLimiter


def _unlimited(**kwargs: Any) -> PriorityRateLimiter:
    return PriorityRateLimiter(overall_per_second=0, per_chat_interval=0, **kwargs)


if __name__ == "__main__":
    # The composition root looks the class up when it builds the bot.
    vars(composition_root)["PriorityRateLimiter"] = _unlimited
    sys.exit(main(sys.argv[1:]))
