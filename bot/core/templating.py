"""The one sandboxed Jinja environment for every text, button label and flow condition.

Prompts are content written by coaches, so they run in ``SandboxedEnvironment``: a template cannot
reach Python internals (``''.__class__`` raises ``SecurityError``). ``StrictUndefined`` turns a
typo in a variable name into an error at check time instead of an empty gap in a message.

The environment also carries the language helpers every template uses (Babel, CLDR data), each
taking the language from the template's ``lang`` unless one is passed:

- ``{{ 1.5|number }}`` -> ``1,5`` / ``1.5``; ``{{ 2.5|hours }}`` is the same for hours;
- ``{{ 87|percent }}`` -> ``87 %`` / ``87%``;
- ``{{ day|date }}`` -> ``4. Dezember 2026`` / ``4 December 2026`` (``date("full")`` adds the
  weekday); ``{{ instant|time }}`` -> ``08:30``;
- ``{{ "Europe/Vienna"|zone }}`` -> ``Wien`` / ``Vienna``;
- ``{{ 2|plural("n_weeks") }}`` -> ``2 Wochen``: picks the CLDR plural form of a label that has
  one (``one:``/``other:`` in labels.yaml; in a form, ``{{ count }}`` is the number as written);
- ``{{ fresh("checkin_opener") }}`` -> the user's current wording from a message bank
  (``bot.core.message_banks``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

import yaml
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateRuntimeError,
    nodes,
    pass_context,
)
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from bot.core.locale_format import (
    PLURAL_CATEGORIES,
    format_date,
    format_number,
    format_percent,
    format_time,
    plural_categories,
    plural_category,
    zone_city,
)
from bot.core.message_banks import Banks, fresh_function, load_banks

__all__ = [
    "LABELS_FILE",
    "TEMPLATE_SUFFIX",
    "Condition",
    "LabelSource",
    "TextRenderer",
    "make_environment",
]

TEMPLATE_SUFFIX = ".j2"
LABELS_FILE = "labels.yaml"

_BLANK_LINES = re.compile(r"\n{3,}")

Condition = Callable[[Mapping[str, Any]], bool]
# A label is one short template, or one per CLDR plural category ({"one": ..., "other": ...}).
LabelSource = str | dict[str, str]
# Renders the form of plural label ``key`` in ``lang`` for a count: what ``plural`` calls.
PluralFunction = Callable[[str, str, float], str]


def _lang(context: Context, lang: str | None) -> str:
    """The language a filter formats for: the one passed, else the template's ``lang``."""
    chosen = lang if lang is not None else context.get("lang")
    if not isinstance(chosen, str):
        raise TemplateRuntimeError("no language: render with 'lang' or pass one to the filter")
    return chosen


@pass_context
def _number(context: Context, value: float, lang: str | None = None, digits: int = 1) -> str:
    """``{{ 1.5|number }}``: at most one decimal, in the language's own notation."""
    return format_number(value, _lang(context, lang), digits=digits)


@pass_context
def _percent(context: Context, value: float, lang: str | None = None) -> str:
    """``{{ 87|percent }}``: a percentage on the 0-100 scale."""
    return format_percent(value, _lang(context, lang))


@pass_context
def _date(
    context: Context, value: date | str, style: str = "long", lang: str | None = None
) -> str:
    """``{{ day|date }}``: a date, a datetime (its local day) or ISO text, written out."""
    return format_date(value, _lang(context, lang), style=style)


@pass_context
def _time(context: Context, value: time | datetime | str, lang: str | None = None) -> str:
    """``{{ instant|time }}``: the wall-clock time of a time, a local datetime or ``HH:MM``."""
    return format_time(value, _lang(context, lang))


@pass_context
def _zone(context: Context, value: str, lang: str | None = None) -> str:
    """``{{ reminder.zone|zone }}``: an IANA zone by its city in the language (``Wien``)."""
    return zone_city(value, _lang(context, lang))


def _plural_filter(plural_label: PluralFunction) -> Callable[..., str]:
    @pass_context
    def plural(context: Context, count: float, key: str, lang: str | None = None) -> str:
        """``{{ 2|plural("n_weeks") }}``: the label's form for ``count`` (``2 Wochen``)."""
        # Plain text, escaped by the template like any value: a label's own "&" must reach
        # Telegram as "&amp;", and its only value, the count, is digits and separators.
        return plural_label(_lang(context, lang), key, count)

    return plural


# A plain dict's attributes are its methods (and those of ``object``): no instance has more.
_DICT_ATTRIBUTES: Final = frozenset(dir(dict))


class _Sandbox(SandboxedEnvironment):
    """The sandbox, reading ``checkin.week`` of a plain dict as its item straight away.

    Jinja looks ``a.b`` up as an attribute first and as an item only when that fails: for the
    dicts the templates read (the check-in, the plan, a light week ...) an ``AttributeError``
    raised and caught at every lookup. A plain ``dict`` has no attribute but those of its
    class, so for any other name the item (or the same undefined) is what Jinja finds too.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``SandboxedEnvironment.getattr``, without the failing attribute lookup first."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_environment(
    templates_dir: Path, *, plural: PluralFunction | None = None
) -> SandboxedEnvironment:
    """Build the sandboxed environment: HTML autoescape (Telegram HTML), strict undefined names.

    ``plural`` (``TextRenderer.plural``) enables the ``plural`` filter, which reads labels.
    """
    env = _Sandbox(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        number=_number,
        hours=_number,  # hours are a number; the unit ("Std.", "h") is in the text
        percent=_percent,
        date=_date,
        time=_time,
        zone=_zone,
    )
    if plural is not None:
        env.filters["plural"] = _plural_filter(plural)
    return env


# Statements that hand a template's whole context to another template: what a template with one
# of them reads cannot be told from its own text.
_PASSES_CONTEXT: Final = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
# ``fresh(bank)`` renders the chosen wording with the template's whole context and reads
# ``variety`` itself (``message_banks.fresh_function``).
_FRESH: Final = "fresh"
_FRESH_READS: Final = frozenset({"variety"})


def _names_in(source: str, env: SandboxedEnvironment) -> frozenset[str] | None:
    """The context names a template's text looks up; None if it passes its context on."""
    tree = env.parse(source)
    if any(True for _ in tree.find_all(_PASSES_CONTEXT)):
        return None
    # The environment's globals (``fresh``) are not "undeclared", but the context can hold a
    # value of the same name that wins: every name the text loads counts.
    loaded = {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"}
    return frozenset(find_undeclared_variables(tree)) | loaded


_RENDERED_LABELS_KEPT: Final = 8192
# Context values a rendered label may be kept for. A label's template sees nothing but its
# context, and its filters and ``fresh`` are functions of that context alone (no clock, no
# chance; ``fresh`` without a ``variety`` in the context takes the first wording), so equal
# contexts render equal labels.
_PLAIN_VALUES: Final = (str, int, float, bool, type(None))


def _rendered_key(
    form: tuple[str, str, str | None], context: dict[str, Any]
) -> tuple[Any, ...] | None:
    """The cache key of a label rendered with ``context``; None if a value is not plain data.

    The type is part of the key (``Markup("a&b")`` equals ``"a&b"`` but is not escaped, ``1``
    equals ``True``), and a float goes by its ``repr`` (``-0.0`` equals ``0.0``).
    """
    items: list[tuple[str, type, Any]] = []
    for name, value in context.items():
        kind = type(value)
        if kind not in _PLAIN_VALUES:
            return None
        items.append((name, kind, repr(value) if kind is float else value))
    items.sort(key=lambda item: item[0])
    return (*form, *items)


class TextRenderer:
    """Renders templates and short labels for a language from ``prompts/templates/<lang>/``."""

    def __init__(self, templates_dir: Path, languages: tuple[str, ...]) -> None:
        self.templates_dir = templates_dir
        self.languages = languages
        self.env = make_environment(templates_dir, plural=self.plural)
        self._labels: dict[str, dict[str, LabelSource]] = {
            lang: load_labels(templates_dir / lang / LABELS_FILE) for lang in languages
        }
        self._label_templates: dict[tuple[str, str, str | None], Template | str] = {}
        # Rendered labels by form and context: the check-in grid alone renders a few dozen per
        # step, mostly the same captions for every user ("LinkedIn: ✓").
        self._rendered_labels: dict[tuple[Any, ...], str] = {}
        self._conditions: dict[str, Condition] = {}
        # What each template reads from its context (``render_from``), with the template it
        # was worked out for: one reloaded after an edit is looked at again.
        self._names_read: dict[str, tuple[Template, tuple[str, ...] | None]] = {}
        self._bank_names: dict[str, frozenset[str] | None] = {}
        # The message banks (``{{ fresh("checkin_opener") }}``); what is wrong with their files
        # is kept for the checker, which refuses content that has any.
        self.banks: Banks
        self.banks, self.bank_problems = load_banks(templates_dir, languages)
        self.env.globals["fresh"] = fresh_function(self.env, templates_dir, self.banks)

    def has_template(self, lang: str, name: str) -> bool:
        """Tell whether ``<lang>/<name>.j2`` exists."""
        try:
            self.env.get_template(f"{lang}/{name}{TEMPLATE_SUFFIX}")
        except TemplateNotFound:
            return False
        return True

    def render(self, lang: str, name: str, **context: Any) -> str:
        """Render ``<lang>/<name>.j2``; the result is HTML with every variable escaped."""
        template = self.env.get_template(f"{lang}/{name}{TEMPLATE_SUFFIX}")
        return self._render(template, lang, context)

    def render_from(self, lang: str, name: str, context: Mapping[str, Any]) -> str:
        """``render`` with only the values of ``context`` that the template can read.

        For a context whose values are worked out when asked for (``question_view``'s user
        context): what the template, the bank wordings it shows (``fresh``) and the filters
        cannot look up is never computed. The text is the one ``render`` gives with all of
        ``context``; a template that includes, imports or extends another gets all of it.
        """
        template = self.env.get_template(f"{lang}/{name}{TEMPLATE_SUFFIX}")
        names = self._reads(lang, template)
        if names is None:
            return self._render(template, lang, dict(context))
        return self._render(template, lang, {key: context[key] for key in names if key in context})

    def _render(self, template: Template, lang: str, context: dict[str, Any]) -> str:
        text = template.render(
            lang=lang, label=lambda key, **kw: self.label(lang, key, **kw), **context
        )
        return _BLANK_LINES.sub("\n\n", text).strip()

    def _reads(self, lang: str, template: Template) -> tuple[str, ...] | None:
        """The context names ``template`` can look up, sorted; None for all of them."""
        name = template.name or ""
        known = self._names_read.get(name)
        if known is None or known[0] is not template:
            loader = self.env.loader
            assert loader is not None  # for mypy: make_environment sets one
            source, _, _ = loader.get_source(self.env, name)
            names = _names_in(source, self.env)
            if names is not None and _FRESH in names:
                shown = self._bank_reads(lang)
                names = None if shown is None else names | shown | _FRESH_READS
            read = None if names is None else tuple(sorted(names))
            known = self._names_read[name] = (template, read)
        return known[1]

    def _bank_reads(self, lang: str) -> frozenset[str] | None:
        """What the wordings of ``lang``'s banks look up (``fresh`` renders any of them)."""
        if lang not in self._bank_names:
            found: set[str] = set()
            for wordings in self.banks.get(lang, {}).values():
                for wording in wordings:
                    names = _names_in(wording, self.env)
                    if names is None:
                        self._bank_names[lang] = None
                        return None
                    found |= names
            self._bank_names[lang] = frozenset(found)
        return self._bank_names[lang]

    def label(self, lang: str, key: str, **context: Any) -> str:
        """Render the short label ``key`` (a button caption or a word) for ``lang``.

        A label with plural forms needs ``count``: its CLDR category picks the form, and the form
        sees ``count`` written the language's way ("1,5").
        """
        source = self._labels[lang][key]
        if isinstance(source, str):
            return self.label_form(lang, key, None, **context)
        if "count" not in context:
            raise TemplateRuntimeError(
                f"label '{key}' has plural forms: use {{{{ number|plural('{key}') }}}}"
            )
        count = context["count"]
        category = plural_category(count, lang)
        form = category if category in source else "other"
        shown = {**context, "count": format_number(count, lang)}
        return self.label_form(lang, key, form, **shown)

    def plural(self, lang: str, key: str, count: float) -> str:
        """The form of label ``key`` for ``count``: ``plural("de", "n_weeks", 1)`` is "1 Woche"."""
        if isinstance(self._labels[lang][key], str):
            raise TemplateRuntimeError(
                f"label '{key}' has no plural forms: write it with 'one:' and 'other:'"
            )
        return self.label(lang, key, count=count)

    def label_form(self, lang: str, key: str, form: str | None, **context: Any) -> str:
        """Render one plural ``form`` of label ``key`` as it is (``None`` for a plain label)."""
        cache_key = (lang, key, form)
        template = self._label_templates.get(cache_key)
        if template is None:
            source = self._labels[lang][key]
            text = source if isinstance(source, str) else source[form or "other"]
            # Most labels are plain words: rendering them would give back the same text (only
            # variables are escaped), at the cost of a template context per button.
            plain = not any(mark in text for mark in ("{{", "{%", "{#"))
            template = text.strip() if plain else self.env.from_string(text)
            self._label_templates[cache_key] = template
        if isinstance(template, str):
            return template
        rendered_key = _rendered_key(cache_key, context)
        if rendered_key is None:
            return str(template.render(lang=lang, **context)).strip()
        rendered = self._rendered_labels.get(rendered_key)
        if rendered is None:
            rendered = str(template.render(lang=lang, **context)).strip()
            if len(self._rendered_labels) >= _RENDERED_LABELS_KEPT:
                self._rendered_labels.clear()  # bounded; the common captions come back at once
            self._rendered_labels[rendered_key] = rendered
        return rendered

    def label_keys(self, lang: str) -> set[str]:
        """All label keys defined for ``lang``."""
        return set(self._labels[lang])

    def plural_forms(self, lang: str, key: str) -> tuple[str, ...]:
        """The plural categories label ``key`` has a form for; empty for a plain label."""
        source = self._labels[lang][key]
        return () if isinstance(source, str) else tuple(source)

    def plural_problems(self, lang: str, key: str) -> list[str]:
        """What is wrong with the plural forms of ``key`` for ``lang``'s CLDR plural rules."""
        forms = set(self.plural_forms(lang, key))
        if not forms:
            return []
        needed = plural_categories(lang)
        missing = [
            f"label '{key}': the form '{form}' is missing" for form in sorted(needed - forms)
        ]
        unused = [
            f"label '{key}': the form '{form}' is never used in '{lang}'"
            for form in sorted(forms - needed)
        ]
        return missing + unused

    def condition(self, expression: str) -> Condition:
        """Compile a condition such as ``answers.hours < 2`` into a predicate over a context.

        The context names what the expression may use: ``answers`` and ``plan`` in flows,
        ``stats`` in advice rules.
        """
        found = self._conditions.get(expression)
        if found is None:
            # Compiling is the costly part (about a millisecond) and the expressions come from
            # the content, a fixed set: each is compiled once, however often a step asks.
            compiled = self.env.compile_expression(expression, undefined_to_none=False)

            def evaluate(context: Mapping[str, Any]) -> bool:
                return bool(compiled(**context))

            found = self._conditions[expression] = evaluate
        return found


def load_labels(path: Path) -> dict[str, LabelSource]:
    """Read a labels file: label keys to a short (Jinja) string, or to plural forms of one.

    Plural forms are a mapping of CLDR categories (``one``, ``other``, ...) to strings; ``other``
    is required, as every language has it.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = raw.items() if isinstance(raw, dict) else None
    if items is None:
        raise ValueError(f"{path}: must be a mapping of label keys to strings")
    labels: dict[str, LabelSource] = {}
    for key, value in items:
        if isinstance(key, str) and isinstance(value, str):
            labels[key] = value
        elif isinstance(key, str) and _is_plural(value):
            labels[key] = dict(value)
        else:
            raise ValueError(
                f"{path}: label {key!r} must be a string, or plural forms such as "
                "{one: ..., other: ...} (categories: " + ", ".join(PLURAL_CATEGORIES) + ")"
            )
    return labels


def _is_plural(value: object) -> bool:
    return (
        isinstance(value, dict)
        and "other" in value
        and all(k in PLURAL_CATEGORIES and isinstance(v, str) for k, v in value.items())
    )
