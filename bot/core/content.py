"""The coaching content loaded from ``prompts/``: flows, texts and the rules catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.checkin_stats import AdviceRule
from bot.core.flows import CATALOGUE_SOURCES, PLAN_SOURCES, AskType, Flow, Option, Step
from bot.core.rules import LANGUAGES, Catalogue
from bot.core.templating import TextRenderer

__all__ = ["DEFAULT_PROMPTS_DIR", "ONBOARDING_FLOW", "Content"]

# prompts/ sits beside the bot package in a checkout and in an editable install.
DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"
ONBOARDING_FLOW = "onboarding"


@dataclass(frozen=True)
class Content:
    """Validated content that the engine works from."""

    flows: dict[str, Flow]
    texts: TextRenderer
    catalogue: Catalogue
    advice: tuple[AdviceRule, ...] = ()
    languages: tuple[str, ...] = LANGUAGES

    def options(
        self, step: Step, lang: str, plan: Mapping[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        """Return ``(id, label)`` for every option of a choice step, listed ones first.

        For a channel grid these are the rows (the plan's channels); its ``options`` are the
        ratings offered in every row (see ``ratings``).
        """
        items: list[tuple[str, str]] = []
        if step.options_from in CATALOGUE_SOURCES:
            for entry in getattr(self.catalogue, step.options_from):
                items.append((entry.id, entry.label[lang]))
        elif step.options_from in PLAN_SOURCES:
            # "plan_kept" -> the plan's "kept" list; the user's own plan decides the options.
            section = step.options_from.removeprefix("plan_")
            for entry in (plan or {}).get(section, []):
                channel = self.catalogue.channel(entry["channel"])
                items.append((channel.id, channel.label[lang]))
        if step.ask is not AskType.CHANNEL_GRID:
            items.extend(self.ratings(step, lang))
        return items

    def ratings(self, step: Step, lang: str) -> list[tuple[str, str]]:
        """Return ``(id, label)`` of a step's fixed options."""
        return [(option.id, self.option_label(option, lang)) for option in step.options]

    def option_label(self, option: Option, lang: str) -> str:
        """Render a fixed option's label."""
        return self.texts.label(lang, option.label)

    def pick_language(self, hint: str | None) -> str:
        """Choose a supported language from a hint such as ``en-GB``; German otherwise."""
        if hint:
            code = hint.replace("_", "-").split("-")[0].lower()
            if code in self.languages:
                return code
        return self.languages[0]
