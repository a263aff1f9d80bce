"""Turn a user's state into replies: the question of a step, its buttons, summary and plan views.

Everything the user reads is rendered from templates; this module only assembles the context
and the buttons.
"""

from __future__ import annotations

from typing import Any

from bot.core.callbacks import Action, encode
from bot.core.coaching import FocusPlan
from bot.core.content import Content
from bot.core.flows import AskType, Step
from bot.core.messages import Button, Reply, ReplyKind
from bot.core.schedule import COMMON_ZONES, suggested_zone
from bot.core.state import DialogueState, UserState

__all__ = [
    "COMMAND_LABELS",
    "FIXED_LABELS",
    "GRID_UNRATED",
    "MENU_COMMANDS",
    "QuestionView",
    "format_hour",
    "grid_ratings",
    "plan_flow_target",
    "zone_label",
]

# Label keys the views use in every flow; the checker makes sure each language has them.
FIXED_LABELS = (
    "back",
    "continue",
    "done",
    "chosen",
    "ticked",
    "hours_value",
    "change",
    "show_plan",
    "show_plan_again",
    "change_answers",
    "restart",
    "restart_yes",
    "restart_no",
    "answer_none",
    "answer_skipped",
    "skip",
    "delete_yes",
    "delete_no",
    "grid_cell",
    "grid_unrated",
    "setup_checkin",
)
# Commands offered in a transport's menu, in menu order; each has a label "command_<name>".
MENU_COMMANDS = (
    "start",
    "plan",
    "checkin",
    "history",
    "settings",
    "back",
    "help",
    "language",
    "cancel",
    "export",
    "delete",
)
COMMAND_LABELS = tuple(f"command_{name}" for name in MENU_COMMANDS)
GRID_UNRATED = "unrated"

# A row holds two buttons when every label is short enough to read on a phone.
_SHORT_LABEL = 18


def _rows(buttons: list[Button]) -> list[tuple[Button, ...]]:
    """Lay buttons out two per row when their labels are short, else one per row."""
    if all(len(b.label) <= _SHORT_LABEL for b in buttons):
        return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    return [(b,) for b in buttons]


def format_hour(value: float) -> str:
    """A suggested time of day given as hours (8.5) in 24-hour form: ``08:30``."""
    minutes = round(value * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(zone: str) -> str:
    """A zone as people name it: its city (``America/New_York`` -> ``New York``)."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def plan_flow_target(user: UserState) -> str:
    """The side flow (``flow`` or ``flow:step``) the plan menu's check-in button starts.

    Without a check-in yet it goes straight to the weekday question of the settings flow. The
    engine accepts only this target: a forged one could enter a flow at its finish step and
    run its action on answers never given.
    """
    return "settings" if user.reminder else "settings:weekday"


def grid_ratings(selection: list[str] | None) -> dict[str, str]:
    """Read a channel grid's selection (``channel:rating`` items) as a mapping."""
    pairs = (item.partition(":") for item in selection or [])
    return {channel: rating for channel, _, rating in pairs}


class QuestionView:
    """Renders steps, answers, the summary and the plan in the user's language."""

    def __init__(self, content: Content) -> None:
        self.content = content

    def options(self, step: Step, user: UserState) -> list[tuple[str, str]]:
        """Options of a choice step for this user (plan-based ones come from their plan)."""
        return self.content.options(step, user.lang, user.plan)

    def zones(self, user: UserState) -> list[str]:
        """Zones offered as buttons: the one suggested for the user's language first."""
        first = suggested_zone(user.lang)
        return [first, *(zone for zone in COMMON_ZONES if zone != first)]

    # ---- answers -------------------------------------------------------------------------
    def show_answer(self, step: Step, value: Any, user: UserState) -> str:
        """Render a stored answer for people: labels instead of ids, hours formatted."""
        label = self.content.texts.label
        lang = user.lang
        if step.ask is AskType.CHANNEL_GRID and isinstance(value, dict):
            channels = dict(self.options(step, user))
            ratings = dict(self.content.ratings(step, lang))
            return ", ".join(
                f"{channels.get(c, c)}: {ratings.get(r, r)}" for c, r in value.items()
            ) or label(lang, "answer_none")
        if step.is_choice:
            labels = dict(self.options(step, user))
            chosen = value if isinstance(value, list) else [value]
            names = [labels.get(str(item), str(item)) for item in chosen]
            return ", ".join(names) if names else label(lang, "answer_none")
        if step.ask is AskType.NUMBER:
            return label(lang, "hours_value", value=value)
        if step.ask is AskType.TIMEZONE:
            return f"{zone_label(str(value))} ({value})"
        if value is None:
            return label(lang, "answer_skipped")
        return str(value)

    def answer_context(self, dialogue: DialogueState, user: UserState) -> dict[str, str]:
        """Map each answer name to its display text."""
        flow = self.content.flows[dialogue.flow]
        shown: dict[str, str] = {}
        for name, value in dialogue.answers.items():
            step = flow.step_saving(name)
            if step is not None:
                shown[name] = self.show_answer(step, value, user)
        return shown

    def user_context(self, user: UserState) -> dict[str, Any]:
        """What every template may use about the user beyond the current flow's answers."""
        reminder = user.reminder or None
        weekday = None
        if reminder is not None:
            weekday = self.content.texts.label(user.lang, f"weekday_{reminder['weekday']}")
        plan = FocusPlan.from_dict(user.plan) if user.plan else None
        return {
            "reminder": reminder,
            "reminder_weekday": weekday,
            "reminder_zone": zone_label(reminder["zone"]) if reminder else None,
            "budget": plan.hours_planned if plan else None,
            "checkin": user.pending_checkin,
            "checkins_count": len(user.checkins),
        }

    # ---- questions -----------------------------------------------------------------------
    def question(
        self,
        user: UserState,
        *,
        plan: FocusPlan | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Reply:
        """Render the user's current step as a question with its buttons."""
        dialogue = user.dialogue
        assert dialogue is not None
        flow = self.content.flows[dialogue.flow]
        step = flow.step(dialogue.step)
        context: dict[str, Any] = {
            **self.user_context(user),
            "answers": dialogue.answers,
            "shown": self.answer_context(dialogue, user),
            "step": {"min": step.min, "max": step.max, "max_length": step.max_length},
            "selected": len(dialogue.selection or []),
            "editing": dialogue.return_to is not None,
            **(extra or {}),
        }
        if step.ask is AskType.SUMMARY:
            context["rows"] = self.summary_rows(dialogue, step, user)
        if step.ask is AskType.CHANNEL_GRID:
            ratings = dict(self.content.ratings(step, user.lang))
            chosen = grid_ratings(dialogue.selection)
            context["grid"] = [
                {"name": name, "rating": ratings.get(chosen.get(cid, ""), "")}
                for cid, name in self.options(step, user)
            ]
        if step.ask is AskType.PLAN:
            # The full plan is sent on its own (plan_reply); this step's text is the menu under it.
            context["plan"] = self.plan_context(plan, user.lang) if plan else None
        text = self.content.texts.render(user.lang, step.say, **context)
        buttons = () if step.ask is AskType.FINISH else self.buttons(user, dialogue, step)
        return Reply(text=text, kind=ReplyKind.QUESTION, buttons=buttons)

    def buttons(
        self, user: UserState, dialogue: DialogueState, step: Step
    ) -> tuple[tuple[Button, ...], ...]:
        """Buttons of a step, each carrying the current turn."""
        turn, lang = dialogue.turn, user.lang
        label = self.content.texts.label
        rows: list[tuple[Button, ...]] = []
        if step.ask is AskType.SINGLE_CHOICE:
            current = dialogue.answers.get(step.save or "")
            options = [
                Button(
                    label(lang, "chosen", text=text) if oid == current else text,
                    encode(turn, Action.CHOOSE, oid),
                )
                for oid, text in self.options(step, user)
            ]
            rows.extend(_rows(options))
        elif step.ask is AskType.MULTI_CHOICE:
            ticked = set(dialogue.selection or [])
            options = [
                Button(
                    label(lang, "ticked", text=text) if oid in ticked else text,
                    encode(turn, Action.TOGGLE, oid),
                )
                for oid, text in self.options(step, user)
            ]
            rows.extend(_rows(options))
            rows.append(
                (Button(label(lang, "done", count=len(ticked)), encode(turn, Action.DONE)),)
            )
        elif step.ask is AskType.CHANNEL_GRID:
            ratings = dict(self.content.ratings(step, lang))
            chosen = grid_ratings(dialogue.selection)
            for cid, name in self.options(step, user):
                rating = ratings.get(chosen.get(cid, ""), label(lang, "grid_unrated"))
                rows.append(
                    (
                        Button(
                            label(lang, "grid_cell", text=name, rating=rating),
                            encode(turn, Action.TOGGLE, cid),
                        ),
                    )
                )
            rows.append(
                (Button(label(lang, "done", count=len(chosen)), encode(turn, Action.DONE)),)
            )
        elif step.ask is AskType.NUMBER:
            numbers = [
                Button(label(lang, "hours_value", value=v), encode(turn, Action.NUMBER, f"{v:g}"))
                for v in step.suggestions
            ]
            rows.extend(tuple(numbers[i : i + 3]) for i in range(0, len(numbers), 3))
        elif step.ask is AskType.TIME_OF_DAY:
            times = [
                Button(format_hour(v), encode(turn, Action.NUMBER, f"{v:g}"))
                for v in step.suggestions
            ]
            rows.extend(tuple(times[i : i + 3]) for i in range(0, len(times), 3))
        elif step.ask is AskType.TIMEZONE:
            zones = [
                Button(zone_label(zone), encode(turn, Action.CHOOSE, zone))
                for zone in self.zones(user)
            ]
            rows.extend(_rows(zones))
        elif step.ask is AskType.TEXT and step.optional:
            rows.append((Button(label(lang, "skip"), encode(turn, Action.CONTINUE)),))
        elif step.ask is AskType.CONTINUE:
            rows.append((Button(label(lang, "continue"), encode(turn, Action.CONTINUE)),))
        elif step.ask is AskType.SUMMARY:
            flow = self.content.flows[dialogue.flow]
            edits = [
                Button(
                    label(lang, "change", field=label(lang, f"field_{flow.step(s).save}")),
                    encode(turn, Action.EDIT, s),
                )
                for s in step.edits
            ]
            rows.extend(_rows(edits))
            rows.append((Button(label(lang, "show_plan"), encode(turn, Action.CONTINUE)),))
        elif step.ask is AskType.PLAN:
            caption = label(lang, "setup_checkin", active=bool(user.reminder))
            rows.append((Button(caption, encode(turn, Action.FLOW, plan_flow_target(user))),))
            rows.append(
                (Button(label(lang, "show_plan_again"), encode(turn, Action.PLAN, "show")),)
            )
            rows.append(
                (
                    Button(label(lang, "change_answers"), encode(turn, Action.BACK)),
                    Button(label(lang, "restart"), encode(turn, Action.PLAN, "restart")),
                )
            )
        if (dialogue.history or user.suspended is not None) and step.ask is not AskType.PLAN:
            rows.append((Button(label(lang, "back"), encode(turn, Action.BACK)),))
        return tuple(rows)

    # ---- summary and plan ----------------------------------------------------------------
    def summary_rows(
        self, dialogue: DialogueState, step: Step, user: UserState
    ) -> list[dict[str, str]]:
        """One row per changeable answer: its field name and the answer as shown."""
        flow = self.content.flows[dialogue.flow]
        shown = self.answer_context(dialogue, user)
        label = self.content.texts.label
        rows = []
        for step_id in step.edits:
            save = flow.step(step_id).save or ""
            rows.append(
                {
                    "field": label(user.lang, f"field_{save}"),
                    "value": shown.get(save, label(user.lang, "answer_none")),
                }
            )
        return rows

    def plan_context(self, plan: FocusPlan, lang: str) -> dict[str, Any]:
        """Everything the plan template needs, with labels in ``lang``."""
        catalogue = self.content.catalogue

        def name(channel_id: str) -> str:
            return str(catalogue.channel(channel_id).label[lang])

        cited: list[str] = []
        kept = []
        for item in plan.kept:
            channel = catalogue.channel(item.channel)
            kept.append(
                {
                    "id": item.channel,
                    "name": name(item.channel),
                    "hours": item.hours,
                    "reduced": item.reduced,
                    "cadence": channel.cadence[lang],
                    "note": channel.note[lang] if channel.note else "",
                    "audience_fit": item.audience_fit,
                    "goal_fit": item.goal_fit,
                    "sources": list(item.sources),
                }
            )
            cited.extend(key for key in item.sources if key not in cited)
        sources = [
            {"key": key, "title": catalogue.source(key).title} for key in cited if key != "E"
        ]
        pressure = None
        if plan.pressure is not None:
            pressure = {
                "name": name(plan.pressure.channel),
                "status": str(plan.pressure.status),
                "reason": str(plan.pressure.reason) if plan.pressure.reason else "",
            }
        return {
            "capacity": plan.capacity,
            "max_channels": plan.max_channels,
            "text_only": plan.text_only,
            "reply_overhead": plan.reply_overhead,
            "hours_planned": plan.hours_planned,
            "buffer": plan.buffer,
            "kept": kept,
            "dropped": [{"name": name(d.channel), "reason": str(d.reason)} for d in plan.dropped],
            "parked": [{"name": name(p.channel), "reason": str(p.reason)} for p in plan.parked],
            "pressure": pressure,
            "sources": sources,
        }

    def source_title(self, key: str) -> str:
        """Title of a source key, for templates that cite a fact."""
        return str(self.content.catalogue.source(key).title)

    def plan_reply(self, plan: FocusPlan, lang: str) -> Reply:
        """Render the whole focus plan."""
        text = self.content.texts.render(
            lang, "common/plan", plan=self.plan_context(plan, lang), source=self.source_title
        )
        return Reply(text=text, kind=ReplyKind.INFO)
