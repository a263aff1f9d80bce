"""Synthetic data folders: users stored byte for byte the way the app stores them.

Each user has finished onboarding (answers, a plan from ``bot.core.coaching.build_plan`` with
its version record as ``plan_versions.adopt`` writes it), set up a weekly check-in (the
reminder block of the issue 4 design) and answered 52 weekly check-ins (the record shape of
``bot.core.actions.record_checkin``). Files are written in TinyDB's layout
(``{"user": {"1": document}}``, compact UTF-8 JSON, schema stamped) into the repository's shard
folders, without fsync: generation only sets the stage. The schedule index is built with
``storage.ScheduleIndex.rebuild`` from ``bot.core.due_kinds.effective_due`` of each
document.

Folders are cached under ``<cache>/users-<N>/``; ``bench-meta.json`` is written last and marks a
folder complete. A cached folder is *rolled forward* on reuse: users whose check-in would fall
due during a benchmark run (within ``QUIET_MARGIN``) are rewritten as if this week's check-in had
been sent, so the measured bot never sends check-ins to chats the fake does not know. The
due-minute behaviour is measured on its own folder (``due_folder``) where every user is due.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.checker import load_content
from bot.core.checkin_schedule import Reminder
from bot.core.coaching import FocusPlan, PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.due_kinds import effective_due
from bot.core.focus_plan import PlanChange
from bot.core.plan_versions import inputs_record
from bot.core.schedule import WeeklySlot, next_occurrence
from bot.core.state import DialogueState, UserState
from storage import ScheduleIndex
from storage.migrations import DEFAULT_MIGRATOR
from storage.tinydb_repo import USER_TABLE, USERS_FOLDER, shard_of

__all__ = [
    "CHECKIN_WEEKS",
    "FIRST_USER_ID",
    "QUIET_MARGIN",
    "DocumentFactory",
    "Folder",
    "due_folder",
    "ensure_folder",
    "make_due",
    "user_ids",
]

FIRST_USER_ID = 5_100_000_000  # Telegram-like numeric ids: the sender only writes to digits
CHECKIN_WEEKS = 52
QUIET_MARGIN = timedelta(minutes=45)  # no cached user falls due this long after a run starts
META = "bench-meta.json"
_FORMAT = 5  # bump when the documents change shape: cached folders are then rebuilt
_SEED = 20_260_302
_PARALLEL_FROM = 5_000

# Weighted like a German-first audience; all of them are zones the dialogue offers as buttons.
_ZONES = (
    ("Europe/Berlin", 60),
    ("Europe/Vienna", 10),
    ("Europe/Zurich", 8),
    ("Europe/London", 8),
    ("America/New_York", 6),
    ("America/Los_Angeles", 3),
    ("Asia/Kolkata", 3),
    ("Australia/Sydney", 2),
)
_TIMES = ("07:00", "08:30", "12:00", "17:00", "19:00", "06:45", "09:15", "18:30", "21:00")
_HOURS = (1.0, 3.0, 5.0, 8.0, 12.0, 2.5, 4.0, 6.0, 10.0, 1.5)
_WINS = (
    "Ein Kunde hat mich über LinkedIn gefunden",
    "Newsletter pünktlich raus, 3 Antworten",
    "Zwei Beiträge vorgeschrieben, Sonntag frei",
    "Erste Anfrage über das Kontaktformular",
    "Instagram nicht geöffnet, eine Stunde gewonnen",
    "Podcast-Folge aufgenommen",
    "Kommentar unter meinem Beitrag von einer Wunschkundin",
    "Booked two discovery calls from one post",
    "Kept TikTok closed all week",
    "Wrote the newsletter in one sitting",
    "A former colleague shared my article",
    "Neue Bewerbung über den Karriere-Post",
)


@dataclass(frozen=True)
class Folder:
    """A ready data folder and what it cost to get it ready."""

    path: Path
    """The bot's ``--data-dir``."""
    users: int
    generated_seconds: float
    """Time to write it now (0 when a cached folder was reused as it was)."""
    rolled_forward: int
    """Cached users rewritten because their check-in would have fallen due during the run."""
    built_seconds: float = 0.0
    """Time the folder took to generate when it was built (this run or an earlier one)."""


def user_ids(count: int) -> list[str]:
    """The ids of a folder of ``count`` users."""
    return [str(FIRST_USER_ID + number) for number in range(count)]


class DocumentFactory:
    """Builds one realistic user document, deterministically from the user id."""

    def __init__(self, content: Content) -> None:
        """Use the shipped catalogue for answers and plans."""
        self.content = content
        catalogue = content.catalogue
        self._channels = [channel.id for channel in catalogue.channels]
        self._audiences = [audience.id for audience in catalogue.audiences]
        self._goals = [goal.id for goal in catalogue.goals]
        self._zones = [zone for zone, _ in _ZONES]
        self._zone_weights = [weight for _, weight in _ZONES]
        self._plans: dict[PlanInput, tuple[dict[str, Any], FocusPlan]] = {}

    def document(
        self, user_id: str, anchor: datetime, *, due: datetime | None = None
    ) -> dict[str, Any]:
        """The stored document of ``user_id``.

        Without ``due``: the check-in of the latest slot at or before ``anchor`` was sent and
        answered, the next one is the first slot after ``anchor``. With ``due`` (a whole
        minute): the user's slot is that instant in their zone and the check-in is due then.
        """
        rng = random.Random(_SEED * 1_000_003 + int(user_id))
        lang = "de" if rng.random() < 0.7 else "en"
        answers, history, plan_input = self._answers(rng)
        plan_dict, plan = self._plan(plan_input)
        zone = rng.choices(self._zones, self._zone_weights)[0]
        if due is None:
            slot = WeeklySlot(rng.randrange(7), clock_time.fromisoformat(rng.choice(_TIMES)), zone)
            next_due = next_occurrence(slot, anchor)
            last_slot = next_due - timedelta(days=7)  # close enough across a DST change
        else:
            local = due.astimezone(ZoneInfo(zone))
            slot = WeeklySlot(local.weekday(), local.time().replace(second=0, microsecond=0), zone)
            next_due = due
            last_slot = due - timedelta(days=7)
        last_local = last_slot.astimezone(ZoneInfo(zone)).date()
        weeks = [_week_key(last_local - timedelta(days=7 * back)) for back in range(CHECKIN_WEEKS)]
        weeks.reverse()  # oldest first, as record_checkin keeps them
        checkins = [
            self._checkin(rng, week, last_slot - timedelta(days=7 * back), plan)
            for back, week in zip(range(CHECKIN_WEEKS - 1, -1, -1), weeks, strict=True)
        ]
        reminder = Reminder(
            weekday=slot.weekday,
            time=slot.time.strftime("%H:%M"),
            zone=zone,
            next_due=next_due,
            sent_weeks=weeks[-12:],
            # A year into the plan: its twelve-week review was offered long ago.
            review_offered=1,
        )
        created = last_slot - timedelta(days=7 * CHECKIN_WEEKS + rng.randrange(1, 60))
        dialogue = DialogueState(
            flow="onboarding",
            step="plan",
            turn=22 + 9 * CHECKIN_WEEKS + rng.randrange(40),
            history=history,
            answers=answers,
        )
        user = UserState(
            user_id=user_id,
            lang=lang,
            dialogue=dialogue,
            plan=plan_dict,
            created_at=UserState.now_iso(created),
            updated_at=checkins[-1]["answered_at"],
            active=True,
            reminder=reminder,
            checkins=checkins,
            # Made at the end of onboarding, as ``plan_versions.adopt`` records every plan (a
            # plan without it is one from before plans had versions, repaired on its first load).
            plan_info={
                "version": 1,
                "made_at": UserState.now_iso(created),
                "reason": PlanChange.FIRST.value,
                "detail": {},
                "inputs": inputs_record(plan_input),
            },
            # Their last step was under this content, which fitted the state to it (a due
            # user rewritten by ``make_due`` carries the stamp of the content running now).
            fitted_to=self.content.identity,
        )
        return DEFAULT_MIGRATOR.stamp(user.to_document())

    def _answers(self, rng: random.Random) -> tuple[dict[str, Any], list[str], PlanInput]:
        channels = rng.sample(self._channels, rng.randint(1, 6))
        hours = rng.choice(_HOURS)
        audiences = rng.sample(self._audiences, rng.randint(1, 2))
        goals = rng.sample(self._goals, rng.randint(1, 2))
        team = rng.random() < 0.25
        pressure = rng.choice(channels) if rng.random() < 0.5 else "none"
        answers = {
            "channels": channels,
            "hours": hours,
            "audiences": audiences,
            "goals": goals,
            "team": "team" if team else "alone",
            "pressure": pressure,
        }
        history = ["welcome", "channels", "hours"]
        if hours < 2:
            history.append("low_capacity")
        history += ["audiences", "goals"]
        if "customer_service" in goals:
            history.append("service_note")
        history += ["team", "pressure", "summary"]
        plan_input = PlanInput(
            tuple(channels),
            hours,
            tuple(audiences),
            tuple(goals),
            team,
            None if pressure == "none" else pressure,
        )
        return answers, history, plan_input

    def _plan(self, plan_input: PlanInput) -> tuple[dict[str, Any], FocusPlan]:
        cached = self._plans.get(plan_input)
        if cached is None:
            plan = build_plan(plan_input, self.content.catalogue)
            cached = self._plans[plan_input] = (plan.to_dict(), plan)
        return cached

    @staticmethod
    def _checkin(rng: random.Random, week: str, slot: datetime, plan: FocusPlan) -> dict[str, Any]:
        statuses = ("on_plan", "on_plan", "on_plan", "partly", "not")
        dropped = [item.channel for item in plan.dropped]
        creep = rng.choice(dropped) if dropped and rng.random() < 0.15 else "none"
        budget = plan.hours_planned
        answered = slot + timedelta(minutes=rng.randrange(2, 600))
        return {
            "week": week,
            "answered_at": answered.isoformat(),
            "channels": {item.channel: rng.choice(statuses) for item in plan.kept},
            "hours": round(max(0.0, budget * rng.uniform(0.5, 1.4)) * 2) / 2,
            "creep": creep,
            "audit": None if creep == "none" else rng.choice(("drop_again", "buffer")),
            "win": rng.choice(_WINS) if rng.random() < 0.4 else None,
            "energy": rng.randint(1, 5),
            "budget": budget,
        }


@cache
def _content() -> Content:
    return load_content(DEFAULT_PROMPTS_DIR)


def _week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _encode(document: dict[str, Any]) -> bytes:
    """The file body exactly as ``AtomicJSONStorage`` writes it."""
    tables = {USER_TABLE: {"1": document}}
    return json.dumps(tables, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _split(document: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
    """The user's record and (suffix, bytes) of their side file, as the repository splits them.

    A ``storage`` without side files (``bench.storage_cpu --baseline`` of an older commit) keeps
    the whole document in the user's file.
    """
    try:
        from storage.history_archive import ARCHIVE_SUFFIX, split_document
    except ImportError:
        return document, None
    record, side = split_document(document)
    return record, None if side is None else (ARCHIVE_SUFFIX, side)


def _write_users(
    data_dir: Path, ids: list[str], anchor: datetime, due: datetime | None
) -> dict[str, datetime]:
    """Write the users' files (no fsync) and return their effective due instants.

    Large folders are written by one process per core (generation is CPU-bound).
    """
    workers = os.cpu_count() or 1
    if len(ids) < _PARALLEL_FROM or workers < 2:
        return _write_chunk(data_dir, ids, anchor, due)
    chunks = [ids[start::workers] for start in range(workers)]
    entries: dict[str, datetime] = {}
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_write_chunk, data_dir, chunk, anchor, due) for chunk in chunks]
        for future in futures:
            entries.update(future.result())
    return entries


def _write_chunk(
    data_dir: Path, ids: list[str], anchor: datetime, due: datetime | None
) -> dict[str, datetime]:
    factory = DocumentFactory(_content())
    users_dir = data_dir / USERS_FOLDER
    made: set[str] = set()
    entries: dict[str, datetime] = {}
    for user_id in ids:
        document = factory.document(user_id, anchor, due=due)
        shard = shard_of(user_id)
        if shard not in made:
            (users_dir / shard).mkdir(parents=True, exist_ok=True)
            made.add(shard)
        # As the repository stores it: the older check-ins in the user's side file.
        record, side = _split(document)
        (users_dir / shard / f"{user_id}.json").write_bytes(_encode(record))
        if side is not None:
            (users_dir / shard / f"{user_id}{side[0]}").write_bytes(side[1])
        instant = effective_due(document)
        if instant is not None:
            entries[user_id] = instant
    return entries


def ensure_folder(cache_dir: Path, count: int, *, log: Any = print) -> Folder:
    """A folder of ``count`` users under ``cache_dir``: generated, or reused and rolled forward."""
    root = cache_dir / f"users-{count}"
    data_dir = root / "data"
    meta_path = root / META
    anchor = datetime.now(UTC) + QUIET_MARGIN
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
    if meta.get("format") == _FORMAT and meta.get("users") == count:
        started = time.perf_counter()
        rolled = _roll_forward(data_dir, anchor)
        seconds = time.perf_counter() - started if rolled else 0.0
        return Folder(data_dir, count, seconds, rolled, float(meta.get("seconds", 0.0)))
    log(f"generating {count:,} users in {data_dir} ...")
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    entries = _write_users(data_dir, user_ids(count), anchor, None)
    ScheduleIndex(data_dir).rebuild(entries)
    seconds = time.perf_counter() - started
    meta_path.write_text(json.dumps({"format": _FORMAT, "users": count, "seconds": seconds}))
    _settle()
    return Folder(data_dir, count, seconds, 0, seconds)


def _settle() -> None:
    """Flush what generation left in the page cache: it would slow the fsyncs measured."""
    os.sync()


def _roll_forward(data_dir: Path, anchor: datetime) -> int:
    """Rewrite the users due before ``anchor`` as if this week's check-in went out."""
    index = ScheduleIndex(data_dir)
    stale = sorted(user for user, due in index.load_all().items() if due <= anchor)
    if not stale:
        return 0
    entries = _write_users(data_dir, stale, anchor, None)
    index.set_many(entries)
    _settle()
    return len(stale)


def due_folder(root: Path, count: int, due: datetime) -> Folder:
    """A fresh folder of ``count`` users whose weekly check-in is due at ``due`` (whole minute)."""
    if due.second or due.microsecond:
        raise ValueError("check-ins are due at whole minutes")
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    entries = _write_users(root, user_ids(count), due, due)
    ScheduleIndex(root).rebuild(entries)
    seconds = time.perf_counter() - started
    _settle()
    return Folder(root, count, seconds, 0)


def make_due(data_dir: Path, ids: list[str], due: datetime) -> float:
    """Rewrite ``ids`` in a cached folder so their check-in is due at ``due``; returns seconds.

    After the tick that sends them, their documents say this week went out and the next one is
    a week later: a cached folder stays a realistic one.
    """
    if due.second or due.microsecond:
        raise ValueError("check-ins are due at whole minutes")
    started = time.perf_counter()
    entries = _write_users(data_dir, ids, due, due)
    ScheduleIndex(data_dir).set_many(entries)
    seconds = time.perf_counter() - started
    _settle()
    return seconds
