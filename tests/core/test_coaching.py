"""The focus plan: hand examples on the shipped catalogue, rule mechanics on small catalogues
written to disk, and properties over generated answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.coaching import (
    DroppedChannel,
    DropReason,
    FocusPlan,
    KeptChannel,
    ParkedChannel,
    PlanInput,
    PressureNote,
    PressureStatus,
    build_plan,
    max_channels,
)
from bot.core.rules import Catalogue, load_catalogue

RULES_DIR = Path(__file__).resolve().parents[2] / "prompts" / "rules"
# Loaded once at import: hypothesis tests must not depend on function-scoped fixtures.
SHIPPED = load_catalogue(RULES_DIR)


def plan_for(
    catalogue: Catalogue = SHIPPED,
    *,
    used: tuple[str, ...] = (),
    hours: float,
    audiences: tuple[str, ...],
    goals: tuple[str, ...],
    team: bool = False,
    pressure: str | None = None,
) -> FocusPlan:
    answers = PlanInput(
        channels_used=used,
        hours=hours,
        audiences=audiences,
        goals=goals,
        team=team,
        pressure=pressure,
    )
    return build_plan(answers, catalogue)


def kept_ids(plan: FocusPlan) -> list[str]:
    return [k.channel for k in plan.kept]


def reasons(plan: FocusPlan) -> dict[str, DropReason]:
    return {d.channel: d.reason for d in plan.dropped}


# ---- max_channels (domain.md section 6) -------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "alone", "team"),
    [
        (0.5, 1, 1),
        (1.99, 1, 1),
        (2, 1, 1),
        (4.99, 1, 1),
        (5, 2, 3),
        (9.99, 2, 3),
        (10, 3, 4),
        (60, 3, 4),
    ],
)
def test_max_channels_follows_the_weekly_hours_bands(hours: float, alone: int, team: int) -> None:
    assert (max_channels(hours, team=False), max_channels(hours, team=True)) == (alone, team)


# ---- hand examples on the shipped catalogue ---------------------------------------------------


def test_b2b_dach_leads_3h_keeps_linkedin_and_drops_xing() -> None:
    plan = plan_for(used=("linkedin", "xing"), hours=3, audiences=("b2b_dach",), goals=("leads",))
    linkedin = SHIPPED.channel("linkedin")
    assert plan.kept == (
        KeptChannel(
            channel="linkedin",
            hours=2.0,
            reduced=False,
            audience_fit=3,
            goal_fit=3,
            sources=linkedin.sources,
        ),
    )
    # XING is a fair fit for the audience but hardly serves leads: the goal is the reason.
    assert plan.dropped == (DroppedChannel("xing", DropReason.GOAL, ("XING", "E")),)
    assert (plan.capacity, plan.max_channels, plan.text_only) == (3.0, 1, False)
    assert (plan.hours_planned, plan.buffer, plan.reply_overhead) == (2.0, 1.0, 0.0)
    assert plan.pressure is None
    # The newsletter is an equally good fit, but under 5 h one channel is the ceiling.
    assert plan.parked[0] == ParkedChannel("newsletter", DropReason.BUDGET)


def test_gen_z_awareness_12h_keeps_three_video_channels() -> None:
    plan = plan_for(
        used=("instagram", "facebook", "x"),
        hours=12,
        audiences=("consumers_u30",),
        goals=("awareness",),
    )
    assert kept_ids(plan) == ["instagram", "tiktok", "youtube"]
    assert (plan.hours_planned, plan.buffer, plan.max_channels) == (10.0, 2.0, 3)
    assert reasons(plan) == {"facebook": DropReason.AUDIENCE, "x": DropReason.AUDIENCE}
    assert plan.parked == ()


def test_one_hour_drops_tiktok_for_video_capacity() -> None:
    plan = plan_for(used=("tiktok",), hours=1, audiences=("consumers_u30",), goals=("awareness",))
    assert plan.text_only
    assert plan.dropped == (DroppedChannel("tiktok", DropReason.VIDEO_CAPACITY, ("BUF-TT", "E")),)
    assert [SHIPPED.channel(c).video for c in kept_ids(plan)] == [False]
    assert plan.hours_planned <= 1.0


def test_b2b_under_two_hours_keeps_linkedin_reduced() -> None:
    plan = plan_for(
        used=("youtube", "linkedin"), hours=1.5, audiences=("b2b_dach",), goals=("leads",)
    )
    # LinkedIn (2 h) is the best candidate and does not fit 1.5 h: kept at a reduced cadence.
    assert plan.kept == (
        KeptChannel("linkedin", 1.5, True, 3, 3, SHIPPED.channel("linkedin").sources),
    )
    assert reasons(plan) == {"youtube": DropReason.VIDEO_CAPACITY}


def test_customer_service_adds_reply_time_to_every_channel() -> None:
    plan = plan_for(
        used=("facebook", "whatsapp"),
        hours=4,
        audiences=("local",),
        goals=("customer_service",),
    )
    assert plan.reply_overhead == 0.25
    assert [(k.channel, k.hours) for k in plan.kept] == [("facebook", 1.875)]
    assert reasons(plan) == {"whatsapp": DropReason.CEILING}


def test_same_answers_without_customer_service_cost_less() -> None:
    plan = plan_for(used=("facebook",), hours=4, audiences=("local",), goals=("community",))
    assert (plan.reply_overhead, [k.hours for k in plan.kept]) == (0.0, [1.5])


def test_too_little_time_for_the_best_channel_keeps_it_reduced() -> None:
    plan = plan_for(hours=2.5, audiences=("consumers_u30",), goals=("awareness",))
    assert [(k.channel, k.hours, k.reduced) for k in plan.kept] == [("instagram", 2.5, True)]
    assert plan.buffer == 0.0
    assert plan.parked == (
        ParkedChannel("tiktok", DropReason.BUDGET),
        ParkedChannel("youtube", DropReason.BUDGET),
    )


@pytest.mark.parametrize(
    ("used", "pressure", "expected"),
    [
        ((), None, None),
        (("linkedin",), "linkedin", PressureNote("linkedin", PressureStatus.KEPT, None)),
        (
            ("linkedin", "instagram"),
            "instagram",
            PressureNote("instagram", PressureStatus.DROPPED, DropReason.AUDIENCE),
        ),
        ((), "newsletter", PressureNote("newsletter", PressureStatus.PARKED, DropReason.BUDGET)),
        ((), "tiktok", PressureNote("tiktok", PressureStatus.NOT_A_FIT, DropReason.AUDIENCE)),
        ((), "xing", PressureNote("xing", PressureStatus.NOT_A_FIT, DropReason.GOAL)),
    ],
)
def test_pressure_channel_status(
    used: tuple[str, ...], pressure: str | None, expected: PressureNote | None
) -> None:
    plan = plan_for(
        used=used, hours=3, audiences=("b2b_dach",), goals=("leads",), pressure=pressure
    )
    assert plan.pressure == expected


def test_pressure_video_channel_under_two_hours_is_not_a_fit_for_video() -> None:
    plan = plan_for(hours=1, audiences=("consumers_u30",), goals=("awareness",), pressure="tiktok")
    assert plan.pressure == PressureNote(
        "tiktok", PressureStatus.NOT_A_FIT, DropReason.VIDEO_CAPACITY
    )


def test_unknown_ids_and_bad_hours_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown channel 'myspace'; unknown goal 'fame'"):
        plan_for(used=("myspace",), hours=3, audiences=("local",), goals=("fame",))
    with pytest.raises(ValueError, match="hours must be a positive number"):
        plan_for(hours=0, audiences=("local",), goals=("community",))
    with pytest.raises(ValueError, match="at least one audience is needed"):
        plan_for(hours=3, audiences=(), goals=("community",))
    with pytest.raises(ValueError, match="unknown pressure channel 'orkut'"):
        plan_for(hours=3, audiences=("local",), goals=("community",), pressure="orkut")


def test_plan_survives_a_json_round_trip() -> None:
    plan = plan_for(
        used=("linkedin", "xing", "instagram"),
        hours=7,
        audiences=("b2b_dach", "skilled_workers"),
        goals=("leads", "customer_service"),
        team=True,
        pressure="instagram",
    )
    assert FocusPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_to_dict_uses_plain_values() -> None:
    plan = plan_for(used=("xing",), hours=3, audiences=("b2b_dach",), goals=("leads",))
    data = plan.to_dict()
    assert data["dropped"] == [{"channel": "xing", "reason": "goal", "sources": ["XING", "E"]}]
    assert data["pressure"] is None
    assert data["kept"][0]["channel"] == "linkedin"


# ---- rule mechanics on small catalogues written to disk ---------------------------------------


def write_catalogue(tmp_path: Path, channels: list[dict[str, Any]]) -> Catalogue:
    """Write a small rules folder (audiences a, b; goals g, h, service) and load it."""
    rules = tmp_path / "prompts" / "rules"
    rules.mkdir(parents=True)

    def label(text: str) -> dict[str, str]:
        return {"de": text, "en": text}

    files = {
        "sources.yaml": {
            "sources": [
                {"key": "E", "title": "Estimate", "where": "here"},
                {"key": "AUD", "title": "Audience study", "where": "there"},
                {"key": "GOL", "title": "Goal study", "where": "there"},
                {"key": "EFF", "title": "Effort study", "where": "there"},
            ]
        },
        "audiences.yaml": {
            "audiences": [{"id": i, "label": label(i), "sources": ["E"]} for i in ("a", "b")]
        },
        "goals.yaml": {
            "goals": [
                {"id": "g", "label": label("g"), "sources": ["E"]},
                {"id": "h", "label": label("h"), "sources": ["E"]},
                {"id": "service", "label": label("s"), "sources": ["E"], "reply_overhead": 0.5},
            ]
        },
        "channels.yaml": {"channels": channels},
    }
    for name, data in files.items():
        (rules / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_catalogue(rules)


def channel(
    channel_id: str,
    *,
    a: int = 3,
    b: int = 0,
    g: int = 3,
    h: int = 0,
    hours: float = 1.0,
    video: bool = False,
) -> dict[str, Any]:
    """One channel entry; fits default to a strong fit for audience a and goal g."""
    return {
        "id": channel_id,
        "label": {"de": channel_id, "en": channel_id},
        "video": video,
        "hours_per_week": hours,
        "cadence": {"de": "oft", "en": "often"},
        "audience_fit": {"a": a, "b": b},
        "goal_fit": {"g": g, "h": h, "service": g},
        "sources": {"audience": ["AUD"], "goals": ["GOL"], "effort": ["EFF", "E"]},
    }


def test_ceiling_limits_the_count_even_with_hours_to_spare(tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path, [channel(f"c{i}", hours=0.5) for i in range(1, 6)])
    counts = [
        len(plan_for(catalogue, hours=hours, audiences=("a",), goals=("g",), team=team).kept)
        for hours, team in [(1, False), (4, True), (6, False), (6, True), (12, False), (12, True)]
    ]
    assert counts == [1, 1, 2, 3, 3, 4]
    plan = plan_for(catalogue, used=("c3",), hours=6, audiences=("a",), goals=("g",))
    # c3 is in use, so it wins the tie; c1 is next in catalogue order.
    assert kept_ids(plan) == ["c3", "c1"]
    assert plan.parked == (
        ParkedChannel("c2", DropReason.CEILING),
        ParkedChannel("c4", DropReason.CEILING),
        ParkedChannel("c5", DropReason.CEILING),
    )


def test_budget_skips_an_expensive_channel_and_keeps_a_cheaper_one(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path,
        [channel("first", hours=2), channel("big", hours=4), channel("small", hours=1)],
    )
    plan = plan_for(catalogue, used=("big",), hours=5.5, audiences=("a",), goals=("g",))
    # "big" is in use, so it ranks first; "first" no longer fits, "small" still does.
    assert [(k.channel, k.hours) for k in plan.kept] == [("big", 4.0), ("small", 1.0)]
    assert plan.dropped == ()
    assert plan.parked == (ParkedChannel("first", DropReason.BUDGET),)


def test_budget_is_named_before_ceiling(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path,
        [
            channel("one", hours=2),
            channel("costly", a=2, hours=5),
            channel("cheap", a=2, hours=0.5),
        ],
    )
    plan = plan_for(catalogue, used=("costly", "cheap"), hours=3, audiences=("a",), goals=("g",))
    assert kept_ids(plan) == ["one"]
    assert reasons(plan) == {"costly": DropReason.BUDGET, "cheap": DropReason.CEILING}


def test_best_candidate_too_big_is_kept_reduced(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path, [channel("best", hours=4, a=3), channel("cheap", hours=1, a=2)]
    )
    plan = plan_for(catalogue, used=("cheap",), hours=3, audiences=("a",), goals=("g",))
    assert plan.kept == (KeptChannel("best", 3.0, True, 3, 3, ("AUD", "GOL", "EFF", "E")),)
    assert plan.dropped == (DroppedChannel("cheap", DropReason.BUDGET, ("EFF", "E")),)
    assert (plan.hours_planned, plan.buffer) == (3.0, 0.0)


def test_without_any_candidate_the_best_text_channel_is_kept(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path,
        [
            channel("vid", a=1, g=1, video=True),
            channel("weak", a=1, g=0, hours=2),
            channel("weaker", a=0, g=1),
        ],
    )
    plan = plan_for(catalogue, used=("vid", "weaker"), hours=1, audiences=("a",), goals=("g",))
    assert plan.kept == (KeptChannel("weak", 1.0, True, 1, 0, ("AUD", "GOL", "EFF", "E")),)
    assert plan.dropped == (
        DroppedChannel("vid", DropReason.AUDIENCE, ("AUD",)),
        DroppedChannel("weaker", DropReason.AUDIENCE, ("AUD",)),
    )
    plan = plan_for(catalogue, hours=3, audiences=("a",), goals=("g",))
    assert plan.kept == (KeptChannel("vid", 1.0, False, 1, 1, ("AUD", "GOL", "EFF", "E")),)


def test_the_weaker_fit_is_the_reason_audience_first_on_a_tie(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path,
        [
            channel("keep"),
            channel("no_goal", a=1, g=0),
            channel("no_aud", a=0, g=1),
            channel("both", a=1, g=1),
            channel("aud_only", a=1, g=3),
            channel("goal_only", a=3, g=1),
            channel("film", a=1, g=3, video=True),
        ],
    )
    plan = plan_for(
        catalogue,
        used=("no_goal", "no_aud", "both", "aud_only", "goal_only", "film"),
        hours=1,
        audiences=("a",),
        goals=("g",),
    )
    assert reasons(plan) == {
        "no_goal": DropReason.GOAL,
        "no_aud": DropReason.AUDIENCE,
        "both": DropReason.AUDIENCE,
        "aud_only": DropReason.AUDIENCE,
        "goal_only": DropReason.GOAL,
        # Not reached by the audience at all: that, not the missing video time, is the reason.
        "film": DropReason.AUDIENCE,
    }
    assert [d.sources for d in plan.dropped][:2] == [("GOL",), ("AUD",)]


def test_fits_take_the_best_of_the_chosen_audiences_and_goals(tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path, [channel("split", a=0, b=3, g=0, h=2)])
    plan = plan_for(catalogue, hours=3, audiences=("a", "b"), goals=("g", "h"))
    assert [(k.audience_fit, k.goal_fit, k.reduced) for k in plan.kept] == [(3, 2, False)]


def test_reply_overhead_can_push_a_channel_over_budget(tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path, [channel("one", hours=2), channel("two", hours=2)])
    plain = plan_for(catalogue, hours=5, audiences=("a",), goals=("g",))
    service = plan_for(catalogue, hours=5, audiences=("a",), goals=("g", "service"))
    assert [(k.channel, k.hours) for k in plain.kept] == [("one", 2.0), ("two", 2.0)]
    assert [(k.channel, k.hours) for k in service.kept] == [("one", 3.0)]
    assert service.parked == (ParkedChannel("two", DropReason.BUDGET),)
    assert service.reply_overhead == 0.5


def test_parked_keeps_three_best_and_always_the_pressure_channel(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path,
        [channel("top", hours=1)] + [channel(f"p{i}", a=2, hours=1) for i in range(1, 6)],
    )
    plan = plan_for(catalogue, hours=1, audiences=("a",), goals=("g",))
    assert [p.channel for p in plan.parked] == ["p1", "p2", "p3"]
    plan = plan_for(catalogue, hours=1, audiences=("a",), goals=("g",), pressure="p5")
    assert [p.channel for p in plan.parked] == ["p1", "p2", "p5"]
    assert plan.pressure == PressureNote("p5", PressureStatus.PARKED, DropReason.BUDGET)


def test_video_channels_are_skipped_under_two_hours(tmp_path: Path) -> None:
    catalogue = write_catalogue(
        tmp_path, [channel("reels", video=True, hours=1), channel("text", a=2, hours=1)]
    )
    assert kept_ids(plan_for(catalogue, hours=1.5, audiences=("a",), goals=("g",))) == ["text"]
    assert kept_ids(plan_for(catalogue, hours=2, audiences=("a",), goals=("g",))) == ["reels"]


# ---- properties over generated answers on the shipped catalogue -------------------------------

CHANNEL_IDS = [c.id for c in SHIPPED.channels]
AUDIENCE_IDS = [a.id for a in SHIPPED.audiences]
GOAL_IDS = [g.id for g in SHIPPED.goals]

hours_strategy = st.one_of(
    st.floats(min_value=0.5, max_value=60, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, 1, 1.5, 1.99, 2, 2.5, 3, 4.99, 5, 7.5, 9.99, 10, 12, 60]),
)
answers_strategy = st.builds(
    PlanInput,
    channels_used=st.lists(st.sampled_from(CHANNEL_IDS), unique=True).map(tuple),
    hours=hours_strategy,
    audiences=st.lists(st.sampled_from(AUDIENCE_IDS), min_size=1, max_size=2, unique=True).map(
        tuple
    ),
    goals=st.lists(st.sampled_from(GOAL_IDS), min_size=1, max_size=2, unique=True).map(tuple),
    team=st.booleans(),
    pressure=st.none() | st.sampled_from(CHANNEL_IDS),
)


@given(answers_strategy)
def test_kept_hours_never_exceed_capacity(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    assert plan.hours_planned <= plan.capacity
    assert all(k.hours > 0 for k in plan.kept)
    assert plan.buffer == plan.capacity - plan.hours_planned


@given(answers_strategy)
def test_every_used_channel_is_kept_or_dropped_exactly_once(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    kept = kept_ids(plan)
    dropped = [d.channel for d in plan.dropped]
    assert sorted(c for c in kept + dropped if c in answers.channels_used) == sorted(
        answers.channels_used
    )
    assert set(dropped) <= set(answers.channels_used)
    assert len(dropped) == len(set(dropped))
    assert all(isinstance(d.reason, DropReason) and d.sources for d in plan.dropped)


@given(answers_strategy)
def test_kept_dropped_and_parked_are_disjoint(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    kept = set(kept_ids(plan))
    dropped = {d.channel for d in plan.dropped}
    parked = [p.channel for p in plan.parked]
    assert kept.isdisjoint(dropped)
    assert kept.isdisjoint(parked)
    assert dropped.isdisjoint(parked)
    assert len(parked) == len(set(parked)) <= 3
    assert not set(parked) & set(answers.channels_used)
    assert {p.reason for p in plan.parked} <= {DropReason.BUDGET, DropReason.CEILING}


@given(answers_strategy)
def test_kept_count_respects_the_ceiling_and_is_never_empty(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    assert 1 <= len(plan.kept) <= max_channels(answers.hours, answers.team)
    assert plan.max_channels == max_channels(answers.hours, answers.team)
    assert sum(k.reduced for k in plan.kept) <= 1
    assert all(not k.reduced or len(plan.kept) == 1 for k in plan.kept)


@given(answers_strategy)
def test_same_answers_give_an_equal_plan_and_round_trip(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    assert build_plan(answers, SHIPPED) == plan
    assert FocusPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


@given(answers_strategy)
def test_no_video_channel_under_two_hours(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    videos = [k.channel for k in plan.kept if SHIPPED.channel(k.channel).video]
    assert plan.text_only == (answers.hours < 2)
    if plan.text_only:
        assert videos == []


@given(answers_strategy)
def test_pressure_note_agrees_with_the_lists(answers: PlanInput) -> None:
    plan = build_plan(answers, SHIPPED)
    note = plan.pressure
    if answers.pressure is None:
        assert note is None
        return
    assert note is not None
    assert note.channel == answers.pressure
    in_list = {
        PressureStatus.KEPT: answers.pressure in kept_ids(plan),
        PressureStatus.DROPPED: answers.pressure in reasons(plan),
        PressureStatus.PARKED: answers.pressure in [p.channel for p in plan.parked],
    }
    assert [status for status, found in in_list.items() if found] == (
        [] if note.status is PressureStatus.NOT_A_FIT else [note.status]
    )
    if note.status is PressureStatus.NOT_A_FIT:
        assert note.reason in {DropReason.AUDIENCE, DropReason.GOAL, DropReason.VIDEO_CAPACITY}


@given(
    st.floats(min_value=0.5, max_value=60, allow_nan=False),
    st.floats(min_value=0.5, max_value=60, allow_nan=False),
    st.booleans(),
)
def test_max_channels_is_non_decreasing_in_hours(a: float, b: float, team: bool) -> None:
    low, high = sorted((a, b))
    assert max_channels(low, team) <= max_channels(high, team)
    assert max_channels(low, False) <= max_channels(low, True)
