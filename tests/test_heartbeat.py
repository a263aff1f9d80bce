"""The heartbeat file on real disk: how it is written, read and judged, and `focus-coach health`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.core.operations import Event, OperationsRecorder
from bot.core.operator_status import (
    HEARTBEAT_STATUS_KEY,
    heartbeat_status,
    read_offline_status,
)
from bot.heartbeat import (
    HEARTBEAT_FILE,
    MIN_MAX_AGE,
    HeartbeatWriter,
    check_health,
    default_max_age,
    read_heartbeat,
)

START = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def writer(data_dir: Path, clock: Clock, **options: Any) -> HeartbeatWriter:
    data_dir.mkdir(parents=True, exist_ok=True)
    return HeartbeatWriter(
        data_dir, version="0.1.0", mode="polling", tick_seconds=60.0, clock=clock, **options
    )


def stored(data_dir: Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((data_dir / HEARTBEAT_FILE).read_text(encoding="utf-8"))
    return content


def test_start_ticks_and_stop_are_written_with_the_agreed_keys(tmp_path: Path) -> None:
    clock = Clock(START)
    beat = writer(tmp_path, clock, pid=42)

    beat.started()
    assert stored(tmp_path) == {
        "version": "0.1.0",
        "pid": 42,
        "mode": "polling",
        "tick_seconds": 60.0,
        "started_at": "2026-12-05T07:00:00+00:00",
        "last_tick_at": None,
        "stopped_at": None,
        "tick_started_at": None,
        "tick_settled": 0,
        "progress_at": None,
    }
    beat.ticked(START + timedelta(seconds=61))
    assert stored(tmp_path)["last_tick_at"] == "2026-12-05T07:01:01+00:00"
    clock.now = START + timedelta(minutes=5)
    beat.stopped()
    assert stored(tmp_path)["stopped_at"] == "2026-12-05T07:05:00+00:00"
    assert stored(tmp_path)["last_tick_at"] == "2026-12-05T07:01:01+00:00"
    assert sorted(p.name for p in tmp_path.iterdir()) == [HEARTBEAT_FILE]  # no temp file left
    assert (tmp_path / HEARTBEAT_FILE).stat().st_mode & 0o777 == 0o644


def test_extra_fields_join_the_file_but_never_replace_its_own(tmp_path: Path) -> None:
    figures = {"status": {"users": 3}, "pid": 7, "last_tick_at": "never"}
    beat = writer(tmp_path, Clock(START), pid=42, extra_fields=lambda: figures)

    beat.started()
    beat.ticked(START)

    content = stored(tmp_path)
    assert content["status"] == {"users": 3}
    assert (content["pid"], content["last_tick_at"]) == (42, "2026-12-05T07:00:00+00:00")
    figures["status"] = {"users": 4}
    beat.ticked(START + timedelta(minutes=1))
    assert stored(tmp_path)["status"] == {"users": 4}  # asked again at every write


def test_a_failing_extra_field_source_costs_only_the_extra_fields(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("no figures")

    beat = writer(tmp_path, Clock(START), extra_fields=broken)
    beat.started()

    assert "status" not in stored(tmp_path)
    assert stored(tmp_path)["started_at"] == "2026-12-05T07:00:00+00:00"
    assert "the extra heartbeat fields could not be gathered" in caplog.text


def test_a_failing_write_is_logged_once_and_its_recovery_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    beat = writer(tmp_path, Clock(START))
    beat.started()
    (tmp_path / HEARTBEAT_FILE).unlink()
    (tmp_path / HEARTBEAT_FILE).mkdir()  # a folder in its place: the rename fails (even as root)
    with caplog.at_level(logging.INFO, logger="bot.heartbeat"):
        beat.ticked(START + timedelta(minutes=1))
        beat.ticked(START + timedelta(minutes=2))
        (tmp_path / HEARTBEAT_FILE).rmdir()
        beat.ticked(START + timedelta(minutes=3))

    assert caplog.text.count("cannot write the heartbeat") == 1
    assert "is written again" in caplog.text
    assert stored(tmp_path)["last_tick_at"] == "2026-12-05T07:03:00+00:00"
    assert [p.name for p in tmp_path.iterdir()] == [HEARTBEAT_FILE]  # no temp file left


def test_a_temp_file_left_by_a_crash_is_removed_at_start(tmp_path: Path) -> None:
    left = tmp_path / f".{HEARTBEAT_FILE}.abc123.tmp"
    left.write_text("{", encoding="utf-8")

    writer(tmp_path, Clock(START)).started()

    assert not left.exists()


@pytest.mark.parametrize(
    ("last_tick", "healthy", "line"),
    [
        (timedelta(seconds=12), True, "ok: last tick 12 s ago (pid 42, focus-coach 0.1.0)"),
        (timedelta(seconds=180), True, "ok: last tick 3 min ago (pid 42, focus-coach 0.1.0)"),
        (
            timedelta(seconds=181),
            False,
            "stale: last tick 3 min ago, more than 3 min (pid 42, focus-coach 0.1.0)",
        ),
        (
            timedelta(hours=30),
            False,
            "stale: last tick 30 h ago, more than 3 min (pid 42, focus-coach 0.1.0)",
        ),
        # A clock set back a little: the tick looks future, it is simply fresh.
        (timedelta(seconds=-5), True, "ok: last tick 0 s ago (pid 42, focus-coach 0.1.0)"),
    ],
)
def test_health_judges_the_age_of_the_last_tick(
    tmp_path: Path, last_tick: timedelta, healthy: bool, line: str
) -> None:
    beat = writer(tmp_path, Clock(START - timedelta(days=1)), pid=42)
    beat.started()
    beat.ticked(START - last_tick)

    verdict = check_health(tmp_path, now=START)

    assert (verdict.healthy, verdict.line) == (healthy, line)


def test_a_long_tick_that_keeps_settling_check_ins_is_alive(tmp_path: Path) -> None:
    # 10,000 users share one minute: at 30 messages a second the tick runs about six minutes.
    beat = writer(tmp_path, Clock(START - timedelta(days=1)), pid=42)
    beat.started()
    beat.ticked(START - timedelta(minutes=1))
    tick_start = START
    beat.pulse(tick_start, 7_200, tick_start + timedelta(minutes=4))

    verdict = check_health(tmp_path, now=tick_start + timedelta(minutes=4, seconds=30))

    assert verdict.healthy
    assert verdict.line == (
        "ok: a tick has been sending for 4 min, 7,200 check-ins settled, the last 30 s ago "
        "(pid 42, focus-coach 0.1.0)"
    )


def test_a_tick_that_settles_nothing_for_the_max_age_is_stuck(tmp_path: Path) -> None:
    beat = writer(tmp_path, Clock(START - timedelta(days=1)), pid=42)
    beat.started()
    beat.ticked(START - timedelta(minutes=1))
    beat.pulse(START, 12, START + timedelta(seconds=20))

    verdict = check_health(tmp_path, now=START + timedelta(minutes=6))

    assert not verdict.healthy
    assert verdict.line == (
        "stuck: a tick has run for 6 min and settled nothing for 5 min, more than 3 min "
        "(12 check-ins settled; pid 42, focus-coach 0.1.0)"
    )


def test_a_pulse_before_any_settled_check_in_counts_from_the_ticks_start(
    tmp_path: Path,
) -> None:
    beat = writer(tmp_path, Clock(START - timedelta(days=1)), pid=42)
    beat.started()  # the catch-up tick after downtime is the first one
    beat.pulse(START, 0, None)

    assert check_health(tmp_path, now=START + timedelta(minutes=2)).healthy
    assert not check_health(tmp_path, now=START + timedelta(minutes=4)).healthy


def test_a_finished_tick_clears_the_pulse(tmp_path: Path) -> None:
    beat = writer(tmp_path, Clock(START), pid=42)
    beat.started()
    beat.pulse(START, 5, START + timedelta(seconds=5))
    beat.ticked(START + timedelta(minutes=2))

    content = stored(tmp_path)
    assert (content["tick_started_at"], content["tick_settled"], content["progress_at"]) == (
        None,
        0,
        None,
    )
    # Long after that tick, nothing running: stale, not "sending".
    verdict = check_health(tmp_path, now=START + timedelta(minutes=30))
    assert verdict.line.startswith("stale: last tick 28 min ago")


def test_max_age_is_three_ticks_and_at_least_three_minutes(tmp_path: Path) -> None:
    assert default_max_age(1.0) == MIN_MAX_AGE == timedelta(seconds=180)
    assert default_max_age(60.0) == timedelta(seconds=180)
    assert default_max_age(300.0) == timedelta(seconds=900)
    beat = HeartbeatWriter(
        tmp_path, version="0.1.0", mode="webhook", tick_seconds=300.0, clock=Clock(START), pid=1
    )
    beat.started()
    beat.ticked(START)

    assert check_health(tmp_path, now=START + timedelta(seconds=899)).healthy
    assert not check_health(tmp_path, now=START + timedelta(seconds=901)).healthy
    assert not check_health(
        tmp_path, now=START + timedelta(seconds=61), max_age=timedelta(minutes=1)
    ).healthy


def test_before_the_first_tick_the_start_counts(tmp_path: Path) -> None:
    writer(tmp_path, Clock(START), pid=42).started()

    early = check_health(tmp_path, now=START + timedelta(seconds=30))
    late = check_health(tmp_path, now=START + timedelta(minutes=10))

    assert (early.healthy, early.line) == (
        True,
        "ok: started 30 s ago, first tick running (pid 42, focus-coach 0.1.0)",
    )
    assert (late.healthy, late.line) == (
        False,
        "stale: started 10 min ago, no tick finished (pid 42, focus-coach 0.1.0)",
    )


def test_a_clean_stop_reads_as_stopped(tmp_path: Path) -> None:
    clock = Clock(START)
    beat = writer(tmp_path, clock, pid=42)
    beat.started()
    beat.ticked(START)
    clock.now = START + timedelta(seconds=5)
    beat.stopped()

    verdict = check_health(tmp_path, now=START + timedelta(seconds=20))

    assert (verdict.healthy, verdict.line) == (
        False,
        "stopped: the bot stopped 15 s ago (pid 42, focus-coach 0.1.0)",
    )


def test_no_heartbeat_means_the_bot_has_not_started_there(tmp_path: Path) -> None:
    verdict = check_health(tmp_path / "nowhere", now=START)

    assert (verdict.healthy, verdict.line) == (
        False,
        f"no heartbeat in {tmp_path / 'nowhere'}: the bot has not started there",
    )


GOOD: dict[str, Any] = {
    "version": "0.1.0",
    "pid": 42,
    "mode": "polling",
    "tick_seconds": 60,
    "started_at": "2026-12-05T07:00:00+00:00",
    "last_tick_at": "2026-12-05T07:01:00+00:00",
}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not JSON"),
        (b'{"version": "0.1.0", "pid": ', "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({**GOOD, "pid": "42"}).encode(), "pid is missing or not a whole number"),
        (json.dumps({**GOOD, "pid": True}).encode(), "pid is missing or not a whole number"),
        (json.dumps({**GOOD, "tick_seconds": 0}).encode(), "tick_seconds must be above 0"),
        (
            json.dumps({**GOOD, "tick_seconds": "60"}).encode(),
            "tick_seconds is missing or not a number",
        ),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "version"}).encode(),
            "version is missing or not text",
        ),
        (json.dumps({**GOOD, "started_at": None}).encode(), "started_at is missing"),
        (
            json.dumps({**GOOD, "last_tick_at": "yesterday"}).encode(),
            "last_tick_at is not an ISO 8601 instant",
        ),
        (
            json.dumps({**GOOD, "last_tick_at": 1733382000}).encode(),
            "last_tick_at is not an ISO 8601 instant",
        ),
        (
            json.dumps({**GOOD, "last_tick_at": "2026-12-05T07:01:00"}).encode(),
            "last_tick_at has no UTC offset",
        ),
    ],
)
def test_a_file_that_is_no_heartbeat_is_named_as_unreadable(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    (tmp_path / HEARTBEAT_FILE).write_bytes(content)

    verdict = check_health(tmp_path, now=START)

    assert (verdict.healthy, verdict.line) == (
        False,
        f"unreadable heartbeat: {tmp_path / HEARTBEAT_FILE}: {problem}",
    )


def test_a_folder_in_the_files_place_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / HEARTBEAT_FILE).mkdir()

    verdict = check_health(tmp_path, now=START)

    assert not verdict.healthy
    assert verdict.line.startswith(f"unreadable heartbeat: {tmp_path / HEARTBEAT_FILE}: ")


def test_offset_instants_and_unknown_fields_are_read(tmp_path: Path) -> None:
    content = {**GOOD, "last_tick_at": "2026-12-05T08:01:00+01:00", "status": {"users": 1}}
    (tmp_path / HEARTBEAT_FILE).write_text(json.dumps(content), encoding="utf-8")

    beat = read_heartbeat(tmp_path)

    assert beat is not None
    assert beat.last_tick_at == datetime(2026, 12, 5, 7, 1, tzinfo=UTC)
    assert beat.last_tick_at.tzinfo is UTC


def test_the_health_command_prints_one_line_and_exits_by_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("FOCUS_COACH_DATA_DIR", str(data_dir))

    assert main(["health"]) == 1  # the data folder defaults like `run`
    assert capsys.readouterr().out == (
        f"no heartbeat in {data_dir}: the bot has not started there\n"
    )
    now = datetime.now(UTC)
    beat = writer(data_dir, Clock(now - timedelta(minutes=10)), pid=42)
    beat.started()
    beat.ticked(now - timedelta(seconds=100))

    assert main(["health", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.startswith("ok: last tick 1")
    assert main(["health", "--data-dir", str(data_dir), "--max-age", "30"]) == 1
    assert capsys.readouterr().out.startswith("stale: last tick 1")
    assert main(["health", "--max-age", "0"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "focus-coach: --max-age must be a number of seconds above 0, got 0\n",
    )


def test_the_operator_figures_travel_in_the_heartbeat_and_are_read_back_tolerantly(
    tmp_path: Path,
) -> None:
    clock = Clock(START)
    recorder = OperationsRecorder(clock)
    recorder.record(Event.SENT, 7)
    recorder.record(Event.RATE_LIMITED)
    recorder.record(Event.CHECKIN_SENT, 5)
    beat = writer(tmp_path, clock, pid=42)
    beat.report(lambda: {HEARTBEAT_STATUS_KEY: heartbeat_status(recorder, None, lambda: 3)})
    beat.started()

    read = read_heartbeat(tmp_path)
    assert read is not None
    status = read_offline_status(read.extra[HEARTBEAT_STATUS_KEY])
    assert status is not None
    assert (status.taken_at, status.due_next_hour, status.queue) == (START, None, 3)
    assert status.last_24h[Event.SENT] == 7
    assert status.last_24h[Event.RATE_LIMITED] == 1
    assert status.last_24h[Event.CHECKIN_SENT] == 5
    assert status.last_24h[Event.FAILED] == 0

    # Another release's file: figures of the wrong kind are left out, not fatal.
    odd = read_offline_status(
        {"taken_at": "2026-12-05T07:00:00+00:00", "queue": "3", "last_24h": {"sent": -1}}
    )
    assert odd is not None
    assert (odd.queue, odd.last_24h[Event.SENT], odd.due_next_hour) == (None, None, None)
    for broken in (None, [], {"taken_at": "yesterday"}, {"taken_at": "2026-12-05T07:00:00"}):
        assert read_offline_status(broken) is None
