"""Flow files (``prompts/flows/*.yaml``) parsed into typed, validated ``Flow`` and ``Step`` models.

A flow is an ordered list of steps. Each step says something (a template), may ask something
(``ask``), may save the answer under a name, and says where to go next: a step id, or an ordered
list of ``{when: <condition>, goto: <step>}`` rules ending in a ``{goto: <step>}`` default.
Structural problems are collected as ``"<file>: step '<id>': <problem>"`` strings so that an
author sees every mistake at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ANSWERING_TYPES",
    "CATALOGUE_SOURCES",
    "ENDING_TYPES",
    "OPTION_SOURCES",
    "PLAN_SOURCES",
    "AskType",
    "Flow",
    "FlowError",
    "NextRule",
    "Option",
    "Step",
    "Then",
    "load_flow",
    "load_flows",
]

# Lists in the rules catalogue that a step may take its options from.
CATALOGUE_SOURCES = ("channels", "audiences", "goals")
# Lists from the user's own focus plan (for the weekly check-in).
PLAN_SOURCES = ("plan_kept", "plan_dropped")
OPTION_SOURCES = CATALOGUE_SOURCES + PLAN_SOURCES

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
MAX_ID_LENGTH = 20  # ids travel in Telegram callback data, which is limited to 64 bytes


class FlowError(ValueError):
    """A flow or its content is broken; ``problems`` lists every finding, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AskType(StrEnum):
    """What a step asks for."""

    CONTINUE = "continue"  # a statement with a "continue" button
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    NUMBER = "number"
    TEXT = "text"
    TIME_OF_DAY = "time_of_day"  # a local time such as 08:30
    TIMEZONE = "timezone"  # an IANA zone, from buttons or a typed city
    CHANNEL_GRID = "channel_grid"  # one fixed choice per channel of the plan, in one message
    SUMMARY = "summary"  # all answers, each changeable, then on
    PLAN = "plan"  # the focus plan; the end of onboarding
    FINISH = "finish"  # ends a side flow (check-in, settings): runs its action, says the result


ANSWERING_TYPES = frozenset(
    {
        AskType.SINGLE_CHOICE,
        AskType.MULTI_CHOICE,
        AskType.NUMBER,
        AskType.TEXT,
        AskType.TIME_OF_DAY,
        AskType.TIMEZONE,
        AskType.CHANNEL_GRID,
    }
)
# Steps that end a flow: no 'next'.
ENDING_TYPES = frozenset({AskType.PLAN, AskType.FINISH})


class Then(StrEnum):
    """What a finish step does after its message."""

    RESUME = "resume"  # ask the question the user was at before the side flow again
    QUIET = "quiet"  # say nothing more; the earlier question stays where it was


@dataclass(frozen=True)
class Option:
    """A fixed option of a choice step; ``label`` is a key in ``labels.yaml``."""

    id: str
    label: str


@dataclass(frozen=True)
class NextRule:
    """Go to ``goto`` when ``when`` (a Jinja expression over ``answers``) holds, else default."""

    goto: str
    when: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of a flow."""

    id: str
    say: str
    ask: AskType
    save: str | None = None
    next: tuple[NextRule, ...] = ()
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    min: float | None = None
    max: float | None = None
    suggestions: tuple[float, ...] = ()
    max_length: int | None = None
    edits: tuple[str, ...] = ()
    optional: bool = False
    action: str | None = None
    then: Then = Then.RESUME

    @property
    def is_choice(self) -> bool:
        """Tell whether the step is answered with option buttons."""
        return self.ask in (AskType.SINGLE_CHOICE, AskType.MULTI_CHOICE, AskType.CHANNEL_GRID)

    def targets(self) -> list[str]:
        """Every step this one can lead to."""
        return [rule.goto for rule in self.next] + list(self.edits)


@dataclass(frozen=True)
class Flow:
    """A validated flow: its steps by id, in file order."""

    id: str
    path: Path
    start: str
    steps: dict[str, Step] = field(default_factory=dict)

    def step(self, step_id: str) -> Step:
        """Return the step ``step_id``; KeyError if the flow has none."""
        return self.steps[step_id]

    def step_saving(self, answer: str) -> Step | None:
        """Return the step that saves ``answer``, if any."""
        return next((s for s in self.steps.values() if s.save == answer), None)


class _Problems:
    """Collects problems with the file and step they belong to."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, problem: str, step: str | None = None) -> None:
        prefix = f"{self.where}: step '{step}': " if step else f"{self.where}: "
        self.items.append(prefix + problem)


def _display(path: Path) -> str:
    """Show ``path`` relative to the working directory when that is shorter."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check_id(value: Any, what: str, problems: _Problems, step: str | None) -> bool:
    if not isinstance(value, str) or not value:
        problems.add(f"{what} must be a non-empty text", step)
        return False
    if not set(value) <= _ID_CHARS or len(value) > MAX_ID_LENGTH:
        problems.add(
            f"{what} '{value}' must use only a-z, 0-9 and _ and be at most "
            f"{MAX_ID_LENGTH} characters",
            step,
        )
        return False
    return True


def _parse_next(raw: Any, problems: _Problems, step: str) -> tuple[NextRule, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (NextRule(goto=raw),)
    if not isinstance(raw, list) or not raw:
        problems.add("'next' must be a step id or a list of {when, goto} rules", step)
        return ()
    rules: list[NextRule] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("goto"), str):
            problems.add(f"rule {index} of 'next' needs 'goto: <step id>'", step)
            continue
        unknown = set(item) - {"when", "goto"}
        if unknown:
            problems.add(f"rule {index} of 'next' has unknown keys: {sorted(unknown)}", step)
        when = item.get("when")
        if when is not None and (not isinstance(when, str) or not when.strip()):
            problems.add(f"rule {index} of 'next': 'when' must be a condition text", step)
            when = None
        rules.append(NextRule(goto=item["goto"], when=when))
    if rules and rules[-1].when is not None:
        problems.add("the last rule of 'next' must be a default without 'when'", step)
    for index, rule in enumerate(rules[:-1], start=1):
        if rule.when is None:
            problems.add(f"rule {index} of 'next' has no 'when', so later rules never apply", step)
    return tuple(rules)


def _parse_options(raw: Any, problems: _Problems, step: str) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add("'options' must be a list of {id, label}", step)
        return ()
    options: list[Option] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            problems.add("every option needs 'id' and 'label' (a key in labels.yaml)", step)
            continue
        if not _check_id(item.get("id"), "option id", problems, step):
            continue
        if item["id"] in seen:
            problems.add(f"option id '{item['id']}' appears twice", step)
            continue
        seen.add(item["id"])
        options.append(Option(id=item["id"], label=item["label"]))
    return tuple(options)


_STEP_KEYS = frozenset(
    {
        "id",
        "say",
        "ask",
        "save",
        "next",
        "options",
        "options_from",
        "min",
        "max",
        "suggestions",
        "max_length",
        "edits",
        "optional",
        "action",
        "then",
    }
)


def _number(raw: dict[str, Any], key: str, problems: _Problems, step: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(f"'{key}' must be a number", step)
        return None
    return float(value)


def _check_step_shape(step: Step, problems: _Problems) -> None:
    """Check that the keys a step has fit what it asks."""
    sid = step.id
    if step.ask in ANSWERING_TYPES and not step.save:
        problems.add(f"a {step.ask} step needs 'save: <answer name>'", sid)
    if step.is_choice:
        if not step.options and not step.options_from:
            # Fixed options may follow the catalogue ones, e.g. "none of these".
            problems.add("a choice step needs 'options', 'options_from' or both", sid)
        if step.options_from is not None and step.options_from not in OPTION_SOURCES:
            problems.add(
                f"options_from '{step.options_from}' is unknown; use one of "
                f"{', '.join(OPTION_SOURCES)}",
                sid,
            )
    elif step.options or step.options_from:
        problems.add(f"a {step.ask} step cannot have options", sid)
    if step.ask is AskType.NUMBER:
        if step.min is None or step.max is None:
            problems.add("a number step needs 'min' and 'max'", sid)
        elif step.min >= step.max:
            problems.add(f"'min' ({step.min:g}) must be below 'max' ({step.max:g})", sid)
        else:
            for value in step.suggestions:
                if not step.min <= value <= step.max:
                    problems.add(
                        f"suggestion {value:g} lies outside {step.min:g}..{step.max:g}", sid
                    )
    multi = step.ask is AskType.MULTI_CHOICE
    if multi and step.min is not None and step.max is not None and step.min > step.max:
        problems.add("'min' must not be above 'max'", sid)
    if step.ask is AskType.TEXT and (step.max_length is None or step.max_length < 1):
        problems.add("a text step needs 'max_length' (a positive whole number)", sid)
    if step.ask is AskType.SUMMARY and not step.edits:
        problems.add("a summary step needs 'edits': the steps whose answers can be changed", sid)
    if step.ask is AskType.CHANNEL_GRID and (step.options_from != "plan_kept" or not step.options):
        problems.add(
            "a channel_grid needs 'options_from: plan_kept' and 'options' to rate by", sid
        )
    if step.ask is AskType.TIME_OF_DAY:
        for value in step.suggestions:
            if not 0 <= value < 24:
                problems.add(f"suggestion {value:g} is not an hour of the day (0 to 23.99)", sid)
    if step.optional and step.ask is not AskType.TEXT:
        problems.add("only a text step can be optional", sid)
    if step.action is not None and step.ask is not AskType.FINISH:
        problems.add("only a finish step can have an 'action'", sid)
    if step.ask in ENDING_TYPES and step.next:
        problems.add(f"a {step.ask} step ends the flow and cannot have 'next'", sid)
    if step.ask not in ENDING_TYPES and not step.next:
        problems.add("needs 'next' (only plan and finish steps end a flow)", sid)


def _parse_step(raw: Any, problems: _Problems, index: int) -> Step | None:
    if not isinstance(raw, dict):
        problems.add(f"step number {index} must be a mapping with 'id', 'say' and 'ask'")
        return None
    if not _check_id(raw.get("id"), f"step number {index}: id", problems, None):
        return None
    sid: str = raw["id"]
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        problems.add(f"unknown keys {sorted(unknown)}", sid)
    say = raw.get("say")
    if not isinstance(say, str) or not say:
        problems.add("needs 'say: <template name>'", sid)
        say = ""
    try:
        ask = AskType(raw.get("ask", ""))
    except ValueError:
        problems.add(
            f"'ask: {raw.get('ask')}' is unknown; use one of "
            + ", ".join(a.value for a in AskType),
            sid,
        )
        return None
    save = raw.get("save")
    if save is not None and not _check_id(save, "save", problems, sid):
        save = None
    suggestions_raw = raw.get("suggestions", [])
    if not isinstance(suggestions_raw, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in suggestions_raw
    ):
        problems.add("'suggestions' must be a list of numbers", sid)
        suggestions_raw = []
    edits_raw = raw.get("edits", [])
    if not isinstance(edits_raw, list) or not all(isinstance(v, str) for v in edits_raw):
        problems.add("'edits' must be a list of step ids", sid)
        edits_raw = []
    action = raw.get("action")
    if action is not None and not isinstance(action, str):
        problems.add("'action' must be the name of an action", sid)
        action = None
    try:
        then = Then(raw.get("then", Then.RESUME))
    except ValueError:
        problems.add(f"'then: {raw.get('then')}' is unknown; use resume or quiet", sid)
        then = Then.RESUME
    max_length = raw.get("max_length")
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int)
    ):
        problems.add("'max_length' must be a whole number", sid)
        max_length = None
    step = Step(
        id=sid,
        say=say,
        ask=ask,
        save=save,
        next=_parse_next(raw.get("next"), problems, sid),
        options=_parse_options(raw.get("options"), problems, sid),
        options_from=raw.get("options_from"),
        min=_number(raw, "min", problems, sid),
        max=_number(raw, "max", problems, sid),
        suggestions=tuple(float(v) for v in suggestions_raw),
        max_length=max_length,
        edits=tuple(edits_raw),
        optional=bool(raw.get("optional", False)),
        action=action,
        then=then,
    )
    _check_step_shape(step, problems)
    return step


def _check_graph(flow: Flow, problems: _Problems) -> None:
    """Check targets exist, every step is reachable, and answer names are unique."""
    for step in flow.steps.values():
        for target in step.targets():
            if target not in flow.steps:
                problems.add(f"goes to '{target}', which is not a step of this flow", step.id)
        for target in step.edits:
            if target in flow.steps and flow.steps[target].ask not in ANSWERING_TYPES:
                problems.add(f"'edits' names '{target}', which asks for no answer", step.id)
    if flow.start not in flow.steps:
        problems.add(f"'start: {flow.start}' is not a step of this flow")
        return
    seen = {flow.start}
    queue = deque([flow.start])
    while queue:
        for target in flow.steps[queue.popleft()].targets():
            if target in flow.steps and target not in seen:
                seen.add(target)
                queue.append(target)
    for step_id in flow.steps:
        if step_id not in seen:
            problems.add(f"cannot be reached from the start step '{flow.start}'", step_id)
    savers: dict[str, str] = {}
    for step in flow.steps.values():
        if step.save and step.save in savers:
            problems.add(
                f"saves '{step.save}', which step '{savers[step.save]}' saves already", step.id
            )
        elif step.save:
            savers[step.save] = step.id


def load_flow(path: Path) -> tuple[Flow | None, list[str]]:
    """Parse and structurally validate one flow file; return the flow (if usable) and problems."""
    problems = _Problems(_display(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problems.add(f"is not valid YAML{line}: {getattr(error, 'problem', error)}")
        return None, problems.items
    except (OSError, UnicodeDecodeError) as error:
        problems.add(f"cannot be read: {error}")
        return None, problems.items
    if not isinstance(raw, dict):
        problems.add("must be a mapping with 'flow', 'start' and 'steps'")
        return None, problems.items
    unknown = set(raw) - {"flow", "start", "steps", "description"}
    if unknown:
        problems.add(f"unknown top-level keys {sorted(unknown)}")
    flow_id = raw.get("flow")
    if not _check_id(flow_id, "flow", problems, None):
        flow_id = path.stem
    start = raw.get("start")
    if not isinstance(start, str):
        problems.add("needs 'start: <step id>'")
        start = ""
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        problems.add("needs 'steps': a list of steps")
        return None, problems.items
    steps: dict[str, Step] = {}
    for index, step_raw in enumerate(steps_raw, start=1):
        step = _parse_step(step_raw, problems, index)
        if step is None:
            continue
        if step.id in steps:
            problems.add("the step id appears twice", step.id)
            continue
        steps[step.id] = step
    flow = Flow(id=str(flow_id), path=path, start=start, steps=steps)
    _check_graph(flow, problems)
    return flow, problems.items


def load_flows(flows_dir: Path) -> tuple[dict[str, Flow], list[str]]:
    """Load every ``*.yaml`` flow in ``flows_dir``; flow ids must be unique."""
    flows: dict[str, Flow] = {}
    problems: list[str] = []
    paths = sorted(flows_dir.glob("*.yaml"))
    if not paths:
        problems.append(f"{_display(flows_dir)}: no flow files (*.yaml) found")
    for path in paths:
        flow, found = load_flow(path)
        problems.extend(found)
        if flow is None:
            continue
        if flow.id in flows:
            problems.append(
                f"{_display(path)}: flow id '{flow.id}' is used by "
                f"{_display(flows[flow.id].path)} too"
            )
            continue
        flows[flow.id] = flow
    return flows, problems
