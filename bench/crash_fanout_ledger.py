"""What the fan-out crash test checks: the store after a kill, and who was sent what, when.

``bench/crash_fanout.py`` kills a process that sends a weekly check-in to every user of a data
folder. This module holds its bookkeeping, without processes, so that it can be tested on its
own: ``read_store`` looks at the data folder the way a reader outside the bot does (every user
file, every journal segment, the schedule index: complete and readable; the documents with the
journalled sent records applied, as ``bot.core.sent_records.as_recorded`` applies them), and
``Ledger`` follows the lines the children wrote ("sent", "recorded") across the kills of one
fan-out and finds every check-in lost or sent once too often.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.checkin_schedule import REMINDER, Reminder
from bot.core.sent_records import LIVE_MESSAGE, SentRecord, apply_sent
from bot.core.state import UserState
from storage.atomic import is_temp_file
from storage.errors import DamagedDocumentError
from storage.history_archive import ARCHIVE_SUFFIX, side_records
from storage.journal import JOURNAL_FOLDER, AppendJournal
from storage.schedule_index import SCHEDULE_FOLDER
from storage.tinydb_repo import USERS_FOLDER

__all__ = ["CHECKIN", "Key", "Ledger", "StoreView", "StoredUser", "read_journal", "read_store"]

CHECKIN = "checkin"  # the kind of the weekly check-in (``bot.core.due_kinds.Kind.CHECKIN``)
_SEGMENT = re.compile(r"^\d{8}\.jsonl$")

Key = tuple[str, str, str]
"""(user, week, kind) of one message the bot starts."""


@dataclass(frozen=True)
class StoredUser:
    """One user as the store says after a kill (the journal applied to the file)."""

    sent_weeks: tuple[str, ...]
    pending: tuple[str, str] | None
    """(week, kind) of a claim written and not yet recorded as sent."""
    live_message: int | None


@dataclass
class StoreView:
    """The data folder as read after a kill."""

    users: dict[str, StoredUser] = field(default_factory=dict)
    records: int = 0
    """Sent records in the journal."""
    torn_lines: int = 0
    """Journal lines cut off by the kill (the last line of a segment; skipped when read)."""
    temp_files: int = 0
    """Temp files of a write the kill interrupted (the next start removes them)."""
    problems: list[str] = field(default_factory=list)


def read_journal(data_dir: Path, view: StoreView) -> list[dict[str, Any]]:
    """The journal's records, oldest first; problems and torn lines go to ``view``.

    Only the last line of a segment may be cut off (it was never reported written); any other
    line that is not a sent record is a problem. The journal must also load as the bot loads it.
    """
    folder = data_dir / JOURNAL_FOLDER
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    records: list[dict[str, Any]] = []
    for name in names:
        if not _SEGMENT.match(name):
            view.problems.append(f"journal: unexpected file {name}")
            continue
        pieces = (folder / name).read_bytes().split(b"\n")
        for number, piece in enumerate(pieces, start=1):
            if not piece:
                continue
            try:
                line = json.loads(piece.decode("utf-8"))
                SentRecord.from_json(line)
            except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
                if number == len(pieces):  # no newline after it: the kill cut it off
                    view.torn_lines += 1
                else:
                    view.problems.append(f"journal {name} line {number}: {error!r}")
                continue
            records.append(line)
    try:
        loaded = sum(len(segment.records) for segment in AppendJournal(data_dir).load())
    except Exception as error:  # any failure here is the finding
        view.problems.append(f"journal: does not load: {error!r}")
    else:
        if loaded != len(records):
            view.problems.append(f"journal: loads {loaded} records, {len(records)} readable")
    view.records = len(records)
    return records


def read_store(data_dir: Path) -> StoreView:
    """Every user file complete and valid, the journal readable, each user as recorded."""
    view = StoreView()
    by_user: dict[str, list[SentRecord]] = {}
    for line in read_journal(data_dir, view):
        record = SentRecord.from_json(line)
        by_user.setdefault(record.user_id, []).append(record)
    users = data_dir / USERS_FOLDER
    for path in sorted(users.rglob("*")) if users.is_dir() else []:
        if path.is_dir():
            continue
        if is_temp_file(path.name):
            view.temp_files += 1
            continue
        if ".damaged-" in path.name:
            view.problems.append(f"damaged copy {path}: a document was found torn")
            continue
        if path.name.endswith(ARCHIVE_SUFFIX):  # older check-ins: whole, in their layout
            try:
                side_records(path.read_bytes(), path)
            except DamagedDocumentError as error:
                view.problems.append(f"torn or invalid side file: {error}")
            continue
        try:
            data = json.loads(path.read_bytes())
            assert list(data) == ["user"] and list(data["user"]) == ["1"], "layout"
            document: dict[str, Any] = data["user"]["1"]
            user_id = UserState.from_document(document).user_id
            for record in by_user.get(user_id, ()):
                document = apply_sent(document, record) or document
            view.users[user_id] = _stored_user(document)
        except Exception as error:  # any failure here is the finding
            view.problems.append(f"torn or invalid document {path}: {error!r}")
    _check_index(data_dir, view)
    return view


def _stored_user(document: dict[str, Any]) -> StoredUser:
    reminder = Reminder.from_dict(document[REMINDER])
    sending = reminder.sending
    live = document.get(LIVE_MESSAGE)
    return StoredUser(
        tuple(reminder.sent_weeks),
        None if sending is None else (sending.week, sending.kind),
        live if isinstance(live, int) else None,
    )


def _check_index(data_dir: Path, view: StoreView) -> None:
    """Every schedule index shard is complete JSON (they are replaced atomically)."""
    folder = data_dir / SCHEDULE_FOLDER
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            json.loads(path.read_bytes())
        except ValueError as error:
            view.problems.append(f"torn schedule index shard {path.name}: {error!r}")


@dataclass(frozen=True)
class Send:
    """A "sent" line: which process wrote it, and the message it left live (None: unchanged)."""

    process: int
    live: int | None


@dataclass
class Ledger:
    """One fan-out: what every process said, checked against the store after every kill.

    ``weeks`` is the week whose check-in each user is due, ``live`` the message each user's
    document named live when the fan-out began. Processes are numbered from 1 in the order
    they ran; ``kills`` counts those that were killed.
    """

    weeks: dict[str, str]
    live: dict[str, int | None]
    process: int = 0
    kills: int = 0
    sends: dict[Key, list[Send]] = field(default_factory=dict)
    recorded: dict[Key, int] = field(default_factory=dict)
    """Keys a process said "recorded" for (its journal record returned), and which process."""
    durable: dict[str, int] = field(default_factory=dict)
    """Users whose check-in the store recorded as sent after the kill of process n."""
    journal_records: int = 0
    """Sent records in the journal after the last kill."""
    problems: list[str] = field(default_factory=list)

    def start_process(self) -> None:
        """A new process begins (its lines come next)."""
        self.process += 1

    def read(self, lines: Iterable[str]) -> None:
        """Take the lines of the current process, in the order written."""
        for line in lines:
            word, _, rest = line.partition(" ")
            if word == "sent":
                user, week, kind, live = rest.split()[:4]
                self.sent((user, week, kind), None if live == "-" else int(live))
            elif word == "recorded":
                user, week, kind = rest.split()
                self.recorded.setdefault((user, week, kind), self.process)

    def sent(self, key: Key, live: int | None) -> None:
        """A check-in went out; a second one is allowed only after a crash that lost the first."""
        user, week, kind = key
        before = self.sends.setdefault(key, [])
        said = f"{user}: {kind} of {week} sent by process {self.process}"
        if kind != CHECKIN:
            # The fan-out ends before a follow-up falls due (the next day): its clock ran away.
            self.problems.append(f"{said}: only check-ins are due in a fan-out")
        elif key in self.recorded:
            self.problems.append(f"{said} after process {self.recorded[key]} said it was recorded")
        elif kind == CHECKIN and user in self.durable:
            self.problems.append(
                f"{said} after the store recorded it as sent (kill of process "
                f"{self.durable[user]})"
            )
        elif any(send.process == self.process for send in before):
            self.problems.append(f"{said} twice")
        before.append(Send(self.process, live))

    def killed(self, view: StoreView) -> None:
        """The current process was killed; ``view`` is the store it left."""
        self.kills += 1
        self.journal_records = view.records
        self._compare(view, final=False)

    def finished(self, view: StoreView) -> None:
        """The last process ended by itself; every check-in must be recorded exactly once."""
        self._compare(view, final=True)
        for user, week in self.weeks.items():
            sends = self.sends.get((user, week, CHECKIN), [])
            if not sends:
                self.problems.append(f"{user}: the check-in of {week} was never sent")
            elif len(sends) > 1 + self.kills:
                self.problems.append(
                    f"{user}: the check-in of {week} was sent {len(sends)} times "
                    f"with only {self.kills} kills"
                )
            stored = view.users.get(user)
            if stored is None:
                continue
            if stored.pending is not None:
                self.problems.append(f"{user}: a claim is still pending: {stored.pending}")
            last = sends[-1].live if sends else None
            wanted = self.live[user] if last is None else last
            if stored.live_message != wanted:
                self.problems.append(
                    f"{user}: live message {stored.live_message}, the last send left {wanted}"
                )

    @property
    def settled_users(self) -> set[str]:
        """Users whose check-in a process said recorded, or the store recorded as sent."""
        return {user for user, _, _ in self.recorded} | set(self.durable)

    @property
    def resends(self) -> int:
        """Messages sent again after a crash (every send of a key but its first)."""
        return sum(len(sends) - 1 for sends in self.sends.values())

    @property
    def most_sends(self) -> int:
        """The most times one message was sent."""
        return max((len(sends) for sends in self.sends.values()), default=0)

    def _compare(self, view: StoreView, *, final: bool) -> None:
        self.problems.extend(view.problems)
        for user, week in self.weeks.items():
            key = (user, week, CHECKIN)
            stored = view.users.get(user)
            if stored is None:
                self.problems.append(f"{user}: no readable document")
                continue
            if week in stored.sent_weeks:
                self.durable.setdefault(user, self.process)
                if key not in self.sends:
                    self.problems.append(f"{user}: recorded as sent, but never sent")
            elif key in self.recorded:
                self.problems.append(
                    f"{user}: process {self.recorded[key]} said the check-in of {week} was "
                    "recorded, but the store does not say sent"
                )
            elif final:
                self.problems.append(f"{user}: the check-in of {week} is not recorded as sent")
