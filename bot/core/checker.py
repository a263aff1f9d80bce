"""``focus-coach check``: validate everything in ``prompts/`` and load it as ``Content``.

A coach edits YAML and templates; this module tells them what they broke, naming the file, the
step and the problem. The bot runs the same checks at start-up and refuses a broken flow.
"""

from __future__ import annotations

import copy
import html
import re
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from markupsafe import Markup

from bot.core import (
    confirmations,
    cool_off_view,
    export_files,
    intentions,
    plan_versions_view,
    questions,
    week_view,
)
from bot.core.actions import ACTIONS, ActionContext
from bot.core.checkin_schedule import Reminder
from bot.core.checkin_stats import evaluate, history_weeks, latest_wins, load_advice
from bot.core.coaching import FocusPlan, PlanInput, build_plan
from bot.core.commands import COMMAND_LABELS, ENGINE_HELP, SESSION_COMMANDS
from bot.core.conditions import condition_names
from bot.core.content import OPTION_SOURCES, Content
from bot.core.content_seal import fingerprint, is_sealed, seal
from bot.core.cool_off import Outcome, PendingChange, effective_instant
from bot.core.cool_off_view import change_context
from bot.core.exit_view import exit_context, inactivity_rule, offer_heartbeat, start_exit
from bot.core.exits import Exit, Mode
from bot.core.flow_ids import (
    CHECKIN_FLOW,
    EXIT_MODE_ANSWER,
    NO_CREEP,
    NO_PRESSURE,
    NOT_ON_PLAN,
    ON_PLAN,
    ONBOARDING_FLOW,
    PARTLY,
    REQUIRED_FLOWS,
    SUNSET_ANSWER,
    SUNSET_FLOW,
    TEAM,
    check_flow_ids,
)
from bot.core.flow_model import AskType, Flow, FlowError, Step
from bot.core.flows import load_flows
from bot.core.focus_plan import DropReason, PlanChange, PressureNote, PressureStatus
from bot.core.keyboard_check import check_keyboards
from bot.core.message_banks import FEEDBACK_BANKS, bank_path, bank_problems
from bot.core.operator_status import sample_status_context
from bot.core.own_results import MIN_WEEKS
from bot.core.plan_changes import apply_creep_choice
from bot.core.plan_versions import adopt
from bot.core.plan_versions_view import history_versions
from bot.core.plan_view import PLAN_TEMPLATE, plan_context, plan_reply, sources_context
from bot.core.problems import shown_path
from bot.core.profile import profile_problems
from bot.core.progress import CHART_WEEKS, progress
from bot.core.progress_view import (
    CAPTION_LIMIT,
    CAPTION_TEMPLATE,
    CHART_LABEL_KEYS,
    caption_context,
    chart_texts,
)
from bot.core.question_view import render_question, user_context
from bot.core.results_view import own_results_context
from bot.core.rules import LANGUAGES, UNITS, Catalogue, RulesError, load_catalogue
from bot.core.state import DialogueState, UserState
from bot.core.sunset_rules import SunsetRules, load_sunset
from bot.core.templating import LABELS_FILE, TEMPLATE_SUFFIX, TextRenderer, make_environment
from bot.core.week_view import with_reasons

__all__ = ["check_prompts", "flow_to_mermaid", "load_content"]

_TAGS = re.compile(r"<[^>]+>")

# A fixed instant for sample renders, so a check never depends on the clock.
_SAMPLE_NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
_SAMPLE_REASON = next(iter(DropReason)).value

# Values every shared template (prompts/templates/<lang>/common/) may use.
_COMMON_SAMPLE: dict[str, Any] = {
    "command": "xyz",
    "limit": 4096,
    "minimum": 1,
    "maximum": 2,
    "low": 0.5,
    "high": 60,
    "question": Markup("<b>?</b>"),
    "answer": "LinkedIn",
    "letter": "z",
    "last": "f",
    "step": {"min": 0.5, "max": 60, "max_length": 200},
    "rows": [{"field": "Hours", "value": "3 h"}],
    "created_at": "2026-11-26T10:00:00+00:00",
    "flow": "checkin",
    "path": "/home/anna/.local/share/focus-coach/exports/fokus-coach-2026-11-27-100000.json",
    "folder": "/home/anna/.local/share/focus-coach/exports",
    "reason": "No space left on device",
    "sparkline": "▁▃▅█",
    # Every command any transport lists, so /help is rendered with each description.
    "commands": [command.as_context() for command in (*ENGINE_HELP, *SESSION_COMMANDS)],
}


# The streak contract with every part present (a week open, one to cover, one being made up,
# jokers used), so every line of /rules, the feedback and /history renders.
_CONTRACT_SAMPLE: dict[str, Any] = {
    "streak": 3,
    "on_plan": 9,
    "counted": 12,
    "score_weeks": 12,
    "jokers_per_quarter": 2,
    "jokers_left": 1,
    "quarter": "Q4",
    "joker_weeks": [45],
    "next_week": 49,
    "can_declare_next": True,
    "declared_next": True,
    "open": {"week_number": 47, "until": _SAMPLE_NOW, "this_week": False},
    "uncovered": {"week_number": 46, "can_joker": True, "make_up_week": 48},
    "repairing": {"week_number": 44, "by": 45, "action": "x", "due_now": False},
    "gaps": [
        {"week_number": n, "outcome": outcome}
        for n, outcome in enumerate(
            ("joker", "repaired", "repairing", "paused", "open", "missed"), start=40
        )
    ],
    "missed_recent": 1,
}


# Values a label may use: the texts, numbers and flags the code fills in.
_LABEL_SAMPLE: dict[str, Any] = {
    "text": "x",
    "value": 1.5,
    "field": "x",
    "rating": "x",
    "active": True,
    "names": "x",
    "channel": "x",
    "tolerance": 10,
    "gives_way": "x",
    "instead": "x",
    "day": "x",
    "time": "09:00",
    "dropped": "x",
    "obstacle": "x",
    "hours": 1.5,
    "on_plan": 3,
    "number": 48,
}


def _unsafe_names(tree: nodes.Node) -> list[str]:
    """Names and attributes starting with ``_``: the way into Python internals."""
    found: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Name):
            name = node.name
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            name = node.arg.value
        else:
            continue
        if name.startswith("_"):
            found.append(name)
    return found


def _check_template_files(templates_dir: Path, problems: list[str]) -> None:
    """Same template files in every language; each parses; none touches internals."""
    env = make_environment(templates_dir)
    names: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        folder = templates_dir / lang
        if not folder.is_dir():
            problems.append(f"{shown_path(folder)}: the folder for language '{lang}' is missing")
            names[lang] = set()
            continue
        names[lang] = {
            p.relative_to(folder).as_posix() for p in folder.rglob(f"*{TEMPLATE_SUFFIX}")
        }
        for name in sorted(names[lang]):
            path = folder / name
            try:
                tree = env.parse(path.read_text(encoding="utf-8"))
            except TemplateSyntaxError as error:
                problems.append(f"{shown_path(path)}: line {error.lineno}: {error.message}")
                continue
            for unsafe in _unsafe_names(tree):
                problems.append(
                    f"{shown_path(path)}: uses '{unsafe}'; names starting with _ are not allowed"
                )
    for lang in LANGUAGES:
        for other in LANGUAGES:
            for name in sorted(names[lang] - names[other]):
                problems.append(
                    f"{shown_path(templates_dir / other / name)}: missing ({lang}/{name} exists)"
                )


def _check_labels(texts: TextRenderer, templates_dir: Path, problems: list[str]) -> None:
    keys = {lang: texts.label_keys(lang) for lang in LANGUAGES}
    needed = (
        set(questions.LABEL_KEYS)
        | set(confirmations.LABEL_KEYS)
        | {f"language_{code}" for code in LANGUAGES}
        | {f"unit_{unit}" for unit in UNITS}
        | set(COMMAND_LABELS)
        | set(week_view.LABEL_KEYS)
        | set(plan_versions_view.LABEL_KEYS)
        | set(cool_off_view.LABEL_KEYS)
        | set(export_files.LABEL_KEYS)
        | set(intentions.LABEL_KEYS)
        | set(CHART_LABEL_KEYS)
    )
    for lang in LANGUAGES:
        path = shown_path(templates_dir / lang / LABELS_FILE)
        for key in sorted(needed - keys[lang]):
            problems.append(f"{path}: label '{key}' is missing")
        for other in LANGUAGES:
            for key in sorted(keys[other] - keys[lang] - needed):
                problems.append(f"{path}: label '{key}' is missing ({other} has it)")
        for key in sorted(keys[lang]):
            problems.extend(f"{path}: {problem}" for problem in texts.plural_problems(lang, key))
            # Every plural form is rendered, not only the one a sample count would pick.
            for form in texts.plural_forms(lang, key) or (None,):
                try:
                    texts.label_form(lang, key, form, **_LABEL_SAMPLE, count="2" if form else 1)
                except TemplateError as error:
                    problems.append(f"{path}: label '{key}': {error}")


def _sample_user(plan: FocusPlan, inputs: PlanInput | None = None) -> UserState:
    """A user with a plan, a weekly check-in and a few answered weeks, for rendering samples.

    With ``inputs``, the onboarding answers the plan was made from wait behind the side flow,
    so a check-in decision can change the plan (its feedback renders that branch too).
    """
    kept = {k.channel: ON_PLAN for k in plan.kept}
    # Exits from the channels left out: one under way, one done with its heartbeat running.
    exits: dict[str, Exit] = {}
    for channel, done in zip(plan.left_behind, (False, True), strict=False):
        started = _SAMPLE_NOW.date() - timedelta(days=20)
        found = Exit(channel, Mode.ANNOUNCE, started, ["announce_month", "pin"])
        if done:
            found.tick([step.id for step in found.steps], _SAMPLE_NOW, (30, 7))
        exits[channel] = found
    onboarding = None
    if inputs is not None:
        answers = {
            "channels": list(inputs.channels_used),
            "hours": inputs.hours,
            "audiences": list(inputs.audiences),
            "goals": list(inputs.goals),
            "team": TEAM if inputs.team else "alone",
            "pressure": inputs.pressure or NO_PRESSURE,
        }
        onboarding = DialogueState(flow=ONBOARDING_FLOW, step="plan", answers=answers)
    return UserState(
        user_id="check",
        lang=LANGUAGES[0],
        plan=plan.to_dict(),
        suspended=onboarding,
        reminder=Reminder(
            weekday=4,
            time="08:30",
            zone="Europe/Berlin",
            next_due=_SAMPLE_NOW,
            paused_until=_SAMPLE_NOW.date() + timedelta(weeks=2),  # the "paused" lines render
        ),
        pending_checkin={
            "week": "2026-W48",
            "late": True,
            "missed": ["2026-W47"],
            "snooze": False,
            "abandoned": True,
            "catch_up": True,
        },
        exits=exits,
        checkins=[
            {
                "week": f"2026-W{n}",
                "channels": kept,
                "hours": 2.0,
                "energy": 3,
                "budget": 2.0,
                "win": "x",
                "intention": "x",
                "obstacle": "x",
            }
            for n in (45, 46, 47)
        ],
    )


def _sample_answers(flow: Flow, content: Content, user: UserState) -> dict[str, Any]:
    """A valid answer for every step that saves one, each from its kind."""
    answers: dict[str, Any] = {}
    # Earlier answers are seen by later steps (which channel came back decides the choices).
    dialogue = DialogueState(flow=flow.id, step=flow.start, answers=answers)
    for step in flow.steps.values():
        if step.save:
            sample = questions.asked(content, user, dialogue, step)
            answers[step.save] = sample.kind.sample(sample)
    return dict(answers)


def _sample_plans(catalogue: Catalogue) -> list[FocusPlan]:
    """Plans that exercise every branch of the plan template."""
    inputs = _sample_inputs(catalogue)
    plans = [build_plan(i, catalogue) for i in inputs]
    return [*plans, _sample_changed_plan(plans[0], inputs[0], catalogue)]


def _sample_changed_plan(plan: FocusPlan, inputs: PlanInput, catalogue: Catalogue) -> FocusPlan:
    """``plan`` after a check-in where a dropped channel came back and the first kept one went
    (the "your choice" lines), that one being the channel the user felt they must be on."""
    back, gives_way = plan.left_behind[0], plan.kept[0].channel
    changed = apply_creep_choice(plan, inputs, catalogue, back, gives_way)
    if changed is None:
        raise RuntimeError("the sample plan offers no swap")
    pressure = PressureNote(gives_way, PressureStatus.DROPPED, DropReason.CHOICE)
    return replace(changed, pressure=pressure)


def _sample_inputs(catalogue: Catalogue) -> list[PlanInput]:
    """The answers of the sample plans."""
    channels = tuple(c.id for c in catalogue.channels)
    audiences = tuple(a.id for a in catalogue.audiences)
    goals = tuple(g.id for g in catalogue.goals)
    inputs = [
        PlanInput(channels, 1.0, audiences[:1], goals[:2], False, channels[0]),
        PlanInput(channels, 12.0, audiences[:2], goals[-2:], True, channels[-1]),
        PlanInput((), 3.0, audiences[-1:], goals[:1], False, None),
    ]
    inputs += [
        PlanInput(channels, hours, (audience,), (goal,), False, pressure)
        for hours in (1.0, 6.0)
        for audience in audiences[:4]
        for goal in goals[::3]
        for pressure in channels[::4]
    ]
    return inputs


def _render_step(
    content: Content, flow: Flow, step: Step, user: UserState, answers: dict[str, Any]
) -> None:
    """Render a step the way the engine would, in every language, also while editing."""
    for lang in LANGUAGES:
        sample = copy.deepcopy(user)
        sample.lang = lang
        dialogue = DialogueState(
            flow=flow.id,
            step=step.id,
            # The largest turn a long-lived user may reach keeps every button under 64 bytes.
            turn=10**9,
            history=["x"],
            answers=dict(answers),
            selection=[],
        )
        sample.dialogue = dialogue
        extra: dict[str, Any] = {}
        if step.action is not None:
            context = ActionContext(
                user=sample,
                answers=dialogue.answers,
                now=_SAMPLE_NOW,
                content=content,
                condition=content.texts.condition,
            )
            extra = ACTIONS[step.action](context)
            if extra.get("advice"):
                extra["advice_text"] = Markup("x")
        asked = questions.asked(content, sample, dialogue, step)
        # The contract's every line (a finish step's action gives its own).
        extra = {
            "contract": _CONTRACT_SAMPLE,
            "make_up": {"week_number": 46, "action": "x"},
            **extra,
        }
        render_question(asked, extra=extra)
        if questions.kind_of(step).shows_plan:
            render_question(asked, extra={**extra, "intro": True})  # the first, full menu
        dialogue.return_to = "x"
        render_question(asked, extra=extra)


def _check_step_texts(flow: Flow, step: Step, content: Content, problems: list[str]) -> None:
    """The step's template and option labels exist in every language."""
    where, texts = shown_path(flow.path), content.texts
    for lang in LANGUAGES:
        if step.say and not texts.has_template(lang, step.say):
            problems.append(
                f"{where}: step '{step.id}': template {lang}/{step.say}{TEMPLATE_SUFFIX} "
                "does not exist"
            )
        for option in step.options:
            if option.label not in texts.label_keys(lang):
                problems.append(
                    f"{where}: step '{step.id}': option '{option.id}': label "
                    f"'{option.label}' is missing in {lang}/{LABELS_FILE}"
                )
        if step.option_label and step.option_label not in texts.label_keys(lang):
            problems.append(
                f"{where}: step '{step.id}': option_label '{step.option_label}' is missing in "
                f"{lang}/{LABELS_FILE}"
            )
        for target in step.edits:
            save = flow.steps[target].save if target in flow.steps else None
            if save and f"field_{save}" not in texts.label_keys(lang):
                problems.append(
                    f"{where}: step '{step.id}': label 'field_{save}' is missing in "
                    f"{lang}/{LABELS_FILE}"
                )
    if step.options_from in OPTION_SOURCES and step.options:
        listed = {oid for oid, _ in content.listed_options(step, LANGUAGES[0])}
        for option in step.options:
            if option.id in listed:
                problems.append(
                    f"{where}: step '{step.id}': option id '{option.id}' is also a "
                    f"{step.options_from} id"
                )
    if step.narrow_to and flow.step_saving(step.narrow_to) is None:
        problems.append(
            f"{where}: step '{step.id}': narrow_to '{step.narrow_to}' is no answer of this flow"
        )
    if step.action is not None and step.action not in ACTIONS:
        problems.append(
            f"{where}: step '{step.id}': action '{step.action}' is unknown; use one of "
            + ", ".join(sorted(ACTIONS))
        )


def _check_conditions(
    flow: Flow, step: Step, content: Content, sample: dict[str, Any]
) -> list[str]:
    """Each condition of the step (``next`` rules, ``skip_when``, options' ``when``) evaluates
    over sample answers and stays out of internals."""
    where, found = shown_path(flow.path), []
    conditions = [
        *(rule.when for rule in step.next),
        step.skip_when,
        *(option.when for option in step.options),
    ]
    for when in conditions:
        if when is None:
            continue
        try:
            content.texts.condition(when)(sample)
        except (TemplateSyntaxError, UndefinedError, SecurityError, TemplateError, TypeError) as e:
            found.append(f"{where}: step '{step.id}': condition {when!r}: {e}")
            continue
        for unsafe in _unsafe_names(content.texts.env.parse(f"{{{{ {when} }}}}")):
            found.append(
                f"{where}: step '{step.id}': condition uses '{unsafe}'; names starting "
                "with _ are not allowed"
            )
    return found


def _check_flow_content(flow: Flow, content: Content, problems: list[str]) -> None:
    where = shown_path(flow.path)
    found: list[str] = []
    for step in flow.steps.values():
        _check_step_texts(flow, step, content, found)
    problems.extend(found)
    if found:
        return  # rendering would only repeat the problems above
    shows_plan = any(questions.kind_of(s).shows_plan for s in flow.steps.values())
    plans = _sample_plans(content.catalogue)
    user = _sample_user(plans[0], _sample_inputs(content.catalogue)[0])
    answers = _sample_answers(flow, content, user)
    rendered = True
    for step in flow.steps.values():
        problems.extend(
            _check_conditions(flow, step, content, condition_names(user, answers, _SAMPLE_NOW))
        )
        # A plan step is rendered with every sample plan; other steps with one.
        for plan in plans if questions.kind_of(step).shows_plan else plans[:1]:
            user.plan = plan.to_dict()
            try:
                _render_step(content, flow, step, user, answers)
            except (TemplateError, ValueError, KeyError, TypeError) as error:
                problems.append(f"{where}: step '{step.id}': template {step.say}: {error}")
                rendered = False
                break
    if rendered:  # a keyboard is measured only once its step renders
        user.plan = plans[0].to_dict()
        problems.extend(check_keyboards(content, flow, user, answers))
    if shows_plan:
        _check_plan_template(content, plans, where, problems)


def _check_plan_template(
    content: Content, plans: list[FocusPlan], where: str, problems: list[str]
) -> None:
    for plan in plans:
        for lang in LANGUAGES:
            # With a change waiting out its cool-off, too: its line on top renders.
            pending = _cool_off_sample(content, plan, lang)["change"]
            try:
                plan_reply(content, plan, lang)
                plan_reply(content, plan, lang, pending=pending)
            except (TemplateError, KeyError, TypeError) as error:
                problems.append(f"{where}: plan template {lang}/{PLAN_TEMPLATE}: {error}")
                return


def _check_side_flow_names(content: Content, templates_dir: Path, problems: list[str]) -> None:
    """Each side flow has a name the resume prompt can say ("your check-in")."""
    for flow in content.flows.values():
        if flow.id == ONBOARDING_FLOW:
            continue
        for lang in LANGUAGES:
            if f"flow_{flow.id}" not in content.texts.label_keys(lang):
                where = shown_path(templates_dir / lang / LABELS_FILE)
                problems.append(f"{where}: label 'flow_{flow.id}' is missing (names that flow)")


def _check_advice(content: Content, rules_path: Path, problems: list[str]) -> None:
    """Every advice rule's condition evaluates over sample stats, and its text exists."""
    stats = evaluate(
        [{"week": "2026-W48", "channels": {"x": ON_PLAN}, "hours": 3.0, "energy": 2}], 2.0
    ).as_context()
    for rule in content.advice:
        where = f"{shown_path(rules_path)}: advice '{rule.id}'"
        try:
            content.texts.condition(rule.when)({"stats": stats})
        except (TemplateError, TypeError) as error:
            problems.append(f"{where}: condition {rule.when!r}: {error}")
        for unsafe in _unsafe_names(content.texts.env.parse(f"{{{{ {rule.when} }}}}")):
            problems.append(
                f"{where}: condition uses '{unsafe}'; names starting with _ are not allowed"
            )
        for lang in LANGUAGES:
            if not content.texts.has_template(lang, f"advice/{rule.id}"):
                problems.append(f"{where}: template {lang}/advice/{rule.id}.j2 does not exist")


def _versioned_user(plan: FocusPlan, lang: str) -> UserState:
    """A user whose plan has three versions: first, after a check-in (a swap), after a review."""
    user = _sample_user(plan)
    user.lang = lang
    user.plan = None
    swap = {"week": "2026-W48", "channel": plan.kept[0].channel, "choice": plan.kept[0].channel}
    for reason, detail in (
        (PlanChange.FIRST, {}),
        (PlanChange.CHECKIN, swap),
        (PlanChange.REVIEW, {}),
    ):
        adopt(user, plan, reason=reason, now=_SAMPLE_NOW, inputs=None, detail=detail)
    return user


def _results_sample(content: Content, plan: FocusPlan, lang: str) -> dict[str, Any]:
    """/history's own results after enough weeks (the last channel doing best, so the orders
    differ), and hours won back from a dropped channel by each way of estimating them."""
    user = _sample_user(plan)
    user.lang = lang
    kept = [k.channel for k in plan.kept]
    user.checkins = [
        {
            "week": f"2026-W{n:02d}",
            "channels": dict.fromkeys(kept, ON_PLAN),
            "hours": 3.0,
            "budget": 2.0,
            "results": kept[-1:] + (kept[:1] if n == 1 else []),
        }
        for n in range(1, MIN_WEEKS + 2)
    ]
    channel = content.catalogue.channels[0]
    row = {
        "name": channel.label[lang],
        "since": _SAMPLE_NOW.date(),
        "weeks": 10,
        "crept": 1,
        "per_week": 2.5,
        "hours": 25.0,
        "cadence": channel.cadence[lang],
        "cites": ["x"],
    }
    return {
        "own_results": own_results_context(content, user),
        "reclaimed": {"channels": [{**row, "own": True}, {**row, "own": False}], "hours": 50.0},
    }


def _template_sample(content: Content, lang: str) -> dict[str, Any]:
    """Values for templates that no flow step renders: hints, prompts, history, export."""
    plan = _sample_plans(content.catalogue)[0]
    user = _sample_user(plan)
    user.lang = lang
    exit_sample = _sample_heartbeat(content, user)
    stats = with_reasons(content, lang, evaluate(user.checkins, plan.hours_planned).as_context())
    # One week of each status, every reason shown: each line of /history renders.
    kept = [k.channel for k in plan.kept]
    records = [
        *user.checkins,
        {
            "week": "2026-W48",
            "channels": dict.fromkeys(kept, PARTLY),
            "hours": 3.0,
            "budget": 2.0,
            "creep": plan.left_behind[0] if plan.left_behind else NO_CREEP,
        },
        {
            "week": "2026-W49",
            "channels": dict.fromkeys(kept, NOT_ON_PLAN),
            "hours": 0.0,
            "budget": 2.0,
        },
    ]
    return {
        **_COMMON_SAMPLE,
        **user_context(content, user),
        "plan": plan_context(content, plan, lang),
        **sources_context(content, plan, lang),
        "stats": stats,
        "weeks": [with_reasons(content, lang, week) for week in history_weeks(records, 2.0)],
        "wins": latest_wins(user.checkins),
        "versions": history_versions(content, _versioned_user(plan, lang), "Europe/Berlin"),
        **caption_context(content, lang, progress(records, 2.0)),
        "cool_off": _cool_off_sample(content, plan, lang),
        **_results_sample(content, plan, lang),
        "this_week": "2026-W48",
        "checkins": 3,
        "time": "19:00",
        "choice": "snooze_evening",
        "contract": _CONTRACT_SAMPLE,
        "joker": True,
        "week_number": 48,
        "tomorrow": True,
        "moved": True,
        "channel": "x",
        "deadline": _SAMPLE_NOW.date(),
        "exit": exit_sample,
        **sample_status_context(),  # the operator's /status (``operator_status``)
        # The comeback offer and its answers (``bot.core.comeback.comeback_context``).
        "comeback": {
            "missed": 2,
            "minimum": {
                "week": "2026-W49",
                "week_number": 49,
                "channels": ["LinkedIn"],
                "budget": 0.42,
                "why": "comeback",
                "unit": "post",
                "reply_minutes": 10,
            },
            "next_checkin": _SAMPLE_NOW,
        },
    }


def _cool_off_sample(content: Content, plan: FocusPlan, lang: str) -> dict[str, Any]:
    """A change replacing another, both with a channel making room: the longest cool-off note."""
    channels = [channel.id for channel in content.catalogue.channels]
    change = PendingChange(
        channel=channels[0],
        instead=channels[1],
        plan=plan.to_dict(),
        reason=PlanChange.CHECKIN,
        detail={},
        inputs=None,
        base_version=1,
        requested_at=_SAMPLE_NOW,
        effective_at=effective_instant(_SAMPLE_NOW, "Europe/Berlin"),
        others=(channels[2],),
    )
    return {
        "outcome": Outcome.REPLACED.value,
        "change": change_context(content, change, lang, "Europe/Berlin"),
        "previous": change_context(content, change, lang, "Europe/Berlin"),
        "left_out": {"name": "x", "why": "x", "cites": ["x"], "profile": True},
    }


def _sample_heartbeat(content: Content, user: UserState) -> dict[str, Any]:
    """A finished exit whose heartbeat is on screen (so its prompt renders in full); its view.

    The first channel with an inactivity rule, whether or not the sample plan drops it.
    """
    channel = next(
        (p.channel for p in content.sunset.playbooks if p.inactivity is not None),
        content.catalogue.channels[0].id,
    )
    found = start_exit(user, content, channel, Mode.QUIET, _SAMPLE_NOW)
    rule = inactivity_rule(content, channel)
    found.tick(
        [step.id for step in found.steps],
        _SAMPLE_NOW,
        None if rule is None else (rule.days, rule.remind_before),
    )
    if found.heartbeat is not None:
        offer_heartbeat(user, channel, _SAMPLE_NOW + found.heartbeat.period)
    return exit_context(content, user, channel, _SAMPLE_NOW)


def _check_progress_texts(content: Content, templates_dir: Path, problems: list[str]) -> None:
    """The chart's words render, and the caption of a full chart fits in a Telegram caption.

    The longest caption: every week shown, each with the longest status word and wide numbers.
    Nothing is drawn here (that would load matplotlib at every start-up).
    """
    statuses = [
        {"channels": {"x": ON_PLAN}},
        {"channels": {"x": PARTLY}},
        {"channels": {"x": NOT_ON_PLAN}},
    ]
    records = [
        {"week": f"2026-W{n:02d}", "hours": 12.5, "budget": 10.5, **statuses[n % 3]}
        for n in range(1, CHART_WEEKS + 1)
    ]
    chart = progress(records, 10.5)
    for lang in LANGUAGES:
        where = shown_path(templates_dir / lang / f"{CAPTION_TEMPLATE}{TEMPLATE_SUFFIX}")
        try:
            chart_texts(content, lang, chart)
            caption = content.texts.render(
                lang, CAPTION_TEMPLATE, **caption_context(content, lang, chart)
            )
        except (TemplateError, KeyError, TypeError) as error:
            problems.append(f"{where}: {error}")
            continue
        shown = len(html.unescape(_TAGS.sub("", caption)))
        if shown > CAPTION_LIMIT:
            problems.append(
                f"{where}: {shown} characters for {CHART_WEEKS} weeks; a photo caption "
                f"holds {CAPTION_LIMIT}"
            )


def _check_playbooks(content: Content, problems: list[str]) -> None:
    """The playbook renders for every channel, and for none, in every language: first with
    the ways to leave it, then the exit started each way (its dated steps), then with the exit's
    progress; and the check-in's exit step with steps of two channels due.

    The flow check renders each step with one sample answer; playbooks differ per channel (tips
    only, facts of each certainty, an inactivity rule or none), so each one is rendered here.
    """
    flow = content.flows.get(SUNSET_FLOW)
    if flow is None:
        return  # reported as a missing flow
    plan = _sample_plans(content.catalogue)[0]
    channels: list[str | None] = [channel.id for channel in content.catalogue.channels]
    steps = [s for s in flow.steps.values() if s.ask is AskType.EXIT_OFFER or s.action]
    for channel_id, lang in ((c, lang) for c in [*channels, None] for lang in LANGUAGES):
        for mode in (*Mode, "tips"):
            user = _sample_user(plan)
            user.lang = lang
            if channel_id is not None:
                user.plan = {
                    **plan.to_dict(),
                    "dropped": [{"channel": channel_id, "reason": _SAMPLE_REASON, "sources": []}],
                }
            answers = {SUNSET_ANSWER: channel_id, EXIT_MODE_ANSWER: mode}
            for step in [*steps, *steps]:  # the second time round the exit has been started
                user.dialogue = DialogueState(flow=flow.id, step=step.id, answers=answers)
                extra: dict[str, Any] = {}
                if step.action is not None:
                    context = ActionContext(
                        user, answers, _SAMPLE_NOW, content, content.texts.condition
                    )
                    extra = ACTIONS[step.action](context)
                question = questions.asked(content, user, user.dialogue, step, now=_SAMPLE_NOW)
                try:
                    render_question(question, extra=extra)
                except (TemplateError, KeyError, TypeError) as error:
                    problems.append(
                        f"{shown_path(flow.path)}: step '{step.id}': template {lang}/{step.say} "
                        f"for channel {channel_id or '(none)'}: {error}"
                    )
                    return
    _check_exit_steps(content, plan, problems)


def _check_exit_steps(content: Content, plan: FocusPlan, problems: list[str]) -> None:
    """The check-in's exit step with steps of two channels due, and each step's label."""
    flow = content.flows.get(CHECKIN_FLOW)
    step = (
        None
        if flow is None
        else next((s for s in flow.steps.values() if s.ask is AskType.EXIT_STEPS), None)
    )
    if flow is None or step is None:
        return
    two = [channel.id for channel in content.catalogue.channels][:2]
    for lang in LANGUAGES:
        user = _sample_user(plan)
        user.lang = lang
        user.plan = {
            **plan.to_dict(),
            "dropped": [{"channel": c, "reason": _SAMPLE_REASON, "sources": []} for c in two],
        }
        for channel in two:
            start_exit(user, content, channel, Mode.ANNOUNCE, _SAMPLE_NOW - timedelta(days=40))
        user.dialogue = DialogueState(flow=flow.id, step=step.id)
        question = questions.asked(content, user, user.dialogue, step, now=_SAMPLE_NOW)
        try:
            render_question(question)
        except (TemplateError, KeyError, TypeError) as error:
            problems.append(
                f"{shown_path(flow.path)}: step '{step.id}': template {lang}/{step.say} "
                f"with steps due: {error}"
            )


def _load_sunset(prompts_dir: Path, catalogue: Catalogue, problems: list[str]) -> SunsetRules:
    """The playbooks; an empty set (with the problems recorded) when the file is broken."""
    try:
        return load_sunset(prompts_dir / "rules", catalogue)
    except RulesError as error:
        problems.extend(error.problems)
        return SunsetRules(general=(), playbooks=())


def _check_other_templates(content: Content, templates_dir: Path, problems: list[str]) -> None:
    """Render every template that no flow step names with a broad sample context."""
    step_templates = {s.say for f in content.flows.values() for s in f.steps.values()}
    for lang in LANGUAGES:
        sample = _template_sample(content, lang)
        folder = templates_dir / lang
        for path in sorted(folder.rglob(f"*{TEMPLATE_SUFFIX}")):
            name = path.relative_to(folder).with_suffix("").as_posix()
            if name in step_templates or name == PLAN_TEMPLATE:
                continue  # rendered with real sample plans and steps per flow
            try:
                content.texts.render(lang, name, **sample)
            except (TemplateError, TypeError) as error:
                problems.append(f"{shown_path(path)}: {error}")
            except KeyError as error:  # label() of a key labels.yaml lacks (/help computes keys)
                problems.append(f"{shown_path(path)}: label {error} is not in {LABELS_FILE}")


def _check_bank_sources(texts: TextRenderer, templates_dir: Path, problems: list[str]) -> None:
    """The message banks' files: shape, count, Jinja that parses and stays out of internals."""
    problems.extend(texts.bank_problems)
    problems.extend(bank_problems(texts.env, templates_dir, texts.banks))
    for lang, banks in texts.banks.items():
        for name, wordings in banks.items():
            for number, wording in enumerate(wordings, start=1):
                with suppress(TemplateSyntaxError):  # reported above
                    for unsafe in _unsafe_names(texts.env.parse(wording)):
                        problems.append(
                            f"{shown_path(bank_path(templates_dir, lang, name))}: wording "
                            f"{number}: uses '{unsafe}'; names starting with _ are not allowed"
                        )


def _feedback_sample(content: Content, lang: str) -> dict[str, Any]:
    """What the check-in feedback template sees after a sample check-in was recorded."""
    flow = content.flows[CHECKIN_FLOW]
    plans = _sample_plans(content.catalogue)
    user = _sample_user(plans[0], _sample_inputs(content.catalogue)[0])
    user.lang = lang
    answers = _sample_answers(flow, content, user)
    user.dialogue = DialogueState(flow=flow.id, step=flow.start, answers=answers)
    action = ActionContext(
        user=user,
        answers=answers,
        now=_SAMPLE_NOW,
        content=content,
        condition=content.texts.condition,
    )
    extra = ACTIONS["record_checkin"](action)
    return {
        **_template_sample(content, lang),
        **user_context(content, user),
        "answers": answers,
        **extra,
        "advice_text": Markup("x"),
    }


def _check_bank_wordings(content: Content, templates_dir: Path, problems: list[str]) -> None:
    """Every wording of every bank renders with what its template sees.

    A template renders only the user's current wording, so each one is rendered here: the
    feedback's banks with a recorded check-in, the others with the broad template sample.
    """
    texts = content.texts
    for lang in LANGUAGES:
        samples = {"feedback": _feedback_sample(content, lang)}
        samples["other"] = _template_sample(content, lang)
        for name, wordings in texts.banks.get(lang, {}).items():
            sample = samples["feedback" if name in FEEDBACK_BANKS else "other"]
            for number, wording in enumerate(wordings, start=1):
                try:
                    texts.env.from_string(wording).render(
                        **sample, lang=lang, label=partial(texts.label, lang)
                    )
                except (TemplateError, TypeError, KeyError) as error:
                    where = shown_path(bank_path(templates_dir, lang, name))
                    problems.append(f"{where}: wording {number}: {error}")


def check_prompts(prompts_dir: Path, *, sealed: bool = False) -> tuple[Content | None, list[str]]:
    """Validate all of ``prompts_dir``; return the content when it is usable and every problem.

    ``sealed``: this exact content passed before (``content_seal``): it is loaded and its
    structure checked, but not every template rendered with sample data again.
    """
    problems: list[str] = []
    try:
        catalogue = load_catalogue(prompts_dir / "rules")
    except RulesError as error:
        return None, list(error.problems)
    sunset = _load_sunset(prompts_dir, catalogue, problems)
    templates_dir = prompts_dir / "templates"
    _check_template_files(templates_dir, problems)
    try:
        texts = TextRenderer(templates_dir, LANGUAGES)
    except (OSError, ValueError) as error:
        problems.append(str(error))
        return None, problems
    _check_labels(texts, templates_dir, problems)
    _check_bank_sources(texts, templates_dir, problems)
    flows, flow_problems = load_flows(prompts_dir / "flows")
    problems.extend(flow_problems)
    if problems:
        return None, problems
    advice_path = prompts_dir / "rules" / "advice.yaml"
    advice, advice_problems = load_advice(advice_path)
    problems.extend(advice_problems)
    if problems:
        return None, problems
    content = Content(
        flows=flows, texts=texts, catalogue=catalogue, sunset=sunset, advice=tuple(advice)
    )
    problems.extend(check_flow_ids(flows))
    _check_side_flow_names(content, templates_dir, problems)
    for required in REQUIRED_FLOWS:
        if required not in flows:
            problems.append(
                f"{shown_path(prompts_dir / 'flows')}: the flow '{required}' is missing"
            )
    if sealed:
        return (None, problems) if problems else (content, [])
    for flow in flows.values():
        _check_flow_content(flow, content, problems)
    _check_advice(content, advice_path, problems)
    _check_playbooks(content, problems)
    _check_progress_texts(content, templates_dir, problems)
    _check_other_templates(content, templates_dir, problems)
    _check_bank_wordings(content, templates_dir, problems)
    for lang in LANGUAGES:
        # A profile text that does not render is reported above already; once is enough.
        with suppress(TemplateError):
            problems.extend(profile_problems(content.texts, lang))
    return (None, problems) if problems else (content, [])


def load_content(prompts_dir: Path) -> Content:
    """Load and validate the content; raise ``FlowError`` listing every problem.

    Content that passed the full check unchanged (``content_seal``) is not rendered again.
    """
    mark = fingerprint(prompts_dir)
    content, problems = check_prompts(prompts_dir, sealed=is_sealed(mark))
    if content is None:
        raise FlowError(problems)
    seal(mark)
    return replace(content, identity=mark)


def flow_to_mermaid(flow: Flow) -> str:
    """Draw a flow as a Mermaid diagram for authors."""
    lines = ["flowchart TD"]
    for step in flow.steps.values():
        lines.append(f'    {step.id}["{step.id}<br/><i>{step.ask}</i>"]')
    for step in flow.steps.values():
        for rule in step.next:
            label = "|" + rule.when.replace('"', "'") + "|" if rule.when else ""
            lines.append(f"    {step.id} -->{label} {rule.goto}")
        for target in step.edits:
            lines.append(f"    {step.id} -. change .-> {target}")
    return "\n".join(lines)
