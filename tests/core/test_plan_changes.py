"""One in, one out: what each answer to "a dropped channel came back" does to the plan."""

from __future__ import annotations

from bot.core.coaching import PlanInput, build_plan, smallest_rhythm_hours
from bot.core.content import Content
from bot.core.focus_plan import DropReason, PressureStatus
from bot.core.plan_changes import DROP_AGAIN, TAKE_BUFFER, apply_creep_choice, creep_choices

B2B = PlanInput(("linkedin", "xing", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, "tiktok")


def test_choices_are_going_again_and_each_kept_channel_one_in_one_out(
    content: Content,
) -> None:
    plan = build_plan(B2B, content.catalogue)
    assert plan.buffer >= smallest_rhythm_hours(B2B, content.catalogue, "tiktok")
    ids = [c.id for c in creep_choices(plan, B2B, content.catalogue, "tiktok")]
    # The buffer would hold TikTok, and still it is no choice: a kept channel makes room.
    assert ids == [DROP_AGAIN, *(k.channel for k in plan.kept)]
    # A channel the plan keeps cannot "come back".
    assert creep_choices(plan, B2B, content.catalogue, plan.kept[0].channel) == []


def test_a_swap_moves_the_hours_and_names_the_choice(content: Content) -> None:
    plan = build_plan(B2B, content.catalogue)
    gives_way = plan.kept[0]
    changed = apply_creep_choice(plan, B2B, content.catalogue, "tiktok", gives_way.channel)
    assert changed is not None
    back = next(k for k in changed.kept if k.channel == "tiktok")
    assert back.hours <= gives_way.hours + 1e-9 and back.in_use
    dropped = next(d for d in changed.dropped if d.channel == gives_way.channel)
    assert (dropped.reason, dropped.replaced_by) == (DropReason.CHOICE, "tiktok")
    assert "tiktok" not in changed.left_behind
    assert changed.hours_planned <= changed.capacity
    # TikTok was the channel the user felt they must be on: now it is kept.
    assert changed.pressure is not None and changed.pressure.status is PressureStatus.KEPT


def test_going_again_or_a_choice_no_longer_offered_changes_nothing(content: Content) -> None:
    plan = build_plan(B2B, content.catalogue)
    assert apply_creep_choice(plan, B2B, content.catalogue, "tiktok", DROP_AGAIN) is None
    assert apply_creep_choice(plan, B2B, content.catalogue, "tiktok", "instagram") is None
    assert apply_creep_choice(plan, B2B, content.catalogue, "linkedin", TAKE_BUFFER) is None
    # The buffer of earlier versions is no longer a way back in.
    assert apply_creep_choice(plan, B2B, content.catalogue, "tiktok", TAKE_BUFFER) is None
