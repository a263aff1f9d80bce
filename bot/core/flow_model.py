"""The typed model of a flow file: ``Flow``, ``Step``, ``Option`` and what a step asks.

Plain data: ``bot.core.flows`` builds and validates it from YAML, ``bot.core.questions`` gives
each kind of question its behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

__all__ = ["AskType", "Flow", "FlowError", "NextRule", "Option", "Progress", "Step", "Then"]


class FlowError(ValueError):
    """A flow or its content is broken; ``problems`` lists every finding, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AskType(StrEnum):
    """What a step asks for (``ask:`` in a flow file); each has a module in ``questions/``."""

    CONTINUE = "continue"  # a statement with a "continue" button
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    NUMBER = "number"
    TEXT = "text"
    TIME_OF_DAY = "time_of_day"  # a local time such as 08:30
    TIMEZONE = "timezone"  # an IANA zone, from buttons or a typed city
    CHANNEL_GRID = "channel_grid"  # one fixed choice per channel of the plan, in one message
    REASON_GRID = "reason_grid"  # the channels left out, each with its stored reason: still true?
    OBSTACLE = "obstacle"  # what will most likely get in the way next week: tapped or typed
    INTENTION = "intention"  # the if-then plan built from the obstacle: confirmed, or typed
    MAKE_UP = "make_up"  # a make-up week's extra action: a suggestion tapped, or typed
    CREEP_DECISION = "creep_decision"  # a dropped channel came back: each choice changes the plan
    EXIT_OFFER = "exit_offer"  # a dropped channel's playbook, and how to leave it
    EXIT_STEPS = "exit_steps"  # the check-in's due steps of tracked exits
    SUMMARY = "summary"  # all answers, each changeable, then on
    PLAN = "plan"  # the focus plan; the end of onboarding
    FINISH = "finish"  # ends a side flow (check-in, settings): runs its action, says the result


class Then(StrEnum):
    """What a finish step does after its message."""

    RESUME = "resume"  # ask the question the user was at before the side flow again
    QUIET = "quiet"  # say nothing more; the earlier question stays where it was


@dataclass(frozen=True)
class Option:
    """A fixed option of a choice step; ``label`` is a key in ``labels.yaml``.

    ``when`` (a condition like a ``next`` rule's): the option is offered only while it holds.
    """

    id: str
    label: str
    when: str | None = None


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
    # A condition over the same names as ``next`` rules: while it holds, the step is passed by
    # (it takes its default ``next``) without being asked, e.g. "nothing to ask about yet".
    skip_when: str | None = None
    then: Then = Then.RESUME
    # Listed options (``options_from``) on buttons through this label, which gets ``text``: a
    # button says what happens ("Leave Instagram"), not a bare name.
    option_label: str | None = None
    # An earlier answer (a list of ids) that narrows the listed options shown first; a "more"
    # button shows them all ("the channels you ticked, or another").
    narrow_to: str | None = None
    # A channel grid's second answer: the channels marked with the grid's mark (🎯 "it brought
    # a result this week"), a list of ids saved under this name next to the ratings.
    save_marks: str | None = None

    def targets(self) -> list[str]:
        """Every step this one can lead to."""
        return [rule.goto for rule in self.next] + list(self.edits)


@dataclass(frozen=True)
class Progress:
    """Where a question stands on its flow's main path: question ``number`` of ``total``."""

    number: int
    total: int


@dataclass(frozen=True)
class Flow:
    """A validated flow: its steps by id, in file order.

    ``progress`` numbers the questions on the main path (from the start, always taking the
    default ``next``), so texts can say "step 3 of 6" without counting by hand; steps off that
    path (a note shown only for low hours, say) have no number.
    """

    id: str
    path: Path
    start: str
    steps: dict[str, Step] = field(default_factory=dict)
    progress: dict[str, Progress] = field(default_factory=dict)

    def step(self, step_id: str) -> Step:
        """Return the step ``step_id``; KeyError if the flow has none."""
        return self.steps[step_id]

    def step_saving(self, answer: str) -> Step | None:
        """Return the step that saves ``answer``, if any."""
        return next((s for s in self.steps.values() if s.save == answer), None)

    def summary_step(self) -> Step | None:
        """The step that lists the answers for changing (the one with ``edits``), if any."""
        return next((s for s in self.steps.values() if s.edits), None)
