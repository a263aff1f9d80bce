"""The living plan end to end: the real bot, the fake Bot API, a user who lives with the plan.

Two check-ins (the second with a dropped channel that came back and stays: the stored reason
and its source, then a seven-day cool-off with its local date and a cancel button), the picture
with the second feedback and with /history; a week later (the stored request moved seven days
into the past while the bot is stopped) the change takes effect, said once, and /plan shows the
changed plan; /review walks the stored reasons to a new plan version, and /export holds every
version and the check-ins as CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e_bot import BotProcess, question, tap
from fakebotapi import FakeTelegram

from bot.core.checker import load_content
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.locale_format import format_date, format_time
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
USER_ID = 4101
BERLIN = ZoneInfo("Europe/Berlin")
INPUTS = PlanInput(("linkedin", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, None)


def seed_user(data_dir: Path) -> None:
    """A German user at the plan menu (LinkedIn kept, TikTok dropped), checked in last week."""
    plan = build_plan(INPUTS, load_content(DEFAULT_PROMPTS_DIR).catalogue)
    now = datetime.now(UTC)
    answers = {
        "channels": list(INPUTS.channels_used),
        "hours": INPUTS.hours,
        "audiences": list(INPUTS.audiences),
        "goals": list(INPUTS.goals),
        "team": "alone",
        "pressure": "none",
    }
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(
            str(USER_ID),
            {
                "user_id": str(USER_ID),
                "lang": "de",
                "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5, "answers": answers},
                "plan": plan.to_dict(),
                "checkins": [
                    {
                        "week": local_week_key(now - timedelta(days=7), "Europe/Berlin"),
                        "answered_at": (now - timedelta(days=7)).isoformat(),
                        "channels": {k.channel: "on_plan" for k in plan.kept},
                        "hours": plan.hours_planned,
                        "energy": 4,
                        "budget": plan.hours_planned,
                    }
                ],
                "active": True,
            },
        )


def a_week_passes(data_dir: Path) -> None:
    """Move the waiting change's request and instant a week and a minute into the past (the
    bot stopped): its instant is a whole minute, up to a minute after the request's second."""
    with TinyDBUserRepository(data_dir) as repo:
        document = repo.get(str(USER_ID))
        assert document is not None
        waiting = document["pending_change"]
        for key in ("requested_at", "effective_at"):
            moved = datetime.fromisoformat(waiting[key]) - timedelta(days=7, minutes=1)
            waiting[key] = moved.isoformat()
        repo.put(str(USER_ID), document)


def test_checkins_change_the_plan_and_review_and_export_show_its_versions(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    seed_user(data_dir)
    first = launch()
    anna = tg.user(USER_ID, "Anna", "de")
    anna.had_started_the_bot()

    anna.send_command("/checkin")
    grid = question(anna, "Fokus-Check-in")
    tap(anna, grid, "linkedin")
    anna.wait_for(lambda m: m.message_id == grid.message_id and m.edited_count >= 1)
    tap(anna, grid, "done")
    tap(anna, question(anna, "wirklich in soziale Medien gesteckt"), "3")
    tap(anna, question(anna, "zurückgeschlichen"), "tiktok")
    audit = question(anna, "Eins rein, eins raus")
    # First why TikTok was left out, with its source; no "stays, in the buffer".
    assert "Du hast TikTok weggelassen, weil dein Publikum dort kaum ist – " in audit.text
    assert audit.button_texts[:2] == ["TikTok geht wieder", "TikTok bleibt, LinkedIn geht"]
    assert "TikTok" not in audit.button_texts and "LinkedIn" not in audit.button_texts
    tap(anna, audit, "linkedin")
    tap(anna, question(anna, "Wie ist deine Energie"), "e4")
    tap(anna, question(anna, "Wenn-dann-Plan für nächste Woche"), "skip")
    feedback = anna.wait_for_text("ist gespeichert")
    cool_off = anna.wait_for_text("nicht sofort")
    assert "Du hast TikTok weggelassen, weil dein Publikum dort kaum ist – " in cool_off.text
    assert "(statt LinkedIn)" in cool_off.text and "Akrasia-Horizont" in cool_off.text
    assert cool_off.button_texts == ["↩ Zurücknehmen"]
    picture = anna.wait_for(lambda m: m.kind == "photo" and m.message_id > feedback.message_id)
    assert picture.file is not None and picture.file.data.startswith(PNG_MAGIC)

    anna.send_command("/plan")
    waiting = anna.wait_for_text("Dein Fokus-Plan")
    assert "⏳ TikTok kommt am " in waiting.text and "✅ LinkedIn" in waiting.text
    assert waiting.button_texts == ["↩ Zurücknehmen"]

    first.stop()
    with TinyDBUserRepository(data_dir) as repo:
        stored = repo.get(str(USER_ID))
    assert stored is not None and stored["plan_info"]["version"] == 1
    requested = stored["pending_change"]
    effective = datetime.fromisoformat(requested["effective_at"]).astimezone(BERLIN)
    assert effective - datetime.fromisoformat(requested["requested_at"]) >= timedelta(days=7)
    # The date and time shown are the stored instant on the user's wall clock.
    shown = f"TikTok kommt am {format_date(effective, 'de', style='full')} um "
    assert shown + f"{format_time(effective, 'de')} zurück" in cool_off.text
    a_week_passes(data_dir)
    launch()

    anna.send_command("/history")
    back = anna.wait_for_text("ist wieder in deinem Plan")
    assert "📌 TikTok ist wieder in deinem Plan, seit " in back.text
    listed = anna.wait_for_text("Dein Plan im Lauf der Zeit")
    assert "TikTok bleibt, LinkedIn geht" in listed.text
    again = anna.wait_for(lambda m: m.kind == "photo" and m.message_id > listed.message_id)
    assert again.file is not None and again.file.data.startswith(PNG_MAGIC)

    anna.send_command("/plan")
    plan = anna.wait_for_text("Dein Fokus-Plan")
    assert "✅ TikTok" in plan.text and "⏳" not in plan.text
    assert "Deine Entscheidung – laut den Daten passt er weniger" in plan.text
    assert "die Zeit bekommt TikTok" in plan.text

    anna.send_command("/review")
    tap(anna, question(anna, "Rückblick auf deinen Plan"), "3")
    reasons = question(anna, "bewusst weggelassen")
    assert "LinkedIn: du hast seine Zeit TikTok gegeben – ✅ stimmt noch" in reasons.text
    tap(anna, reasons, "done")
    tap(anna, question(anna, "Geparkt sind gute Kanäle"), "done")  # Newsletter stays parked
    done = anna.wait_for_text("Rückblick gespeichert")
    assert "dein Plan ist jetzt Version 3" in done.text

    anna.send_command("/export")
    exported = anna.wait_for(lambda m: m.file is not None and m.file.filename.endswith(".json"))
    table = anna.wait_for(lambda m: m.file is not None and m.file.filename.endswith(".csv"))
    assert exported.file is not None and table.file is not None
    versions = json.loads(exported.file.data)["plan_versions"]
    assert [(v["version"], v["reason"]) for v in versions] == [
        (1, "first"),
        (2, "checkin"),
        (3, "review"),
    ]
    assert [k["channel"] for k in versions[0]["kept"]] == ["linkedin"]
    assert [k["channel"] for k in versions[1]["kept"]] == ["tiktok"]
    rows = list(csv.reader(io.StringIO(table.file.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Woche" and len(rows) == 3  # heading and the two check-ins
    assert rows[2][rows[0].index("Zurückgekommen")] == "TikTok"
    tg.assert_no_internal_errors()
