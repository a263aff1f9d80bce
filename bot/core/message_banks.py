"""Message banks: lines that come in several wordings, so a weekly message does not go stale.

A message read every week in the same words stops being read (Bell, Garnett et al. 2023, JMIR
mHealth uHealth 11:e38342, ``domain.md`` 8, row 4.6). A bank is a YAML list of Jinja lines in
``prompts/templates/<lang>/banks/<name>.yaml``; a template shows the user's current one with
``{{ fresh("checkin_opener") }}``. Which one that is, core decides (``bot.core.variety``) and keeps
in the user's document; the template only reads it, so a message rendered again is the same.

A coach adds a wording by adding a line to the list; ``focus-coach check`` refuses a bank with
fewer than ``MIN_VARIANTS`` wordings, an empty or broken one, or one missing in a language.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from jinja2 import (
    Environment,
    TemplateError,
    TemplateRuntimeError,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup

from bot.core.checkin_stats import WeekStatus
from bot.core.problems import shown_path

__all__ = [
    "BANK_FOLDER",
    "BANK_SUFFIX",
    "CHECKIN_OPENER",
    "FEEDBACK_BANKS",
    "FOLLOWUP_OPENER",
    "MIN_VARIANTS",
    "REQUIRED_BANKS",
    "Banks",
    "bank_path",
    "bank_problems",
    "feedback_bank",
    "fresh_function",
    "load_banks",
]

BANK_FOLDER = "banks"
BANK_SUFFIX = ".yaml"
# Fewer wordings come round again too soon to feel new.
MIN_VARIANTS = 8
# The banks the code chooses from: the reminder's and the follow-up's opening line, and the
# encouraging line of the check-in feedback for each way a week can go (``WeekStatus``).
CHECKIN_OPENER: Final = "checkin_opener"
FOLLOWUP_OPENER: Final = "followup_opener"
_FEEDBACK_PREFIX = "feedback_"
FEEDBACK_BANKS: Final = tuple(f"{_FEEDBACK_PREFIX}{status}" for status in WeekStatus)
REQUIRED_BANKS: Final = (CHECKIN_OPENER, FOLLOWUP_OPENER, *FEEDBACK_BANKS)

# Language -> bank name -> its wordings (Jinja sources), in file order.
Banks = Mapping[str, Mapping[str, tuple[str, ...]]]


def feedback_bank(status: str) -> str:
    """The bank of the feedback's encouraging line for a week of ``status`` (``on_plan`` …)."""
    return f"{_FEEDBACK_PREFIX}{status}"


def bank_path(templates_dir: Path, lang: str, name: str) -> Path:
    """Where bank ``name`` of ``lang`` lives."""
    return templates_dir / lang / BANK_FOLDER / f"{name}{BANK_SUFFIX}"


def _read_bank(path: Path) -> tuple[tuple[str, ...], list[str]]:
    """A bank file's wordings and what is wrong with its shape (not yet its Jinja)."""
    where = shown_path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return (), [f"{where}: cannot be read: {error}"]
    if not isinstance(raw, list):
        return (), [f"{where}: must be a list of wordings, one per line starting with '- '"]
    problems = [
        f"{where}: wording {number} is empty"
        for number, wording in enumerate(raw, start=1)
        if not isinstance(wording, str) or not wording.strip()
    ]
    wordings = tuple(w.strip() for w in raw if isinstance(w, str) and w.strip())
    if len(raw) < MIN_VARIANTS:
        problems.append(
            f"{where}: has {len(raw)} wordings; a bank needs at least {MIN_VARIANTS} "
            "so a message does not come round again too soon"
        )
    return wordings, problems


def load_banks(templates_dir: Path, languages: tuple[str, ...]) -> tuple[Banks, list[str]]:
    """Every bank of every language, and what is wrong with their files.

    A broken file is left out (its problems say why); the checker refuses content with problems,
    so the bot never runs with one.
    """
    banks: dict[str, dict[str, tuple[str, ...]]] = {}
    problems: list[str] = []
    names: dict[str, set[str]] = {}
    for lang in languages:
        folder = templates_dir / lang / BANK_FOLDER
        paths = sorted(folder.glob(f"*{BANK_SUFFIX}")) if folder.is_dir() else []
        names[lang] = {path.stem for path in paths}
        banks[lang] = {}
        for path in paths:
            wordings, found = _read_bank(path)
            problems += found
            if wordings:
                banks[lang][path.stem] = wordings
    for lang in languages:
        for name in REQUIRED_BANKS:
            if name not in names[lang]:
                problems.append(
                    f"{shown_path(bank_path(templates_dir, lang, name))}: missing "
                    "(the coach chooses its lines from this bank)"
                )
        for other in languages:
            for name in sorted(names[other] - names[lang] - set(REQUIRED_BANKS)):
                problems.append(
                    f"{shown_path(bank_path(templates_dir, lang, name))}: missing "
                    f"({other}/{BANK_FOLDER}/{name}{BANK_SUFFIX} exists)"
                )
    return banks, problems


def bank_problems(env: Environment, templates_dir: Path, banks: Banks) -> list[str]:
    """Wordings whose Jinja does not parse (rendering is checked with each template)."""
    problems: list[str] = []
    for lang, named in banks.items():
        for name, wordings in named.items():
            for number, wording in enumerate(wordings, start=1):
                try:
                    env.parse(wording)
                except TemplateSyntaxError as error:
                    where = shown_path(bank_path(templates_dir, lang, name))
                    problems.append(f"{where}: wording {number}: {error.message}")
    return problems


def fresh_function(env: Environment, templates_dir: Path, banks: Banks) -> Any:
    """The template function ``fresh(bank)``: the user's current wording of ``bank``, rendered
    with the template's own variables.

    The wording is the one at ``variety[bank]`` in the template's context (``user_context``);
    without a choice yet (a message rendered outside a check-in) it is the first.
    """
    # Each wording compiled once; one without Jinja markup kept as the text it renders to.
    compiled: dict[tuple[str, str, int], Any] = {}

    @pass_context
    def fresh(context: Context, bank: str) -> Markup:
        lang = context.get("lang")
        wordings = banks.get(str(lang), {}).get(bank)
        if not wordings:
            raise TemplateRuntimeError(
                f"{shown_path(bank_path(templates_dir, str(lang), bank))}: no such bank"
            )
        chosen = context.get("variety") or {}
        index = chosen.get(bank, 0) if isinstance(chosen, Mapping) else 0
        index = index % len(wordings) if isinstance(index, int) else 0
        key = (str(lang), bank, index)
        try:
            if key not in compiled:
                compiled[key] = _compiled(env, wordings[index])
            found = compiled[key]
            if isinstance(found, Markup):
                return found
            # Autoescaped like the template around it: the result is safe HTML.
            return Markup(found.render(context.get_all()).strip())  # noqa: S704
        except TemplateError as error:
            where = shown_path(bank_path(templates_dir, str(lang), bank))
            raise TemplateRuntimeError(f"{where}: wording {index + 1}: {error}") from error

    return fresh


# What makes a wording more than its own text to Jinja: its markup, and the line endings its
# lexer rewrites to "\n".
_JINJA_MARKS: Final = ("{{", "{%", "{#", "\r")


def _compiled(env: Environment, wording: str) -> Any:
    """The wording as a template, or, without Jinja markup, as what rendering it gives.

    Most wordings are plain sentences: a template renders their text as it is (only
    variables are escaped), so the reminder need not render a second template for its line.
    """
    if any(mark in wording for mark in _JINJA_MARKS):
        return env.from_string(wording)
    return Markup(wording.strip())  # noqa: S704  # the template's own text is not escaped either
