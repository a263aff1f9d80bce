"""A sunset playbook as the user reads it: the template context for leaving one dropped channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.coaching import FocusPlan
from bot.core.content import Content
from bot.core.flow_ids import SUNSET_ANSWER
from bot.core.rules import Localized
from bot.core.sunset_rules import fill

__all__ = ["chosen_channel", "playbook_context"]

# The source key of the project's own judgement: never shown as a study (as in the plan).
_OWN_ESTIMATE = "E"


def chosen_channel(plan: FocusPlan | None, answers: Mapping[str, Any]) -> str | None:
    """The channel to leave: the one chosen, else the only one; None when neither.

    The channels to leave are those the plan drops or keeps as a profile only; a choice that
    is not one of them (any more) counts as no choice.
    """
    dropped = list(plan.left_behind) if plan else []
    choice = answers.get(SUNSET_ANSWER)
    if isinstance(choice, str) and choice in dropped:
        return choice
    return dropped[0] if len(dropped) == 1 else None


def playbook_context(
    content: Content, channel_id: str | None, kept_id: str | None, lang: str
) -> dict[str, Any]:
    """Everything the playbook template needs, in ``lang``.

    Without a channel to leave, or a kept one to point to, ``channel`` is None and the lists
    are empty: the template then says there is nothing to leave.
    """
    if channel_id is None or kept_id is None:
        return {
            "channel": None,
            "kept": None,
            "general": [],
            "tips": [],
            "facts": [],
            "sources": [],
        }
    catalogue = content.catalogue
    kept = catalogue.channel(kept_id).label[lang]
    name = catalogue.channel(channel_id).label[lang]
    playbook = content.sunset.playbook(channel_id)

    def text(localized: Localized) -> str:
        return fill(localized[lang], kept=kept, channel=name)

    cited: list[str] = []
    for keys in (
        *(step.sources for step in content.sunset.general),
        *(tip.sources for tip in playbook.tips),
        *(fact.sources for fact in playbook.facts),
    ):
        cited.extend(key for key in keys if key not in cited and key != _OWN_ESTIMATE)
    return {
        "channel": {"id": channel_id, "name": name},
        "kept": kept,
        "general": [{"id": step.id, "text": text(step.text)} for step in content.sunset.general],
        "tips": [text(tip.text) for tip in playbook.tips],
        "facts": [
            {
                "topic": fact.topic.value,
                "certainty": fact.certainty.value,
                "as_of": {"year": fact.as_of.year, "month": fact.as_of.month},
                "text": text(fact.text),
                "sources": [key for key in fact.sources if key != _OWN_ESTIMATE],
            }
            for fact in playbook.facts
        ],
        "sources": [{"key": key, "title": catalogue.source(key).title[lang]} for key in cited],
    }
