"""Coaching scenarios a senior social-media strategist would sign, written from domain.md.

Each scenario is a realistic user (audience, goals, hours, what they run today) and the
properties a consultant requires of their plan. They were written before the scoring model, so
they say what good advice is, not what the code happens to do. Sections cited are domain.md's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.core.coaching import FocusPlan, PlanInput, build_plan
from bot.core.content import Content


@dataclass(frozen=True)
class Scenario:
    """A user, and what their plan must (and must not) say."""

    why: str
    answers: PlanInput
    keep: frozenset[str] = frozenset()  # all of these are kept
    keep_one_of: frozenset[str] = frozenset()  # exactly one of these is kept
    not_kept: frozenset[str] = frozenset()
    profile_only: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()
    parked_subset_of: frozenset[str] | None = None
    focused: bool = False  # told first that they are already focused
    nothing_new: bool = False  # no channel they do not run yet is kept
    reduced: frozenset[str] = frozenset()  # kept at a reduced rhythm, stated concretely
    full: frozenset[str] = frozenset()  # kept at their usual rhythm
    max_kept: int | None = None
    extra: tuple[str, ...] = field(default=())


def p(
    used: tuple[str, ...],
    hours: float,
    audiences: tuple[str, ...],
    goals: tuple[str, ...],
    team: bool = False,
    pressure: str | None = None,
) -> PlanInput:
    return PlanInput(used, hours, audiences, goals, team, pressure)


SCENARIOS: dict[str, Scenario] = {
    "b2b consultant on five channels, 2 h": Scenario(
        why="LinkedIn is the B2B and thought-leadership channel in DACH (1a, 3); XING is turning "
        "into a job portal: keep the profile, post nothing (1a rule); 2 h cannot carry more "
        "than one channel (6), and LinkedIn's usual rhythm costs 2-3 h, so it runs reduced.",
        answers=p(
            ("linkedin", "xing", "instagram", "facebook", "x"),
            2.0,
            ("b2b_dach",),
            ("leads", "thought_leadership"),
            pressure="instagram",
        ),
        keep=frozenset({"linkedin"}),
        profile_only=frozenset({"xing"}),
        dropped=frozenset({"instagram", "x"}),
        nothing_new=True,
        reduced=frozenset({"linkedin"}),
        max_kept=1,
    ),
    "the same consultant with half an hour": Scenario(
        why="Below an hour nothing new is started while something the user runs fits; "
        "building an audience from zero costs far more than keeping one.",
        answers=p(("linkedin", "xing", "x"), 0.5, ("b2b_dach",), ("leads",)),
        keep=frozenset({"linkedin"}),
        nothing_new=True,
        reduced=frozenset({"linkedin"}),
        max_kept=1,
    ),
    "gen-z fashion label already on the right two channels": Scenario(
        why="Instagram and TikTok are where under-30s are (1a) and serve awareness and sales "
        "(3); a team with 8 h carries both at their usual rhythm: already focused.",
        answers=p(
            ("instagram", "tiktok"),
            8.0,
            ("consumers_u30", "shoppers"),
            ("awareness", "ecommerce"),
            team=True,
        ),
        keep=frozenset({"instagram", "tiktok"}),
        full=frozenset({"instagram", "tiktok"}),
        focused=True,
        nothing_new=True,
    ),
    "local café on three channels, 3 h": Scenario(
        why="Under 5 h one channel (6); for local customers Instagram, Facebook and WhatsApp "
        "all fit (3), so the user's existing channel that costs least keeps the focus; a "
        "Facebook page stays findable with current opening hours (9, 'permanently closed').",
        answers=p(
            ("facebook", "instagram", "whatsapp"),
            3.0,
            ("local", "consumers_30_49"),
            ("local_footfall", "community"),
        ),
        keep_one_of=frozenset({"facebook", "instagram", "whatsapp"}),
        nothing_new=True,
        max_kept=1,
    ),
    "employer recruiting apprentices": Scenario(
        why="Instagram is the top apprenticeship channel for firms and young people; >70% of "
        "firms post apprenticeships on Facebook but only 25% of young people look there (3, "
        "IW24).",
        answers=p(("instagram", "facebook"), 4.0, ("trainees",), ("recruiting",)),
        keep=frozenset({"instagram"}),
        not_kept=frozenset({"facebook"}),
        nothing_new=True,
    ),
    "nothing yet, international B2B thought leader": Scenario(
        why="Starting from nothing, LinkedIn is the channel for international B2B and "
        "thought leadership (1b, 3); 5 h carry two channels at most (6).",
        answers=p((), 5.0, ("b2b_international",), ("thought_leadership",)),
        keep=frozenset({"linkedin"}),
        max_kept=2,
        parked_subset_of=frozenset(
            {"newsletter", "youtube", "blog_podcast", "x", "threads", "bluesky", "mastodon"}
        ),
    ),
    "already focused on LinkedIn": Scenario(
        why="One well-fitting channel within the hours: confirm it, no lecture.",
        answers=p(("linkedin",), 3.0, ("b2b_dach",), ("leads",)),
        keep=frozenset({"linkedin"}),
        full=frozenset({"linkedin"}),
        focused=True,
    ),
    "ten channels, one hour, customers over 50": Scenario(
        why="Facebook is the top network of 50-69-year-olds and the community channel (1a, 3); "
        "one hour over ten channels is six minutes each (4).",
        answers=p(
            (
                "linkedin",
                "xing",
                "instagram",
                "facebook",
                "tiktok",
                "youtube",
                "x",
                "pinterest",
                "whatsapp",
                "threads",
            ),
            1.0,
            ("consumers_50plus",),
            ("community",),
        ),
        keep=frozenset({"facebook"}),
        dropped=frozenset({"tiktok", "x", "threads", "pinterest"}),
        nothing_new=True,
        reduced=frozenset({"facebook"}),
        max_kept=1,
    ),
    "team with 20 h selling to families": Scenario(
        why="Instagram, Pinterest and Facebook reach families and shoppers and serve sales "
        "(1, 3); a team with 20 h carries up to four channels (6).",
        answers=p(
            ("instagram", "pinterest", "facebook"),
            20.0,
            ("consumers_30_49", "shoppers"),
            ("ecommerce", "awareness"),
            team=True,
        ),
        keep=frozenset({"instagram", "pinterest", "facebook"}),
        full=frozenset({"instagram", "pinterest", "facebook"}),
        max_kept=4,
    ),
    "niche expert spread over four text networks, 2 h": Scenario(
        why="LinkedIn serves thought leadership best of what the user runs (3); a newsletter "
        "fits as well but would start from zero, so it is parked, not swapped in.",
        answers=p(
            ("linkedin", "x", "bluesky", "mastodon"),
            2.0,
            ("niche_experts",),
            ("thought_leadership",),
        ),
        keep=frozenset({"linkedin"}),
        not_kept=frozenset({"newsletter"}),
        nothing_new=True,
        max_kept=1,
    ),
    "customer service on messaging": Scenario(
        why="Customer service needs reply time (3: 88% unanswered); WhatsApp and Facebook "
        "serve it best, one channel at 3 h (6).",
        answers=p(("facebook", "whatsapp", "instagram"), 3.0, ("local",), ("customer_service",)),
        keep_one_of=frozenset({"whatsapp", "facebook"}),
        not_kept=frozenset({"instagram"}),
        nothing_new=True,
        max_kept=1,
    ),
    "B2B user who feels they must be on TikTok": Scenario(
        why="B2B decision-makers are hardly on TikTok (1a); the felt must is answered, and "
        "the user, on LinkedIn alone, is told they are focused already.",
        answers=p(("linkedin",), 3.0, ("b2b_dach",), ("leads",), pressure="tiktok"),
        keep=frozenset({"linkedin"}),
        not_kept=frozenset({"tiktok"}),
        focused=True,
        nothing_new=True,
    ),
    "half an hour, nothing yet, gen z": Scenario(
        why="Under 2 h text and images only (6): a video channel cannot be the start.",
        answers=p((), 0.5, ("consumers_u30",), ("awareness",)),
        not_kept=frozenset({"instagram", "tiktok", "youtube"}),
        max_kept=1,
    ),
}


def plan_of(content: Content, scenario: Scenario) -> FocusPlan:
    return build_plan(scenario.answers, content.catalogue)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_plan_is_one_a_strategist_would_sign(content: Content, name: str) -> None:
    scenario = SCENARIOS[name]
    plan = plan_of(content, scenario)
    kept = {k.channel for k in plan.kept}
    used = set(scenario.answers.channels_used)

    assert scenario.keep <= kept, (name, kept)
    if scenario.keep_one_of:
        assert len(kept & scenario.keep_one_of) == 1, (name, kept)
    assert not kept & scenario.not_kept, (name, kept)
    assert scenario.profile_only <= {p.channel for p in plan.profile_only}, name
    assert scenario.dropped <= {d.channel for d in plan.dropped}, name
    if scenario.parked_subset_of is not None:
        assert {p.channel for p in plan.parked} <= scenario.parked_subset_of, name
    assert plan.already_focused is scenario.focused, name
    if scenario.nothing_new:
        assert kept <= used, (name, kept)
    for channel in scenario.reduced:
        item = next(k for k in plan.kept if k.channel == channel)
        assert item.reduced and item.rhythm is not None, (name, item)
    for channel in scenario.full:
        assert not next(k for k in plan.kept if k.channel == channel).reduced, name
    if scenario.max_kept is not None:
        assert len(kept) <= scenario.max_kept, (name, kept)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_plan_keeps_its_promises(content: Content, name: str) -> None:
    scenario = SCENARIOS[name]
    plan = plan_of(content, scenario)
    used = set(scenario.answers.channels_used)
    outcomes = [
        *(k.channel for k in plan.kept),
        *(p.channel for p in plan.profile_only),
        *(d.channel for d in plan.dropped),
        *(p.channel for p in plan.parked),
    ]

    assert len(outcomes) == len(set(outcomes)), "a channel has one outcome"
    assert used <= set(outcomes), "every channel the user runs is answered"
    assert plan.hours_planned <= plan.capacity + 1e-9
    if plan.capacity >= 1:
        assert plan.buffer >= 0.1 * plan.capacity - 1e-9, "room for replies and surprises"
    for item in (*plan.dropped, *plan.parked, *plan.profile_only):
        assert item.reason and 1 <= len(item.sources) <= 3, item
    for kept in plan.kept:
        assert 1 <= len(kept.sources) <= 3, kept
