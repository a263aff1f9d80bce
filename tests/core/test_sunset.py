"""Leaving a dropped channel gracefully: the plan menu's button, the choice and the playbook."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dialogue_driver import Chat, plain

from bot.core.actions import ACTIONS, ActionContext
from bot.core.callbacks import Action, encode
from bot.core.coaching import FocusPlan
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.engine import DialogueEngine
from bot.core.flow_ids import SUNSET_ACTION
from bot.core.question_view import render_question
from bot.core.questions import asked
from bot.core.rules import RulesError, load_catalogue
from bot.core.state import DialogueState, UserState
from bot.core.sunset_rules import Certainty, Topic, fill, load_sunset
from bot.core.sunset_view import playbook_context

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def at_plan(chat: Chat, channels: tuple[str, ...], pressure: str = "none") -> Chat:
    """Onboard a B2B consultant with 3 h who uses ``channels``: LinkedIn is kept."""
    chat.send("/start")
    chat.press("continue")
    chat.press(*channels, "done")
    chat.send("3")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press(pressure)
    chat.press("show_plan")
    return chat


def stored(engine: DialogueEngine, user_id: str) -> dict[str, object]:
    document = engine.repository.get(user_id)
    assert document is not None
    return document


def where(engine: DialogueEngine, user_id: str) -> tuple[str, str]:
    dialogue = stored(engine, user_id)["dialogue"]
    assert isinstance(dialogue, dict)
    return dialogue["flow"], dialogue["step"]


def line_with(text: str, *needles: str) -> str:
    """The one line of ``text`` holding every needle; AssertionError otherwise."""
    lines = [line for line in text.splitlines() if all(n in line for n in needles)]
    assert len(lines) == 1, (needles, text)
    return lines[0]


def instagram_deletion(content: Content) -> str:
    """When the Instagram deletion fact was last checked, as the German playbook writes it."""
    (fact,) = [f for f in content.sunset.playbook("instagram").facts if f.topic is Topic.DELETE]
    assert fact.certainty is Certainty.REPORTED  # domain.md: secondary report, not confirmed
    return f"Stand {fact.as_of.month:02d}/{fact.as_of.year}"


def test_a_dropped_channel_gets_a_playbook_naming_the_kept_one(
    chat_de: Chat, engine: DialogueEngine, content: Content
) -> None:
    at_plan(chat_de, ("linkedin", "instagram", "tiktok"))
    assert "ist nur einen Fingertipp entfernt" in chat_de.question_text

    chat_de.press("leave_gracefully")

    assert "Welchen Kanal willst du hinter dir lassen?" in chat_de.question_text
    offered = [b.label for b in chat_de.buttons()]
    assert offered == ["Raus: Instagram", "Raus: TikTok", "⬅️ Zurück"]  # what the plan drops

    chat_de.press("instagram")

    playbook = chat_de.text
    assert "Instagram sauber verlassen" in playbook
    assert "Du behältst LinkedIn." in playbook
    assert "Hier geht es jetzt weiter – auf LinkedIn." in playbook
    deletion = line_with(playbook, "Löschen:", "30 Tage")
    assert "laut Berichten" in deletion
    assert "prüf das vor dem Löschen" in deletion
    assert instagram_deletion(content) in deletion
    deactivation = line_with(playbook, "vorübergehende Deaktivierung")
    assert "Stand " in deactivation and "laut Berichten" not in deactivation
    assert "IG-DEL – Instagram deletion can be cancelled for 30 days" in playbook
    # Under it, how to leave; only the tips lead back to the plan menu, where it came from.
    assert "Wie willst du gehen?" in playbook
    assert [b.label for b in chat_de.buttons()] == [
        "📣 Angekündigt (4 Wochen)",
        "🤫 Leise gehen (heute)",
        "Nur die Tipps, danke",
        "⬅️ Zurück",
    ]
    chat_de.press("tips")
    assert where(engine, "anna") == ("onboarding", "plan")
    assert "Die Tipps findest du jederzeit wieder" in chat_de.text
    assert stored(engine, "anna")["exits"] == {}  # nothing started
    assert chat_de.button("leave_gracefully")


def test_the_playbook_in_english(chat_en: Chat, content: Content) -> None:
    at_plan(chat_en, ("linkedin", "instagram", "tiktok"))
    assert "is one tap away" in chat_en.question_text

    chat_en.press("leave_gracefully")
    chat_en.press("instagram")

    playbook = chat_en.text
    assert "Leaving Instagram gracefully" in playbook
    assert "You keep LinkedIn." in playbook
    assert "this is where to find you now – on LinkedIn" in playbook
    deletion = line_with(playbook, "Delete:", "30 days")
    assert "reportedly" in deletion and "check this before you delete" in deletion
    (fact,) = [f for f in content.sunset.playbook("instagram").facts if f.topic is Topic.DELETE]
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert f"as of {month[fact.as_of.month - 1]} {fact.as_of.year}" in deletion
    assert "Platforms change their rules" in playbook


def test_tiktok_says_the_official_inactivity_rule_plainly(chat_de: Chat) -> None:
    at_plan(chat_de, ("linkedin", "instagram", "tiktok"))
    chat_de.press("leave_gracefully")
    chat_de.press("tiktok")

    rule = line_with(chat_de.text, "180 Tage")
    assert "alle fünf Monate" in rule
    assert "laut Berichten" not in rule
    assert "TT-INACTIVE" in rule


def test_a_channel_without_platform_facts_gets_honest_tips_only(chat_en: Chat) -> None:
    at_plan(chat_en, ("linkedin", "mastodon"))
    chat_en.press("leave_gracefully")  # the only dropped channel: no choice to make

    playbook = chat_en.text
    assert "Leaving Mastodon/Fediverse gracefully" in playbook
    assert "For Mastodon/Fediverse I have no checked platform rules" in playbook
    assert "as of" not in playbook


def test_one_dropped_channel_goes_straight_to_its_playbook(
    chat_de: Chat, engine: DialogueEngine
) -> None:
    at_plan(chat_de, ("linkedin", "mastodon"))

    chat_de.press("leave_gracefully")

    assert "Welchen Kanal" not in chat_de.text
    assert "Mastodon/Fediverse sauber verlassen" in chat_de.text
    assert "Du behältst LinkedIn." in chat_de.text
    assert where(engine, "anna") == ("sunset", "playbook")


def test_nothing_dropped_no_button_and_no_sentence(chat_de: Chat) -> None:
    at_plan(chat_de, ("linkedin",))

    assert "Fingertipp" not in chat_de.question_text
    with pytest.raises(AssertionError, match="no button for key 'leave_gracefully'"):
        chat_de.button("leave_gracefully")


@pytest.mark.parametrize(
    ("channels", "forged"),
    [
        # Two dropped: the playbook needs a choice first.
        (("linkedin", "instagram", "tiktok"), "sunset:playbook"),
        # One dropped: the button goes to the playbook, never to the (pointless) choice.
        (("linkedin", "mastodon"), "sunset"),
        (("linkedin", "mastodon"), "sunset:choose"),
        # Nothing dropped: no way in at all.
        (("linkedin",), "sunset"),
        (("linkedin",), "sunset:playbook"),
    ],
)
def test_a_forged_leave_button_is_refused(
    chat_de: Chat, engine: DialogueEngine, content: Content, channels: tuple[str, ...], forged: str
) -> None:
    at_plan(chat_de, channels)
    before = stored(engine, "anna")
    dialogue = before["dialogue"]
    assert isinstance(dialogue, dict)

    replies = chat_de.press_data(encode(dialogue["turn"], Action.FLOW, forged))

    assert replies[0].text == content.texts.render("de", "common/button_outdated")
    assert where(engine, "anna") == ("onboarding", "plan")
    assert stored(engine, "anna")["suspended"] is None


def test_plan_offers_it_again_and_back_leaves_the_choice(
    chat_de: Chat, engine: DialogueEngine
) -> None:
    at_plan(chat_de, ("linkedin", "instagram", "tiktok"))
    chat_de.press("leave_gracefully")
    chat_de.press("back")
    assert where(engine, "anna") == ("onboarding", "plan")

    chat_de.send("/plan")

    assert "Dein Fokus-Plan" in chat_de.text
    chat_de.press("leave_gracefully")
    chat_de.press("tiktok")
    assert "TikTok sauber verlassen" in chat_de.text


def test_an_interrupted_choice_is_named_when_coming_back(chat_de: Chat) -> None:
    at_plan(chat_de, ("linkedin", "instagram", "tiktok"))
    chat_de.press("leave_gracefully")

    chat_de.send("/start")

    assert "der Frage, welchen Kanal du sauber verlässt" in chat_de.question_text


def _user_with_plan(engine: DialogueEngine, chat: Chat) -> UserState:
    document = stored(engine, chat.user_id)
    return UserState.from_document(document)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"channel": "instagram", "exit_mode": "announce"}, "instagram"),
        ({"channel": "instagram", "exit_mode": "tips"}, None),
        ({"exit_mode": "quiet"}, None),
        ({"channel": "linkedin", "exit_mode": "quiet"}, None),
    ],
)
def test_the_action_starts_an_exit_only_from_a_dropped_channel(
    chat_de: Chat,
    engine: DialogueEngine,
    content: Content,
    answers: dict[str, str],
    expected: str | None,
) -> None:
    # LinkedIn is kept, not dropped; with two dropped and no choice there is nothing to start.
    at_plan(chat_de, ("linkedin", "instagram", "tiktok"))
    user = _user_with_plan(engine, chat_de)
    context = ActionContext(
        user=user, answers=answers, now=NOW, content=content, condition=content.texts.condition
    )

    result = ACTIONS[SUNSET_ACTION](context)

    assert list(user.exits) == ([expected] if expected else [])
    assert (result["exit"] or {}).get("channel", {}).get("id") == expected
    assert user.plan == stored(engine, "anna")["plan"]  # the plan stays as it is


@pytest.mark.parametrize(
    ("lang", "expected"), [("de", "keinen Kanal weg"), ("en", "no channel out")]
)
def test_without_a_channel_the_playbook_says_there_is_nothing_to_leave(
    content: Content, lang: str, expected: str
) -> None:
    user = UserState(user_id="x", lang=lang)
    user.dialogue = DialogueState(flow="sunset", step="playbook")
    step = content.flows["sunset"].step("playbook")

    reply = render_question(
        asked(content, user, user.dialogue, step),
        extra=playbook_context(content, None, None, lang),
    )

    assert expected in plain(reply.text)


def test_every_fact_is_phrased_by_its_certainty(content: Content) -> None:
    """Reported facts are hedged, unchecked ones send the user to look, confirmed ones neither."""
    hedges = {
        "de": {Certainty.REPORTED: "laut Berichten", Certainty.UNCHECKED: "nicht neu geprüft"},
        "en": {Certainty.REPORTED: "reportedly", Certainty.UNCHECKED: "not re-checked"},
    }
    step = content.flows["sunset"].step("playbook")
    for playbook in content.sunset.playbooks:
        for lang, hedge in hedges.items():
            user = UserState(user_id="x", lang=lang)
            user.dialogue = DialogueState(flow="sunset", step="playbook")
            extra = playbook_context(content, playbook.channel, "linkedin", lang)
            question = asked(content, user, user.dialogue, step)
            text = plain(render_question(question, extra=extra).text)
            name = content.catalogue.channel(playbook.channel).label[lang]
            for fact in playbook.facts:
                line = line_with(text, fill(fact.text[lang], kept="LinkedIn", channel=name))
                for certainty, words in hedge.items():
                    assert (words in line) is (fact.certainty is certainty), (lang, line)


def test_the_shipped_file_covers_every_channel_with_dated_sourced_facts(
    content: Content,
) -> None:
    channels = [c.id for c in content.catalogue.channels]
    assert [p.channel for p in content.sunset.playbooks] == channels
    for playbook in content.sunset.playbooks:
        for fact in playbook.facts:
            assert fact.sources or fact.certainty is Certainty.UNCHECKED, playbook.channel
    # domain.md section 9 has no platform facts for these: tips only, no invented rules.
    for channel in ("threads", "bluesky", "mastodon", "whatsapp", "pinterest", "newsletter"):
        assert content.sunset.playbook(channel).facts == ()
    assert content.sunset.playbook("blog_podcast").facts == ()


def test_a_broken_sunset_file_names_every_problem(tmp_path: Path) -> None:
    rules = tmp_path / "prompts" / "rules"
    shutil.copytree(DEFAULT_PROMPTS_DIR / "rules", rules)
    (rules / "sunset.yaml").write_text(
        "general:\n"
        "  - id: farewell\n"
        "    text: {de: 'Tschüss {{ kept }}'}\n"
        "    sources: [NOPE]\n"
        "channels:\n"
        "  - channel: linkedin\n"
        "    facts:\n"
        "      - {topic: nap, certainty: confirmed, as_of: '2026-13', text: {de: a, en: b},"
        " sources: [E]}\n",
        encoding="utf-8",
    )

    with pytest.raises(RulesError) as raised:
        load_sunset(rules, load_catalogue(rules))

    problems = raised.value.problems
    assert "prompts/rules/sunset.yaml: general step 'farewell': text lacks 'en'" in problems
    assert any(
        "general step 'farewell': sources cites unknown source 'NOPE'" in p for p in problems
    )
    assert any("channel 'linkedin': fact number 1: topic 'nap' is unknown" in p for p in problems)
    assert any("fact number 1: as_of must be a year and a month" in p for p in problems)
    assert any(
        p.endswith(
            "channel 'xing': has no playbook; add an entry '- channel: xing' with tips or facts"
        )
        for p in problems
    )


def test_focus_plan_of_the_fixture_drops_what_the_tests_assume(
    chat_de: Chat, engine: DialogueEngine
) -> None:
    # Guards the scenarios above: if the plan rules change, say so here first.
    at_plan(chat_de, ("linkedin", "instagram", "tiktok"))
    plan = FocusPlan.from_dict(stored(engine, "anna")["plan"])  # type: ignore[arg-type]
    assert [k.channel for k in plan.kept] == ["linkedin"]
    assert [d.channel for d in plan.dropped] == ["instagram", "tiktok"]
    at_plan(Chat(engine, "ben", language_hint="de"), ("linkedin", "mastodon"))
    plan = FocusPlan.from_dict(stored(engine, "ben")["plan"])  # type: ignore[arg-type]
    assert [d.channel for d in plan.dropped] == ["mastodon"]


TIKTOK_RULE = """    inactivity:
      days: 180
      remind_before_days: 30
      certainty: confirmed
      as_of: "2026-12"
      risk:
        de: "kann TikTok deinen Nutzernamen durch eine zufällige Zahlenfolge ersetzen"
        en: "TikTok may reset your username to a random number"
      sources: [TT-INACTIVE]
"""


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            TIKTOK_RULE.replace("days: 180", "days: 0"),
            "inactivity: days must be a whole number of days from 1 to 3650",
        ),
        (
            TIKTOK_RULE.replace("days: 180", "days: '180'"),
            "inactivity: days must be a whole number of days from 1 to 3650",
        ),
        (
            TIKTOK_RULE.replace("remind_before_days: 30", "remind_before_days: 180"),
            "inactivity: remind_before_days must be fewer than days: it comes inside",
        ),
        (
            TIKTOK_RULE.replace("certainty: confirmed", "certainty: unchecked"),
            "inactivity: an unchecked rule sends no reminders",
        ),
        (
            TIKTOK_RULE.replace("certainty: confirmed", "certainty: sure"),
            "inactivity: certainty 'sure' is unknown",
        ),
        (TIKTOK_RULE.replace('"2026-12"', '"Dez 2026"'), "inactivity: as_of must be a year"),
        (
            TIKTOK_RULE.replace("[TT-INACTIVE]", "[]"),
            "inactivity: sources must be a non-empty list of source keys",
        ),
        (
            TIKTOK_RULE.replace("[TT-INACTIVE]", "[TT-NOPE]"),
            "inactivity: sources cites unknown source 'TT-NOPE'",
        ),
        (
            TIKTOK_RULE.replace(
                '        en: "TikTok may reset your username to a random number"\n', ""
            ),
            "inactivity: risk lacks 'en'",
        ),
        (
            TIKTOK_RULE.replace("{", "").replace("TikTok may", "{{ handle }} may"),
            "inactivity: risk.en uses '{{ handle }}'",
        ),
        (TIKTOK_RULE + "      window: monthly\n", "inactivity: has unknown keys"),
        ("    inactivity: 180\n", "inactivity: must be a mapping with days"),
    ],
)
def test_bad_heartbeat_data_is_named_by_the_checker(
    tmp_path: Path, broken: str, problem: str
) -> None:
    rules = tmp_path / "prompts" / "rules"
    shutil.copytree(DEFAULT_PROMPTS_DIR / "rules", rules)
    path = rules / "sunset.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(TIKTOK_RULE) == 1
    path.write_text(text.replace(TIKTOK_RULE, broken), encoding="utf-8")

    with pytest.raises(RulesError) as raised:
        load_sunset(rules, load_catalogue(rules))

    found = [p for p in raised.value.problems if "channel 'tiktok'" in p and problem in p]
    assert found, raised.value.problems
    assert all(p.startswith("prompts/rules/sunset.yaml: ") for p in found)
