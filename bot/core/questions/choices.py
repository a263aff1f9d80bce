"""Questions answered by tapping options: one option, several options, or a rating per channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bot.core.callbacks import Action, ButtonToken
from bot.core.content import OPTION_SOURCES
from bot.core.flow_model import Step
from bot.core.messages import Button, Reply
from bot.core.questions.base import Asked, QuestionKind, Report, Turn, in_rows
from bot.core.questions.layout import label_width

__all__ = [
    "ALL_SHOWN",
    "GRID_UNRATED",
    "MARK_PREFIX",
    "ChannelGrid",
    "MultiChoice",
    "SingleChoice",
    "grid_marks",
    "grid_ratings",
    "shown_options",
]

GRID_UNRATED = "unrated"
ALL_SHOWN = "*"  # the selection of a narrowed single choice once "more" showed every option
# A grid's mark (🎯) of a channel: ``+channel`` in its selection and in its button's value, so
# the button is told apart from the channel's rating button (whose value is the channel id).
MARK_PREFIX = "+"


def grid_ratings(selection: list[str] | None) -> dict[str, str]:
    """Read a channel grid's selection (``channel:rating`` items) as a mapping."""
    pairs = (item.partition(":") for item in selection or [] if not item.startswith(MARK_PREFIX))
    return {channel: rating for channel, sep, rating in pairs if sep}


def grid_marks(selection: list[str] | None) -> list[str]:
    """The channels a grid's selection marks (``+channel`` items), in the order marked."""
    marked = (
        item.removeprefix(MARK_PREFIX) for item in selection or [] if item.startswith(MARK_PREFIX)
    )
    return list(dict.fromkeys(marked))


def _check_option_source(step: Step, report: Report) -> None:
    if not step.options and not step.options_from:
        # Fixed options may follow the listed ones, e.g. "none of these".
        report("a choice step needs 'options', 'options_from' or both")
    if step.options_from is not None and step.options_from not in OPTION_SOURCES:
        report(
            f"options_from '{step.options_from}' is unknown; use one of "
            f"{', '.join(OPTION_SOURCES)}"
        )


def _option_buttons(
    asked: Asked, options: list[tuple[str, str]], action: Action, mark: str, marked: set[str]
) -> tuple[list[Button], list[Button]]:
    """Buttons for ``options`` as shown now (``marked`` ones through the label ``mark``), and
    as they look all marked (the widest they get, which the layout keeps room for).

    Each carries its catalogue short name where it has one ("X/Twitter"); listed options go
    through the step's ``option_label`` ("Leave Instagram").
    """
    step = asked.step
    listed = {oid for oid, _ in asked.content.listed_options(step, asked.lang, asked.listed_plan)}

    def make(oid: str, text: str, marks: bool) -> Button:
        short = asked.short_label(oid)
        if step.option_label and oid in listed:
            text = asked.label(step.option_label, text=text)
            short = short and asked.label(step.option_label, text=short)
        if marks:
            text = asked.label(mark, text=text)
            short = short and asked.label(mark, text=short)
        return asked.button(text, action, oid, short=short)

    shown = [make(oid, text, oid in marked) for oid, text in options]
    return shown, [make(oid, text, True) for oid, text in options]


def shown_options(asked: Asked) -> list[tuple[str, str]]:
    """The options a single choice shows now: with ``narrow_to``, the listed ones only if the
    earlier answer holds them (until "more" is tapped); fixed options always."""
    step, options = asked.step, asked.options
    chosen = asked.dialogue.answers.get(step.narrow_to or "")
    if not step.narrow_to or ALL_SHOWN in asked.selection or not isinstance(chosen, list):
        return options
    listed = {oid for oid, _ in asked.content.listed_options(step, asked.lang, asked.listed_plan)}
    narrowed = [(oid, text) for oid, text in options if oid not in listed or oid in chosen]
    return options if not set(chosen) & listed else narrowed


def _rating_marks(asked: Asked) -> dict[str, str]:
    """Each rating of a grid as its button shows it: the label ``<label>_mark`` ("✅") if
    labels.yaml has one, else the rating's label."""
    keys = asked.content.texts.label_keys(asked.lang)
    return {
        option.id: asked.label(
            f"{option.label}_mark" if f"{option.label}_mark" in keys else option.label
        )
        for option in asked.step.options
    }


def _option_labels(asked: Asked, value: Any) -> str:
    """The labels of the chosen option ids (one id or a list of them)."""
    labels = dict(asked.options)
    chosen = value if isinstance(value, list) else [value]
    names = [labels.get(str(item), str(item)) for item in chosen]
    return ", ".join(names) if names else asked.label("answer_none")


class _Choice(QuestionKind):
    saves_answer = True
    has_options = True

    def check(self, step: Step, report: Report) -> None:
        """Options must come from somewhere the coach knows."""
        _check_option_source(step, report)

    def show(self, asked: Asked, value: Any) -> str:
        """Option labels instead of ids."""
        return _option_labels(asked, value)


class SingleChoice(_Choice):
    """One tap picks one option."""

    label_keys: ClassVar[tuple[str, ...]] = ("chosen", "answer_none", "more_options")

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Ask; show every option at once when the earlier answer is one the narrowing hides."""
        shown = {oid for oid, _ in shown_options(asked)}
        if asked.answer is not None and asked.answer not in shown:
            return turn.ask(selection=[ALL_SHOWN])
        return turn.ask()

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """Whether some options wait behind "more" (``narrow_to``)."""
        return {"narrowed": len(shown_options(asked)) < len(asked.options)}

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One button per option shown (the current answer marked), "more" when narrowed."""
        options = shown_options(asked)
        step, plan = asked.step, asked.listed_plan
        listed = {oid for oid, _ in asked.content.listed_options(step, asked.lang, plan)}
        first = [o for o in options if o[0] in listed]
        rest = [o for o in options if o[0] not in listed]
        marked = {str(asked.answer)}
        buttons, widest = _option_buttons(asked, first, Action.CHOOSE, "chosen", marked)
        if len(options) < len(asked.options):
            more = asked.button(asked.label("more_options"), Action.MORE)
            buttons, widest = [*buttons, more], [*widest, more]
        fixed, fixed_widest = _option_buttons(asked, rest, Action.CHOOSE, "chosen", marked)
        return in_rows([*buttons, *fixed], widest=[*widest, *fixed_widest])

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """An option is the answer; "more" shows every option."""
        if token.action is Action.CHOOSE and token.value in dict(asked.options):
            return turn.answer(token.value)
        if token.action is Action.MORE and asked.step.narrow_to:
            return turn.redraw([ALL_SHOWN])
        return None

    def sample(self, asked: Asked) -> Any:
        """The first option."""
        return asked.options[0][0]

    def accepts(self, asked: Asked, value: Any) -> bool:
        """One of the options offered now."""
        return isinstance(value, str) and value in dict(asked.options)


class MultiChoice(_Choice):
    """Options are ticked on the same message, then "done"; ``min``/``max`` bound the count."""

    label_keys = ("ticked", "done", "answer_none")

    def check(self, step: Step, report: Report) -> None:
        """Besides the options: a minimum above the maximum can never be met."""
        super().check(step, report)
        if step.min is not None and step.max is not None and step.min > step.max:
            report("'min' must not be above 'max'")

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Start from the ticks of an earlier answer (coming back to change it)."""
        return turn.ask(selection=list(asked.answer or []))

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One toggle per option, then "done" with the count."""
        ticked = set(asked.selection)
        toggles, widest = _option_buttons(asked, asked.options, Action.TOGGLE, "ticked", ticked)
        done = asked.button(asked.label("done", count=len(ticked)), Action.DONE)
        return [*in_rows(toggles, widest=widest), (done,)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Tick or untick an option, or finish with the ticked ones in option order."""
        option_ids = [oid for oid, _ in asked.options]
        step, selection = asked.step, asked.selection
        if token.action is Action.TOGGLE and token.value in option_ids:
            if token.value in selection:
                selection.remove(token.value)
            elif step.max is not None and len(selection) >= step.max:
                return turn.tell("common/too_many", maximum=int(step.max))
            else:
                selection.append(token.value)
            return turn.redraw(selection)
        if token.action is Action.DONE:
            chosen = [oid for oid in option_ids if oid in selection]
            if step.min is not None and len(chosen) < step.min:
                # The question on screen, ticks and buttons, stays valid: no new copy of it.
                return turn.hint("common/too_few", minimum=int(step.min))
            return turn.answer(chosen)
        return None

    def sample(self, asked: Asked) -> Any:
        """The first option alone."""
        return [oid for oid, _ in asked.options][:1]

    def accepts(self, asked: Asked, value: Any) -> bool:
        """Options offered now, each once."""
        offered = dict(asked.options)
        return (
            isinstance(value, list)
            and all(isinstance(item, str) and item in offered for item in value)
            and len(set(value)) == len(value)
        )


class ChannelGrid(QuestionKind):
    """One rating per channel of the plan, in one message: each tap moves a channel's rating on.

    The rows come from ``options_from`` (the plan's channels); the fixed ``options`` are the
    ratings every row cycles through. With ``save_marks``, each row also has a mark to toggle
    (🎯 "it brought a result"): untouched it costs no tap, and the marked channels are saved
    under that name.
    """

    saves_answer = True
    has_options = True
    label_keys = (
        "grid_cell",
        "grid_unrated",
        "grid_mark_off",
        "grid_mark_on",
        "grid_marked",
        "done",
        "answer_none",
    )

    def check(self, step: Step, report: Report) -> None:
        """Rows from the plan's kept channels, and ratings to give them."""
        _check_option_source(step, report)
        if step.options_from != "plan_kept" or not step.options:
            report("a channel_grid needs 'options_from: plan_kept' and 'options' to rate by")

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """The rows: the user's kept channels."""
        return asked.content.listed_options(asked.step, asked.lang, asked.listed_plan)

    @staticmethod
    def saved_marks(asked: Asked) -> list[str]:
        """The channels marked in the saved answer (none without ``save_marks``); a stored
        value that is no list of this grid's channels marks nothing."""
        value = asked.dialogue.answers.get(asked.step.save_marks or "")
        if not asked.step.save_marks or not isinstance(value, list):
            return []
        rows = {oid for oid, _ in asked.options}
        return [item for item in value if isinstance(item, str) and item in rows]

    def _selection(self, ratings: Mapping[str, str], marks: list[str]) -> list[str]:
        return [*(f"{c}:{r}" for c, r in ratings.items()), *(MARK_PREFIX + c for c in marks)]

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Start from an earlier answer's ratings (and marks)."""
        previous: Mapping[str, str] = asked.answer or {}
        return turn.ask(selection=self._selection(previous, self.saved_marks(asked)))

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """Each row with its rating so far (and its mark), for the text above the buttons."""
        ratings = dict(asked.content.fixed_options(asked.step, asked.lang))
        chosen = grid_ratings(asked.selection)
        marked = set(grid_marks(asked.selection))
        return {
            "grid": [
                {
                    "name": name,
                    "rating": ratings.get(chosen.get(cid, ""), ""),
                    "marked": cid in marked,
                }
                for cid, name in asked.options
            ],
            "marks": bool(asked.step.save_marks),
        }

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One button per channel with its rating's mark, then "done" with the count rated
        (the ratings in words are in the text above). Without marks the channels go in
        columns; with them each channel has a row, its 🎯 toggle beside it."""
        marks = _rating_marks(asked)
        chosen = grid_ratings(asked.selection)
        marked = set(grid_marks(asked.selection))
        cells, widest, rows = [], [], []
        for cid, name in asked.options:
            short = asked.short_label(cid)

            def cell(mark: str, cid: str = cid, name: str = name, short: str = short) -> Button:
                caption = asked.label("grid_cell", text=name, rating=mark)
                brief = short and asked.label("grid_cell", text=short, rating=mark)
                return asked.button(caption, Action.TOGGLE, cid, short=brief)

            unrated = asked.label("grid_unrated")
            shown = cell(marks.get(chosen.get(cid, ""), unrated))
            every = [cell(mark) for mark in [unrated, *marks.values()]]
            cells.append(shown)
            widest.append(max(every, key=lambda b: label_width(b.label)))
            if asked.step.save_marks:
                key = "grid_mark_on" if cid in marked else "grid_mark_off"
                toggle = asked.button(asked.label(key), Action.TOGGLE, MARK_PREFIX + cid)
                rows.extend(in_rows([shown, toggle], per_row=2))
        done = asked.button(asked.label("done", count=len(chosen)), Action.DONE)
        if asked.step.save_marks:
            return [*rows, (done,)]
        return [*in_rows(cells, widest=widest), (done,)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Cycle a channel's rating (unrated -> first -> second ... -> first), toggle its mark,
        or finish (every channel rated)."""
        option_ids = [oid for oid, _ in asked.options]
        ratings = grid_ratings(asked.selection)
        marked = grid_marks(asked.selection)
        if token.action is Action.TOGGLE and token.value in option_ids:
            order = [oid for oid, _ in asked.content.fixed_options(asked.step, asked.lang)]
            current = ratings.get(token.value, GRID_UNRATED)
            position = order.index(current) + 1 if current in order else 0
            ratings[token.value] = order[position % len(order)]
            return turn.redraw(self._selection(ratings, marked))
        channel = token.value.removeprefix(MARK_PREFIX)
        if (
            token.action is Action.TOGGLE
            and asked.step.save_marks
            and token.value.startswith(MARK_PREFIX)
            and channel in option_ids
        ):
            marked = (
                [c for c in marked if c != channel] if channel in marked else [*marked, channel]
            )
            return turn.redraw(self._selection(ratings, marked))
        if token.action is Action.DONE:
            if any(oid not in ratings for oid in option_ids):
                return turn.hint("common/rate_all")  # the grid on screen stays valid
            return turn.answer(
                {oid: ratings[oid] for oid in option_ids},
                marks=[oid for oid in option_ids if oid in marked],
            )
        return None

    def show(self, asked: Asked, value: Any) -> str:
        """``Channel: rating`` for each row, with the grid's mark where one was set."""
        if not isinstance(value, dict):
            return _option_labels(asked, value)
        channels = dict(asked.options)
        ratings = dict(asked.content.fixed_options(asked.step, asked.lang))
        marked = set(self.saved_marks(asked))
        return ", ".join(
            f"{channels.get(c, c)}: {ratings.get(r, r)}"
            + (f" {asked.label('grid_marked')}" if c in marked else "")
            for c, r in value.items()
        ) or asked.label("answer_none")

    def sample(self, asked: Asked) -> Any:
        """Every channel rated with the first rating."""
        return {oid: asked.step.options[0].id for oid, _ in asked.options}

    def accepts(self, asked: Asked, value: Any) -> bool:
        """A rating of the step's own for each channel."""
        ratings = {option.id for option in asked.step.options}
        return isinstance(value, dict) and all(
            isinstance(channel, str) and rating in ratings for channel, rating in value.items()
        )
