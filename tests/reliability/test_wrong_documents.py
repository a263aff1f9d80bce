"""Stored user files that are valid JSON but wrong: nobody is locked out, nothing else is touched.

Hypothesis takes real documents (a user at the plan with a weekly check-in and a check-in done,
one in the middle of onboarding, one in the middle of a check-in) and breaks their structure:
values of the wrong type, keys missing or added, old and future schema versions. Written to disk
as they are, each must give exactly one of three outcomes on the real file repository:

- it still fits the schema: the user goes on as usual (a repair may move them, but nothing fails);
- it does not: the damaged-data answer once, the file kept aside byte-identical, a fresh start;
- it comes from a newer version: the "newer data" answer, the file left exactly as it is.

Another user is never set aside, and the check-in side neither fails nor stops the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dialogue_driver import Chat, plain
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.core.checkin_claims import ReminderService
from bot.core.content import Content
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.engine import DialogueEngine
from bot.core.messages import ButtonPress, Command, Reply, TextMessage
from storage import ScheduleIndex, TinyDBUserRepository
from storage.tinydb_repo import shard_of

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DAMAGED = "konnte ich leider nicht lesen"
NEWER = "neuere Version"

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def parent_of(document: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    return node


CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["replace", "remove", "add", "schema"]),
        st.integers(0, 10**6),  # which place (modulo the places there are)
        st.text(max_size=8),  # the key an "add" adds
        st.integers(-2, 4) | JSON_VALUES,  # the new value
    ),
    min_size=1,
    max_size=3,
)


def broken(document: dict[str, Any], changes: list[tuple[str, int, str, Any]]) -> dict[str, Any]:
    """``document`` with the structural ``changes`` applied (the strategy never reads it)."""
    doc = json.loads(json.dumps(document))
    for how, where, key, value in changes:
        places = [p for p in paths(doc) if p]
        if how == "schema" or not places:
            doc["schema"] = value
            continue
        place = places[where % len(places)]
        parent = parent_of(doc, place)
        if how == "replace":
            parent[place[-1]] = value
        elif how == "remove":
            del parent[place[-1]]
        elif isinstance(parent, dict):
            parent[key] = value
    return doc


def user_file(data_dir: Path, user_id: str) -> Path:
    return data_dir / "users" / shard_of(user_id) / f"{user_id}.json"


def text_of(replies: list[Reply]) -> str:
    return "\n".join(plain(reply.text) for reply in replies)


def clock() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def documents(content: Content, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real documents of users at different places, as the engine wrote them."""
    data_dir = tmp_path_factory.mktemp("seed")
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        engine = DialogueEngine(content, repo, clock=clock)
        planned = Chat(engine, "planned")
        planned.send("/start")
        planned.press("continue")
        planned.press("linkedin", "xing", "done")
        planned.send("3")
        planned.press("b2b_dach", "done")
        planned.press("leads", "done")
        planned.press("alone")
        planned.press("xing")
        planned.press("show_plan")
        planned.press("setup_checkin")
        planned.press("fri")
        planned.send("8:30")
        planned.send("Berlin")
        planned.send("/checkin")
        planned.press("linkedin", "+linkedin", "done")  # LinkedIn brought a result (🎯)
        planned.send("2")
        planned.press("xing")
        planned.press("drop_again")
        planned.press("e4")
        planned.press("win_first")
        planned.send("Ein Post")
        planned.press("no_time")  # an obstacle and its if-then plan are stored too
        planned.press("confirm")
        planned.send("/checkin")
        planned.press("linkedin", "done")  # left in the middle of the next one
        onboarding = Chat(engine, "halfway")
        onboarding.send("/start")
        onboarding.press("continue")
        onboarding.press("instagram", "done")
        return {uid: repo.get(uid) for uid in ("planned", "halfway")}


def write_raw(data_dir: Path, user_id: str, record: Any) -> bytes:
    path = user_file(data_dir, user_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps({"user": {"1": record}}).encode()
    path.write_bytes(raw)
    return raw


def fits(record: Any) -> bool:
    try:
        USER_DOCUMENTS.upgrade(json.loads(json.dumps(record)), source="test")
    except Exception:
        return False
    return True


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_structurally_wrong_document_never_locks_its_user_out(
    data: st.DataObject,
    content: Content,
    documents: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("wrong")
    which = data.draw(st.sampled_from(sorted(documents)), label="document")
    record = broken(documents[which], data.draw(CHANGES, label="changes"))
    raw = write_raw(data_dir, "anna", record)
    write_raw(data_dir, "ben", documents["planned"])
    newer = (
        isinstance(record.get("schema"), int)
        and not isinstance(record["schema"], bool)
        and record["schema"] > 1
    )
    valid = fits(record)
    event("newer" if newer else "fits the schema" if valid else "damaged")

    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock)
        service.load()  # rebuilt from the documents: must not fail on the broken one
        engine = DialogueEngine(content, repo, clock=clock, reminders=service)
        first = engine.handle("anna", Command("start"), language_hint="de")
        later = [engine.handle("anna", TextMessage("3"), language_hint="de")]
        for _ in range(3):  # and on, tapping what is offered
            buttons = [b for reply in later[-1] for row in reply.buttons for b in row]
            if buttons:
                later.append(
                    engine.handle("anna", ButtonPress(buttons[0].data), language_hint="de")
                )
        week_later = NOW + timedelta(days=7)  # Friday 09:00: its 08:30 check-in is due
        claims = [service.claim(uid, week_later) for uid in service.due_users(week_later)]
        ben_after = engine.handle("ben", Command("start"), language_hint="de")

    path = user_file(data_dir, "anna")
    copies = sorted(path.parent.glob(f"{path.name}.damaged-*"))
    if newer:
        assert NEWER in text_of(first)
        assert path.read_bytes() == raw and copies == []
    elif valid:
        assert DAMAGED not in text_of(first)
        assert copies == []
    else:
        assert DAMAGED in text_of(first)
        assert [copy.read_bytes() for copy in copies] == [raw]
        assert all(DAMAGED not in text_of(replies) for replies in later)  # told once
        assert any(reply.buttons for reply in later[-1])  # and they can go on
    # The other user: never set aside, still at their question, and their check-in goes out.
    ben = user_file(data_dir, "ben")
    assert sorted(ben.parent.glob(f"{ben.name}.damaged-*")) == []
    assert DAMAGED not in text_of(ben_after) and NEWER not in text_of(ben_after)
    assert "ben" in [claim.user_id for claim in claims if claim is not None]


@pytest.mark.parametrize("results", ["linkedin", {"linkedin": 1}, [1], [None], 7, True])
def test_results_of_a_wrong_type_in_a_checkin_are_damage(
    documents: dict[str, Any], results: Any
) -> None:
    """A check-in's ``results`` is a list of channel ids, absent or null in older documents."""
    record = json.loads(json.dumps(documents["planned"]))
    assert record["checkins"][-1]["results"] == ["linkedin"]
    for fitting in (["linkedin"], [], None):
        record["checkins"][-1]["results"] = fitting
        assert fits(record)
    del record["checkins"][-1]["results"]
    assert fits(record)
    record["checkins"][-1]["results"] = results
    assert not fits(record)


# Not the shard format: other JSON, entries that are no user of that shard or no instant, bytes.
# (A well-formed shard that merely lacks an entry is a hint gone wrong, not a broken file.)
SHARD_CONTENT = st.one_of(
    JSON_VALUES.filter(lambda value: not isinstance(value, dict) or "due" not in value).map(
        lambda value: json.dumps(value).encode()
    ),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, min_size=1, max_size=3).map(
        lambda entries: json.dumps({"due": entries}).encode()
    ),
    st.binary(max_size=40),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(garbage=st.lists(SHARD_CONTENT, min_size=1, max_size=3))
def test_wrong_index_shards_never_stop_a_start_nor_a_check_in(
    garbage: list[bytes], documents: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("shards")
    for user_id in ("u1", "u2", "u3"):
        write_raw(data_dir, user_id, {**documents["planned"], "user_id": user_id})
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        ReminderService(repo, ScheduleIndex(data_dir), clock=clock).load()  # a complete index
        shards = sorted((data_dir / "schedule").glob("??.json"))
        for user_id, content in zip(("u1", "u2", "u3"), garbage, strict=False):
            (data_dir / "schedule" / f"{shard_of(user_id)}.json").write_bytes(content)
        assert shards  # the index existed before it was broken
        service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock)

        service.load()

        friday = NOW + timedelta(days=7)  # everyone's check-in is due
        assert sorted(service.due_users(friday)) == ["u1", "u2", "u3"]


@pytest.mark.parametrize(
    "variety",
    [
        "fresh",
        {"checkin_opener": [1, 2]},
        {"feedback_on_plan": {"key": "2026-W48", "index": "3", "used": [3]}},
        {"feedback_on_plan": {"key": "2026-W48", "index": 3, "used": [-1]}},
    ],
)
def test_a_wrong_bank_memory_is_damage_told_once_and_the_reminder_still_goes_out(
    variety: Any,
    content: Content,
    documents: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The wordings' memory (``variety``) of the wrong shape: set aside like any damage."""
    assert documents["planned"]["variety"]  # its check-in wrote one
    data_dir = tmp_path_factory.mktemp("variety")
    raw = write_raw(data_dir, "anna", {**documents["planned"], "variety": variety})
    write_raw(data_dir, "ben", {**documents["planned"], "user_id": "ben"})
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock)
        service.load()
        engine = DialogueEngine(content, repo, clock=clock, reminders=service)
        first = engine.handle("anna", Command("start"), language_hint="de")
        reminder = engine.checkin_reminder("ben", week="2026-W49")
    path = user_file(data_dir, "anna")
    assert DAMAGED in text_of(first)
    assert [copy.read_bytes() for copy in path.parent.glob(f"{path.name}.damaged-*")] == [raw]
    assert "Zeit für deinen Fokus-Check-in (KW 49)" in text_of(reminder)


def test_a_document_from_before_the_banks_goes_on_as_usual(
    content: Content, documents: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("older")
    older = {key: value for key, value in documents["planned"].items() if key != "variety"}
    older["user_id"] = "anna"
    write_raw(data_dir, "anna", older)
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        engine = DialogueEngine(content, repo, clock=clock)
        first = engine.handle("anna", Command("start"), language_hint="de")
        reminder = engine.checkin_reminder("anna", week="2026-W49")
        stored = repo.get("anna")
    assert DAMAGED not in text_of(first)
    assert "Zeit für deinen Fokus-Check-in (KW 49)" in text_of(reminder)
    assert stored is not None
    assert stored["variety"]["checkin_opener"]["key"] == "2026-W49"
