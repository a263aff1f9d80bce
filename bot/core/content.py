"""The coaching content loaded from ``prompts/``: flows, texts and the rules catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.flows import Flow, Option, Step
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
    languages: tuple[str, ...] = LANGUAGES

    def options(self, step: Step, lang: str) -> list[tuple[str, str]]:
        """Return ``(id, label)`` for every option of a choice step, catalogue ones first."""
        items: list[tuple[str, str]] = []
        if step.options_from is not None:
            for entry in getattr(self.catalogue, step.options_from):
                items.append((entry.id, entry.label[lang]))
        items.extend((option.id, self.option_label(option, lang)) for option in step.options)
        return items

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
