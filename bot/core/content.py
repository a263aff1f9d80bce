"""The coaching content loaded from ``prompts/``: flows, texts, the rules and the playbooks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.checkin_stats import AdviceRule
from bot.core.flow_model import Flow, Step
from bot.core.rules import LANGUAGES, Catalogue
from bot.core.sunset_rules import SunsetRules
from bot.core.templating import TextRenderer

__all__ = [
    "CATALOGUE_SOURCES",
    "DEFAULT_PROMPTS_DIR",
    "OPTION_SOURCES",
    "PLAN_SOURCES",
    "Content",
]

# prompts/ sits beside the bot package in a checkout and in an editable install.
DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"
# Lists in the rules catalogue, and in the user's own plan, that a step's options may come from.
CATALOGUE_SOURCES = ("channels", "audiences", "goals")
# The user's plan: what they keep, and what they no longer post on (dropped, or profile only).
PLAN_SECTIONS = {
    "plan_kept": ("kept",),
    "plan_dropped": ("dropped", "profile_only"),
    "plan_parked": ("parked",),
}
PLAN_SOURCES = tuple(PLAN_SECTIONS)
OPTION_SOURCES = CATALOGUE_SOURCES + PLAN_SOURCES


@dataclass(frozen=True)
class Content:
    """Validated content that the engine works from."""

    flows: dict[str, Flow]
    texts: TextRenderer
    catalogue: Catalogue
    sunset: SunsetRules  # how to leave each channel gracefully
    advice: tuple[AdviceRule, ...] = ()
    languages: tuple[str, ...] = LANGUAGES

    def listed_options(
        self, step: Step, lang: str, plan: Mapping[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        """``(id, label)`` of the options a step takes from elsewhere (``options_from``).

        Catalogue lists are the same for everyone; ``plan_kept`` / ``plan_dropped`` come from
        the user's own ``plan``.
        """
        if step.options_from in CATALOGUE_SOURCES:
            return [
                (entry.id, entry.label[lang])
                for entry in getattr(self.catalogue, step.options_from)
            ]
        if step.options_from in PLAN_SOURCES:
            channels = (
                self.catalogue.channel(entry["channel"])
                for section in PLAN_SECTIONS[step.options_from]
                for entry in (plan or {}).get(section, [])
            )
            return [(channel.id, channel.label[lang]) for channel in channels]
        return []

    def short_label(self, lang: str, option_id: str) -> str:
        """A catalogue entry's short name in ``lang`` (its ``short``), or "" if it has none."""
        for source in CATALOGUE_SOURCES:
            for entry in getattr(self.catalogue, source):
                if entry.id == option_id:
                    return "" if entry.short is None else entry.short[lang]
        return ""

    def fixed_options(self, step: Step, lang: str) -> list[tuple[str, str]]:
        """``(id, label)`` of the options written into the step itself."""
        return [(option.id, self.texts.label(lang, option.label)) for option in step.options]

    def pick_language(self, hint: str | None) -> str:
        """Choose a supported language from a hint such as ``en-GB``; German otherwise."""
        if hint:
            code = hint.replace("_", "-").split("-")[0].lower()
            if code in self.languages:
                return code
        return self.languages[0]
