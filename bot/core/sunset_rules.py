"""The sunset playbooks (``prompts/rules/sunset.yaml``): how to leave a dropped channel gracefully.

The file holds general steps that apply to every channel (a pinned "find me here" post, the bio
link, the login kept safe ...) and, for every channel of the catalogue, its platform facts: can
it be paused, how long a deletion can be undone, what happens to the name, how to keep a copy,
whether messages can be answered automatically. Platforms change their rules, so every fact
carries the month it was last checked (``as_of``) and how sure it is (``certainty``), and the
text that shows it says so.

A coach who does not program edits the file, so it is checked like the rest of the rules: every
problem is collected as ``"<file>: <where>: <problem>"`` and all are raised in one ``RulesError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.problems import Problems, shown_path

# rules.py's checking helpers, so a coach reads the same messages for every rule file.
from bot.core.rules import (
    LANGUAGES,
    Catalogue,
    Localized,
    RulesError,
    _check_keys,
    _entry_id,
    _load_yaml,
    _localized,
    _source_keys,
    _Unreadable,
)

__all__ = [
    "PLACEHOLDERS",
    "SUNSET_FILE",
    "Certainty",
    "GeneralStep",
    "InactivityRule",
    "PlatformFact",
    "Playbook",
    "SunsetRules",
    "Tip",
    "Topic",
    "YearMonth",
    "fill",
    "load_sunset",
]

SUNSET_FILE = "sunset.yaml"
# The names a text may fill in: the channel the user keeps and the one they leave.
PLACEHOLDERS = ("kept", "channel")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")
# Anything else that looks like template syntax is a typo: the texts are not templates.
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_AS_OF = re.compile(r"(\d{4})-(\d{2})")
_EARLIEST_YEAR = 2000  # a typo guard: no platform fact here predates this


class Certainty(StrEnum):
    """How sure a platform fact is (the markers of domain.md section 9)."""

    CONFIRMED = "confirmed"  # [R]: read in a stored copy of the source named
    REPORTED = "reported"  # [?]: secondary or possibly outdated; said with care
    UNCHECKED = "unchecked"  # [†]: well known, not re-checked; the user is told to look


class Topic(StrEnum):
    """What a platform fact is about (the playbook shows facts in the order of the file)."""

    PAUSE = "pause"  # a reversible break: deactivate, hide, hibernate, unpublish
    DELETE = "delete"  # deleting for good, and how long it can be undone
    HANDLE = "handle"  # the name, the address, and what inactivity costs
    EXPORT = "export"  # keeping a copy before anything is deleted
    REPLY = "reply"  # messages that still arrive: auto-replies, redirects


@dataclass(frozen=True, order=True)
class YearMonth:
    """A month such as 2026-12: when a fact was last checked."""

    year: int
    month: int

    def __str__(self) -> str:
        """Written as in the file: ``2026-12``."""
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class GeneralStep:
    """A step for leaving any channel; the texts may name ``{{ kept }}`` and ``{{ channel }}``."""

    id: str
    text: Localized
    sources: tuple[str, ...]


@dataclass(frozen=True)
class PlatformFact:
    """One dated, sourced rule of one platform."""

    topic: Topic
    certainty: Certainty
    as_of: YearMonth
    text: Localized
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Tip:
    """Advice for one channel that is no platform rule (so it needs no date)."""

    text: Localized
    sources: tuple[str, ...]


@dataclass(frozen=True)
class InactivityRule:
    """A platform's stated inactivity rule: log in within ``days`` or ``risk`` happens.

    It drives the handle heartbeat (``bot.core.exits``): a reminder ``remind_before`` days
    before the window ends. Only a checked rule may (confirmed or reported, never unchecked).
    """

    days: int
    remind_before: int
    certainty: Certainty
    as_of: YearMonth
    risk: Localized  # what may happen, finishing "or ...": "the username may be reset"
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Playbook:
    """How to leave one channel: its own tips and its platform facts, each list in file order."""

    channel: str
    tips: tuple[Tip, ...]
    facts: tuple[PlatformFact, ...]
    inactivity: InactivityRule | None = None  # None: the platform states no such rule


@dataclass(frozen=True)
class SunsetRules:
    """The validated file: the general steps and one playbook per channel of the catalogue."""

    general: tuple[GeneralStep, ...]
    playbooks: tuple[Playbook, ...]

    def playbook(self, channel_id: str) -> Playbook:
        """Return the playbook of ``channel_id``; KeyError if there is none."""
        for playbook in self.playbooks:
            if playbook.channel == channel_id:
                return playbook
        raise KeyError(channel_id)


def fill(text: str, **values: str) -> str:
    """Put ``values`` in for the ``{{ name }}`` placeholders of a (checked) text."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


# ---- checking -----------------------------------------------------------------------------------


def _check_placeholders(text: Localized, name: str, where: str, problems: Problems) -> bool:
    """Only ``{{ kept }}`` and ``{{ channel }}`` may be filled in; no other template syntax."""
    allowed = " and ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS)
    ok = True
    for lang in LANGUAGES:
        value = text[lang]
        for match in _PLACEHOLDER.finditer(value):
            if match.group(1) not in PLACEHOLDERS:
                problems.add(
                    where,
                    f"{name}.{lang} uses '{match.group(0)}'; only {allowed} can be filled in",
                )
                ok = False
        if _TEMPLATE_SYNTAX.search(_PLACEHOLDER.sub("", value)):
            problems.add(
                where,
                f"{name}.{lang} has a stray '{{{{', '{{%' or similar; write {allowed} exactly",
            )
            ok = False
    return ok


def _text(raw: dict[str, Any], where: str, problems: Problems) -> Localized | None:
    text = _localized(raw.get("text"), "text", where, problems) if "text" in raw else None
    if text is not None and not _check_placeholders(text, "text", where, problems):
        return None
    return text


def _as_of(raw: Any, where: str, problems: Problems) -> YearMonth | None:
    """``as_of: "2026-12"``: a year and a month.

    Deliberately not compared with the clock: a device that boots with a wrong date must not
    refuse the shipped content.
    """
    match = _AS_OF.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        problems.add(where, f"as_of must be a year and a month written like 2026-12, got {raw!r}")
        return None
    as_of = YearMonth(int(match.group(1)), int(match.group(2)))
    if as_of.year < _EARLIEST_YEAR:
        problems.add(where, f"as_of {as_of} cannot be right: it is the month a fact was checked")
        return None
    return as_of


def _topic(raw: Any, where: str, problems: Problems) -> Topic | None:
    if raw in tuple(Topic):
        return Topic(raw)
    problems.add(where, f"topic {raw!r} is unknown; use one of {', '.join(Topic)}")
    return None


def _certainty(raw: Any, where: str, problems: Problems) -> Certainty | None:
    if raw in tuple(Certainty):
        return Certainty(raw)
    problems.add(where, f"certainty {raw!r} is unknown; use one of {', '.join(Certainty)}")
    return None


def _fact_sources(
    raw: Any, certainty: Certainty | None, where: str, known: set[str], problems: Problems
) -> tuple[str, ...] | None:
    """Source keys; only an unchecked fact (domain.md's [†]) may have none."""
    if certainty is Certainty.UNCHECKED and raw == []:
        return ()
    before = problems.count
    keys = _source_keys(raw, "sources", where, known, problems)
    if certainty is Certainty.UNCHECKED and problems.count > before:
        problems.add(where, "an unchecked fact may have 'sources: []' when no source exists")
    return keys if problems.count == before else None


def _parse_fact(raw: Any, where: str, known: set[str], problems: Problems) -> PlatformFact | None:
    if not isinstance(raw, dict):
        problems.add(where, "must be a mapping with topic, certainty, as_of, text and sources")
        return None
    before = problems.count
    _check_keys(raw, ("topic", "certainty", "as_of", "text", "sources"), (), where, problems)
    topic = _topic(raw["topic"], where, problems) if "topic" in raw else None
    certainty = _certainty(raw["certainty"], where, problems) if "certainty" in raw else None
    as_of = _as_of(raw["as_of"], where, problems) if "as_of" in raw else None
    text = _text(raw, where, problems)
    sources = (
        _fact_sources(raw["sources"], certainty, where, known, problems)
        if "sources" in raw
        else None
    )
    if (
        problems.count != before
        or topic is None
        or certainty is None
        or as_of is None
        or text is None
        or sources is None
    ):
        return None
    return PlatformFact(topic, certainty, as_of, text, sources)


def _parse_tip(raw: Any, where: str, known: set[str], problems: Problems) -> Tip | None:
    if not isinstance(raw, dict):
        problems.add(where, "must be a mapping with text (and sources, if there are any)")
        return None
    before = problems.count
    _check_keys(raw, ("text",), ("sources",), where, problems)
    text = _text(raw, where, problems)
    sources = (
        _source_keys(raw["sources"], "sources", where, known, problems) if "sources" in raw else ()
    )
    if problems.count != before or text is None:
        return None
    return Tip(text, sources)


# The longest window a platform rule could plausibly have: a typo guard (ten years).
_MAX_WINDOW_DAYS = 3650


def _whole_days(raw: dict[str, Any], key: str, where: str, problems: Problems) -> int | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_WINDOW_DAYS:
        problems.add(where, f"{key} must be a whole number of days from 1 to {_MAX_WINDOW_DAYS}")
        return None
    return value


def _parse_inactivity(
    raw: Any, where: str, known: set[str], problems: Problems
) -> InactivityRule | None:
    """``inactivity:`` of a channel: the window, when to remind, and the rule's evidence."""
    where = f"{where}: inactivity"
    if not isinstance(raw, dict):
        problems.add(
            where,
            "must be a mapping with days, remind_before_days, certainty, as_of, risk and sources",
        )
        return None
    before = problems.count
    keys = ("days", "remind_before_days", "certainty", "as_of", "risk", "sources")
    _check_keys(raw, keys, (), where, problems)
    days = _whole_days(raw, "days", where, problems) if "days" in raw else None
    lead = (
        _whole_days(raw, "remind_before_days", where, problems)
        if "remind_before_days" in raw
        else None
    )
    if days is not None and lead is not None and lead >= days:
        problems.add(where, "remind_before_days must be fewer than days: it comes inside")
    certainty = _certainty(raw["certainty"], where, problems) if "certainty" in raw else None
    if certainty is Certainty.UNCHECKED:
        problems.add(
            where,
            "an unchecked rule sends no reminders; check it (confirmed or reported) or remove it",
        )
    as_of = _as_of(raw["as_of"], where, problems) if "as_of" in raw else None
    risk = _localized(raw["risk"], "risk", where, problems) if "risk" in raw else None
    if risk is not None and not _check_placeholders(risk, "risk", where, problems):
        risk = None
    sources = (
        _source_keys(raw["sources"], "sources", where, known, problems) if "sources" in raw else ()
    )
    if (
        problems.count != before
        or days is None
        or lead is None
        or certainty is None
        or as_of is None
        or risk is None
    ):
        return None
    return InactivityRule(days, lead, certainty, as_of, risk, sources)


def _items(raw: dict[str, Any], key: str, where: str, problems: Problems) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        problems.add(where, f"{key} must be a list (start each entry with '- ')")
        return []
    return value


def _parse_playbook(
    raw: dict[str, Any], channel_id: str, known: set[str], problems: Problems
) -> Playbook | None:
    where = f"channel '{channel_id}'"
    before = problems.count
    _check_keys(raw, ("channel",), ("tips", "facts", "inactivity"), where, problems)
    tips = [
        _parse_tip(item, f"{where}: tip number {index}", known, problems)
        for index, item in enumerate(_items(raw, "tips", where, problems), 1)
    ]
    facts = [
        _parse_fact(item, f"{where}: fact number {index}", known, problems)
        for index, item in enumerate(_items(raw, "facts", where, problems), 1)
    ]
    inactivity = (
        _parse_inactivity(raw["inactivity"], where, known, problems)
        if "inactivity" in raw
        else None
    )
    if not tips and not facts:
        problems.add(where, "needs 'tips' or 'facts' (or both): say something about leaving it")
    if problems.count != before:
        return None
    return Playbook(
        channel_id,
        tuple(tip for tip in tips if tip is not None),
        tuple(fact for fact in facts if fact is not None),
        inactivity,
    )


# ---- the file -----------------------------------------------------------------------------------


def _sections(raw: Any, problems: Problems) -> tuple[list[Any], list[Any]]:
    """The lists under ``general:`` and ``channels:``."""
    if isinstance(raw, _Unreadable):
        return [], []
    if not isinstance(raw, dict):
        problems.add(None, "must start with 'general:' and 'channels:', each with a list")
        return [], []
    unknown = sorted(str(k) for k in raw if k not in ("general", "channels"))
    if unknown:
        problems.add(None, f"has unknown top-level keys {unknown}; use general and channels")
    lists = []
    for key in ("general", "channels"):
        value = raw.get(key)
        if not isinstance(value, list) or not value:
            problems.add(None, f"'{key}' must be a non-empty list of entries")
            value = []
        lists.append(value)
    return lists[0], lists[1]


def _general(entries: list[Any], known: set[str], problems: Problems) -> tuple[GeneralStep, ...]:
    steps: list[GeneralStep] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries, 1):
        step_id = _entry_id(raw, "general step", index, problems, seen)
        if step_id is None:
            continue
        where = f"general step '{step_id}'"
        before = problems.count
        _check_keys(raw, ("id", "text", "sources"), (), where, problems)
        text = _text(raw, where, problems)
        sources = _source_keys(raw.get("sources"), "sources", where, known, problems)
        if text is not None and problems.count == before:
            steps.append(GeneralStep(step_id, text, sources))
    return tuple(steps)


def _playbooks(
    entries: list[Any], catalogue: Catalogue, problems: Problems
) -> tuple[Playbook, ...]:
    known = {source.key for source in catalogue.sources}
    channel_ids = [channel.id for channel in catalogue.channels]
    playbooks: list[Playbook] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries, 1):
        channel_id = raw.get("channel") if isinstance(raw, dict) else None
        if not isinstance(channel_id, str) or channel_id not in channel_ids:
            problems.add(
                f"channel number {index}",
                f"channel {channel_id!r} is not a channel id of channels.yaml; use one of "
                + ", ".join(channel_ids),
            )
            continue
        if channel_id in seen:
            problems.add(f"channel '{channel_id}'", "has a second playbook; keep one")
            continue
        seen.add(channel_id)
        playbook = _parse_playbook(raw, channel_id, known, problems)
        if playbook is not None:
            playbooks.append(playbook)
    for channel_id in channel_ids:
        if channel_id not in seen:
            problems.add(
                f"channel '{channel_id}'",
                "has no playbook; add an entry '- channel: " + channel_id + "' with tips or facts",
            )
    return tuple(playbooks)


def load_sunset(rules_dir: Path, catalogue: Catalogue) -> SunsetRules:
    """Load and validate ``sunset.yaml`` in ``rules_dir`` against the (valid) ``catalogue``.

    Raises:
        RulesError: listing every problem found, each naming file, entry and problem.
    """
    path = rules_dir / SUNSET_FILE
    problems = Problems(shown_path(path, rules_dir.resolve().parent.parent))
    general_raw, channels_raw = _sections(_load_yaml(path, problems), problems)
    known = {source.key for source in catalogue.sources}
    general = _general(general_raw, known, problems)
    playbooks = _playbooks(channels_raw, catalogue, problems)
    if problems.items:
        raise RulesError(problems.items)
    return SunsetRules(general=general, playbooks=playbooks)
