"""Every answer the restart test's user gave, and where the store must hold it after a kill.

An answer is entered when the coach has taken it: acknowledged (its reply reached the user) or,
for the message in flight at a kill, found applied in the store. It must then be found in the
open flow's answers, or where its finished flow put it: the onboarding answers, the reminder
block (settings weekday, time and zone; a pause), the language, the check-in record of its week.
An answer the user replaced later (a newer check-in of the same week, a newer schedule) is
*superseded*; the answers of a flow the user chose to start over are *discarded*. Anything else
not found is *lost*, and each is reported.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.crash_test import RECORD_FIELDS
from bench.restart_user import Move, side_flow
from bot.core.flow_ids import CHECKIN_FLOW, ONBOARDING_FLOW, WEEKDAYS
from bot.core.state import UserState

__all__ = ["Ledger", "Verdict"]

OPEN, FINISHED, DISCARDED = "open", "finished", "discarded"
VERIFIED, SUPERSEDED = "verified", "superseded"
# What each settings branch changes: the slot, the pause, or the language.
_FIELD_OF_BRANCH = {"schedule": "slot", "pause": "pause", "resume": "pause", "language": "lang"}


@dataclass
class Answer:
    """One answer as the coach took it."""

    value: Any
    acknowledged: bool
    checked: bool = False  # found in the store at a kill at least once


@dataclass
class Instance:
    """One run of a side flow, from its start to its finish (or its start over)."""

    flow: str
    answers: dict[str, Answer] = field(default_factory=dict)
    state: str = OPEN
    week: str | None = None  # a finished check-in: the week of its record
    result: dict[str, Any] = field(default_factory=dict)  # a finished settings flow

    @property
    def branch(self) -> str:
        """The settings branch taken (the weekday question is the schedule's first)."""
        choice = self.answers.get("choice")
        return str(choice.value) if choice is not None else "schedule"


@dataclass
class Verdict:
    """One check of the store: answers by outcome (acknowledged ones), and what is wrong."""

    counts: Counter[str] = field(default_factory=Counter)
    unacknowledged: Counter[str] = field(default_factory=Counter)  # saved before the reply
    problems: list[str] = field(default_factory=list)

    def tally(self, answer: Answer, outcome: str) -> None:
        """Count one answer's outcome."""
        (self.counts if answer.acknowledged else self.unacknowledged)[outcome] += 1

    def expect(self, what: str, answer: Answer, actual: Any, wanted: Any) -> None:
        """The store holds ``wanted``: verified; else lost, with a line saying what is stored."""
        if actual == wanted:
            answer.checked = True
            self.tally(answer, VERIFIED)
            return
        self.tally(answer, "lost")
        kind = "acknowledged" if answer.acknowledged else "saved"
        self.problems.append(f"{what}: stored {actual!r}, {kind} {wanted!r}")


class Ledger:
    """The answers of one user, entered as the coach takes them."""

    def __init__(self) -> None:
        """Start with nothing answered."""
        self.onboarding: dict[str, Answer] = {}
        self.instances: list[Instance] = []

    def open_instance(self) -> Instance | None:
        """The side flow running now, if any."""
        if self.instances and self.instances[-1].state == OPEN:
            return self.instances[-1]
        return None

    def answers(self) -> list[Answer]:
        """Every answer entered."""
        every = [*self.onboarding.values()]
        for instance in self.instances:
            every.extend(instance.answers.values())
        return every

    def acknowledged(self) -> int:
        """How many acknowledged answers were entered."""
        return sum(answer.acknowledged for answer in self.answers())

    def checked(self) -> int:
        """How many acknowledged answers were found in the store at one kill or more."""
        return sum(answer.acknowledged and answer.checked for answer in self.answers())

    def enter(
        self,
        move: Move,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        acknowledged: bool,
    ) -> None:
        """Enter what ``move`` did, given the documents before and after it (predicted)."""
        running = self.open_instance()
        if move.starts is not None and side_flow(after) == move.starts:
            if running is not None:
                running.state = DISCARDED
            running = Instance(move.starts)
            self.instances.append(running)
        if move.answer is not None:
            flow, key, value = move.answer
            if flow == ONBOARDING_FLOW:
                self.onboarding[key] = Answer(value, acknowledged)
            elif running is not None and running.flow == flow:
                running.answers[key] = Answer(value, acknowledged)
            else:
                raise RuntimeError(f"an answer to {flow} {key} with no {flow} open")
        if running is not None and side_flow(before) is not None and side_flow(after) is None:
            self._finish(running, before, after)

    @staticmethod
    def _finish(
        instance: Instance, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> None:
        instance.state = FINISHED
        assert after is not None
        if instance.flow == CHECKIN_FLOW:
            old = (before or {}).get("checkins", [])
            new = [record for record in after["checkins"] if record not in old]
            instance.week = str(new[-1]["week"]) if new else None
        else:
            instance.result = _settings_fields(UserState.from_document(after))

    # ---- checking a stored document ----------------------------------------------------------
    def verify(self, document: dict[str, Any] | None) -> Verdict:
        """Look for every entered answer in ``document`` (the store after a kill)."""
        verdict = Verdict()
        user = None if document is None else UserState.from_document(document)
        if user is None:
            if self.onboarding or self.instances:
                verdict.problems.append("answers were taken, but the user has no document")
            return verdict
        onboarding = user.onboarding()
        for key, answer in self.onboarding.items():
            stored = onboarding.answers.get(key, "<missing>") if onboarding else "<no dialogue>"
            verdict.expect(f"onboarding {key}", answer, stored, answer.value)
        self._verify_open(user, verdict)
        self._verify_checkins(user, verdict)
        self._verify_settings(user, verdict)
        for instance in self.instances:
            if instance.state == DISCARDED:
                for answer in instance.answers.values():
                    verdict.tally(answer, DISCARDED)
        return verdict

    def _verify_open(self, user: UserState, verdict: Verdict) -> None:
        running = self.open_instance()
        if running is None:
            return
        dialogue = user.dialogue
        is_open = user.suspended is not None and dialogue is not None
        for key, answer in running.answers.items():
            if is_open and dialogue is not None and dialogue.flow == running.flow:
                stored = dialogue.answers.get(key, "<missing>")
            else:
                stored = f"<no {running.flow} open>"
            verdict.expect(f"open {running.flow} {key}", answer, stored, answer.value)

    def _verify_checkins(self, user: UserState, verdict: Verdict) -> None:
        """Each week's latest check-in is its record; earlier ones of that week were replaced."""
        done = [i for i in self.instances if i.flow == CHECKIN_FLOW and i.state == FINISHED]
        latest = {instance.week: instance for instance in done}
        records = {str(record["week"]): record for record in user.checkins}
        for instance in done:
            record = records.get(str(instance.week), {})
            for key, answer in instance.answers.items():
                if latest[instance.week] is not instance:
                    verdict.tally(answer, SUPERSEDED)
                    continue
                stored = record.get(key, "<no record>")
                what = f"check-in {instance.week} {key}"
                verdict.expect(what, answer, stored, RECORD_FIELDS[key](answer.value))

    def _verify_settings(self, user: UserState, verdict: Verdict) -> None:
        """The latest finished settings flow of each branch holds; earlier ones were replaced."""
        done = [i for i in self.instances if i.flow != CHECKIN_FLOW and i.state == FINISHED]
        owner = {_FIELD_OF_BRANCH[instance.branch]: instance for instance in done}
        stored = _settings_fields(user)
        for instance in done:
            name = _FIELD_OF_BRANCH[instance.branch]
            for key, answer in instance.answers.items():
                if owner[name] is not instance:
                    verdict.tally(answer, SUPERSEDED)
                elif key in ("weekday", "time", "zone"):
                    slot = stored["slot"] or {}
                    wanted = WEEKDAYS.index(answer.value) if key == "weekday" else answer.value
                    verdict.expect(f"settings {key}", answer, slot.get(key), wanted)
                else:  # the menu choice, the pause, the language: what the flow left behind
                    what = f"settings {key} ({instance.branch})"
                    verdict.expect(what, answer, stored[name], instance.result[name])


def _settings_fields(user: UserState) -> dict[str, Any]:
    reminder = user.reminder
    slot = (
        None
        if reminder is None
        else {"weekday": reminder.weekday, "time": reminder.time, "zone": reminder.zone}
    )
    pause = None if reminder is None or reminder.paused_until is None else reminder.paused_until
    return {"slot": slot, "pause": None if pause is None else pause.isoformat(), "lang": user.lang}
