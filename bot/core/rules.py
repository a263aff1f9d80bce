"""The rules catalogue (``prompts/rules/*.yaml``): sources, audiences, goals and channels.

A coach who does not program edits these files, so loading is strict and talkative: every problem
is collected as ``"<file>: <where>: <problem>"`` (for example
``"prompts/rules/channels.yaml: channel 'tiktok': audience_fit lacks 'local'"``) and all of them
are raised together in one ``RulesError``, so an author sees every mistake at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeGuard, TypeVar

import yaml

from bot.core.problems import Problems, shown_path

__all__ = [
    "FIT_MAX",
    "FIT_MIN",
    "LABEL_MAX_LENGTH",
    "LANGUAGES",
    "UNITS",
    "Audience",
    "Catalogue",
    "Channel",
    "Effort",
    "Goal",
    "Localized",
    "RulesError",
    "Scoring",
    "Source",
    "load_catalogue",
]

LANGUAGES = ("de", "en")
FIT_MIN = 0  # a dash in the domain.md section 3 table: no fit
FIT_MAX = 3  # "●●●" in domain.md section 3: strong fit
LABEL_MAX_LENGTH = 30  # labels are Telegram buttons, which are narrow
SHORT_LABEL_MAX_LENGTH = 15  # a short name fits two buttons to a row, with a tick
MAX_ID_LENGTH = 20  # ids travel in Telegram callback data (64 bytes), as flow ids do
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_SOURCE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")

_T = TypeVar("_T")

SOURCES_FILE = "sources.yaml"
AUDIENCES_FILE = "audiences.yaml"
GOALS_FILE = "goals.yaml"
CHANNELS_FILE = "channels.yaml"
SCORING_FILE = "scoring.yaml"
_SOURCE_KINDS = ("audience", "goals", "effort")  # the keys of a channel's ``sources``


class RulesError(ValueError):
    """The rule files are broken; ``problems`` lists every finding, one per entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Localized:
    """A short text in every supported language; ``text[lang]`` picks one."""

    de: str
    en: str

    def __getitem__(self, lang: str) -> str:
        """Return the text in ``lang``; KeyError for an unsupported language."""
        if lang not in LANGUAGES:
            raise KeyError(lang)
        return str(getattr(self, lang))


@dataclass(frozen=True)
class Source:
    """A source a judgement rests on: its key (``A23``), title, inline citation, where read."""

    key: str
    title: Localized
    short: Localized  # how a statement cites it inline: "Bitkom 2023"
    where: str


# What a channel produces; each has labels "unit_<id>" for its singular and plural.
UNITS = ("post", "video", "pin", "update", "issue", "episode")


@dataclass(frozen=True)
class Effort:
    """What a channel's minimum viable cadence costs (domain.md section 2)."""

    unit: str  # one of UNITS
    minutes_per_unit: float
    units_per_week: float
    reply_minutes_per_week: float

    @property
    def hours_per_week(self) -> float:
        """The hours a week of the whole cadence, replies included."""
        return (self.minutes_per_unit * self.units_per_week + self.reply_minutes_per_week) / 60


@dataclass(frozen=True)
class Audience:
    """A target audience segment the user can choose."""

    id: str
    label: Localized
    sources: tuple[str, ...]
    short: Localized | None = None  # the name on a narrow button


@dataclass(frozen=True)
class Goal:
    """A goal the user can choose; ``reply_overhead`` adds reply time to every channel's hours."""

    id: str
    label: Localized
    sources: tuple[str, ...]
    reply_overhead: float = 0.0
    short: Localized | None = None  # the name on a narrow button


@dataclass(frozen=True)
class Channel:
    """A channel: its fit (0..3) per audience and goal, its minimum cadence and what it costs."""

    id: str
    label: Localized
    video: bool
    effort: Effort
    cadence: Localized
    audience_fit: Mapping[str, int] = field(hash=False)
    goal_fit: Mapping[str, int] = field(hash=False)
    audience_sources: tuple[str, ...]
    goal_sources: tuple[str, ...]
    effort_sources: tuple[str, ...]
    note: Localized | None = None
    short: Localized | None = None  # the name on a narrow button ("X/Twitter")
    profile_minutes_per_month: float | None = None  # "profile only": findable, no posting
    needs_audience: bool = False  # reaches only people who know the user already

    @property
    def hours_per_week(self) -> float:
        """The hours a week its minimum viable cadence costs."""
        return self.effort.hours_per_week

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source key behind this channel: audience, goals, effort; each once, in order."""
        return tuple(
            dict.fromkeys((*self.audience_sources, *self.goal_sources, *self.effort_sources))
        )


@dataclass(frozen=True)
class Scoring:
    """How the plan chooses (``scoring.yaml``; its comments explain every number)."""

    min_fit: int
    audience_weight: float
    goal_weight: float
    in_use_bonus: float
    new_needs_audience_penalty: float
    no_new_below_hours: float
    text_only_below_hours: float
    buffer_share: float
    buffer_from_hours: float
    spare_note_from_hours: float
    ceilings: tuple[tuple[float, int], ...]  # (from hours, channels), highest first
    team_from_hours: float
    team_extra_channels: int
    max_channels: int
    max_new_channels: int
    profile_only_min_fit: int
    max_parked: int
    trigger_weeks_on_plan: int
    min_reply_minutes: float
    sources: Mapping[str, tuple[str, ...]] = field(hash=False)  # switching, buffer, focus, pace


@dataclass(frozen=True)
class Catalogue:
    """The validated rules, each list in file order."""

    sources: tuple[Source, ...]
    audiences: tuple[Audience, ...]
    goals: tuple[Goal, ...]
    channels: tuple[Channel, ...]
    scoring: Scoring

    def source(self, key: str) -> Source:
        """Return the source ``key``; KeyError if there is none."""
        return _find(self.sources, key, lambda s: s.key)

    def audience(self, audience_id: str) -> Audience:
        """Return the audience ``audience_id``; KeyError if there is none."""
        return _find(self.audiences, audience_id, lambda a: a.id)

    def goal(self, goal_id: str) -> Goal:
        """Return the goal ``goal_id``; KeyError if there is none."""
        return _find(self.goals, goal_id, lambda g: g.id)

    def channel(self, channel_id: str) -> Channel:
        """Return the channel ``channel_id``; KeyError if there is none."""
        return _find(self.channels, channel_id, lambda c: c.id)

    def channel_name(self, channel_id: str, lang: str) -> str:
        """The channel's name in ``lang``; its id if the catalogue no longer has it (a stored
        check-in or plan version may name a channel a coach has since removed)."""
        try:
            return str(self.channel(channel_id).label[lang])
        except KeyError:
            return channel_id


def _find(items: Iterable[_T], wanted: str, key: Callable[[_T], str]) -> _T:
    for item in items:
        if key(item) == wanted:
            return item
    raise KeyError(wanted)


# ---- validation helpers -----------------------------------------------------------------------


class _Unreadable:
    """Marks a file that could not be read or parsed (its problem is recorded already)."""


_UNREADABLE = _Unreadable()


def _load_yaml(path: Path, problems: Problems) -> Any:
    """Read one YAML file; ``_UNREADABLE`` (with a problem recorded) when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.add("file", "is missing")
        return _UNREADABLE
    except (OSError, UnicodeDecodeError) as error:
        problems.add("file", f"cannot be read: {error}")
        return _UNREADABLE
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problems.add(
            "file", f"is not valid YAML{line}: {getattr(error, 'problem', None) or error}"
        )
        return _UNREADABLE


def _entries(raw: Any, list_key: str, problems: Problems) -> list[Any]:
    """Return the list under the file's single top-level key (e.g. ``channels:``)."""
    if raw is _UNREADABLE:
        return []
    if raw is None:
        problems.add("file", f"is empty; it needs '{list_key}:' with a list of entries")
        return []
    if not isinstance(raw, dict):
        problems.add("file", f"must start with '{list_key}:' followed by a list of entries")
        return []
    unknown = sorted(str(k) for k in raw if k != list_key)
    if unknown:
        problems.add("file", f"has unknown top-level keys {unknown}; only '{list_key}' is allowed")
    entries = raw.get(list_key)
    if not isinstance(entries, list) or not entries:
        problems.add("file", f"'{list_key}' must be a non-empty list of entries")
        return []
    return entries


def _check_keys(
    raw: dict[str, Any],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    where: str,
    problems: Problems,
) -> bool:
    """Report missing and unknown keys; True when every required key is there."""
    missing = [key for key in required if key not in raw]
    for key in missing:
        problems.add(where, f"lacks '{key}'")
    unknown = sorted(str(k) for k in raw if k not in required and k not in optional)
    if unknown:
        problems.add(where, f"has unknown keys {unknown}")
    return not missing


def _valid_id(value: Any) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and set(value) <= _ID_CHARS
        and value[0].isalpha()
    )


def _entry_id(raw: Any, kind: str, index: int, problems: Problems, seen: set[str]) -> str | None:
    """Check an entry's ``id``; return it, or None when the entry cannot be used."""
    where = f"{kind} number {index}"
    if not isinstance(raw, dict):
        problems.add(where, "must be a mapping of keys and values (did you forget 'id:'?)")
        return None
    entry_id = raw.get("id")
    if not _valid_id(entry_id):
        problems.add(
            where,
            f"id {entry_id!r} must be a text of a-z, 0-9 and _, starting with a letter, "
            f"at most {MAX_ID_LENGTH} characters",
        )
        return None
    if entry_id in seen:
        problems.add(f"{kind} '{entry_id}'", "id appears twice")
        return None
    seen.add(entry_id)
    return entry_id


def _localized(
    raw: Any, name: str, where: str, problems: Problems, max_length: int | None = None
) -> Localized | None:
    """Parse ``{de: ..., en: ...}``; every language required, no others."""
    if not isinstance(raw, dict):
        problems.add(where, f"{name} must be a mapping with {' and '.join(LANGUAGES)}")
        return None
    ok = True
    for lang in LANGUAGES:
        text = raw.get(lang)
        if lang not in raw:
            problems.add(where, f"{name} lacks '{lang}'")
            ok = False
        elif not isinstance(text, str) or not text.strip():
            problems.add(where, f"{name}.{lang} must be a non-empty text")
            ok = False
        elif max_length is not None and len(text) > max_length:
            problems.add(
                where, f"{name}.{lang} is {len(text)} characters long; at most {max_length} fit"
            )
            ok = False
    unknown = sorted(str(k) for k in raw if k not in LANGUAGES)
    if unknown:
        problems.add(where, f"{name} has unknown languages {unknown}; use {', '.join(LANGUAGES)}")
        ok = False
    if not ok:
        return None
    return Localized(**{lang: str(raw[lang]) for lang in LANGUAGES})


def _source_keys(
    raw: Any, name: str, where: str, known: set[str] | None, problems: Problems
) -> tuple[str, ...]:
    """Parse a non-empty list of source keys; each must be in sources.yaml (when it loaded)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(k, str) for k in raw):
        problems.add(where, f"{name} must be a non-empty list of source keys, e.g. [A23, E]")
        return ()
    for key in raw:
        if known is not None and key not in known:
            problems.add(where, f"{name} cites unknown source '{key}' (not in {SOURCES_FILE})")
    return tuple(dict.fromkeys(raw))


def _fits(
    raw: Any,
    name: str,
    *,
    expected: tuple[str, ...] | None,
    kind: str,
    where: str,
    problems: Problems,
) -> dict[str, int]:
    """Parse ``{id: 0..3}`` covering exactly the ``expected`` ids (when they are known)."""
    if not isinstance(raw, dict):
        problems.add(
            where, f"{name} must be a mapping of {kind} id to a rating {FIT_MIN}..{FIT_MAX}"
        )
        return {}
    fits: dict[str, int] = {}
    for key, value in raw.items():
        if expected is not None and key not in expected:
            problems.add(where, f"{name} has unknown {kind} '{key}'")
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not FIT_MIN <= value <= FIT_MAX
        ):
            problems.add(
                where,
                f"{name} '{key}' must be a whole number {FIT_MIN}..{FIT_MAX}, got {value!r}",
            )
            continue
        fits[str(key)] = value
    for key in expected or ():
        if key not in raw:
            problems.add(where, f"{name} lacks '{key}'")
    return fits


def _positive_number(raw: Any, name: str, where: str, problems: Problems) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw > 0:
        problems.add(where, f"{name} must be a number above 0, got {raw!r}")
        return None
    return float(raw)


# ---- the four files ---------------------------------------------------------------------------


def _load_sources(path: Path, problems: Problems) -> tuple[Source, ...]:
    sources: list[Source] = []
    seen: set[str] = set()
    for index, raw in enumerate(_entries(_load_yaml(path, problems), "sources", problems), 1):
        where = f"source number {index}"
        if not isinstance(raw, dict):
            problems.add(where, "must be a mapping with key, title and where")
            continue
        key = raw.get("key")
        if not isinstance(key, str) or not key or not set(key) <= _SOURCE_KEY_CHARS:
            problems.add(where, f"key {key!r} must be capital letters, digits and '-'")
            continue
        where = f"source '{key}'"
        if key in seen:
            problems.add(where, "key appears twice")
            continue
        seen.add(key)
        ok = _check_keys(raw, ("key", "title", "where"), ("short",), where, problems)
        if "where" in raw and (not isinstance(raw["where"], str) or not raw["where"].strip()):
            problems.add(where, "where must be a non-empty text")
            ok = False
        title = _text_or_localized(raw.get("title"), "title", where, problems)
        short = _text_or_localized(raw.get("short", key), "short", where, problems, 30)
        if ok and title is not None and short is not None:
            sources.append(Source(key=key, title=title, short=short, where=raw["where"]))
    return tuple(sources)


def _text_or_localized(
    raw: Any, name: str, where: str, problems: Problems, max_length: int | None = None
) -> Localized | None:
    """One text for every language, or ``{de: ..., en: ...}``."""
    if isinstance(raw, str) and raw.strip():
        raw = dict.fromkeys(LANGUAGES, raw)
    return _localized(raw, name, where, problems, max_length)


def _load_audiences(
    path: Path, known_sources: set[str] | None, problems: Problems
) -> tuple[Audience, ...]:
    audiences: list[Audience] = []
    seen: set[str] = set()
    for index, raw in enumerate(_entries(_load_yaml(path, problems), "audiences", problems), 1):
        audience_id = _entry_id(raw, "audience", index, problems, seen)
        if audience_id is None:
            continue
        where = f"audience '{audience_id}'"
        before = problems.count
        _check_keys(raw, ("id", "label", "sources"), ("short",), where, problems)
        label = _localized(raw.get("label"), "label", where, problems, LABEL_MAX_LENGTH)
        short = _short_label(raw, label, where, problems)
        sources = _source_keys(raw.get("sources"), "sources", where, known_sources, problems)
        if label is not None and problems.count == before:
            audiences.append(Audience(id=audience_id, label=label, sources=sources, short=short))
    return tuple(audiences)


def _load_goals(
    path: Path, known_sources: set[str] | None, problems: Problems
) -> tuple[Goal, ...]:
    goals: list[Goal] = []
    seen: set[str] = set()
    for index, raw in enumerate(_entries(_load_yaml(path, problems), "goals", problems), 1):
        goal_id = _entry_id(raw, "goal", index, problems, seen)
        if goal_id is None:
            continue
        where = f"goal '{goal_id}'"
        before = problems.count
        _check_keys(raw, ("id", "label", "sources"), ("reply_overhead", "short"), where, problems)
        label = _localized(raw.get("label"), "label", where, problems, LABEL_MAX_LENGTH)
        short = _short_label(raw, label, where, problems)
        sources = _source_keys(raw.get("sources"), "sources", where, known_sources, problems)
        overhead = raw.get("reply_overhead", 0.0)
        if isinstance(overhead, bool) or not isinstance(overhead, int | float):
            problems.add(where, f"reply_overhead must be a number 0..1, got {overhead!r}")
        elif not 0 <= overhead <= 1:
            problems.add(where, f"reply_overhead must lie between 0 and 1, got {overhead!r}")
        if label is not None and problems.count == before:
            goals.append(
                Goal(
                    id=goal_id,
                    label=label,
                    sources=sources,
                    reply_overhead=float(overhead),
                    short=short,
                )
            )
    return tuple(goals)


_CHANNEL_KEYS = (
    "id",
    "label",
    "video",
    "effort",
    "cadence",
    "audience_fit",
    "goal_fit",
    "sources",
)
_EFFORT_KEYS = ("unit", "minutes_per_unit", "units_per_week", "reply_minutes_per_week")


def _effort(raw: Any, where: str, problems: Problems) -> Effort | None:
    """Parse a channel's ``effort`` block."""
    if not isinstance(raw, dict):
        problems.add(where, f"effort must be a mapping with {', '.join(_EFFORT_KEYS)}")
        return None
    before = problems.count
    _check_keys(raw, _EFFORT_KEYS, (), where, problems)
    unit = raw.get("unit")
    if "unit" in raw and unit not in UNITS:
        problems.add(where, f"effort.unit {unit!r} is unknown; use one of {', '.join(UNITS)}")
    minutes, units = (
        _positive_number(raw.get(key), f"effort.{key}", where, problems)
        for key in ("minutes_per_unit", "units_per_week")
    )
    replies = raw.get("reply_minutes_per_week")
    if isinstance(replies, bool) or not isinstance(replies, int | float) or replies < 0:
        problems.add(where, f"effort.reply_minutes_per_week must be 0 or more, got {replies!r}")
        return None
    if problems.count != before or minutes is None or units is None:
        return None
    return Effort(str(unit), minutes, units, float(replies))


def _channel_sources(
    raw: Any, where: str, known: set[str] | None, problems: Problems
) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        problems.add(where, f"sources must be a mapping with {', '.join(_SOURCE_KINDS)}")
        return {}
    unknown = sorted(str(k) for k in raw if k not in _SOURCE_KINDS)
    if unknown:
        problems.add(where, f"sources has unknown keys {unknown}; use {', '.join(_SOURCE_KINDS)}")
    parsed: dict[str, tuple[str, ...]] = {}
    for kind in _SOURCE_KINDS:
        if kind not in raw:
            problems.add(where, f"sources lacks '{kind}'")
            continue
        parsed[kind] = _source_keys(raw[kind], f"sources.{kind}", where, known, problems)
    return parsed


def _parse_channel(
    raw: dict[str, Any],
    channel_id: str,
    *,
    audience_ids: tuple[str, ...] | None,
    goal_ids: tuple[str, ...] | None,
    known_sources: set[str] | None,
    problems: Problems,
) -> Channel | None:
    where = f"channel '{channel_id}'"
    before = problems.count
    _check_keys(
        raw,
        _CHANNEL_KEYS,
        ("note", "short", "profile_minutes_per_month", "needs_audience"),
        where,
        problems,
    )
    needs_audience = raw.get("needs_audience", False)
    if not isinstance(needs_audience, bool):
        problems.add(where, f"needs_audience must be true or false, got {needs_audience!r}")
    label = _localized(raw.get("label"), "label", where, problems, LABEL_MAX_LENGTH)
    cadence = _localized(raw.get("cadence"), "cadence", where, problems)
    note = _localized(raw["note"], "note", where, problems) if "note" in raw else None
    short = _short_label(raw, label, where, problems)
    video = raw.get("video")
    if "video" in raw and not isinstance(video, bool):
        problems.add(where, f"video must be true or false, got {video!r}")
    effort = _effort(raw["effort"], where, problems) if "effort" in raw else None
    key = "profile_minutes_per_month"
    profile = _positive_number(raw[key], key, where, problems) if key in raw else None
    audience_fit = _fits(
        raw.get("audience_fit"),
        "audience_fit",
        expected=audience_ids,
        kind="segment",
        where=where,
        problems=problems,
    )
    goal_fit = _fits(
        raw.get("goal_fit"),
        "goal_fit",
        expected=goal_ids,
        kind="goal",
        where=where,
        problems=problems,
    )
    sources = _channel_sources(raw.get("sources"), where, known_sources, problems)
    if (
        problems.count != before
        or label is None
        or cadence is None
        or effort is None
        or not isinstance(video, bool)
    ):
        return None
    return Channel(
        id=channel_id,
        label=label,
        video=video,
        effort=effort,
        profile_minutes_per_month=profile,
        needs_audience=bool(needs_audience),
        cadence=cadence,
        audience_fit=MappingProxyType(audience_fit),
        goal_fit=MappingProxyType(goal_fit),
        audience_sources=sources["audience"],
        goal_sources=sources["goals"],
        effort_sources=sources["effort"],
        note=note,
        short=short,
    )


def _short_label(
    raw: dict[str, Any], label: Localized | None, where: str, problems: Problems
) -> Localized | None:
    """An optional ``short`` name (for narrow buttons): no longer than the label."""
    if "short" not in raw:
        return None
    short = _localized(raw["short"], "short", where, problems, SHORT_LABEL_MAX_LENGTH)
    if short is None or label is None:
        return short
    for lang in LANGUAGES:
        if len(short[lang]) > len(label[lang]):
            problems.add(where, f"short.{lang} must not be longer than label.{lang}")
    return short


def _load_channels(
    path: Path,
    audience_ids: tuple[str, ...] | None,
    goal_ids: tuple[str, ...] | None,
    known_sources: set[str] | None,
    problems: Problems,
) -> tuple[Channel, ...]:
    channels: list[Channel] = []
    seen: set[str] = set()
    entries = _entries(_load_yaml(path, problems), "channels", problems)
    for index, raw in enumerate(entries, 1):
        channel_id = _entry_id(raw, "channel", index, problems, seen)
        if channel_id is None:
            continue
        channel = _parse_channel(
            raw,
            channel_id,
            audience_ids=audience_ids,
            goal_ids=goal_ids,
            known_sources=known_sources,
            problems=problems,
        )
        if channel is not None:
            channels.append(channel)
    if entries and not any(raw.get("video") is False for raw in entries if isinstance(raw, dict)):
        # Under 2 h a week the plan is text and images only (domain.md section 6), and a plan
        # always keeps one channel, so at least one channel must do without video.
        problems.add("file", "needs at least one channel with 'video: false'")
    return tuple(channels)


_SCORING_NUMBERS = (
    "min_fit",
    "audience_weight",
    "goal_weight",
    "in_use_bonus",
    "new_needs_audience_penalty",
    "no_new_below_hours",
    "text_only_below_hours",
    "buffer_share",
    "buffer_from_hours",
    "spare_note_from_hours",
    "team_from_hours",
    "team_extra_channels",
    "max_channels",
    "max_new_channels",
    "profile_only_min_fit",
    "max_parked",
    "trigger_weeks_on_plan",
    "min_reply_minutes",
)
_SCORING_WHOLE = frozenset(
    {
        "min_fit",
        "team_extra_channels",
        "max_channels",
        "max_new_channels",
        "profile_only_min_fit",
        "max_parked",
    }
)
_SCORING_SOURCES = ("switching", "buffer", "focus", "pace")


def _load_scoring(
    path: Path, known_sources: set[str] | None, problems: Problems
) -> Scoring | None:
    raw = _load_yaml(path, problems)
    if raw is _UNREADABLE:
        return None
    body = raw.get("scoring") if isinstance(raw, dict) else None
    if not isinstance(body, dict):
        problems.add("file", "must start with 'scoring:' followed by the numbers")
        return None
    before = problems.count
    _check_keys(body, (*_SCORING_NUMBERS, "ceilings", "sources"), (), "scoring", problems)
    numbers: dict[str, Any] = {}
    for name in _SCORING_NUMBERS:
        value = body.get(name)
        whole = name in _SCORING_WHOLE
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            problems.add(name, f"must be a {'whole ' if whole else ''}number, got {value!r}")
        elif value < 0 or (name == "buffer_share" and value >= 1):
            problems.add(name, f"is out of range: {value!r}")
        else:
            numbers[name] = value
    ceilings = _ceilings(body.get("ceilings"), problems)
    sources = body.get("sources")
    if not isinstance(sources, dict) or set(sources) != set(_SCORING_SOURCES):
        problems.add("sources", f"must name the sources of {', '.join(_SCORING_SOURCES)}")
        return None
    cited = {
        kind: _source_keys(sources[kind], kind, "sources", known_sources, problems)
        for kind in _SCORING_SOURCES
    }
    if problems.count != before:
        return None
    return Scoring(**numbers, ceilings=ceilings, sources=MappingProxyType(cited))


def _ceilings(raw: Any, problems: Problems) -> tuple[tuple[float, int], ...]:
    """``[{from_hours, channels}, ...]``, highest first, ending at 0 hours."""
    if not isinstance(raw, list) or not raw:
        problems.add("ceilings", "must be a list of {from_hours, channels}")
        return ()
    bands: list[tuple[float, int]] = []
    for item in raw:
        hours = item.get("from_hours") if isinstance(item, dict) else None
        channels = item.get("channels") if isinstance(item, dict) else None
        if (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or isinstance(channels, bool)
            or not isinstance(channels, int)
            or channels < 1
        ):
            problems.add("ceilings", f"{item!r} needs from_hours (a number) and channels (1+)")
            continue
        bands.append((float(hours), channels))
    bands.sort(reverse=True)
    if bands and bands[-1][0] != 0:
        problems.add("ceilings", "the last band must start at from_hours: 0")
    return tuple(bands)


def load_catalogue(rules_dir: Path) -> Catalogue:
    """Load and validate the rule files in ``rules_dir`` (sources ... channels, scoring).

    Raises:
        RulesError: listing every problem found in any of the files.
    """
    found: list[str] = []

    def problems_for(name: str) -> Problems:
        return Problems(shown_path(rules_dir / name, rules_dir.resolve().parent.parent), found)

    source_problems = problems_for(SOURCES_FILE)
    sources = _load_sources(rules_dir / SOURCES_FILE, source_problems)
    # Cross-file checks only run against a file that loaded cleanly, so one broken file does
    # not bury its own message under hundreds of follow-up complaints.
    known_sources = {s.key for s in sources} if source_problems.count == 0 else None

    audience_problems = problems_for(AUDIENCES_FILE)
    audiences = _load_audiences(rules_dir / AUDIENCES_FILE, known_sources, audience_problems)
    audience_ids = tuple(a.id for a in audiences) if audience_problems.count == 0 else None

    goal_problems = problems_for(GOALS_FILE)
    goals = _load_goals(rules_dir / GOALS_FILE, known_sources, goal_problems)
    goal_ids = tuple(g.id for g in goals) if goal_problems.count == 0 else None

    channels = _load_channels(
        rules_dir / CHANNELS_FILE,
        audience_ids,
        goal_ids,
        known_sources,
        problems_for(CHANNELS_FILE),
    )
    scoring = _load_scoring(rules_dir / SCORING_FILE, known_sources, problems_for(SCORING_FILE))
    if found or scoring is None:
        raise RulesError(found)
    return Catalogue(
        sources=sources, audiences=audiences, goals=goals, channels=channels, scoring=scoring
    )
