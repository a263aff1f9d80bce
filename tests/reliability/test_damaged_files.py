"""A user file damaged by hand: named in the log, kept as a copy, and nobody else is affected.

Everything runs on real files: the engine over a ``TinyDBUserRepository``, the reminder service
with its schedule index, and the Telegram handlers on an offline request.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from dialogue_driver import Chat
from tg_offline import TOKEN, RecordingRequest, message_update

from bot.config import TelegramSettings
from bot.core.checkin_claims import Claim, ReminderService
from bot.core.content import Content
from bot.core.engine import DATA_DAMAGED, DATA_NEWER, DialogueEngine
from bot.core.messages import Reply, TextMessage
from bot.core.schedule import WeeklySlot, next_occurrence
from bot.dispatcher import Dispatcher, SendResult
from bot.telegram.app import build_application
from storage import InMemoryUserRepository, ScheduleIndex, TinyDBUserRepository
from storage.tinydb_repo import shard_of


def user_file(repo: TinyDBUserRepository, user_id: str) -> Path:
    return repo.data_dir / "users" / shard_of(user_id) / f"{user_id}.json"


def copies_of(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.damaged-*"))


def with_record(raw: bytes, **changes: Any) -> bytes:
    """The stored file with fields of the user's record changed (still valid JSON)."""
    data = json.loads(raw)
    data["user"]["1"].update(changes)
    return json.dumps(data).encode()


def two_records(raw: bytes) -> bytes:
    data = json.loads(raw)
    data["user"]["2"] = data["user"]["1"]
    return json.dumps(data).encode()


# Damage by hand -> the problem the log line must name.
DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (lambda raw: raw[: len(raw) // 2], "not valid JSON"),
    "not JSON": (lambda raw: b"anna: LinkedIn, 3 hours\n", "not valid JSON"),
    "not UTF-8": (lambda raw: b"\xff\xfe" + raw, "not valid JSON"),
    "not an object": (lambda raw: b"[1, 2, 3]", "expected a JSON object, found list"),
    "table not an object": (lambda raw: b'{"user": ["LinkedIn"]}', "table 'user' is not a JSON"),
    "two records": (two_records, "table 'user' has records [1, 2], not [1]"),
    "schema missing": (lambda raw: with_record(raw, schema=None), "'schema' is None"),
    # Valid JSON in the right layout, but not the declared schema.
    "dialogue is a number": (
        lambda raw: with_record(raw, dialogue=5),
        "does not match schema version 1: dialogue",
    ),
    "turn is a text": (
        lambda raw: with_record(
            raw, dialogue={"flow": "onboarding", "step": "hours", "turn": "x"}
        ),
        "does not match schema version 1: dialogue.turn",
    ),
    "zone that does not exist": (
        lambda raw: with_record(
            raw, reminder={"weekday": 0, "time": "09:00", "zone": "Mars/Olympus"}
        ),
        "reminder.zone",
    ),
}


@pytest.fixture
def engine(content: Content, file_repo: TinyDBUserRepository) -> DialogueEngine:
    return DialogueEngine(content, file_repo)


@pytest.fixture
def anna(engine: DialogueEngine) -> Chat:
    """A German user at the hours question, LinkedIn ticked."""
    chat = Chat(engine, "anna", language_hint="de")
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "done")
    return chat


@pytest.fixture
def ben(engine: DialogueEngine) -> Chat:
    """An English user at the channels question."""
    chat = Chat(engine, "ben", language_hint="en-GB")
    chat.send("/start")
    chat.press("continue")
    return chat


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def new_user_replies(content: Content, inbound: TextMessage, hint: str) -> list[Reply]:
    """What a user never seen before gets for ``inbound``."""
    return DialogueEngine(content, InMemoryUserRepository()).handle(
        "someone", inbound, language_hint=hint
    )


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_file_is_reported_kept_and_the_user_starts_afresh(
    kind: str,
    anna: Chat,
    ben: Chat,
    content: Content,
    file_repo: TinyDBUserRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    damage, problem = DAMAGE[kind]
    path = user_file(file_repo, "anna")
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)

    with caplog.at_level(logging.WARNING):
        replies = anna.send("3")

    notice = Reply(text=content.texts.render("de", DATA_DAMAGED))
    assert replies == [notice, *new_user_replies(content, TextMessage("3"), "de")]
    assert "Kopie" in notice.text
    (kept,) = copies_of(path)
    assert kept.read_bytes() == damaged
    assert [m for m in errors(caplog) if str(path) in m and problem in m] != []
    stored = file_repo.get("anna")
    assert stored is not None
    assert (stored["dialogue"]["step"], stored["dialogue"]["answers"]) == ("welcome", {})

    # Everyone else is served as before, and anna goes on from the new start.
    ben.press("instagram", "done")
    anna.press("continue")
    assert (file_repo.get("ben") or {})["dialogue"]["answers"] == {"channels": ["instagram"]}
    assert (file_repo.get("anna") or {})["dialogue"]["step"] == "channels"
    assert copies_of(path) == [kept]
    assert kept.read_bytes() == damaged


def test_the_notice_is_in_the_users_telegram_language(
    anna: Chat, ben: Chat, content: Content, file_repo: TinyDBUserRepository
) -> None:
    path = user_file(file_repo, "ben")
    path.write_bytes(path.read_bytes()[:-7])

    replies = ben.send("hello")

    english = content.texts.render("en", DATA_DAMAGED)
    assert english != content.texts.render("de", DATA_DAMAGED)
    assert replies == [Reply(text=english), *new_user_replies(content, TextMessage("hello"), "en")]


def test_language_asked_for_a_damaged_file_falls_back_to_the_hint(
    anna: Chat, engine: DialogueEngine, file_repo: TinyDBUserRepository
) -> None:
    user_file(file_repo, "anna").write_bytes(b"{")

    assert engine.language("anna", language_hint="en") == "en"
    assert engine.language("anna", language_hint="de") == "de"


def test_a_file_from_a_newer_version_is_left_alone(
    anna: Chat,
    ben: Chat,
    content: Content,
    file_repo: TinyDBUserRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = user_file(file_repo, "anna")
    newer = with_record(path.read_bytes(), schema=99)
    path.write_bytes(newer)

    with caplog.at_level(logging.WARNING):
        first = anna.send("3")
        again = anna.press_data("2.o.alone")

    assert first == again == [Reply(text=content.texts.render("de", DATA_NEWER))]
    assert path.read_bytes() == newer
    assert copies_of(path) == []
    expected = f"{path}: schema version 99 is newer than this focus-coach supports (1)"
    assert [m for m in errors(caplog) if expected in m] != []
    ben.press("instagram", "done")
    assert (file_repo.get("ben") or {})["dialogue"]["answers"] == {"channels": ["instagram"]}


# ---- the Telegram adapter -------------------------------------------------------------------
async def test_telegram_user_with_a_damaged_file_gets_the_notice_not_a_failure(
    content: Content, file_repo: TinyDBUserRepository
) -> None:
    request = RecordingRequest()
    app = build_application(
        TelegramSettings(token=TOKEN), DialogueEngine(content, file_repo), request=request
    )
    async with app:
        await app.process_update(message_update(app.bot, "/start", user_id=501, command=True))
        path = user_file(file_repo, "501")
        path.write_bytes(path.read_bytes()[:10])
        request.clear()

        await app.process_update(message_update(app.bot, "/plan", user_id=501, command=True))

    texts = [call.params["text"] for call in request.of("sendMessage")]
    assert texts[0] == content.texts.render("de", DATA_DAMAGED)
    assert content.texts.render("de", "telegram/failed") not in texts
    assert "Fokus-Coach" in texts[1]  # the welcome of a new start
    assert len(copies_of(path)) == 1


# ---- the reminder side ----------------------------------------------------------------------
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DUE = next_occurrence(WeeklySlot(0, time(9, 0), "Europe/Berlin"), START)


def store_due_user(repo: TinyDBUserRepository, user_id: str) -> None:
    """A user whose weekly check-in (Mondays 09:00 Berlin) is due at DUE."""
    reminder = {
        "weekday": 0,
        "time": "09:00",
        "zone": "Europe/Berlin",
        "next_due": DUE.isoformat(),
        "paused_until": None,
        "snoozed_until": None,
        "skipped_week": None,
        "sending": None,
        "sent_weeks": [],
        "missed_weeks": [],
    }
    repo.put(user_id, {"user_id": user_id, "lang": "de", "active": True, "reminder": reminder})


class RecordingSender:
    def __init__(self) -> None:
        self.claims: list[Claim] = []

    async def __call__(self, claim: Claim) -> SendResult:
        self.claims.append(claim)
        return SendResult.SENT


@pytest.mark.parametrize("index", ["kept", "rebuilt"])
async def test_reminders_skip_a_damaged_file_and_serve_everyone_else(
    index: str,
    content: Content,
    file_repo: TinyDBUserRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for user_id in ("u1", "u2", "u3"):
        store_due_user(file_repo, user_id)
    data_dir = file_repo.data_dir
    ReminderService(file_repo, ScheduleIndex(data_dir), clock=lambda: START).load()
    if index == "rebuilt":
        # A missing index is rebuilt from the documents at start-up, damaged one included.
        for entry in (data_dir / "schedule").iterdir():
            entry.unlink()
    path = user_file(file_repo, "u2")
    damaged = path.read_bytes()[:-3]
    path.write_bytes(damaged)
    now = DUE + timedelta(minutes=1)
    service = ReminderService(file_repo, ScheduleIndex(data_dir), clock=lambda: now)
    sender = RecordingSender()

    with caplog.at_level(logging.WARNING):
        service.load()
        await Dispatcher(service, sender, clock=lambda: now).tick()
        await Dispatcher(service, sender, clock=lambda: now + timedelta(hours=1)).tick()

    assert sorted(claim.user_id for claim in sender.claims) == ["u1", "u3"]
    for user_id in ("u1", "u3"):
        assert (file_repo.get(user_id) or {})["reminder"]["sent_weeks"] == ["2026-W48"]
    assert path.read_bytes() == damaged  # the reminder side never writes it
    assert copies_of(path) == []
    assert [m for m in errors(caplog) if "u2" in m] != []
    assert any(str(path) in (r.exc_text or r.getMessage()) for r in caplog.records)

    # When u2 writes again, the engine starts them afresh and their old check-in is gone.
    engine = DialogueEngine(content, file_repo, clock=lambda: now, reminders=service)
    engine.handle("u2", TextMessage("hallo"), language_hint="de")
    assert len(copies_of(path)) == 1
    assert "u2" not in ScheduleIndex(data_dir).load_all()
    assert "u2" not in service.due_users(now + timedelta(days=30))


@pytest.mark.parametrize("odd", ["folder", "fifo"])
def test_something_other_than_a_file_in_a_users_place_is_damage_not_a_hang(
    odd: str,
    anna: Chat,
    ben: Chat,
    content: Content,
    file_repo: TinyDBUserRepository,
) -> None:
    path = user_file(file_repo, "anna")
    path.unlink()
    if odd == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)  # opening it for reading would wait for a writer forever

    replies = anna.send("3")

    assert replies[0] == Reply(text=content.texts.render("de", DATA_DAMAGED))
    (kept,) = copies_of(path)
    assert kept.is_dir() if odd == "folder" else stat.S_ISFIFO(kept.stat().st_mode)
    assert (file_repo.get("anna") or {})["dialogue"]["step"] == "welcome"
    ben.press("instagram", "done")  # everyone else as before


def test_a_users_folder_that_cannot_be_listed_does_not_stop_a_rebuild(
    file_repo: TinyDBUserRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user_id in ("u1", "u2", "u3"):
        store_due_user(file_repo, user_id)
    blocked = file_repo.data_dir / "users" / shard_of("u2")
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Any:
        if self == blocked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    service = ReminderService(file_repo, ScheduleIndex(file_repo.data_dir), clock=lambda: START)

    service.load()  # no index yet: rebuilt from the user files it can list

    assert sorted(service.due_users(DUE)) == ["u1", "u3"]
