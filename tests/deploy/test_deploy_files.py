"""The container and service files say what the README promises: read as text, always run.

Dockerfile: a builder stage and a final stage from the same pinned slim Python, a numeric
non-root user, /data as a volume, the token from a secret file, SIGTERM, a HEALTHCHECK that asks
`focus-coach health`, `focus-coach` as the entry point. compose.yaml: the secret, the volume,
the restart policy and a stop grace period as long as the unit's. The lint and systemd checks
are in test_deploy_lint.py; the image is built in tests/e2e/test_e2e_container.py.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
UNIT = ROOT / "deploy" / "focus-coach.service"
SECRET_PATH = "/run/secrets/telegram_bot_token"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    argument: str


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions with continuation lines joined and comments dropped."""
    found: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending = f"{pending} {stripped}" if pending else stripped
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, argument = pending.partition(" ")
        found.append(Instruction(keyword.upper(), argument.strip()))
        pending = ""
    assert not pending, f"a continuation line runs off the end: {pending!r}"
    return found


def stages(text: str) -> list[list[Instruction]]:
    """The instructions of each build stage, each starting with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def env_of(stage: list[Instruction]) -> dict[str, str]:
    """ENV key=value pairs of a stage (the form this Dockerfile uses)."""
    values: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.argument):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def only(stage: list[Instruction], keyword: str) -> str:
    matching = [i.argument for i in stage if i.keyword == keyword]
    assert len(matching) == 1, f"expected one {keyword} in the final stage, found {matching}"
    return matching[0]


def final_stage() -> list[Instruction]:
    return stages(DOCKERFILE.read_text())[-1]


def seconds(duration: str) -> float:
    """A compose or systemd duration such as "90s", "1m30s" or "90" in seconds."""
    units = {"h": 3600, "min": 60, "m": 60, "s": 1, "": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|min|m|s|)", duration.strip())
    assert parts, f"not a duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


# ---- Dockerfile ---------------------------------------------------------------------------------


def test_the_image_is_built_in_two_stages_from_one_pinned_slim_python() -> None:
    all_stages = stages(DOCKERFILE.read_text())
    assert len(all_stages) == 2
    builder, final = (stage[0].argument for stage in all_stages)
    assert builder == "${PYTHON_IMAGE} AS builder"
    assert final == "${PYTHON_IMAGE}"
    args = [i.argument for i in instructions(DOCKERFILE.read_text()) if i.keyword == "ARG"]
    base = next(a.partition("=")[2] for a in args if a.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim-bookworm", base), base


def test_the_final_stage_takes_only_the_environment_built_from_the_wheels() -> None:
    builder, final = stages(DOCKERFILE.read_text())
    built = " ".join(i.argument for i in builder if i.keyword == "RUN")
    assert 'pip wheel --wheel-dir /wheels ".[metrics]"' in built
    assert "set -- /wheels/focus_coach-*.whl" in built
    assert '--no-index --find-links=/wheels "$1[metrics]"' in built
    copies = [i.argument for i in final if i.keyword in {"COPY", "ADD"}]
    assert copies == ["--from=builder /opt/focus-coach /opt/focus-coach"]
    runs = " ".join(i.argument for i in final if i.keyword == "RUN")
    for tool in ("apt-get", "gcc", "build-essential", "pip install"):
        assert tool not in runs


def test_the_bot_runs_as_a_fixed_numeric_non_root_user() -> None:
    final = final_stage()
    users = [i.argument for i in final if i.keyword == "USER"]
    assert users, "no USER: the bot would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0
    runs = " ".join(i.argument for i in final if i.keyword == "RUN")
    assert f"--uid {uid}" in runs and f"--gid {gid}" in runs
    # The volume's folder belongs to that user before VOLUME freezes its ownership.
    assert "--owner=focus-coach --group=focus-coach --mode=0700 /data" in runs


def test_data_token_signal_health_and_entry_point_are_set() -> None:
    final = final_stage()
    env = env_of(final)
    assert env["FOCUS_COACH_DATA_DIR"] == "/data"
    assert env["TELEGRAM_BOT_TOKEN_FILE"] == SECRET_PATH
    assert "TELEGRAM_BOT_TOKEN" not in env
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert json.loads(only(final, "VOLUME")) == ["/data"]
    assert only(final, "STOPSIGNAL") == "SIGTERM"
    healthcheck = only(final, "HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert json.loads(command) == ["focus-coach", "health", "--data-dir", "/data"]
    # A beat comes every tick (60 s): checking more often than that only costs.
    assert "--interval=60s" in options and "--start-period=" in options
    assert json.loads(only(final, "ENTRYPOINT")) == ["focus-coach"]
    assert json.loads(only(final, "CMD")) == ["run"]


def test_the_image_carries_the_oci_labels() -> None:
    labels = " ".join(i.argument for i in final_stage() if i.keyword == "LABEL")
    for key in ("title", "description", "licenses", "version", "revision"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_the_build_context_leaves_out_environments_history_tests_and_data() -> None:
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".venv", ".git", "tests", "data", "secrets", "*.env", ".pytest_cache"):
        assert pattern in ignored
    # What the wheel is built from must stay in.
    for needed in ("bot", "storage", "prompts", "pyproject.toml", "README.md"):
        assert needed not in ignored


# ---- compose.yaml ------------------------------------------------------------------------------


def test_compose_runs_the_bot_with_the_token_secret_and_a_named_data_volume() -> None:
    document = compose()
    bot = document["services"]["bot"]
    assert bot["build"] == "."
    assert bot["restart"] == "unless-stopped"
    secret = SECRET_PATH.rsplit("/", 1)[1]
    assert secret in bot["secrets"]
    assert document["secrets"][secret]["file"].startswith("./secrets/")
    volume, _, target = bot["volumes"][0].partition(":")
    assert target == "/data"
    assert volume in document["volumes"]
    assert "healthcheck" not in bot, "the image's HEALTHCHECK is meant to apply"
    assert bot["logging"]["options"]["max-size"]
    assert "TELEGRAM_BOT_TOKEN" not in bot.get("environment", {})


def test_compose_and_the_unit_wait_equally_long_for_a_graceful_stop() -> None:
    bot = compose()["services"]["bot"]
    assert bot["stop_signal"] == "SIGTERM"
    unit = unit_settings()
    assert unit["KillSignal"] == ["SIGTERM"]
    grace = seconds(bot["stop_grace_period"])
    assert grace == seconds(unit["TimeoutStopSec"][0])
    # Docker's default is 10 s; a fan-out with a 429 needs longer (the unit's comment says why).
    assert grace >= 60


# ---- deploy/focus-coach.service ------------------------------------------------------------


def test_the_unit_keeps_data_and_token_where_systemd_manages_them() -> None:
    unit = unit_settings()
    assert unit["DynamicUser"] == ["yes"]
    assert unit["StateDirectory"] == ["focus-coach"]
    environment = dict(value.partition("=")[::2] for value in unit["Environment"])
    assert environment["FOCUS_COACH_DATA_DIR"] == "%S/focus-coach"
    assert unit["LoadCredential"] == ["telegram_bot_token:/etc/focus-coach/telegram_bot_token"]
    assert environment["TELEGRAM_BOT_TOKEN_FILE"] == "%d/telegram_bot_token"
    assert unit["EnvironmentFile"] == ["-/etc/focus-coach/focus-coach.env"]
    assert unit["ExecStart"] == ["/opt/focus-coach/bin/focus-coach run"]
    assert unit["Restart"] == ["on-failure"]
    # StateDirectory is writable under ProtectSystem=strict by itself.
    assert "ReadWritePaths" not in unit


def test_the_unit_is_hardened() -> None:
    unit = unit_settings()
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert "@system-service" in unit["SystemCallFilter"]


def test_the_example_settings_file_is_an_environment_file_not_a_dotenv() -> None:
    text = (ROOT / "bot_example.env").read_text()
    assert "Copy to .env" not in text
    assert "EnvironmentFile" in text and "env_file" in text
    for line in text.splitlines():
        if line and not line.startswith("#"):
            # systemd and compose both read KEY=value, no spaces around "=", no export.
            assert re.fullmatch(r"[A-Z_]+=\S*", line), line
