"""The terminal chat: the real CLI process, and the console transport with a scripted reader."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.console import ConsoleChat, html_to_terminal
from bot.core.engine import DialogueEngine

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, stdin: str = "", data_dir: Path | None = None, lang_env: str = "C"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["LANG"] = lang_env
    if data_dir is not None:
        env["FOCUS_COACH_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def scripted(lines: list[str]) -> Iterator[str]:
    yield from lines


def test_whole_onboarding_in_the_terminal(engine: DialogueEngine) -> None:
    lines = iter(["a", "a,c,e", "o", "3", "a,k", "b,j", "a", "e", "g", "/quit"])
    out = io.StringIO()

    def reader(prompt: str) -> str:
        out.write(prompt)
        return next(lines)

    ConsoleChat(engine, "console:t", language_hint="de", reader=reader, out=out).run()
    text = out.getvalue()
    assert "[a] Weiter ➡️" in text
    assert "Kanäle: LinkedIn, Instagram, TikTok" in text
    assert "Dein Fokus-Plan" in text
    assert "Bis bald!" in text
    assert "<b>" not in text


def test_checkin_runs_in_the_terminal_too(engine: DialogueEngine) -> None:
    lines = iter(
        [
            "a",
            "a,o",
            "3",
            "a,k",
            "b,j",
            "a",
            "o",
            "g",
            "/checkin",
            "a",
            "b",
            "2",
            "a",
            "d",
            "/history",
            "/quit",
        ]
    )
    out = io.StringIO()
    ConsoleChat(
        engine, "console:t", language_hint="de", reader=lambda _: next(lines), out=out
    ).run()
    text = out.getvalue()
    assert "[a] LinkedIn: ? antippen" in text
    assert "Danke, dein Check-in für KW" in text
    assert "Serie: 1 Woche nach Plan" in text


def test_unknown_letter_gets_a_hint(engine: DialogueEngine) -> None:
    lines = iter(["z", "/quit"])
    out = io.StringIO()
    ConsoleChat(
        engine, "console:t", language_hint="en", reader=lambda _: next(lines), out=out
    ).run()
    assert "There is no button “z” here. The only button here is a." in out.getvalue()


def test_html_is_turned_into_terminal_text() -> None:
    assert html_to_terminal("<b>A</b> &amp; <i>b</i>", color=False) == "A & b"
    assert html_to_terminal("<b>A</b>", color=True) == "\033[1mA\033[0m"


def test_cli_chat_resumes_after_quitting_in_the_middle(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_cli("chat", "--lang", "en", stdin="a\na,b\no\n/quit\n", data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "Step 2 of 6: Your real time" in first.stdout
    second = run_cli("chat", "--lang", "en", stdin="/back\n/quit\n", data_dir=data)
    assert second.returncode == 0, second.stderr
    assert "Welcome back!" in second.stdout
    assert "Step 2 of 6: Your real time" in second.stdout
    assert "[a] ✅ LinkedIn" in second.stdout
    assert "[b] ✅ XING" in second.stdout


def test_cli_chat_restart_continues_an_open_side_flow(tmp_path: Path) -> None:
    data = tmp_path / "data"
    onboard = "a\na\n3\na\nd\nd\nb\na\na\n"  # LinkedIn, 3 h, B2B ... up to the summary
    first = run_cli("chat", "--lang", "en", stdin=onboard + "/quit\n", data_dir=data)
    assert "Your answers" in first.stdout, first.stdout
    run_cli("chat", "--lang", "en", stdin="o\n/settings\na\ne\n/quit\n", data_dir=data)

    second = run_cli("chat", "--lang", "en", stdin="a\n/quit\n", data_dir=data)

    assert second.returncode == 0, second.stderr
    assert "You were in the middle of your settings" in second.stdout
    assert "Hi, I am your focus coach" not in second.stdout  # no new welcome
    assert "At what time?" in second.stdout  # [a] continue: the question after Friday


def test_cli_chat_with_a_wrong_but_valid_json_file_starts_afresh_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_cli("chat", "--lang", "en", stdin="a\n/quit\n", data_dir=data)
    (path,) = (data / "users").glob("*/console*.json")
    damaged = b'{"user": {"1": {"schema": 1, "dialogue": 5}}}'
    path.write_bytes(damaged)

    first = run_cli("chat", "--lang", "en", stdin="/quit\n", data_dir=data)
    second = run_cli("chat", "--lang", "en", stdin="/quit\n", data_dir=data)

    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    assert "could not read your stored answers" in first.stdout
    assert "Hi, I am your focus coach" in first.stdout
    assert [p.read_bytes() for p in path.parent.glob(f"{path.name}.damaged-*")] == [damaged]
    assert second.returncode == 0
    assert "could not read" not in second.stdout  # told once


def test_cli_language_follows_the_locale_and_defaults_to_german(tmp_path: Path) -> None:
    german = run_cli("chat", stdin="/quit\n", data_dir=tmp_path / "a", lang_env="C")
    assert "Hallo, ich bin dein Fokus-Coach" in german.stdout
    english = run_cli("chat", stdin="/quit\n", data_dir=tmp_path / "b", lang_env="en_US.UTF-8")
    assert "Hi, I am your focus coach" in english.stdout


def test_cli_data_dir_option_wins_over_the_environment(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    result = run_cli("chat", "--data-dir", str(chosen), stdin="/quit\n", data_dir=tmp_path / "env")
    assert result.returncode == 0
    assert list(chosen.rglob("*.json"))
    assert not (tmp_path / "env").exists()


def test_cli_end_of_input_saves_and_exits(tmp_path: Path) -> None:
    result = run_cli("chat", "--lang", "de", stdin="a\n", data_dir=tmp_path / "d")
    assert result.returncode == 0
    assert "Schritt 1 von 6" in result.stdout
    assert "Bis bald!" in result.stdout


def test_second_process_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--data-dir", str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        holder.stdout.readline()  # the greeting: the lock is held from here on
        second = run_cli("chat", stdin="/quit\n", data_dir=data)
        assert second.returncode == 2
        assert "another focus-coach process" in second.stderr.lower()
        assert str(data) in second.stderr
    finally:
        holder.kill()
        holder.communicate()  # reap the child and close its pipes


def test_check_command_passes_and_fails(tmp_path: Path) -> None:
    import shutil

    ok = run_cli("check", "--mermaid")
    assert ok.returncode == 0, ok.stderr
    assert "flowchart TD" in ok.stdout
    broken = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", broken)
    flow = broken / "flows" / "onboarding.yaml"
    flow.write_text(flow.read_text().replace("next: hours\n", "next: nowhere\n"))
    bad = run_cli("check", "--prompts-dir", str(broken))
    assert bad.returncode == 1
    assert "step 'channels': goes to 'nowhere'" in bad.stderr
    chat = run_cli("chat", "--prompts-dir", str(broken), stdin="/quit\n", data_dir=tmp_path / "d")
    assert chat.returncode == 1
    assert "step 'channels': goes to 'nowhere'" in chat.stderr
