"""Messages that stay fresh: reminder openers and feedback lines come from banks of wordings.

Through the engine with an injected clock, week after week: never the same wording twice in a row
for a user, every wording used over time, in both languages, and the same wording again when the
same reminder is sent again (after a crash, a snooze or a restart).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from dialogue_driver import Chat
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from test_engine import onboard_de

from bot.core.content import Content
from bot.core.document_schema import USER_DOCUMENTS, check_user_document
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.message_banks import CHECKIN_OPENER, FOLLOWUP_OPENER, _compiled, feedback_bank
from bot.core.state import UserState
from bot.core.templating import TextRenderer, make_environment
from bot.core.variety import choose
from storage import InMemoryUserRepository

ON_PLAN_FEEDBACK = feedback_bank("on_plan")
PARTLY_FEEDBACK = feedback_bank("partly")


class Clock:
    """A settable clock (Friday 2026-11-27 09:00 UTC to start with)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository(migrator=USER_DOCUMENTS)


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock)


def planned_user(engine: DialogueEngine, user_id: str, lang: str) -> Chat:
    """A user with a plan (LinkedIn kept) and a check-in on Fridays at 08:30 in Berlin."""
    chat = Chat(engine, user_id, language_hint=lang)
    onboard_de(chat)  # the buttons are the same ids in every language
    chat.press("show_plan")
    chat.press("setup_checkin")
    chat.press("fri")
    chat.send("8:30")
    chat.send("Berlin")
    return chat


def week_of(clock: Clock) -> str:
    year, week, _ = clock.now.isocalendar()
    return f"{year}-W{week:02d}"


def checkin(chat: Chat, *, hours: str = "2") -> None:
    chat.press("checkin_start")
    chat.press("linkedin")
    chat.press("done")
    chat.send(hours)
    chat.press("none")
    chat.press("e4")
    chat.press("skip")


def variety(repo: InMemoryUserRepository, user_id: str) -> dict[str, Any]:
    stored = repo.get(user_id)
    assert stored is not None
    return dict(stored["variety"])


def wording(content: Content, lang: str, bank: str, index: int) -> str:
    """A wording as the user reads it (these banks name no variables)."""
    return content.texts.banks[lang][bank][index]


def plain(text: str) -> str:
    return html.unescape(text)


def no_repeats(indices: list[int]) -> bool:
    return all(a != b for a, b in pairwise(indices))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_twenty_checkins_never_repeat_a_wording_back_to_back_and_use_them_all(
    engine: DialogueEngine,
    repo: InMemoryUserRepository,
    content: Content,
    clock: Clock,
    lang: str,
) -> None:
    chat = planned_user(engine, "anna", lang)
    openers: list[int] = []
    feedback: list[int] = []
    for _ in range(20):
        clock.now += timedelta(days=7)
        [reminder] = engine.checkin_reminder("anna", week=week_of(clock))
        chat.question = reminder
        openers.append(variety(repo, "anna")[CHECKIN_OPENER]["index"])
        assert wording(content, lang, CHECKIN_OPENER, openers[-1]) in plain(reminder.text)
        checkin(chat)
        feedback.append(variety(repo, "anna")[ON_PLAN_FEEDBACK]["index"])
        assert wording(content, lang, ON_PLAN_FEEDBACK, feedback[-1]) in chat.text

    for bank, chosen in ((CHECKIN_OPENER, openers), (ON_PLAN_FEEDBACK, feedback)):
        assert no_repeats(chosen), chosen
        assert set(chosen) == set(range(len(content.texts.banks[lang][bank]))), chosen
    # The reminder's heading stays the same: people (and the e2e tests) recognise it.
    assert ("Fokus-Check-in" if lang == "de" else "focus check-in") in reminder.text


def test_each_way_a_week_went_has_its_own_bank_and_none_repeats(
    engine: DialogueEngine, repo: InMemoryUserRepository, content: Content, clock: Clock
) -> None:
    chat = planned_user(engine, "anna", "de")
    chosen: dict[str, list[int]] = {ON_PLAN_FEEDBACK: [], PARTLY_FEEDBACK: []}
    for hours in ["2", "6", "2", "2", "6", "6", "2", "6", "6", "2"]:
        clock.now += timedelta(days=7)
        chat.question = engine.checkin_reminder("anna", week=week_of(clock))[0]
        checkin(chat, hours=hours)
        week, stored = week_of(clock), variety(repo, "anna")
        # The bank chosen for this week's feedback is the one whose choice was made for it.
        [bank] = [name for name in chosen if stored.get(name, {}).get("key") == week]
        index = stored[bank]["index"]
        assert ("teilweise" in chat.text) == (bank == PARTLY_FEEDBACK)
        chosen[bank].append(index)
        assert wording(content, "de", bank, index) in chat.text
    assert len(chosen[PARTLY_FEEDBACK]) == 5
    assert all(no_repeats(indices) for indices in chosen.values()), chosen


def test_a_reminder_sent_again_reads_the_same(
    engine: DialogueEngine,
    repo: InMemoryUserRepository,
    content: Content,
    clock: Clock,
) -> None:
    planned_user(engine, "anna", "de")
    week = "2026-W49"
    first = engine.checkin_reminder("anna", week=week)[0].text
    # The same claim delivered again after a crash, by a new engine over the same store.
    again = DialogueEngine(content, repo, clock=clock).checkin_reminder("anna", week=week)
    assert again[0].text == first
    # A snoozed reminder of the same week keeps its words too.
    assert engine.checkin_reminder("anna", week=week, snooze=True)[0].text == first
    # The next week's reads differently.
    clock.now += timedelta(days=7)
    later = engine.checkin_reminder("anna", week="2026-W50")[0].text
    # The opener is the line under the heading (a note on jokers may follow it).
    assert later.split("\n")[2] != first.split("\n")[2]


def test_the_follow_up_varies_by_week_and_keeps_its_promise(
    engine: DialogueEngine, repo: InMemoryUserRepository, content: Content, clock: Clock
) -> None:
    planned_user(engine, "anna", "en")
    seen: list[int] = []
    for week in ("2026-W49", "2026-W50", "2026-W51", "2026-W52"):
        engine.checkin_reminder("anna", week=week)
        [followup] = engine.checkin_reminder("anna", week=week, kind=Kind.FOLLOWUP)
        [again] = engine.checkin_reminder("anna", week=week, kind=Kind.FOLLOWUP)
        assert again.text == followup.text
        seen.append(variety(repo, "anna")[FOLLOWUP_OPENER]["index"])
        assert wording(content, "en", FOLLOWUP_OPENER, seen[-1]) in plain(followup.text)
        assert "still open" in followup.text and "I will not ask again." in followup.text
    assert no_repeats(seen)


def test_the_choice_is_reproducible_and_differs_between_users(content: Content) -> None:
    def sequence(user_id: str) -> list[int]:
        user = UserState(user_id=user_id, lang="de")
        return [
            choose(user, content, CHECKIN_OPENER, f"2027-W{week:02d}") for week in range(1, 30)
        ]

    assert sequence("anna") == sequence("anna")  # no random generator: the same every run
    assert sequence("anna") != sequence("ben")  # but not everyone gets the same order
    count = len(content.texts.banks["de"][CHECKIN_OPENER])
    for user_id in ("anna", "ben", "carla"):
        chosen = sequence(user_id)
        assert no_repeats(chosen)
        # A round shows every wording once before any comes again.
        assert sorted(chosen[:count]) == list(range(count))


def test_a_bank_that_shrank_still_never_repeats(content: Content) -> None:
    """A coach removed wordings: a remembered index beyond the bank is dropped, not reused."""
    user = UserState(user_id="anna", lang="de")
    user.variety[CHECKIN_OPENER] = {"key": "2026-W48", "index": 40, "used": [40, 3]}
    first = choose(user, content, CHECKIN_OPENER, "2026-W49")
    assert first < len(content.texts.banks["de"][CHECKIN_OPENER])
    assert first != 3  # still used in this round
    assert choose(user, content, CHECKIN_OPENER, "2026-W50") != first


def test_older_documents_without_variety_and_wrong_types_are_read_tolerantly() -> None:
    base: dict[str, Any] = {"user_id": "anna", "lang": "de"}
    assert UserState.from_document(base).variety == {}  # written before the banks existed
    wrong: list[Any] = [
        5,
        "x",
        [1, 2],
        {"checkin_opener": 3},
        {"checkin_opener": {"key": 4, "index": 1, "used": []}},
        {"checkin_opener": {"key": "2026-W48", "index": -1, "used": []}},
        {"checkin_opener": {"key": "2026-W48", "index": True, "used": []}},
        {"checkin_opener": {"key": "2026-W48", "index": 1, "used": "1"}},
    ]
    for value in wrong:
        assert UserState.from_document({**base, "variety": value}).variety == {}, value
    mixed = {
        "checkin_opener": {"key": "2026-W48", "index": 2, "used": [1, "x", True, -3, 2]},
        "feedback_off": None,
    }
    assert UserState.from_document({**base, "variety": mixed}).variety == {
        "checkin_opener": {"key": "2026-W48", "index": 2, "used": [1, 2]}
    }


@pytest.mark.parametrize(
    "value",
    [
        5,
        [],
        {"checkin_opener": 3},
        {"checkin_opener": {"key": "2026-W48", "index": -1, "used": []}},
        {"checkin_opener": {"key": "2026-W48", "index": "1", "used": []}},
        {"checkin_opener": {"index": 1, "used": []}},
        {"checkin_opener": {"key": "2026-W48", "index": 1, "used": [True]}},
    ],
)
def test_the_schema_refuses_a_variety_of_the_wrong_shape(value: Any) -> None:
    document = UserState(user_id="anna", lang="de").to_document()
    check_user_document(document)  # as written: fine
    with pytest.raises(ValueError, match="variety"):
        check_user_document({**document, "variety": value})


def _rendered(env: Any, wording: str) -> str:
    """A wording as ``fresh`` shows it when it renders it as a template."""
    return str(Markup(env.from_string(wording).render().strip()))


@given(
    wording=st.text(
        st.sampled_from(["a", "Ä", " ", "\n", "\t", "&", "<", ">", "{", "}", "%", "#", "-", "'"]),
        max_size=30,
    )
)
def test_a_wording_without_jinja_is_the_text_its_template_renders(wording: str) -> None:
    env = make_environment(Path("."))
    if any(mark in wording for mark in ("{{", "{%", "{#")):
        return  # a template (the checker refuses one that does not parse)
    compiled = _compiled(env, wording)
    assert isinstance(compiled, Markup)  # kept as text: what rendering it would give
    assert str(compiled) == _rendered(env, wording)


def test_every_shipped_wording_shows_as_its_template_renders(content: Content) -> None:
    env = content.texts.env
    kept = 0
    for named in content.texts.banks.values():
        for wordings in named.values():
            for wording in wordings:
                compiled = _compiled(env, wording)
                if isinstance(compiled, Markup):
                    kept += 1
                    assert str(compiled) == _rendered(env, wording)
    assert kept > 40


def test_a_wording_with_jinja_is_still_rendered_with_the_templates_values(
    tmp_path: Path,
) -> None:
    (tmp_path / "de" / "banks").mkdir(parents=True)
    (tmp_path / "de" / "labels.yaml").write_text("ok: OK\n", encoding="utf-8")
    (tmp_path / "de" / "banks" / "opener.yaml").write_text(
        "".join(f"- 'Zeile {number} & {{{{ who }}}}'\n" for number in range(4))
        + "- 'Ohne Variable & <b>fett</b>'\n",
        encoding="utf-8",
    )
    (tmp_path / "de" / "remind.j2").write_text('{{ fresh("opener") }}!', encoding="utf-8")
    texts = TextRenderer(tmp_path, ("de",))
    assert texts.render("de", "remind", who="<Anna>", variety={"opener": 2}) == (
        "Zeile 2 & &lt;Anna&gt;!"
    )
    assert texts.render("de", "remind", variety={"opener": 4}) == "Ohne Variable & <b>fett</b>!"
