"""The rules catalogue: the shipped files load, and broken copies fail with precise messages."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.rules import (
    LANGUAGES,
    Audience,
    Catalogue,
    Channel,
    Goal,
    Localized,
    RulesError,
    load_catalogue,
)

RULES_DIR = Path(__file__).resolve().parents[2] / "prompts" / "rules"

AUDIENCE_IDS = (
    "b2b_dach",
    "b2b_international",
    "consumers_u30",
    "consumers_30_49",
    "consumers_50plus",
    "local",
    "trainees",
    "skilled_workers",
    "niche_experts",
    "shoppers",
)
GOAL_IDS = (
    "awareness",
    "leads",
    "thought_leadership",
    "recruiting",
    "customer_service",
    "community",
    "ecommerce",
    "local_footfall",
    "networking",
)
CHANNEL_IDS = (
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
    "bluesky",
    "mastodon",
    "newsletter",
    "blog_podcast",
)
DOMAIN_SOURCE_KEYS = [
    "A23",
    "A24",
    "A25",
    "BIT23",
    "SMA24",
    "YG24",
    "DSA",
    "LI-DACH",
    "XING",
    "BITX",
    "P21",
    "P23",
    "P24",
    "P25",
    "BUF-LI",
    "BUF-TT",
    "HS23",
    "HUB",
    "TS12",
    "BUF14",
    "BD",
    "LEACH",
    "ORB",
    "WYZ",
    "SME",
    "VR",
    "HT24",
    "HTB",
    "SPR23",
    "IPR",
    "CMI",
    "RP",
    "ED",
    "B2BI",
    "IW24",
    "LS25",
    "FORSA21",
    "SPRI",
    "PIN",
    "ITSMA",
    "JOB",
    "BB",
    "GS06",
    "H16",
    "LL02",
    "GM15",
    "GTD",
    "SMS",
    "E",
]


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(RULES_DIR)


# ---- the shipped rules ------------------------------------------------------------------------


def test_shipped_rules_load_with_ids_in_order(shipped: Catalogue) -> None:
    assert tuple(a.id for a in shipped.audiences) == AUDIENCE_IDS
    assert tuple(g.id for g in shipped.goals) == GOAL_IDS
    assert tuple(c.id for c in shipped.channels) == CHANNEL_IDS


def test_shipped_sources_cover_every_domain_key(shipped: Catalogue) -> None:
    keys = {s.key for s in shipped.sources}
    assert [k for k in DOMAIN_SOURCE_KEYS if k not in keys] == []
    assert shipped.source("A23").title.de == "ARD/ZDF-Onlinestudie 2023"
    assert shipped.source("BIT23").title.en == "Bitkom, February 2023"
    assert shipped.source("BIT23").title.de == "Bitkom, Februar 2023"  # no English in German
    assert shipped.source("E").short.de == "Einschätzung des Coachs"
    assert shipped.source("E").title.en.startswith("Coach's estimate")


def test_shipped_channels_rate_every_segment_and_goal(shipped: Catalogue) -> None:
    for channel in shipped.channels:
        assert tuple(channel.audience_fit) == AUDIENCE_IDS, channel.id
        assert tuple(channel.goal_fit) == GOAL_IDS, channel.id


def test_shipped_effort_uses_low_end_of_domain_section_2(shipped: Catalogue) -> None:
    hours = {c.id: c.hours_per_week for c in shipped.channels}
    assert hours == {
        "linkedin": 2.0,
        "xing": 0.5,
        "instagram": 3.0,
        "facebook": 1.5,
        "tiktok": 3.0,
        "youtube": 4.0,
        "x": 2.0,
        "pinterest": 1.0,
        "whatsapp": 1.0,
        "threads": 0.5,
        "bluesky": 0.5,
        "mastodon": 0.5,
        "newsletter": 1.5,
        "blog_podcast": 2.0,
    }
    assert {c.id for c in shipped.channels if c.video} == {"instagram", "tiktok", "youtube"}


def test_shipped_goal_fits_follow_domain_section_3(shipped: Catalogue) -> None:
    linkedin = shipped.channel("linkedin").goal_fit
    assert (linkedin["leads"], linkedin["recruiting"], linkedin["customer_service"]) == (3, 3, 1)
    assert shipped.channel("xing").goal_fit["customer_service"] == 0
    assert shipped.channel("pinterest").goal_fit["ecommerce"] == 3
    assert shipped.channel("facebook").goal_fit["community"] == 3


def test_shipped_customer_service_adds_reply_overhead(shipped: Catalogue) -> None:
    overheads = {g.id: g.reply_overhead for g in shipped.goals if g.reply_overhead}
    assert overheads == {"customer_service": 0.25}


def test_shipped_estimated_channels_cite_estimate_and_orbit(shipped: Catalogue) -> None:
    assert "E" in shipped.channel("newsletter").effort_sources
    assert shipped.channel("blog_podcast").effort_sources == ("ORB", "E")


def test_shipped_labels_are_short_and_in_both_languages(shipped: Catalogue) -> None:
    entries: list[Audience | Goal | Channel] = [
        *shipped.audiences,
        *shipped.goals,
        *shipped.channels,
    ]
    too_long = [
        (e.id, e.label[lang]) for e in entries for lang in LANGUAGES if len(e.label[lang]) > 30
    ]
    assert too_long == []
    assert shipped.channel("whatsapp").label["de"] == "WhatsApp-Kanal"
    assert shipped.channel("whatsapp").label["en"] == "WhatsApp channel"


def test_channel_sources_are_deduplicated_in_order(shipped: Catalogue) -> None:
    xing = shipped.channel("xing")
    assert xing.sources == ("BIT23", "XING", "LI-DACH", "E")


def test_lookups_fail_for_unknown_ids(shipped: Catalogue) -> None:
    with pytest.raises(KeyError):
        shipped.channel("myspace")
    with pytest.raises(KeyError):
        shipped.goal("fame")
    with pytest.raises(KeyError):
        shipped.audience("aliens")
    with pytest.raises(KeyError):
        shipped.source("NOPE")


def test_localized_rejects_unsupported_language() -> None:
    text = Localized(de="Hallo", en="Hello")
    assert (text["de"], text["en"]) == ("Hallo", "Hello")
    with pytest.raises(KeyError):
        text["fr"]


# ---- broken copies ----------------------------------------------------------------------------


def copy_rules(tmp_path: Path) -> Path:
    """Copy the shipped rules to ``<tmp>/prompts/rules`` and return that folder."""
    target = tmp_path / "prompts" / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def edit(rules_dir: Path, name: str, change: Callable[[Any], None]) -> None:
    """Load ``name`` from ``rules_dir``, apply ``change`` to the data, write it back."""
    path = rules_dir / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def entry(data: dict[str, Any], list_key: str, entry_id: str) -> dict[str, Any]:
    """The entry with ``entry_id`` in the file's list."""
    found: dict[str, Any] = next(e for e in data[list_key] if e.get("id") == entry_id)
    return found


def problems_of(rules_dir: Path) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_catalogue(rules_dir)
    return caught.value.problems


def test_missing_fit_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules,
        "channels.yaml",
        lambda d: entry(d, "channels", "tiktok")["audience_fit"].pop("local"),
    )
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'tiktok': audience_fit lacks 'local'"
    ]


def test_missing_goal_fit_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(rules, "channels.yaml", lambda d: entry(d, "channels", "x")["goal_fit"].pop("networking"))
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'x': goal_fit lacks 'networking'"
    ]


def test_unknown_segment_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules,
        "channels.yaml",
        lambda d: entry(d, "channels", "linkedin")["audience_fit"].update(aliens=2),
    )
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'linkedin': "
        "audience_fit has unknown segment 'aliens'"
    ]


def test_unknown_goal_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(rules, "channels.yaml", lambda d: entry(d, "channels", "xing")["goal_fit"].update(fame=1))
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'xing': goal_fit has unknown goal 'fame'"
    ]


def test_unknown_source_key_is_named_in_every_file(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(rules, "goals.yaml", lambda d: entry(d, "goals", "leads")["sources"].append("NOPE"))
    edit(rules, "audiences.yaml", lambda d: entry(d, "audiences", "local")["sources"].append("ZZ"))
    edit(
        rules,
        "channels.yaml",
        lambda d: entry(d, "channels", "youtube")["sources"]["effort"].append("WAT"),
    )
    assert problems_of(rules) == [
        "prompts/rules/audiences.yaml: audience 'local': sources cites unknown source 'ZZ' "
        "(not in sources.yaml)",
        "prompts/rules/goals.yaml: goal 'leads': sources cites unknown source 'NOPE' "
        "(not in sources.yaml)",
        "prompts/rules/channels.yaml: channel 'youtube': sources.effort cites unknown source "
        "'WAT' (not in sources.yaml)",
    ]


def test_removed_source_is_reported_where_it_is_cited(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules,
        "sources.yaml",
        lambda d: d.update(sources=[s for s in d["sources"] if s["key"] != "ORB"]),
    )
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'blog_podcast': sources.effort cites unknown "
        "source 'ORB' (not in sources.yaml)"
    ]


def test_duplicate_ids_are_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)

    def duplicate_local(data: dict[str, Any]) -> None:
        data["audiences"].append(dict(entry(data, "audiences", "local")))

    edit(rules, "audiences.yaml", duplicate_local)
    edit(rules, "sources.yaml", lambda d: d["sources"].append(dict(d["sources"][1])))
    assert problems_of(rules) == [
        "prompts/rules/sources.yaml: source 'A23': key appears twice",
        "prompts/rules/audiences.yaml: audience 'local': id appears twice",
    ]


def test_duplicate_channel_id_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(rules, "channels.yaml", lambda d: d["channels"].append(dict(d["channels"][0])))
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'linkedin': id appears twice"
    ]


@pytest.mark.parametrize(
    ("value", "shown"), [(5, "5"), (-1, "-1"), (2.5, "2.5"), (True, "True"), ("high", "'high'")]
)
def test_fit_out_of_range_is_named(tmp_path: Path, value: object, shown: str) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules, "channels.yaml", lambda d: entry(d, "channels", "x")["goal_fit"].update(leads=value)
    )
    assert problems_of(rules) == [
        f"prompts/rules/channels.yaml: channel 'x': goal_fit 'leads' must be a whole number "
        f"0..3, got {shown}"
    ]


def test_missing_language_label_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(rules, "channels.yaml", lambda d: entry(d, "channels", "youtube")["label"].pop("en"))
    edit(rules, "goals.yaml", lambda d: entry(d, "goals", "community")["label"].pop("de"))
    edit(rules, "channels.yaml", lambda d: entry(d, "channels", "xing")["note"].pop("de"))
    assert problems_of(rules) == [
        "prompts/rules/goals.yaml: goal 'community': label lacks 'de'",
        "prompts/rules/channels.yaml: channel 'xing': note lacks 'de'",
        "prompts/rules/channels.yaml: channel 'youtube': label lacks 'en'",
    ]


def test_unknown_language_and_long_label_are_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)

    def change(data: dict[str, Any]) -> None:
        entry(data, "audiences", "local")["label"]["fr"] = "Clients locaux"
        entry(data, "audiences", "shoppers")["label"]["en"] = "x" * 31

    edit(rules, "audiences.yaml", change)
    assert problems_of(rules) == [
        "prompts/rules/audiences.yaml: audience 'local': label has unknown languages ['fr']; "
        "use de, en",
        "prompts/rules/audiences.yaml: audience 'shoppers': label.en is 31 characters long; "
        "at most 30 fit",
    ]


def test_non_yaml_file_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    (rules / "goals.yaml").write_text("goals:\n  - id: [leads\n    label: x\n", encoding="utf-8")
    problems = problems_of(rules)
    assert len(problems) == 1
    assert problems[0].startswith("prompts/rules/goals.yaml: file: is not valid YAML at line ")


def test_broken_audiences_do_not_flood_channel_checks(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    (rules / "audiences.yaml").write_text("audiences: {oops", encoding="utf-8")
    problems = problems_of(rules)
    assert [p.split(": ")[0] for p in problems] == ["prompts/rules/audiences.yaml"]


def test_missing_file_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    (rules / "sources.yaml").unlink()
    assert problems_of(rules) == ["prompts/rules/sources.yaml: file: is missing"]


def test_wrong_types_and_unknown_keys_are_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)

    def change(data: dict[str, Any]) -> None:
        pinterest = entry(data, "channels", "pinterest")
        pinterest["video"] = "no"
        pinterest["effort"]["minutes_per_unit"] = 0
        pinterest["effort"]["unit"] = "reel"
        pinterest["hours_per_weak"] = 2
        del pinterest["cadence"]

    edit(rules, "channels.yaml", change)
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: channel 'pinterest': lacks 'cadence'",
        "prompts/rules/channels.yaml: channel 'pinterest': has unknown keys ['hours_per_weak']",
        "prompts/rules/channels.yaml: channel 'pinterest': "
        "cadence must be a mapping with de and en",
        "prompts/rules/channels.yaml: channel 'pinterest': video must be true or false, got 'no'",
        "prompts/rules/channels.yaml: channel 'pinterest': effort.unit 'reel' is unknown; use one "
        "of post, video, pin, update, issue, episode",
        "prompts/rules/channels.yaml: channel 'pinterest': effort.minutes_per_unit must be a "
        "number above 0, got 0",
    ]


def test_reply_overhead_out_of_range_is_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules,
        "goals.yaml",
        lambda d: entry(d, "goals", "customer_service").update(reply_overhead=25),
    )
    assert problems_of(rules) == [
        "prompts/rules/goals.yaml: goal 'customer_service': reply_overhead must lie between 0 "
        "and 1, got 25"
    ]


def test_bad_id_and_empty_sources_are_named(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)

    def change(data: dict[str, Any]) -> None:
        data["goals"][0]["id"] = "Awareness!"
        entry(data, "goals", "leads")["sources"] = []

    edit(rules, "goals.yaml", change)
    assert problems_of(rules) == [
        "prompts/rules/goals.yaml: goal number 1: id 'Awareness!' must be a text of a-z, 0-9 "
        "and _, starting with a letter, at most 20 characters",
        "prompts/rules/goals.yaml: goal 'leads': sources must be a non-empty list of source "
        "keys, e.g. [A23, E]",
    ]


def test_a_text_only_channel_is_required(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)

    def all_video(data: dict[str, Any]) -> None:
        for channel in data["channels"]:
            channel["video"] = True

    edit(rules, "channels.yaml", all_video)
    assert problems_of(rules) == [
        "prompts/rules/channels.yaml: file: needs at least one channel with 'video: false'"
    ]


def test_every_problem_is_collected_before_raising(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules,
        "channels.yaml",
        lambda d: entry(d, "channels", "tiktok")["audience_fit"].pop("local"),
    )
    edit(rules, "channels.yaml", lambda d: entry(d, "channels", "youtube")["label"].pop("en"))
    with pytest.raises(RulesError) as caught:
        load_catalogue(rules)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        "prompts/rules/channels.yaml: channel 'tiktok': audience_fit lacks 'local'\n"
        "prompts/rules/channels.yaml: channel 'youtube': label lacks 'en'"
    )
