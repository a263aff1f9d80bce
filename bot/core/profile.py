"""The bot's profile: what an empty chat shows before the first message, per language.

Telegram shows the description in the empty chat and the short description on the profile
page and in shared links; both come from templates so a coach edits them like any other text,
and ``focus-coach check`` holds them to Telegram's limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.core.templating import TextRenderer

__all__ = ["PROFILE_TEXTS", "Profile", "profile", "profile_problems"]

DESCRIPTION: Final = "telegram/description"
SHORT_DESCRIPTION: Final = "telegram/short_description"
# Template -> Telegram's limit in characters (setMyDescription, setMyShortDescription).
PROFILE_TEXTS: Final = {DESCRIPTION: 512, SHORT_DESCRIPTION: 120}


@dataclass(frozen=True)
class Profile:
    """The two texts in one language, plain text (Telegram shows no markup there)."""

    description: str
    short_description: str


def profile(texts: TextRenderer, lang: str) -> Profile:
    """The profile in ``lang``."""
    return Profile(
        description=texts.render(lang, DESCRIPTION).strip(),
        short_description=texts.render(lang, SHORT_DESCRIPTION).strip(),
    )


def profile_problems(texts: TextRenderer, lang: str) -> list[str]:
    """What keeps the profile in ``lang`` from being set: a text too long or empty."""
    problems = []
    for name, limit in PROFILE_TEXTS.items():
        text = texts.render(lang, name).strip()
        if not 1 <= len(text) <= limit:
            problems.append(f"{lang}/{name}: {len(text)} characters, Telegram takes 1 to {limit}")
    return problems
