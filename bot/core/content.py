"""The coaching content loaded from ``prompts/``: flows, texts, the rules and the playbooks."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
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
    "PROMPTS_PACKAGE",
    "Content",
    "on_disk",
]

# The shipped content: the repository's prompts/ folder, which the build maps to this package
# (pyproject.toml), so it is found the same way in a clone, an editable install and a wheel.
PROMPTS_PACKAGE = "bot.prompts"
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


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def on_disk(folder: Traversable) -> Path:
    """``folder`` as a real directory: itself when it is one, else a copy for this process.

    The loaders walk folders with pathlib, and ``--prompts-dir`` is a plain folder, so the
    content is always read from disk. pip installs a wheel unpacked, so this is the folder in
    site-packages (or the clone's prompts/ in an editable install). Only a zip import (a zipapp)
    gives a ``zipfile.Path``: its content is copied once into a temporary folder that is removed
    when the process ends. ``importlib.resources.as_file`` would do this, but copies folders only
    from Python 3.12 on.
    """
    if isinstance(folder, Path):
        return folder
    copy = Path(tempfile.mkdtemp(prefix="focus-coach-prompts-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    _copy_tree(folder, copy)
    return copy


DEFAULT_PROMPTS_DIR = on_disk(files(PROMPTS_PACKAGE))


@dataclass(frozen=True)
class Content:
    """Validated content that the engine works from."""

    flows: dict[str, Flow]
    texts: TextRenderer
    catalogue: Catalogue
    sunset: SunsetRules  # how to leave each channel gracefully
    advice: tuple[AdviceRule, ...] = ()
    languages: tuple[str, ...] = LANGUAGES
    # The fingerprint of this content and the code that reads it (``content_seal``), when it
    # was loaded from a folder that could be read: a document fitted to it (``state_repair``)
    # carries it, so a claim need not fit that document again. None: fit every time.
    identity: str | None = None

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
