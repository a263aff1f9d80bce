"""Stored user files that are valid JSON but wrong: nobody is locked out, nothing else is touched.

Hypothesis takes real documents (a user at the plan with a weekly check-in and a check-in done,
one in the middle of onboarding, one in the middle of a check-in, one with a plan change waiting
out its cool-off) and breaks their structure:
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
        planned.send("/plan")
        planned.press("leave_gracefully")  # the one channel left out: its playbook
        planned.press("quiet")  # a tracked exit, its steps due at once
        planned.send("/checkin")
        planned.press("linkedin", "+linkedin", "done")  # LinkedIn brought a result (🎯)
        planned.send("2")
        planned.press("xing")
        planned.press("drop_again")
        planned.press("all_due")  # the exit is done
        planned.press("e4")
        planned.press("win_first")
        planned.send("Ein Post")
        planned.press("no_time")  # an obstacle and its if-then plan are stored too
        planned.press("confirm")
        # The streak contract's block: a joker declared, a week's pause (over before the
        # next check-in), the rules shown.
        planned.send("/rules")
        planned.press("joker_next")
        planned.send("/settings")
        planned.press("pause")
        planned.press("w1")
        planned.send("/checkin")
        planned.press("linkedin", "done")  # left in the middle of the next one
        onboarding = Chat(engine, "halfway")
        onboarding.send("/start")
        onboarding.press("continue")
        onboarding.press("instagram", "done")
        # Xing came back and stays, TikTok making room: a change waits out its cool-off.
        cooling = Chat(engine, "cooling")
        cooling.send("/start")
        cooling.press("continue")
        cooling.press("linkedin", "xing", "tiktok", "done")
        cooling.send("3")
        cooling.press("b2b_dach", "done")
        cooling.press("leads", "done")
        cooling.press("alone")
        cooling.press("xing")
        cooling.press("show_plan")
        cooling.send("/checkin")
        cooling.press("linkedin", "done")
        cooling.send("2")
        cooling.press("xing")
        cooling.press("linkedin")
        cooling.press("e4")
        cooling.press("skip")
        found = {uid: repo.get(uid) for uid in ("planned", "halfway", "cooling")}
    assert found["cooling"] is not None and found["cooling"]["pending_change"]
    # A heartbeat, offered once, as a finished exit from TikTok or X has (Xing states no
    # inactivity rule, so the dialogue never starts one there).
    exit_record = found["planned"]["exits"]["xing"]
    assert exit_record["finished_at"] is not None
    exit_record["heartbeat"] = {
        "since": exit_record["finished_at"],
        "days": 30,
        "remind_before": 7,
        "stopped": False,
        "asked": None,
    }
    found["planned"]["reminder"]["heartbeat_offered"] = {"xing": exit_record["finished_at"]}
    return {**found, "lapsed": lapsed(found["planned"])}


def lapsed(planned: dict[str, Any]) -> dict[str, Any]:
    """The planned user after a lapse: a comeback offered, a minimum week chosen, the softer
    check-in's answer recorded and a softer reminder pending (``bot.core.lapses``)."""
    document = json.loads(json.dumps(planned))
    kept = [entry["channel"] for entry in document["plan"]["kept"]]
    document["reminder"]["comeback_offered"] = "2026-W48"
    document["reminder"]["sent_weeks"] = ["2026-W45", "2026-W46"]
    document["light_week"] = {
        "week": "2026-W49",
        "channels": kept[:1],
        "budget": 0.42,
        "why": "comeback",
    }
    document["checkins"][-1].update({"in_the_way": "too_much", "light": "too_much"})
    document["pending_checkin"] = {"week": "2026-W49", "missed": [], "lapsed": 1}
    return document


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
    # The documents are rebuilt each session: an example stored by an earlier one does not
    # replay the same draws against them (Hypothesis then reports "inconsistent data").
    database=None,
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


@pytest.mark.parametrize("fitted_to", [7, ["abc"], {"content": "abc"}, True])
def test_a_wrong_fit_stamp_is_damage_told_once_and_the_reminder_still_goes_out(
    fitted_to: Any,
    content: Content,
    documents: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The stamp of the content a state was fitted to (``fitted_to``) of the wrong type."""
    assert documents["planned"]["fitted_to"] == content.identity  # its steps stamped it
    data_dir = tmp_path_factory.mktemp("fitted")
    raw = write_raw(data_dir, "anna", {**documents["planned"], "fitted_to": fitted_to})
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


@pytest.mark.parametrize("fitted_to", ["missing", None, "content before a deploy"])
def test_a_document_without_the_current_fit_stamp_is_fitted_and_goes_on_as_usual(
    fitted_to: str | None,
    content: Content,
    documents: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Older documents lack the stamp; another content's stamp means "fit it again"."""
    data_dir = tmp_path_factory.mktemp("unfitted")
    older = {**documents["planned"], "user_id": "anna", "fitted_to": fitted_to}
    if fitted_to == "missing":
        del older["fitted_to"]
    write_raw(data_dir, "anna", older)
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        engine = DialogueEngine(content, repo, clock=clock)
        reminder = engine.checkin_reminder("anna", week="2026-W49")
        stored = repo.get("anna")
    assert "Zeit für deinen Fokus-Check-in (KW 49)" in text_of(reminder)
    assert stored is not None
    assert stored["fitted_to"] == content.identity is not None


def test_the_seeded_document_holds_a_streak_contract(documents: dict[str, Any]) -> None:
    """The documents broken above carry the contract block, so its keys get broken too."""
    contract = documents["planned"]["contract"]
    assert contract["jokers"] == [{"week": "2026-W49", "how": "declared"}]
    assert contract["pauses"] == [{"from": "2026-11-27", "until": "2026-12-04"}]
    assert contract["rules_shown"] is True


@pytest.mark.parametrize(
    "contract",
    [
        [],
        {"jokers": [{"week": "2026-W49", "how": "sometimes"}]},
        {"jokers": "2026-W49"},
        {"repairs": [{"week": "2026-W48", "by": "2026-W49", "action": ""}]},
        {"pauses": [{"from": "2026-12-04", "until": "2026-11-27"}]},
        {"rules_shown": "yes"},
    ],
)
def test_a_wrong_contract_block_is_damage_and_a_missing_one_is_empty(
    contract: Any, documents: dict[str, Any]
) -> None:
    wrong = {**documents["planned"], "contract": contract}
    assert not fits(wrong)
    older = {k: v for k, v in documents["planned"].items() if k != "contract"}
    assert fits(older)


# The keys a lapse adds (``bot.core.lapses``, ``bot.core.light_week``): each wrong in turn.
LAPSE_KEYS_WRONG = [
    (("light_week",), "weekly"),
    (("light_week",), []),
    (("light_week", "week"), "W49"),
    (("light_week", "channels"), []),
    (("light_week", "channels"), "linkedin"),
    (("light_week", "budget"), -1),
    (("light_week", "budget"), "0.4"),
    (("light_week", "why"), "because"),
    (("reminder", "comeback_offered"), 48),
    (("reminder", "comeback_offered"), "last week"),
    (("pending_checkin", "lapsed"), -1),
    (("pending_checkin", "lapsed"), "one"),
    (("checkins", -1, "in_the_way"), "aliens"),
    (("checkins", -1, "light"), True),
]


@pytest.mark.parametrize(("path", "value"), LAPSE_KEYS_WRONG, ids=repr)
def test_a_wrong_lapse_key_is_set_aside_once_and_the_user_starts_afresh(
    path: tuple[Any, ...],
    value: Any,
    content: Content,
    documents: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("lapse")
    record = json.loads(json.dumps(documents["lapsed"]))
    parent_of(record, path)[path[-1]] = value
    assert fits(documents["lapsed"]) and not fits(record)
    raw = write_raw(data_dir, "anna", record)
    write_raw(data_dir, "ben", documents["lapsed"])

    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock)
        service.load()
        engine = DialogueEngine(content, repo, clock=clock, reminders=service)
        first = engine.handle("anna", Command("start"), language_hint="de")
        again = engine.handle("anna", Command("start"), language_hint="de")
        ben = engine.handle("ben", Command("plan"), language_hint="de")

    path_of = user_file(data_dir, "anna")
    assert DAMAGED in text_of(first) and DAMAGED not in text_of(again)
    assert [copy.read_bytes() for copy in path_of.parent.glob(f"{path_of.name}.damaged-*")] == [
        raw
    ]
    assert "Minimalwoche" in text_of(ben)  # the other user's light week is read as stored


@pytest.mark.parametrize("key", ["light_week", "comeback_offered", "lapsed"])
def test_a_document_from_before_lapses_reads_as_no_lapse(
    key: str, content: Content, documents: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("older")
    record = json.loads(json.dumps(documents["lapsed"]))
    for block in (record, record["reminder"], record["pending_checkin"]):
        block.pop(key, None)
    assert fits(record)
    write_raw(data_dir, "anna", record)
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        engine = DialogueEngine(content, repo, clock=clock)
        replies = engine.handle("anna", Command("plan"), language_hint="de")
    assert DAMAGED not in text_of(replies)
    assert ("Minimalwoche" in text_of(replies)) is (key != "light_week")


# The older check-ins kept aside (``storage.history_archive``): the marker in the user's file.
@pytest.mark.parametrize(
    "marker",
    [
        [],
        "0:24",
        {"first": 0},
        {"count": 3},
        {"first": -1, "count": 3},
        {"first": 0, "count": 0},
        {"first": "0", "count": 3},
        {"first": 0, "count": True},
        {"first": 0.0, "count": 3},
    ],
)
def test_a_wrong_archive_marker_is_damage_and_a_missing_one_is_none(
    marker: Any, documents: dict[str, Any]
) -> None:
    assert fits({**documents["planned"], "archived_checkins": {"first": 0, "count": 3}})
    assert fits({**documents["planned"], "archived_checkins": None})
    assert "archived_checkins" not in documents["planned"]  # older documents have none
    assert not fits({**documents["planned"], "archived_checkins": marker})


def a_year_of(document: dict[str, Any], user_id: str) -> dict[str, Any]:
    """``document`` with forty answered weeks: enough that the older ones are kept aside."""
    answered = document["checkins"][0]
    checkins = [{**answered, "week": f"2026-W{week:02d}"} for week in range(1, 41)]
    return {**json.loads(json.dumps(document)), "user_id": user_id, "checkins": checkins}


SIDE_FILES_WRONG = [
    b"[]",
    b'{"first": 0}',
    b'{"first": 0, "checkins": []}',  # lacks the records the user's file names
    json.dumps({"first": 0, "checkins": [{"week": 5}] * 24}).encode(),  # not check-ins
    json.dumps({"first": 0, "checkins": [{"week": "2026-W01", "energy": 9}] * 24}).encode(),
]


@pytest.mark.parametrize("side", SIDE_FILES_WRONG)
def test_a_wrong_side_file_is_damage_told_once_and_both_files_are_kept_aside(
    side: bytes,
    content: Content,
    documents: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("side")
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        for user_id in ("anna", "ben"):
            repo.put(user_id, a_year_of(documents["planned"], user_id))
    path = user_file(data_dir, "anna")
    side_path = path.with_name("anna.archive.json")
    side_path.write_bytes(side)
    raw = path.read_bytes()

    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock)
        service.load()
        engine = DialogueEngine(content, repo, clock=clock, reminders=service)
        first = engine.handle("anna", Command("start"), language_hint="de")
        again = engine.handle("anna", Command("start"), language_hint="de")
        ben = repo.get("ben")

    assert DAMAGED in text_of(first) and DAMAGED not in text_of(again)
    assert [copy.read_bytes() for copy in path.parent.glob("anna.json.damaged-*")] == [raw]
    assert [copy.read_bytes() for copy in path.parent.glob("anna.archive.json.damaged-*")] == [
        side
    ]
    assert ben == {**a_year_of(documents["planned"], "ben"), "schema": 1}
