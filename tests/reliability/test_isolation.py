"""Button data carries no user: whatever another user's buttons say, they act on your own data.

Telegram tells the bot who pressed a button; the data only says which turn and option. So a
user replaying someone else's data (same turn numbers included) must change nothing of theirs
and see nothing of theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dialogue_driver import Chat

from bot.core.callbacks import decode
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.messages import Reply
from storage import TinyDBUserRepository
from storage.tinydb_repo import shard_of

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SECRET = "Bens Geheimnis 4711"


class RecordingChat(Chat):
    """A chat that remembers every button data it was shown and every one it pressed."""

    def __init__(self, engine: DialogueEngine, user_id: str) -> None:
        super().__init__(engine, user_id, language_hint="de")
        self.shown: list[str] = []
        self.pressed: list[str] = []

    def _deliver(self, replies: list[Reply]) -> list[Reply]:
        self.shown.extend(b.data for reply in replies for row in reply.buttons for b in row)
        return super()._deliver(replies)

    def press_data(self, data: str) -> list[Reply]:
        self.pressed.append(data)
        return super().press_data(data)


def onboard_and_start_checkin(chat: Chat) -> None:
    """Onboarding (B2B consultant, 3 hours), the plan, a check-in up to the energy question."""
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "xing", "tiktok", "done")
    chat.send("3")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press("tiktok")
    chat.press("show_plan")
    chat.send("/checkin")
    chat.press("linkedin", "done")
    chat.send("2")
    chat.press("none")
    chat.press("e4")
    chat.press("win_first")


def file_of(repo: TinyDBUserRepository, user_id: str) -> Path:
    return repo.data_dir / "users" / shard_of(user_id) / f"{user_id}.json"


def test_replaying_another_users_buttons_never_touches_or_shows_their_data(
    content: Content, file_repo: TinyDBUserRepository
) -> None:
    engine = DialogueEngine(content, file_repo, clock=lambda: NOW)
    ben = RecordingChat(engine, "ben")
    onboard_and_start_checkin(ben)
    ben.send(SECRET)  # his win of the week; the if-then question is open
    bens_file = file_of(file_repo, "ben")
    bens_bytes = bens_file.read_bytes()
    assert SECRET in bens_bytes.decode()

    anna = RecordingChat(engine, "anna")
    anna.send("/start")
    current = 0
    # First what ben pressed, in his order (so anna's turns catch up with his), then everything
    # he was ever shown.
    for data in [*ben.pressed, *ben.shown]:
        stored = file_repo.get("anna")
        assert stored is not None
        token = decode(data)
        current += token is not None and token.turn == stored["dialogue"]["turn"]
        replies = anna.press_data(data)

        assert bens_file.read_bytes() == bens_bytes
        assert all(SECRET not in reply.text for reply in replies)
    assert current >= len(ben.pressed) // 2  # many of ben's buttons had anna's current turn

    anna.send("/export")
    (export,) = [reply.document for reply in anna.replies if reply.document is not None]
    assert SECRET not in export.content.decode()
    assert '"user_id": "anna"' in export.content.decode()
    assert '"ben"' not in export.content.decode()
    assert bens_file.read_bytes() == bens_bytes
    # And ben carries on exactly where he was.
    ben.press("skip")
    assert (file_repo.get("ben") or {})["checkins"][0]["win"] == SECRET
