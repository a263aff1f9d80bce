"""``focus-coach check``: the shipped prompts pass; deliberately broken copies fail clearly."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.checker import check_prompts, flow_to_mermaid, load_content
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.flow_model import FlowError


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    copy = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_prompts_pass() -> None:
    content, problems = check_prompts(DEFAULT_PROMPTS_DIR)
    assert problems == []
    assert content is not None
    assert set(content.flows) == {"onboarding", "checkin", "settings", "sunset", "review"}


FLOW = "flows/onboarding.yaml"
SETTINGS = "flows/settings.yaml"
CHECKIN = "flows/checkin.yaml"
SUNSET_FLOW = "flows/sunset.yaml"
SUNSET = "rules/sunset.yaml"
DE = "templates/de"
EN = "templates/en"

Breakage = Callable[[Path], None]

BROKEN: dict[str, tuple[Breakage, str]] = {
    "unknown next target": (
        lambda p: edit(p / FLOW, "next: hours\n", "next: hourz\n"),
        "onboarding.yaml: step 'channels': goes to 'hourz', which is not a step of this flow",
    ),
    "unreachable step": (
        lambda p: edit(p / FLOW, "        goto: low_capacity\n", "        goto: audiences\n"),
        "onboarding.yaml: step 'low_capacity': cannot be reached from the start step 'welcome'",
    ),
    "unknown ask type": (
        lambda p: edit(p / FLOW, "ask: number", "ask: numbr"),
        "onboarding.yaml: step 'hours': 'ask: numbr' is unknown",
    ),
    "number without bounds": (
        lambda p: edit(p / FLOW, "    max: 60\n", ""),
        "onboarding.yaml: step 'hours': a number step needs 'min' and 'max'",
    ),
    "suggestion out of range": (
        lambda p: edit(p / FLOW, "[1, 3, 5, 8, 12]", "[1, 3, 500]"),
        "onboarding.yaml: step 'hours': suggestion 500 lies outside 0.5..60",
    ),
    "duplicate option id": (
        lambda p: edit(
            p / FLOW,
            "      - id: team\n        label: team_team",
            "      - id: alone\n        label: team_team",
        ),
        "onboarding.yaml: step 'team': option id 'alone' appears twice",
    ),
    "duplicate step id": (
        lambda p: edit(p / FLOW, "  - id: service_note", "  - id: low_capacity"),
        "onboarding.yaml: step 'low_capacity': the step id appears twice",
    ),
    "default rule missing": (
        lambda p: edit(p / FLOW, "      - goto: audiences\n", ""),
        "onboarding.yaml: step 'hours': the last rule of 'next' must be a default without 'when'",
    ),
    "condition syntax error": (
        lambda p: edit(p / FLOW, "when: answers.hours < 2", "when: answers.hours <"),
        "onboarding.yaml: step 'hours': condition 'answers.hours <'",
    ),
    "condition names an unknown answer": (
        lambda p: edit(p / FLOW, "when: answers.hours < 2", "when: answers.hourz < 2"),
        "onboarding.yaml: step 'hours': condition 'answers.hourz < 2': 'dict object' has no attribute 'hourz'",
    ),
    "condition reaches internals": (
        lambda p: edit(p / FLOW, "when: answers.hours < 2", "when: answers.__class__"),
        "onboarding.yaml: step 'hours': condition 'answers.__class__': access to attribute '__class__'",
    ),
    "missing template in English": (
        lambda p: (p / EN / "onboarding" / "team.j2").unlink(),
        "templates/en/onboarding/team.j2: missing (de/onboarding/team.j2 exists)",
    ),
    "template names a variable that does not exist": (
        lambda p: edit(
            p / DE / "onboarding" / "hours.j2", "{{ step.min|number }}", "{{ stepp.min }}"
        ),
        "onboarding.yaml: step 'hours': template onboarding/hours: 'stepp' is undefined",
    ),
    "template syntax error": (
        lambda p: edit(p / EN / "onboarding" / "goals.j2", "{% endif %}", "{% endfi %}"),
        "templates/en/onboarding/goals.j2: line 1:",
    ),
    "template reaches python internals": (
        lambda p: edit(p / DE / "common" / "help.j2", "<b>So", "{{ ''.__class__.__mro__ }}<b>So"),
        "templates/de/common/help.j2: uses '__mro__'; names starting with _ are not allowed",
    ),
    "label missing in one language": (
        lambda p: edit(p / EN / "labels.yaml", 'team_alone: "On my own"\n', ""),
        "templates/en/labels.yaml: label 'team_alone' is missing (de has it)",
    ),
    "description of the terminal chat's /quit missing in both languages": (
        lambda p: [
            edit(p / lang / "labels.yaml", quit_label, "")
            for lang, quit_label in (
                (EN, 'command_quit: "End the chat (everything is saved)"\n'),
                (DE, 'command_quit: "Chat beenden (alles ist gespeichert)"\n'),
            )
        ],
        "templates/de/labels.yaml: label 'command_quit' is missing",
    ),
    "help template lists a command without a description": (
        lambda p: edit(p / EN / "common" / "help.j2", "command.label", "'command_' ~ 'nope'"),
        "templates/en/common/help.j2: label 'command_nope' is not in labels.yaml",
    ),
    "plan answer missing": (
        lambda p: edit(p / FLOW, "    save: pressure\n", "    save: must\n"),
        "onboarding.yaml: the plan step needs a step that saves 'pressure'",
    ),
    "say template missing": (
        lambda p: edit(p / FLOW, "say: onboarding/team", "say: onboarding/tem"),
        "onboarding.yaml: step 'team': template de/onboarding/tem.j2 does not exist",
    ),
    "not yaml": (
        lambda p: (p / FLOW).write_text("flow: [unclosed\n", encoding="utf-8"),
        "onboarding.yaml: is not valid YAML at line 2",
    ),
    "weekday ids the schedule reads": (
        lambda p: edit(p / SETTINGS, "      - id: mon\n", "      - id: monday\n"),
        "settings.yaml: step 'weekday': must offer exactly the option ids, in this order "
        "mon, tue, wed, thu, fri, sat, sun",
    ),
    "pause of an unknown length": (
        lambda p: edit(p / SETTINGS, "      - id: w4\n", "      - id: w12\n"),
        "settings.yaml: step 'pause': option id 'w12' is not one the coach knows",
    ),
    "quiet hours the code cannot read": (
        lambda p: edit(p / SETTINGS, "      - id: q22_07\n", "      - id: late_night\n"),
        "settings.yaml: step 'quiet': option id 'late_night' is no quiet hours",
    ),
    "energy beyond the scale": (
        lambda p: edit(p / CHECKIN, "      - id: e5\n", "      - id: e6\n"),
        "checkin.yaml: step 'energy': option id 'e6' is not one the coach knows",
    ),
    "no creep answer for 'nothing came back'": (
        lambda p: edit(
            p / CHECKIN,
            "      - id: none\n        label: creep_none",
            "      - id: nothing\n        label: creep_none",
        ),
        "checkin.yaml: step 'creep': needs an option with id 'none'",
    ),
    "team option the plan reads": (
        lambda p: edit(
            p / FLOW,
            "      - id: team\n        label: team_team",
            "      - id: crew\n        label: team_team",
        ),
        "onboarding.yaml: step 'team': needs an option with id 'team'",
    ),
    "the plan menu's check-in entry step is gone": (
        lambda p: (
            edit(p / SETTINGS, "  - id: weekday\n", "  - id: day\n"),
            edit(p / SETTINGS, "goto: weekday", "goto: day"),
        ),
        "settings.yaml: needs a step 'weekday'",
    ),
    "edits on a step that lists no answers": (
        lambda p: edit(
            p / FLOW,
            "    ask: continue\n    next: channels",
            "    ask: continue\n    edits: [hours]\n    next: channels",
        ),
        "onboarding.yaml: step 'welcome': only a summary step can have 'edits'",
    ),
    "sunset playbook for a channel the catalogue lacks": (
        lambda p: edit(p / SUNSET, "  - channel: threads\n", "  - channel: thread\n"),
        "rules/sunset.yaml: channel number 10: channel 'thread' is not a channel id of "
        "channels.yaml",
    ),
    "a channel without a sunset playbook": (
        lambda p: edit(p / SUNSET, "  - channel: threads\n", "  - channel: bluesky\n"),
        "rules/sunset.yaml: channel 'threads': has no playbook",
    ),
    "a sunset fact citing an unknown source": (
        lambda p: edit(p / SUNSET, "sources: [TT-INACTIVE]", "sources: [TT-INACTIV]"),
        "rules/sunset.yaml: channel 'tiktok': fact number 3: sources cites unknown source "
        "'TT-INACTIV' (not in sources.yaml)",
    ),
    "a sunset step in German only": (
        lambda p: edit(
            p / SUNSET,
            '      en: "Change your profile text and the link in your bio so they point to '
            '{{ kept }}."\n',
            "",
        ),
        "rules/sunset.yaml: general step 'bio_link': text lacks 'en'",
    ),
    "a sunset fact with a full date": (
        lambda p: edit(p / SUNSET, 'as_of: "2026-12"', 'as_of: "2026-12-01"'),
        "rules/sunset.yaml: channel 'linkedin': fact number 1: as_of must be a year and a "
        "month written like 2026-12, got '2026-12-01'",
    ),
    "a sunset fact checked in month 13": (
        lambda p: edit(p / SUNSET, 'as_of: "2026-12"', 'as_of: "2026-13"'),
        "rules/sunset.yaml: channel 'linkedin': fact number 1: as_of must be a year and a "
        "month written like 2026-12, got '2026-13'",
    ),
    "a sunset fact without a date": (
        lambda p: edit(
            p / SUNSET,
            '        as_of: "2026-12"\n',
            "",
        ),
        "rules/sunset.yaml: channel 'linkedin': fact number 1: lacks 'as_of'",
    ),
    "a sunset fact of an unknown certainty": (
        lambda p: edit(p / SUNSET, "certainty: reported", "certainty: rumoured"),
        "rules/sunset.yaml: channel 'instagram': fact number 2: certainty 'rumoured' is "
        "unknown; use one of confirmed, reported, unchecked",
    ),
    "a confirmed sunset fact without a source": (
        lambda p: edit(p / SUNSET, "sources: [X-ARCHIVE]", "sources: []"),
        "rules/sunset.yaml: channel 'x': fact number 4: sources must be a non-empty list",
    ),
    "a sunset text naming an unknown placeholder": (
        lambda p: edit(p / SUNSET, "so they point to {{ kept }}.", "so they point to {{ keep }}."),
        "rules/sunset.yaml: general step 'bio_link': text.en uses '{{ keep }}'; only "
        "{{ kept }} and {{ channel }} can be filled in",
    ),
    "the sunset flow's playbook step is gone": (
        lambda p: (
            edit(p / SUNSET_FLOW, "  - id: playbook\n", "  - id: farewell\n"),
            edit(p / SUNSET_FLOW, "next: playbook", "next: farewell"),
        ),
        "flows/sunset.yaml: needs a step 'playbook' with 'action: sunset_playbook'",
    ),
    "the sunset flow's side-flow name is missing": (
        lambda p: edit(
            p / EN / "labels.yaml",
            'flow_sunset: "choosing which channel to leave gracefully"\n',
            "",
        ),
        "templates/en/labels.yaml: label 'flow_sunset' is missing",
    ),
    "a bank with fewer than eight wordings": (
        lambda p: (p / DE / "banks" / "checkin_opener.yaml").write_text(
            "".join(f"- Zeile {n}\n" for n in range(7)), encoding="utf-8"
        ),
        "templates/de/banks/checkin_opener.yaml: has 7 wordings; a bank needs at least 8",
    ),
    "an empty wording in a bank": (
        lambda p: edit(
            p / EN / "banks" / "feedback_partly.yaml",
            '- "Most of it held. The rest is a hint, not a verdict."',
            '- ""',
        ),
        "templates/en/banks/feedback_partly.yaml: wording 8 is empty",
    ),
    "a wording whose Jinja does not parse": (
        lambda p: edit(
            p / DE / "banks" / "followup_opener.yaml",
            "Auslassen ist auch eine Antwort.",
            "Auslassen ist {{ auch eine Antwort.",
        ),
        "templates/de/banks/followup_opener.yaml: wording 8: expected token",
    ),
    "a wording naming a variable its template lacks": (
        lambda p: edit(
            p / EN / "banks" / "feedback_off.yaml",
            "Pick just one small step for next week.",
            "Pick just one small step for week {{ next_week }}.",
        ),
        "templates/en/banks/feedback_off.yaml: wording 4: 'next_week' is undefined",
    ),
    "a wording reaching for internals": (
        lambda p: edit(
            p / DE / "banks" / "feedback_on_plan.yaml",
            "Dein Plan trägt.",
            "Dein Plan {{ stats.__class__ }} trägt.",
        ),
        "templates/de/banks/feedback_on_plan.yaml: wording 5: uses '__class__'",
    ),
    "a bank missing in one language": (
        lambda p: (p / EN / "banks" / "feedback_off.yaml").unlink(),
        "templates/en/banks/feedback_off.yaml: missing",
    ),
    "a bank only one language has": (
        lambda p: (p / DE / "banks" / "extra.yaml").write_text(
            "".join(f"- Zeile {n}\n" for n in range(8)), encoding="utf-8"
        ),
        "templates/en/banks/extra.yaml: missing (de/banks/extra.yaml exists)",
    ),
    "a bank that is not a list": (
        lambda p: (p / EN / "banks" / "checkin_opener.yaml").write_text(
            "opener: Two minutes\n", encoding="utf-8"
        ),
        "templates/en/banks/checkin_opener.yaml: must be a list of wordings",
    ),
    "a template asking for a bank that does not exist": (
        lambda p: edit(
            p / EN / "checkin" / "reminder.j2",
            'fresh("checkin_opener")',
            'fresh("checkin_openers")',
        ),
        "templates/en/banks/checkin_openers.yaml: no such bank",
    ),
    "broken rules file": (
        lambda p: edit(p / "rules" / "goals.yaml", "id: leads", "id: leads\n    bogus: 1"),
        "rules/goals.yaml: goal 'leads': has unknown keys ['bogus']",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_content_is_reported_with_file_step_and_problem(prompts: Path, case: str) -> None:
    breakage, expected = BROKEN[case]
    breakage(prompts)
    content, problems = check_prompts(prompts)
    assert content is None
    assert any(expected in problem for problem in problems), problems


def test_load_content_raises_with_every_problem(prompts: Path) -> None:
    edit(prompts / FLOW, "next: hours\n", "next: hourz\n")
    (prompts / EN / "onboarding" / "team.j2").unlink()
    with pytest.raises(FlowError) as raised:
        load_content(prompts)
    assert len(raised.value.problems) >= 2


def test_sandbox_blocks_internals_at_run_time_too(prompts: Path) -> None:
    from jinja2.exceptions import SecurityError

    content = load_content(prompts)
    template = content.texts.env.from_string("{{ ''.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        template.render()


def test_mermaid_draws_every_step_and_edge() -> None:
    content = load_content(DEFAULT_PROMPTS_DIR)
    diagram = flow_to_mermaid(content.flows["onboarding"])
    assert diagram.startswith("flowchart TD")
    assert "hours -->|answers.hours < 2| low_capacity" in diagram
    assert "summary -. change .-> channels" in diagram


def test_a_progress_caption_too_long_for_telegram_is_reported(prompts: Path) -> None:
    caption = prompts / "templates" / "en" / "common" / "progress.j2"
    caption.write_text(
        caption.read_text() + "{% for bar in chart.bars %}" + "x" * 80 + "{% endfor %}"
    )

    _, problems = check_prompts(prompts)

    assert any(
        "en/common/progress.j2: " in problem and "a photo caption holds 1024" in problem
        for problem in problems
    ), problems


def test_a_chart_label_missing_in_one_language_is_reported(prompts: Path) -> None:
    labels = prompts / "templates" / "de" / "labels.yaml"
    labels.write_text(labels.read_text().replace('chart_hours: "Stunden pro Woche"\n', ""))

    _, problems = check_prompts(prompts)

    assert any("de/labels.yaml: label 'chart_hours' is missing" in p for p in problems), problems


def test_a_label_too_long_for_its_row_is_reported_with_file_step_and_label(
    prompts: Path,
) -> None:
    edit(
        prompts / "templates/en/labels.yaml",
        'pressure_none: "None"',
        'pressure_none: "None of them, I feel no pressure at all"',
    )
    _, problems = check_prompts(prompts)
    assert any(
        "flows/onboarding.yaml: step 'pressure' (en): the button" in problem
        and "None of them, I feel no pressure at all" in problem
        and "at most 28 fit" in problem
        for problem in problems
    ), problems


def test_a_short_name_longer_than_the_label_is_refused(prompts: Path) -> None:
    edit(
        prompts / "rules/channels.yaml",
        'short: {de: "Mastodon", en: "Mastodon"}',
        'short: {de: "Mastodon", en: "Mastodon and more"}',
    )
    _, problems = check_prompts(prompts)
    assert any("channel 'mastodon'" in p and "short.en" in p for p in problems), problems
