"""The real ``focus-coach run`` process against the fake Bot API: start, ready, peak RSS, stop.

"Ready" is the first ``getUpdates`` the fake receives: by then the flows are validated, the data
folder is open and locked, the command menu is published and the dispatcher's due index is
loaded (``post_init`` runs before polling starts). Times are taken on this process's monotonic
clock, the one the fake stamps each request with.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

from fakebotapi import FakeTelegram

__all__ = ["REPO_ROOT", "BotRun", "bot_env"]

REPO_ROOT = Path(__file__).resolve().parent.parent
_STOP_TIMEOUT = 60.0


def bot_env(token: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without bot settings, plus the fake's token (and ``extra``)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "FOCUS_COACH_"))
    }
    env["TELEGRAM_BOT_TOKEN"] = token
    env["PYTHONPATH"] = str(REPO_ROOT)
    return {**env, **(extra or {})}


class BotRun:
    """One bot process on ``data_dir``; its output goes to ``logs_dir/<name>.log``."""

    def __init__(
        self,
        tg: FakeTelegram,
        data_dir: Path,
        logs_dir: Path,
        name: str,
        *,
        lifted_limits: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        """Prepare; ``lifted_limits`` runs ``bench.botproc`` (no Telegram rate limits)."""
        self.tg = tg
        self.data_dir = data_dir
        self.log_path = logs_dir / f"{name}.log"
        self.module = "bench.botproc" if lifted_limits else "bot"
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0
        self.ready_at = 0.0

    @property
    def ready_seconds(self) -> float:
        """Spawn to the first getUpdates."""
        return self.ready_at - self.spawned_at

    def start(self, timeout: float = 120.0) -> Self:
        """Spawn the bot and return once it polls for updates."""
        args = ["run", "--base-url", self.tg.base_url, "--data-dir", str(self.data_dir)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.spawned_at = time.monotonic()
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *args],
                env=bot_env(self.tg.token, self.env),
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = self.spawned_at + timeout
        while True:
            polls = [r for r in self.tg.requests("getUpdates") if r.monotonic >= self.spawned_at]
            if polls:
                self.ready_at = polls[0].monotonic
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited at start-up:\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the bot did not start polling:\n{self.output()}")
            with contextlib.suppress(AssertionError):
                self.tg.wait_for_request(
                    "getUpdates", lambda r: r.monotonic >= self.spawned_at, timeout=0.2
                )

    def peak_rss_bytes(self) -> int:
        """The process's peak resident set size so far (VmHWM)."""
        if self.process is None:
            raise RuntimeError("not started")
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def stop(self) -> int:
        """SIGTERM, as a service manager would; return the exit code."""
        if self.process is None:
            raise RuntimeError("not started")
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"the bot did not stop on SIGTERM:\n{self.output()}") from None

    def kill(self) -> None:
        """SIGKILL the process (only after something went wrong)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        """What the process printed so far (the tail)."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""
