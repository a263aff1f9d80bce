"""Tracked exits, pure: the dated steps, ticking them, and the heartbeat's windows (real zones)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.content import Content
from bot.core.exits import (
    SCHEDULES,
    Exit,
    Heartbeat,
    Mode,
    exits_to_document,
    heartbeat_instant,
    read_exits,
    window_of,
)
from bot.core.sunset_rules import Certainty

BERLIN = "Europe/Berlin"
START = date(2026, 12, 5)  # a Saturday
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def local(day: date, hour: int, zone: str = BERLIN) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_the_announced_exit_follows_the_buffalo_schedule() -> None:
    """Posts a month, two weeks and 48 h before the last day (30), pinned; data a week ahead."""
    steps = [(step.id, step.day) for step in SCHEDULES[Mode.ANNOUNCE]]
    assert steps == [
        ("announce_month", 0),
        ("pin", 0),
        ("announce_2weeks", 16),
        ("export", 23),
        ("announce_48h", 28),
        ("farewell", 30),
        ("bio_link", 30),
        ("auto_reply", 30),
    ]
    last = max(day for _, day in steps)
    assert last - 16 == 14 and last - 28 == 2  # two weeks and 48 hours before the end


def test_the_quiet_exit_skips_announcing_and_is_due_at_once() -> None:
    steps = SCHEDULES[Mode.QUIET]
    assert {step.day for step in steps} == {0}
    assert not any(step.id.startswith("announce") or step.id == "pin" for step in steps)
    assert Exit("x", Mode.QUIET, START).due_steps(START) == ["bio_link", "auto_reply", "export"]


def test_steps_fall_due_on_their_day_and_stay_due_until_ticked() -> None:
    found = Exit("tiktok", Mode.ANNOUNCE, START)
    assert found.due_steps(START - timedelta(days=1)) == []
    assert found.due_steps(START) == ["announce_month", "pin"]
    assert found.tick(["pin"], NOW, None) == ["pin"]
    assert found.due_steps(START + timedelta(days=15)) == ["announce_month"]
    assert found.due_steps(START + timedelta(days=16)) == ["announce_month", "announce_2weeks"]
    assert found.date_of(SCHEDULES[Mode.ANNOUNCE][3]) == date(2026, 12, 28)


def test_ticking_ignores_unknown_and_repeated_steps() -> None:
    found = Exit("x", Mode.QUIET, START)
    assert found.tick(["bio_link", "bio_link", "announce_month", "nope"], NOW, None) == [
        "bio_link"
    ]
    assert found.tick(["bio_link"], NOW, None) == []
    assert found.done == ["bio_link"]
    assert not found.finished


def test_the_last_step_finishes_the_exit_and_starts_a_heartbeat_only_with_a_rule() -> None:
    with_rule = Exit("tiktok", Mode.QUIET, START)
    with_rule.tick(["bio_link", "auto_reply"], NOW, (180, 30))
    assert with_rule.heartbeat is None
    later = NOW + timedelta(days=2)
    with_rule.tick(["export"], later, (180, 30))
    assert with_rule.finished_at == later
    assert with_rule.heartbeat == Heartbeat(later, 180, 30)

    without = Exit("mastodon", Mode.QUIET, START)
    without.tick(["bio_link", "auto_reply", "export"], NOW, None)
    assert without.finished and without.heartbeat is None


def test_windows_follow_each_other_until_a_login_starts_afresh() -> None:
    beat = Heartbeat(NOW, 30, 7)
    assert window_of(beat, None) == (NOW, NOW + timedelta(days=30))
    # Its reminder went out and nobody answered: the next window is the following one.
    assert window_of(beat, NOW) == (NOW + timedelta(days=30), NOW + timedelta(days=60))
    # A login after that moves "since" past what was offered: a window from the login.
    login = NOW + timedelta(days=40)
    assert window_of(Heartbeat(login, 30, 7), NOW) == (login, login + timedelta(days=30))


def test_the_reminder_comes_at_the_checkin_time_days_before_the_end_across_dst() -> None:
    # TikTok: since 5 Dec 2026 10:00 UTC (winter), the window ends 3 June 2027 (summer time).
    end = NOW + timedelta(days=180)
    at = heartbeat_instant(end, 30, BERLIN, time(9, 0))
    assert at == local(date(2027, 5, 4), 9)  # 09:00 CEST, 07:00 UTC
    assert at.astimezone(ZoneInfo(BERLIN)).hour == 9
    # X: a week before, from summer into winter time.
    since = local(date(2027, 10, 10), 12)
    at_x = heartbeat_instant(since + timedelta(days=30), 7, BERLIN, time(9, 0))
    assert at_x == local(date(2027, 11, 2), 9)  # 09:00 CET, 08:00 UTC


def test_heartbeats_must_remind_inside_their_window() -> None:
    with pytest.raises(ValueError, match="remind_before"):
        Heartbeat(NOW, 30, 30)


def test_stored_exits_read_back_and_bad_entries_are_left_out() -> None:
    found = Exit("tiktok", Mode.ANNOUNCE, START, ["pin"], None, Heartbeat(NOW, 180, 30))
    document = exits_to_document({"tiktok": found})
    assert read_exits(document) == {"tiktok": found}
    broken = {
        **document,
        "x": {"mode": "loud", "started": "2026-12-05"},
        "xing": {"mode": "quiet", "started": 5},
        "threads": "quiet",
        "bluesky": {"mode": "quiet", "started": "2026-12-05", "done": "pin"},
        "youtube": {"mode": "quiet", "started": "2026-12-05", "heartbeat": {"since": "x"}},
        "instagram": {"mode": "quiet", "started": "2026-12-05", "finished_at": "2026-12-05T10"},
    }
    assert read_exits(broken) == {"tiktok": found}
    assert read_exits(None) == {} and read_exits(["tiktok"]) == {}


def test_only_tiktok_and_x_state_an_inactivity_rule(content: Content) -> None:
    """domain.md 5b: TikTok 180 days (official), X 30 days (2023); the others state none."""
    rules = {p.channel: p.inactivity for p in content.sunset.playbooks if p.inactivity}
    assert sorted(rules) == ["tiktok", "x"]
    assert (rules["tiktok"].days, rules["tiktok"].remind_before) == (180, 30)
    assert (rules["x"].days, rules["x"].remind_before) == (30, 7)
    assert rules["tiktok"].sources == ("TT-INACTIVE",)
    assert rules["x"].sources == ("X-INACTIVE",)
    assert {rule.certainty for rule in rules.values()} == {Certainty.CONFIRMED}
