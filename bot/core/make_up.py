"""The extra action that makes up a missed week: suggestions built from the plan.

A missed week is repaired by a make-up week: the next week on plan plus one concrete extra
action (domain.md 4.4: a streak that can be repaired hurts less when it breaks, Silverman &
Barasch 2023). The suggestions all serve the plan's main kept channel, so making up a week
strengthens the focus instead of adding a channel. The words are labels (``make_up_<id>`` for
the sentence, ``make_up_<id>_short`` for its button); the user may also type their own.
"""

from __future__ import annotations

from typing import Final

from bot.core.focus_plan import FocusPlan

__all__ = ["LABEL_KEYS", "MAKE_UP_IDS", "main_channel"]

MAKE_UP_IDS: Final = ("extra_post", "replies", "ahead")
LABEL_KEYS: Final = tuple(
    key for mid in MAKE_UP_IDS for key in (f"make_up_{mid}", f"make_up_{mid}_short")
)


def main_channel(plan: FocusPlan | None) -> str | None:
    """The channel the make-up action serves: the plan's first kept channel, or None."""
    if plan is None or not plan.kept:
        return None
    return plan.kept[0].channel
