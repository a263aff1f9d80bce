"""Templates are given only what they can read, and the text stays the same.

``TextRenderer.render_from`` takes from a context only the names a template (and the bank
wordings ``fresh`` shows in it) can look up; ``question_view.UserContext`` works out each value
only when it is asked for. Composing the reminder of many generated users, and rendering every
template with the checker's samples, must give exactly the text of the eager ``render``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Undefined
from jinja2.sandbox import SandboxedEnvironment

from bench.datagen import DocumentFactory
from bot.core.checker import _template_sample
from bot.core.content import Content
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.question_view import UserContext, user_context
from bot.core.state import UserState
from bot.core.templating import TEMPLATE_SUFFIX, TextRenderer, make_environment
from storage import InMemoryUserRepository

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
# The reminders the dispatcher composes: each kind, and a check-in late, with missed weeks,
# and snoozed.
REMINDERS: tuple[dict[str, Any], ...] = (
    {"week": "2026-W49", "late": False, "missed_weeks": (), "snooze": False, "kind": Kind.CHECKIN},
    {
        "week": "2026-W48",
        "late": True,
        "missed_weeks": ("2026-W46", "2026-W47"),
        "snooze": False,
        "kind": Kind.CHECKIN,
    },
    {"week": "2026-W49", "late": False, "missed_weeks": (), "snooze": True, "kind": Kind.CHECKIN},
    {
        "week": "2026-W48",
        "late": False,
        "missed_weeks": (),
        "snooze": False,
        "kind": Kind.FOLLOWUP,
    },
    {
        "week": "2026-W49",
        "late": False,
        "missed_weeks": (),
        "snooze": False,
        "kind": Kind.COMEBACK,
    },
    {"week": "2026-W49", "late": False, "missed_weeks": (), "snooze": False, "kind": Kind.REVIEW},
)


def _eager(self: TextRenderer, lang: str, name: str, context: Mapping[str, Any]) -> str:
    """``render_from`` as it was: every value of the context worked out and handed over."""
    return self.render(lang, name, **dict(context))


def _composed(content: Content, documents: list[bytes]) -> list[bytes]:
    engine = DialogueEngine(content, InMemoryUserRepository(), clock=lambda: NOW)
    found = []
    for reminder in REMINDERS:
        for raw in documents:
            document, replies = engine.compose_reminder(orjson.loads(raw), **reminder)
            found.append(orjson.dumps(document, option=orjson.OPT_SORT_KEYS))
            found.append(repr(replies).encode())
    return found


def test_reminders_of_many_generated_users_are_the_same_as_with_every_value(
    content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = DocumentFactory(content)
    documents = [orjson.dumps(factory.document(str(700_000_000 + n), NOW)) for n in range(150)]
    lazy = _composed(content, documents)
    monkeypatch.setattr(TextRenderer, "render_from", _eager)
    eager = _composed(content, documents)
    assert len(lazy) == 2 * len(REMINDERS) * len(documents)
    assert lazy == eager
    # Not a comparison of nothing: the reminders were composed, in both languages.
    texts = b"".join(lazy[1::2])
    assert b"Fokus-Check-in" in texts
    assert b"focus check-in" in texts


def _outcome(render: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The text, or the failure (the same failure is the same outcome)."""
    try:
        return "text", render(*args, **kwargs)
    except Exception as error:
        return type(error).__name__, str(error)


def test_every_template_renders_the_same_from_the_checkers_sample(content: Content) -> None:
    texts = content.texts
    rendered = 0
    for lang in content.languages:
        sample = _template_sample(content, lang)
        folder = texts.templates_dir / lang
        for path in sorted(folder.rglob(f"*{TEMPLATE_SUFFIX}")):
            name = path.relative_to(folder).with_suffix("").as_posix()
            eager = _outcome(texts.render, lang, name, **sample)
            lazy = _outcome(texts.render_from, lang, name, sample)
            assert lazy == eager, f"{lang}/{name}"
            rendered += eager[0] == "text"
    assert rendered > 100


class _Recording(Mapping[str, Any]):
    """A context that notes which of its values were asked for."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.asked.add(name)
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _renderer(folder: Path, templates: dict[str, str], banks: str = "") -> TextRenderer:
    (folder / "de" / "banks").mkdir(parents=True)
    (folder / "de" / "labels.yaml").write_text("ok: OK\n", encoding="utf-8")
    if banks:
        (folder / "de" / "banks" / "opener.yaml").write_text(banks, encoding="utf-8")
    for name, text in templates.items():
        (folder / "de" / f"{name}{TEMPLATE_SUFFIX}").write_text(text, encoding="utf-8")
    return TextRenderer(folder, ("de",))


def test_only_the_names_a_template_reads_are_asked_for(tmp_path: Path) -> None:
    texts = _renderer(
        tmp_path,
        {"hello": "{% if a %}{{ b }}{% endif %}{% for x in items %}{{ x }}{% endfor %}"},
    )
    context = _Recording({"a": True, "b": "B", "items": [1, 2], "costly": "never", "other": 0})
    assert texts.render_from("de", "hello", context) == "B12"
    assert context.asked == {"a", "b", "items"}


def test_a_bank_wording_gets_what_it_reads_and_the_chosen_variety(tmp_path: Path) -> None:
    wordings = "".join(f"- 'Hallo {{{{ name }}}} {number}'\n" for number in range(8))
    texts = _renderer(tmp_path, {"remind": '{{ fresh("opener") }}!'}, wordings)
    context = _Recording({"name": "Anna", "variety": {"opener": 3}, "unused": 1})
    assert texts.render_from("de", "remind", context) == "Hallo Anna 3!"
    assert context.asked == {"name", "variety"}


def test_a_template_that_includes_another_gets_the_whole_context(tmp_path: Path) -> None:
    texts = _renderer(tmp_path, {"outer": '{% include "de/inner.j2" %}', "inner": "{{ hidden }}"})
    context = _Recording({"hidden": "H", "unused": 1})
    assert texts.render_from("de", "outer", context) == "H"
    assert context.asked == {"hidden", "unused"}


def test_a_template_edited_while_running_is_read_again(tmp_path: Path) -> None:
    texts = _renderer(tmp_path, {"note": "{{ a }}"})
    assert texts.render_from("de", "note", {"a": "A", "b": "B"}) == "A"
    path = tmp_path / "de" / f"note{TEMPLATE_SUFFIX}"
    path.write_text("{{ a }}{{ b }}", encoding="utf-8")
    later = path.stat().st_mtime + 5  # Jinja reloads a template whose file time changed
    os.utime(path, (later, later))
    assert texts.render_from("de", "note", {"a": "A", "b": "B"}) == "AB"


def test_the_user_context_is_worked_out_only_where_asked(content: Content) -> None:
    factory = DocumentFactory(content)
    user = UserState.from_document(factory.document("700000001", NOW))
    eager = user_context(content, user, NOW)
    lazy = UserContext(content, user, NOW, {"flow": "checkin", "variety": {}})
    assert list(lazy) == [*eager, "flow"]
    assert "heartbeat" in lazy and "flow" in lazy and "nothing" not in lazy
    assert lazy["variety"] == {}  # the caller's own value wins
    assert lazy["reminder"] == eager["reminder"]
    assert lazy["budget"] == eager["budget"]
    assert lazy["parked_ready"] == eager["parked_ready"]
    with pytest.raises(KeyError):
        lazy["nothing"]


def _stock_getattr(self: SandboxedEnvironment, obj: Any, attribute: str) -> Any:
    """Jinja's own lookup of ``obj.attribute``: the attribute first, then the item."""
    return SandboxedEnvironment.getattr(self, obj, attribute)


def test_reminders_of_many_generated_users_are_the_same_with_jinjas_own_lookup(
    content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = DocumentFactory(content)
    documents = [orjson.dumps(factory.document(str(700_000_000 + n), NOW)) for n in range(150)]
    direct = _composed(content, documents)
    monkeypatch.setattr(type(content.texts.env), "getattr", _stock_getattr)
    stock = _composed(content, documents)
    assert direct == stock


NAMES = st.sampled_from(["week", "late", "items", "keys", "get", "__class__", "__len__", "x"])


@given(
    value=st.dictionaries(NAMES, st.integers() | st.text(max_size=3), max_size=5)
    | st.builds(OrderedDict, st.dictionaries(NAMES, st.integers(), max_size=3))
    | st.lists(st.integers(), max_size=3)
    | st.text(max_size=3),
    name=NAMES,
)
def test_a_dicts_item_is_looked_up_as_jinja_would(value: Any, name: str) -> None:
    env = make_environment(Path("."))
    assert _looked_up(env.getattr(value, name)) == _looked_up(
        SandboxedEnvironment.getattr(env, value, name)
    )


def _looked_up(found: Any) -> tuple[Any, ...]:
    """What a lookup found; an undefined one by what it says (it cannot be compared)."""
    if isinstance(found, Undefined):
        return (
            type(found),
            found._undefined_name,
            id(found._undefined_obj),
            found._undefined_hint,
        )
    return ("found", found)
