"""Flow files (``prompts/flows/*.yaml``) parsed into typed, validated ``Flow`` and ``Step`` models.

A flow is an ordered list of steps. Each step says something (a template), may ask something
(``ask``), may save the answer under a name, and says where to go next: a step id, or an ordered
list of ``{when: <condition>, goto: <step>}`` rules ending in a ``{goto: <step>}`` default.
Structural problems are collected as ``"<file>: step '<id>': <problem>"`` strings so that an
author sees every mistake at once: the rules every step shares are here, each kind of question
adds its own (``bot.core.questions``).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import yaml

from bot.core.flow_model import AskType, Flow, NextRule, Option, Progress, Step, Then
from bot.core.plan_answers import PLAN_ANSWERS
from bot.core.problems import Problems, shown_path, step_at
from bot.core.questions import KINDS, kind_of

__all__ = ["MAX_ID_LENGTH", "load_flow", "load_flows"]

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
MAX_ID_LENGTH = 20  # ids travel in Telegram callback data, which is limited to 64 bytes

# What the plan needs from a flow with a plan step: each answer's kind and option source.
_PLAN_ANSWER_SHAPES: dict[str, tuple[AskType, str | None]] = {
    "channels": (AskType.MULTI_CHOICE, "channels"),
    "hours": (AskType.NUMBER, None),
    "audiences": (AskType.MULTI_CHOICE, "audiences"),
    "goals": (AskType.MULTI_CHOICE, "goals"),
    "team": (AskType.SINGLE_CHOICE, None),
    "pressure": (AskType.SINGLE_CHOICE, "channels"),
}


def _check_id(value: Any, what: str, problems: Problems, step: str | None) -> bool:
    if not isinstance(value, str) or not value:
        problems.add(step_at(step), f"{what} must be a non-empty text")
        return False
    if not set(value) <= _ID_CHARS or len(value) > MAX_ID_LENGTH:
        problems.add(
            step_at(step),
            f"{what} '{value}' must use only a-z, 0-9 and _ and be at most "
            f"{MAX_ID_LENGTH} characters",
        )
        return False
    return True


def _parse_next(raw: Any, problems: Problems, step: str) -> tuple[NextRule, ...]:
    at = step_at(step)
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (NextRule(goto=raw),)
    if not isinstance(raw, list) or not raw:
        problems.add(at, "'next' must be a step id or a list of {when, goto} rules")
        return ()
    rules: list[NextRule] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("goto"), str):
            problems.add(at, f"rule {index} of 'next' needs 'goto: <step id>'")
            continue
        unknown = set(item) - {"when", "goto"}
        if unknown:
            problems.add(at, f"rule {index} of 'next' has unknown keys: {sorted(unknown)}")
        when = item.get("when")
        if when is not None and (not isinstance(when, str) or not when.strip()):
            problems.add(at, f"rule {index} of 'next': 'when' must be a condition text")
            when = None
        rules.append(NextRule(goto=item["goto"], when=when))
    if rules and rules[-1].when is not None:
        problems.add(at, "the last rule of 'next' must be a default without 'when'")
    for index, rule in enumerate(rules[:-1], start=1):
        if rule.when is None:
            problems.add(at, f"rule {index} of 'next' has no 'when', so later rules never apply")
    return tuple(rules)


def _parse_options(raw: Any, problems: Problems, step: str) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(step_at(step), "'options' must be a list of {id, label}")
        return ()
    options: list[Option] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            problems.add(
                step_at(step), "every option needs 'id' and 'label' (a key in labels.yaml)"
            )
            continue
        if not _check_id(item.get("id"), "option id", problems, step):
            continue
        if item["id"] in seen:
            problems.add(step_at(step), f"option id '{item['id']}' appears twice")
            continue
        seen.add(item["id"])
        when = item.get("when")
        if when is not None and (not isinstance(when, str) or not when.strip()):
            problems.add(step_at(step), f"option '{item['id']}': 'when' must be a condition text")
            when = None
        unknown = set(item) - {"id", "label", "when"}
        if unknown:
            problems.add(step_at(step), f"option '{item['id']}': unknown key(s) {sorted(unknown)}")
        options.append(Option(id=item["id"], label=item["label"], when=when))
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
        "skip_when",
        "option_label",
        "narrow_to",
        "save_marks",
    }
)


def _skip_when(raw: dict[str, Any], problems: Problems, step: str) -> str | None:
    value = raw.get("skip_when")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problems.add(step_at(step), "'skip_when' must be a condition text")
        return None
    return value


def _name(raw: dict[str, Any], key: str, problems: Problems, step: str) -> str | None:
    """A label key or answer name under ``key``, if given."""
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problems.add(step_at(step), f"'{key}' must be a name")
        return None
    return value


def _number(raw: dict[str, Any], key: str, problems: Problems, step: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(step_at(step), f"'{key}' must be a number")
        return None
    return float(value)


_LISTED_CHOICES = (AskType.SINGLE_CHOICE, AskType.MULTI_CHOICE)


def _kinds_that(allowed: str) -> str:
    """Name the kinds with the class attribute ``allowed`` set: "a text", "a plan or finish"."""
    names = [ask.value for ask, kind in KINDS.items() if getattr(kind, allowed)]
    return "a " + " or ".join(names)


def _check_marks(step: Step, problems: Problems) -> None:
    """``save_marks`` belongs to a channel grid and names an answer of its own."""
    at = step_at(step.id)
    if step.save_marks and step.ask is not AskType.CHANNEL_GRID:
        problems.add(at, "only a channel_grid step takes 'save_marks'")
    if step.save_marks and step.save_marks == step.save:
        problems.add(at, "'save_marks' needs a name of its own, not the one of 'save'")


def _check_step_shape(step: Step, problems: Problems) -> None:
    """Check that the keys a step has fit what it asks: the common rules, then its kind's."""
    kind, at = kind_of(step), step_at(step.id)
    if kind.saves_answer and not step.save:
        problems.add(at, f"a {step.ask} step needs 'save: <answer name>'")
    if not kind.has_options and (step.options or step.options_from):
        problems.add(at, f"a {step.ask} step cannot have options")
    if (step.option_label or step.narrow_to) and step.ask not in _LISTED_CHOICES:
        problems.add(at, "only a single_choice or multi_choice step takes 'option_label'")
    if step.narrow_to and step.ask is not AskType.SINGLE_CHOICE:
        problems.add(at, "only a single_choice step takes 'narrow_to'")
    if (step.option_label or step.narrow_to) and not step.options_from:
        problems.add(at, "'option_label' and 'narrow_to' need 'options_from'")
    _check_marks(step, problems)
    if step.optional and not kind.allows_optional:
        problems.add(at, f"only {_kinds_that('allows_optional')} step can be optional")
    if step.action is not None and not kind.allows_action:
        problems.add(at, f"only {_kinds_that('allows_action')} step can have an 'action'")
    if step.edits and not kind.allows_edits:
        problems.add(at, f"only {_kinds_that('allows_edits')} step can have 'edits'")
    if kind.ends_flow and step.skip_when:
        problems.add(at, f"a {step.ask} step ends the flow and cannot be skipped ('skip_when')")
    if kind.ends_flow and step.next:
        problems.add(at, f"a {step.ask} step ends the flow and cannot have 'next'")
    if not kind.ends_flow and not step.next:
        names = " and ".join(ask.value for ask, k in KINDS.items() if k.ends_flow)
        problems.add(at, f"needs 'next' (only {names} steps end a flow)")
    kind.check(step, lambda problem: problems.add(at, problem))


def _list_of(raw: dict[str, Any], key: str, types: tuple[type, ...]) -> list[Any] | None:
    """The list under ``key`` if every item has one of ``types`` (bools are no numbers)."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, types) and not isinstance(v, bool) for v in value
    ):
        return None
    return value


def _finish_keys(
    raw: dict[str, Any], problems: Problems, at: str | None
) -> tuple[str | None, Then, int | None]:
    """``action``, ``then`` and ``max_length``, each dropped (and reported) when malformed."""
    action = raw.get("action")
    if action is not None and not isinstance(action, str):
        problems.add(at, "'action' must be the name of an action")
        action = None
    try:
        then = Then(raw.get("then", Then.RESUME))
    except ValueError:
        problems.add(at, f"'then: {raw.get('then')}' is unknown; use resume or quiet")
        then = Then.RESUME
    max_length = raw.get("max_length")
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int)
    ):
        problems.add(at, "'max_length' must be a whole number")
        max_length = None
    return action, then, max_length


def _parse_step(raw: Any, problems: Problems, index: int) -> Step | None:
    if not isinstance(raw, dict):
        problems.add(None, f"step number {index} must be a mapping with 'id', 'say' and 'ask'")
        return None
    if not _check_id(raw.get("id"), f"step number {index}: id", problems, None):
        return None
    sid: str = raw["id"]
    at = step_at(sid)
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        problems.add(at, f"unknown keys {sorted(unknown)}")
    say = raw.get("say")
    if not isinstance(say, str) or not say:
        problems.add(at, "needs 'say: <template name>'")
        say = ""
    try:
        ask = AskType(raw.get("ask", ""))
    except ValueError:
        known = ", ".join(a.value for a in AskType)
        problems.add(at, f"'ask: {raw.get('ask')}' is unknown; use one of {known}")
        return None
    save = raw.get("save")
    if save is not None and not _check_id(save, "save", problems, sid):
        save = None
    suggestions = _list_of(raw, "suggestions", (int, float))
    if suggestions is None:
        problems.add(at, "'suggestions' must be a list of numbers")
    edits = _list_of(raw, "edits", (str,))
    if edits is None:
        problems.add(at, "'edits' must be a list of step ids")
    action, then, max_length = _finish_keys(raw, problems, at)
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
        suggestions=tuple(float(v) for v in suggestions or ()),
        max_length=max_length,
        edits=tuple(edits or ()),
        optional=bool(raw.get("optional", False)),
        action=action,
        then=then,
        skip_when=_skip_when(raw, problems, sid),
        option_label=_name(raw, "option_label", problems, sid),
        narrow_to=_name(raw, "narrow_to", problems, sid),
        save_marks=_name(raw, "save_marks", problems, sid),
    )
    _check_step_shape(step, problems)
    return step


def _check_graph(flow: Flow, problems: Problems) -> None:
    """Check targets exist, every step is reachable, and answer names are unique."""
    for step in flow.steps.values():
        for target in step.targets():
            if target not in flow.steps:
                problems.add(
                    step_at(step.id), f"goes to '{target}', which is not a step of this flow"
                )
        for target in step.edits:
            if target in flow.steps and not kind_of(flow.steps[target]).saves_answer:
                problems.add(
                    step_at(step.id), f"'edits' names '{target}', which asks for no answer"
                )
    if flow.start not in flow.steps:
        problems.add(None, f"'start: {flow.start}' is not a step of this flow")
    else:
        _check_reachable(flow, problems)
    savers: dict[str, str] = {}
    for step in flow.steps.values():
        if step.save and step.save in savers:
            problems.add(
                step_at(step.id),
                f"saves '{step.save}', which step '{savers[step.save]}' saves already",
            )
        elif step.save:
            savers[step.save] = step.id


def _check_reachable(flow: Flow, problems: Problems) -> None:
    seen = {flow.start}
    queue = deque([flow.start])
    while queue:
        for target in flow.steps[queue.popleft()].targets():
            if target in flow.steps and target not in seen:
                seen.add(target)
                queue.append(target)
    for step_id in flow.steps:
        if step_id not in seen:
            problems.add(step_at(step_id), f"cannot be reached from the start step '{flow.start}'")


def _check_plan_answers(flow: Flow, problems: Problems) -> None:
    """A flow that shows the plan must collect its answers in the shape the plan reads."""
    if not any(kind_of(step).shows_plan for step in flow.steps.values()):
        return
    for name in PLAN_ANSWERS:
        step = flow.step_saving(name)
        ask, source = _PLAN_ANSWER_SHAPES[name]
        if step is None:
            problems.add(None, f"the plan step needs a step that saves '{name}'")
        elif step.ask is not ask or step.options_from != source:
            shape = f"a {ask}" + (f" with options_from: {source}" if source else "")
            problems.add(step_at(step.id), f"'{name}' must be {shape}")


def _main_path_progress(flow: Flow) -> dict[str, Progress]:
    """Number the questions met from the start when every step takes its default ``next``."""
    path: list[str] = []
    step_id: str | None = flow.start
    while step_id in flow.steps and step_id not in path:
        path.append(step_id)
        step = flow.steps[step_id]
        step_id = step.next[-1].goto if step.next else None
    questions = [s for s in path if kind_of(flow.steps[s]).saves_answer]
    return {s: Progress(number, len(questions)) for number, s in enumerate(questions, start=1)}


def load_flow(path: Path) -> tuple[Flow | None, list[str]]:
    """Parse and structurally validate one flow file; return the flow (if usable) and problems."""
    problems = Problems(shown_path(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problems.add(None, f"is not valid YAML{line}: {getattr(error, 'problem', error)}")
        return None, problems.items
    except (OSError, UnicodeDecodeError) as error:
        problems.add(None, f"cannot be read: {error}")
        return None, problems.items
    if not isinstance(raw, dict):
        problems.add(None, "must be a mapping with 'flow', 'start' and 'steps'")
        return None, problems.items
    unknown = set(raw) - {"flow", "start", "steps", "description"}
    if unknown:
        problems.add(None, f"unknown top-level keys {sorted(unknown)}")
    flow_id = raw.get("flow")
    if not _check_id(flow_id, "flow", problems, None):
        flow_id = path.stem
    start = raw.get("start")
    if not isinstance(start, str):
        problems.add(None, "needs 'start: <step id>'")
        start = ""
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        problems.add(None, "needs 'steps': a list of steps")
        return None, problems.items
    steps: dict[str, Step] = {}
    for index, step_raw in enumerate(steps_raw, start=1):
        step = _parse_step(step_raw, problems, index)
        if step is None:
            continue
        if step.id in steps:
            problems.add(step_at(step.id), "the step id appears twice")
            continue
        steps[step.id] = step
    flow = Flow(id=str(flow_id), path=path, start=start, steps=steps)
    _check_graph(flow, problems)
    _check_plan_answers(flow, problems)
    progress = _main_path_progress(flow) if flow.start in flow.steps else {}
    return Flow(flow.id, path, start, steps, progress), problems.items


def load_flows(flows_dir: Path) -> tuple[dict[str, Flow], list[str]]:
    """Load every ``*.yaml`` flow in ``flows_dir``; flow ids must be unique."""
    flows: dict[str, Flow] = {}
    problems: list[str] = []
    paths = sorted(flows_dir.glob("*.yaml"))
    if not paths:
        problems.append(f"{shown_path(flows_dir)}: no flow files (*.yaml) found")
    for path in paths:
        flow, found = load_flow(path)
        problems.extend(found)
        if flow is None:
            continue
        if flow.id in flows:
            problems.append(
                f"{shown_path(path)}: flow id '{flow.id}' is used by "
                f"{shown_path(flows[flow.id].path)} too"
            )
            continue
        flows[flow.id] = flow
    return flows, problems
