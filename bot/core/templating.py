"""The one sandboxed Jinja environment for every text, button label and flow condition.

Prompts are content written by coaches, so they run in ``SandboxedEnvironment``: a template cannot
reach Python internals (``''.__class__`` raises ``SecurityError``). ``StrictUndefined`` turns a
typo
in a variable name into an error at check time instead of an empty gap in a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["LABELS_FILE", "TEMPLATE_SUFFIX", "Condition", "TextRenderer", "make_environment"]

TEMPLATE_SUFFIX = ".j2"
LABELS_FILE = "labels.yaml"

_BLANK_LINES = re.compile(r"\n{3,}")

Condition = Callable[[Mapping[str, Any]], bool]


def _format_hours(value: float, lang: str = "de") -> str:
    """Format hours the way people write them: 2, 1,5 (German) or 1.5 (English)."""
    rounded = round(float(value), 1)
    text = f"{rounded:g}"
    return text.replace(".", ",") if lang == "de" else text


def make_environment(templates_dir: Path) -> SandboxedEnvironment:
    """Build the sandboxed environment: HTML autoescape (Telegram HTML), strict undefined names."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["hours"] = _format_hours
    return env


class TextRenderer:
    """Renders templates and short labels for a language from ``prompts/templates/<lang>/``."""

    def __init__(self, templates_dir: Path, languages: tuple[str, ...]) -> None:
        self.templates_dir = templates_dir
        self.languages = languages
        self.env = make_environment(templates_dir)
        self._labels: dict[str, dict[str, str]] = {
            lang: load_labels(templates_dir / lang / LABELS_FILE) for lang in languages
        }
        self._label_templates: dict[tuple[str, str], Any] = {}

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
        text = template.render(
            lang=lang, label=lambda key, **kw: self.label(lang, key, **kw), **context
        )
        return _BLANK_LINES.sub("\n\n", text).strip()

    def label(self, lang: str, key: str, **context: Any) -> str:
        """Render the short label ``key`` (a button caption or a word) for ``lang``."""
        cache_key = (lang, key)
        template = self._label_templates.get(cache_key)
        if template is None:
            source = self._labels[lang][key]
            template = self.env.from_string(source)
            self._label_templates[cache_key] = template
        return str(template.render(lang=lang, **context)).strip()

    def label_keys(self, lang: str) -> set[str]:
        """All label keys defined for ``lang``."""
        return set(self._labels[lang])

    def condition(self, expression: str) -> Condition:
        """Compile a condition such as ``answers.hours < 2`` into a predicate over a context.

        The context names what the expression may use: ``answers`` and ``plan`` in flows,
        ``stats`` in advice rules.
        """
        compiled = self.env.compile_expression(expression, undefined_to_none=False)

        def evaluate(context: Mapping[str, Any]) -> bool:
            return bool(compiled(**context))

        return evaluate


def load_labels(path: Path) -> dict[str, str]:
    """Read a labels file: a flat mapping of key to a short (Jinja) string."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ValueError(f"{path}: must be a mapping of label keys to strings")
    return dict(raw)
