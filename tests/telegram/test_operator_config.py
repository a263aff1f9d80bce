"""FOCUS_COACH_ADMIN_IDS and the metrics options: parsed once, refused with a clear message."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import (
    ADMIN_IDS_ENV,
    METRICS_LISTEN_ENV,
    METRICS_PORT_ENV,
    TOKEN_ENV,
    ConfigError,
    MetricsSettings,
    admin_ids,
)

TOKEN = "7000000001:AASecretPartOfTheToken-0123456789abc"


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("", frozenset()),
        ("   ", frozenset()),
        ("123456789", frozenset({123456789})),
        (" 123456789 , 987654321,", frozenset({123456789, 987654321})),
        ("42,42", frozenset({42})),
    ],
)
def test_admin_ids_are_comma_separated_user_ids(raw: str, ids: frozenset[int]) -> None:
    assert admin_ids({ADMIN_IDS_ENV: raw}) == ids


def test_no_variable_means_nobody() -> None:
    assert admin_ids({}) == frozenset()


@pytest.mark.parametrize("raw", ["@anna", "12 34", "-5", "0", "1.5", "123;456", "١٢٣"])
def test_anything_but_user_ids_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=ADMIN_IDS_ENV) as caught:
        admin_ids({ADMIN_IDS_ENV: f"123,{raw}"})
    assert "numeric Telegram user ids" in str(caught.value)


def test_metrics_are_off_by_default_and_listen_on_localhost() -> None:
    assert MetricsSettings.resolve(environ={}) is None
    settings = MetricsSettings.resolve(environ={METRICS_PORT_ENV: "9464"})
    assert settings == MetricsSettings(port=9464, listen="127.0.0.1")
    chosen = MetricsSettings.resolve(port=9000, listen="0.0.0.0", environ={})
    assert chosen == MetricsSettings(port=9000, listen="0.0.0.0")


@pytest.mark.parametrize(
    ("env", "port", "message"),
    [
        ({METRICS_PORT_ENV: "metrics"}, None, "must be a port number"),
        ({}, 70000, "from 1 to 65535"),
        ({METRICS_LISTEN_ENV: "0.0.0.0"}, None, "needs a port"),
    ],
)
def test_bad_metrics_settings_are_refused(
    env: dict[str, str], port: int | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        MetricsSettings.resolve(port=port, environ=env)


def test_run_with_a_bad_admin_list_stops_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(ADMIN_IDS_ENV, "@operator")
    code = main(["run", "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2
    assert ADMIN_IDS_ENV in err
    assert not (tmp_path / "data").exists()  # stopped before touching the data folder


def test_metrics_without_prometheus_client_name_the_extra(tmp_path: Path) -> None:
    # A fresh interpreter where prometheus-client cannot be imported, as without the extra.
    script = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from bot.cli import main\n"
        f"sys.exit(main(['run', '--data-dir', {str(tmp_path / 'data')!r}, "
        "'--metrics-port', '9464']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={TOKEN_ENV: TOKEN, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'focus-coach[metrics]'" in done.stderr
    assert not (tmp_path / "data").exists()


def test_a_taken_metrics_port_stops_the_start_with_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--data-dir", str(tmp_path / "data")],
            env={
                TOKEN_ENV: TOKEN,
                "PATH": "/usr/bin:/bin",
                METRICS_PORT_ENV: str(port),
                # Never reached: the port is checked before the Bot API is asked anything.
                "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port} for metrics" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
