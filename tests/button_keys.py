"""Find a button by what it does, never by its caption, so a copy edit in labels.yaml breaks no test.

A *key* is either a label key (a key of ``prompts/templates/<lang>/labels.yaml`` in
``LABEL_KEYS``, e.g. ``"continue"``, ``"done"``, ``"checkin_skip"``), which matches the button with
that action (and value), or anything else, which matches the button whose decoded value is exactly
the key: an option id (``"linkedin"``, ``"alone"``, ``"fri"``, ``"e4"``, ``"w2"``), a time zone
(``"Europe/Berlin"``), a step id to change from the summary (``"hours"``), a suggested number
(``"3"``, ``"8.5"`` = 08:30).

``buttons`` are flat sequences of ``(caption, callback_data)`` pairs (the fake Bot API's
``BotMessage.buttons`` rows, flattened) or the engine's ``Button`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.callbacks import Action, decode

__all__ = ["LABEL_KEYS", "find_button", "find_button_data", "flat", "keys_of"]

# Label key -> (action, value); value None matches any value of that action. A side-flow button
# (``Action.FLOW``) matches by its flow id: "settings" is also "settings:weekday".
LABEL_KEYS: dict[str, tuple[Action, str | None]] = {
    "continue": (Action.CONTINUE, ""),
    "skip": (Action.CONTINUE, ""),
    "show_plan": (Action.CONTINUE, ""),
    "done": (Action.DONE, ""),
    "back": (Action.BACK, ""),
    "change_answers": (Action.BACK, ""),
    "show_plan_again": (Action.PLAN, "show"),
    "restart": (Action.PLAN, "restart"),
    "setup_checkin": (Action.FLOW, "settings"),
    "leave_gracefully": (Action.FLOW, "sunset"),
    "restart_yes": (Action.CONFIRM, "yes"),
    "delete_yes": (Action.CONFIRM, "yes"),
    "restart_no": (Action.CONFIRM, "no"),
    "delete_no": (Action.CONFIRM, "no"),
    "review_offer_yes": (Action.CONFIRM, "yes"),
    "review_offer_no": (Action.CONFIRM, "no"),
    "resume_continue": (Action.CONFIRM, "continue"),
    "resume_over": (Action.CONFIRM, "over"),
    "language_de": (Action.LANGUAGE, "de"),
    "language_en": (Action.LANGUAGE, "en"),
    "checkin_start": (Action.CHECKIN, "start"),
    "checkin_skip": (Action.CHECKIN, "skip"),
    "checkin_snooze_1h": (Action.CHECKIN, "snooze_1h"),
    "checkin_snooze_evening": (Action.CHECKIN, "snooze_evening"),
    "checkin_snooze_tomorrow": (Action.CHECKIN, "snooze_tomorrow"),
}


def flat(rows: Iterable[Iterable[Any]]) -> list[Any]:
    """Keyboard rows as one list of buttons."""
    return [button for row in rows for button in row]


def _caption_and_data(button: Any) -> tuple[str, str | None]:
    if hasattr(button, "label") and hasattr(button, "data"):  # bot.core.messages.Button
        return button.label, button.data
    caption, data = button
    return caption, data


def _matches(key: str, data: str | None) -> bool:
    token = decode(data) if data is not None else None
    if token is None:
        return False
    if key in LABEL_KEYS:
        action, value = LABEL_KEYS[key]
        shown = token.value.partition(":")[0] if action is Action.FLOW else token.value
        return token.action is action and (value is None or shown == value)
    return token.value == key


def keys_of(data: str | None) -> list[str]:
    """Every key that addresses a button with this data (its value, and matching label keys)."""
    token = decode(data) if data is not None else None
    if token is None:
        return []
    named = [key for key in LABEL_KEYS if _matches(key, data)]
    return ([token.value] if token.value and token.value not in LABEL_KEYS else []) + named


def _describe(buttons: Sequence[Any]) -> str:
    lines = []
    for button in buttons:
        caption, data = _caption_and_data(button)
        token = decode(data) if data is not None else None
        what = f"{token.action.name} {token.value!r}" if token is not None else f"data {data!r}"
        lines.append(f"  {what:<34} keys {keys_of(data)!s:<40} caption {caption!r}")
    return "\n".join(lines) or "  (no buttons)"


def find_button(buttons: Sequence[Any], key: str) -> Any:
    """The one button (pair or ``Button``) that ``key`` addresses; AssertionError otherwise."""
    matches = [b for b in buttons if _matches(key, _caption_and_data(b)[1])]
    if not matches or len({_caption_and_data(b)[1] for b in matches}) > 1:
        problem = "no button" if not matches else f"{len(matches)} different buttons"
        raise AssertionError(f"{problem} for key {key!r}; the buttons are:\n{_describe(buttons)}")
    return matches[0]


def find_button_data(buttons: Sequence[Any], key: str) -> str:
    """The callback data of the one button that ``key`` addresses; AssertionError otherwise."""
    data = _caption_and_data(find_button(buttons, key))[1]
    assert data is not None
    return data
