"""The files of /export: everything stored as JSON, and the check-ins as a spreadsheet (CSV).

The JSON is the stored document plus ``plan_versions``: every plan version, oldest first, each
with its date, reason, kept (with hours), profile-only, dropped and parked channels. The CSV has
one row per check-in, headed and worded in the user's language; in German with ``;`` between
fields and a decimal comma, as a German spreadsheet expects, in English with ``,`` and a point.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any, Final

from bot.core.checkin_stats import WeekStatus, judge_week
from bot.core.content import Content
from bot.core.flow_ids import NO_CREEP, NOT_ON_PLAN, ON_PLAN, PARTLY
from bot.core.locale_format import format_number
from bot.core.messages import Document
from bot.core.own_results import recorded_results
from bot.core.plan_versions import versions
from bot.core.state import UserState

__all__ = ["CSV_COLUMNS", "LABEL_KEYS", "checkins_csv", "export_json"]

# Column -> label key of its heading.
CSV_COLUMNS: Final = (
    "week",
    "answered_at",
    "status",
    "hours",
    "budget",
    "channels",
    "creep",
    "win",
    "energy",
    "results",
)
_STATUS_LABELS: Final = {
    WeekStatus.ON_PLAN: "status_on_plan",
    WeekStatus.PARTLY: "status_partly",
    WeekStatus.OFF: "status_not",
}
_RATING_LABELS: Final = {
    ON_PLAN: "status_on_plan",
    PARTLY: "status_partly",
    NOT_ON_PLAN: "status_not",
}
LABEL_KEYS: Final = tuple(f"csv_{column}" for column in CSV_COLUMNS)
# A cell starting like a formula would be run by a spreadsheet: quoted as text instead.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
# Languages whose spreadsheets read "2,5" as a number need another field separator.
_DECIMAL_COMMA_DELIMITER: Final = ";"


def _file_stem(user: UserState) -> str:
    return f"fokus-coach-{user.user_id.replace(':', '-')}"


def export_json(user: UserState) -> Document:
    """Everything stored about ``user``, with the plan versions listed readably."""
    payload = {**user.to_document(), "plan_versions": versions(user)}
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
    return Document(filename=f"{_file_stem(user)}.json", content=text.encode("utf-8"))


def _as_text(typed: str) -> str:
    """What the user typed, never read as a formula by a spreadsheet."""
    return f"'{typed}" if typed.startswith(_FORMULA_START) else typed


def _row(content: Content, lang: str, record: Mapping[str, Any]) -> list[str]:
    label = content.texts.label
    budget = float(record.get("budget", 0.0))
    verdict = judge_week(record, budget)
    ratings = record.get("channels") or {}
    creep = record.get("creep", NO_CREEP)
    return [
        str(record["week"]),
        str(record.get("answered_at") or ""),
        label(lang, _STATUS_LABELS[verdict.status]),
        format_number(float(record.get("hours", 0.0)), lang, digits=2),
        format_number(budget, lang, digits=2),
        "; ".join(
            f"{content.catalogue.channel_name(channel, lang)}: "
            f"{label(lang, _RATING_LABELS.get(rating, 'status_not'))}"
            for channel, rating in ratings.items()
        ),
        "" if creep in (None, NO_CREEP) else content.catalogue.channel_name(str(creep), lang),
        _as_text(str(record.get("win") or "")),
        str(record.get("energy", "")),
        # The channels that brought a result (🎯); empty for weeks from before it or without.
        "; ".join(
            content.catalogue.channel_name(channel, lang)
            for channel in recorded_results(record) or []
        ),
    ]


def checkins_csv(content: Content, user: UserState) -> Document:
    """The check-ins, oldest first, one row each, in the user's language."""
    lang = user.lang
    decimal_comma = format_number(1.5, lang) == "1,5"
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=_DECIMAL_COMMA_DELIMITER if decimal_comma else ",", lineterminator="\r\n"
    )
    writer.writerow([content.texts.label(lang, f"csv_{column}") for column in CSV_COLUMNS])
    for record in user.checkins:
        writer.writerow(_row(content, lang, record))
    # With a byte order mark, spreadsheets read the umlauts as UTF-8.
    return Document(
        filename=f"{_file_stem(user)}-checkins.csv",
        content=buffer.getvalue().encode("utf-8-sig"),
        mime_type="text/csv",
    )
