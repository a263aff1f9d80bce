"""The terminal chat: the real CLI process, and the console transport with a scripted reader."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.console import CONSOLE_HELP, ConsoleChat, html_to_terminal
from bot.core.commands import COMMANDS, HELP, SESSION_COMMANDS
from bot.core.content import Content
from bot.core.engine import DialogueEngine

ROOT = Path(__file__).resolve().parent.parent

ONBOARD_EN = "a\na,o\n3\na,k\nb,j\na\nc\ng\n"  # LinkedIn kept: up to the plan
HELP_LINE = re.compile(r"^/(\w+)((?:, /\w+)*) – (.+)$", re.MULTILINE)
QUIT_NAMES = {name for command in SESSION_COMMANDS for name in (command.name, *command.aliases)}


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


def test_whole_onboarding_in_the_terminal(engine: DialogueEngine, tmp_path: Path) -> None:
    # The pressure question offers the ticked channels first: "c" is TikTok.
    lines = iter(["a", "a,c,e", "o", "3", "a,k", "b,j", "a", "c", "g", "/quit"])
    out = io.StringIO()

    def reader(prompt: str) -> str:
        out.write(prompt)
        return next(lines)

    ConsoleChat(
        engine,
        "console:t",
        language_hint="de",
        reader=reader,
        out=out,
        exports=tmp_path,
        charts=tmp_path / "charts",
    ).run()
    text = out.getvalue()
    assert "[a] Weiter ➡️" in text
    assert "Kanäle: LinkedIn, Instagram, TikTok" in text
    assert "Dein Fokus-Plan" in text
    assert "Bis bald!" in text
    assert "<b>" not in text


def test_checkin_runs_in_the_terminal_too(engine: DialogueEngine, tmp_path: Path) -> None:
    lines = iter(
        [
            "a",
            "a,o",
            "3",
            "a,k",
            "b,j",
            "a",
            "c",
            "g",
            "/checkin",
            "a",
            "c",  # [b] is LinkedIn's 🎯, [c] "done"
            "2",
            "a",
            "f",
            "/history",
            "/quit",
        ]
    )
    out = io.StringIO()
    ConsoleChat(
        engine,
        "console:t",
        language_hint="de",
        reader=lambda _: next(lines),
        out=out,
        exports=tmp_path,
        charts=tmp_path / "charts",
    ).run()
    text = out.getvalue()
    assert "[a] ❔ LinkedIn" in text
    assert "Danke, dein Check-in für KW" in text
    assert "Serie: 1 Woche nach Plan" in text


def test_unknown_letter_gets_a_hint(engine: DialogueEngine, tmp_path: Path) -> None:
    lines = iter(["z", "/quit"])
    out = io.StringIO()
    ConsoleChat(
        engine,
        "console:t",
        language_hint="en",
        reader=lambda _: next(lines),
        out=out,
        exports=tmp_path,
        charts=tmp_path / "charts",
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
    set_up = ONBOARD_EN + "/settings\na\ne\n/quit\n"  # the plan; settings: time, Friday
    first = run_cli("chat", "--lang", "en", stdin=set_up, data_dir=data)
    assert "Your focus plan" in first.stdout and "At what time?" in first.stdout, first.stdout

    second = run_cli("chat", "--lang", "en", stdin="a\n/quit\n", data_dir=data)

    assert second.returncode == 0, second.stderr
    assert "You were in the middle of your settings" in second.stdout
    assert "Hi, I am your focus coach" not in second.stdout  # no new welcome
    assert "At what time?" in second.stdout  # [a] continue: the question after Friday


def test_cli_chat_restart_continues_an_open_checkin_or_starts_it_over(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hours = "How many hours did you really spend"
    checkin = ONBOARD_EN + "/checkin\na\nc\n/quit\n"  # LinkedIn on plan, done; quit at hours
    assert hours in run_cli("chat", "--lang", "en", stdin=checkin, data_dir=data).stdout

    resumed = run_cli("chat", "--lang", "en", stdin="a\n2\n/quit\n", data_dir=data)
    over = run_cli("chat", "--lang", "en", stdin="b\n/quit\n", data_dir=data)

    assert "You were in the middle of your check-in" in resumed.stdout
    after_continue = resumed.stdout.split("> ", 1)[1]
    assert after_continue.startswith(hours)  # [a] continue: the very question it was at
    assert "How is your energy" in after_continue  # 2 h taken, on to the next one
    assert "You were in the middle of your check-in" in over.stdout
    assert "[a] ❔ LinkedIn" in over.stdout.split("> ", 1)[1]  # [b] start over: answers gone


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


def test_cli_export_writes_a_private_dated_file_and_prints_its_path(tmp_path: Path) -> None:
    data = tmp_path / "data"

    result = run_cli("chat", "--lang", "en", stdin="a\n/export\n/export\n/quit\n", data_dir=data)

    assert result.returncode == 0, result.stderr
    shown = re.findall(r"^(/\S+\.json)$", result.stdout, re.MULTILINE)
    assert len(shown) == 2 and shown[0] != shown[1]  # a second export never overwrites the first
    exports = (data / "exports").absolute()
    assert stat.S_IMODE(exports.stat().st_mode) == 0o700
    for text in shown:
        path = Path(text)
        assert path.parent == exports
        assert re.fullmatch(
            r"fokus-coach-console-[\w-]+-\d{4}-\d\d-\d\d-\d{6}(-2)?\.json", path.name
        )
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text(encoding="utf-8"))["user_id"].startswith("console:")
    summary = result.stdout.index("Your data at Fokus-Coach")
    assert summary < result.stdout.index("The file is saved here") < result.stdout.index(shown[0])


def test_cli_export_into_an_unusable_folder_says_so_and_carries_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "exports").write_text("not a folder")

    result = run_cli("chat", "--lang", "en", stdin="/export\na\n/quit\n", data_dir=data)

    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    folder = (data / "exports").absolute()
    assert f"I could not save the file in {folder} (Not a directory)" in result.stdout
    assert "Step 1 of 6" in result.stdout  # the chat goes on


def test_cli_help_lists_every_command_the_chat_accepts(tmp_path: Path, content: Content) -> None:
    result = run_cli("chat", "--lang", "en", stdin="/help\n/quit\n", data_dir=tmp_path / "d")

    listed = HELP_LINE.findall(result.stdout)
    names = [name for name, _, _ in listed]
    aliases = [alias for _, more, _ in listed for alias in re.findall(r"/(\w+)", more)]
    assert sorted([*names, *aliases]) == sorted({*COMMANDS, HELP, *QUIT_NAMES})
    assert names == [command.name for command in CONSOLE_HELP]
    for name, _, description in listed:
        assert description == content.texts.label("en", f"command_{name}")


def test_cli_every_command_help_lists_works(tmp_path: Path, content: Content) -> None:
    data = tmp_path / "data"
    shown = run_cli("chat", "--lang", "en", stdin="/help\n/quit\n", data_dir=data).stdout
    listed = HELP_LINE.findall(shown)
    engine_commands = [name for name, _, _ in listed if name not in QUIT_NAMES]

    typed = "".join(f"/{name}\n" for name in engine_commands)
    result = run_cli("chat", "--lang", "en", stdin=ONBOARD_EN + typed + "/quit\n", data_dir=data)

    assert result.returncode == 0, result.stderr
    for name in engine_commands:
        unknown = content.texts.render("en", "common/unknown_command", command=name)
        assert html_to_terminal(unknown, color=False) not in result.stdout
    assert "Settings" in result.stdout and "Your data at Fokus-Coach" in result.stdout
    every_name = [
        name for first, more, _ in listed for name in (first, *re.findall(r"/(\w+)", more))
    ]
    for quit_name in set(every_name) & QUIT_NAMES:
        ended = run_cli("chat", "--lang", "en", stdin=f"/{quit_name}\na\n", data_dir=data)
        assert ended.returncode == 0 and "See you soon!" in ended.stdout
        assert ended.stdout.count("> ") == 1  # the line after it was never read


def due_now_in_utc(document: dict[str, object], now: datetime) -> None:
    """Move the user's check-in to today 00:00 UTC, set up a week ago: due, as if missed."""
    block = document["reminder"]
    assert isinstance(block, dict)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    block.update(
        weekday=now.weekday(),
        time="00:00",
        zone="UTC",
        next_due=(midnight - timedelta(days=7)).isoformat(),
    )


def test_cli_offers_a_due_checkin_when_the_chat_opens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    set_up = ONBOARD_EN + "/settings\na\ne\n8:30\nUTC\n/quit\n"
    assert (
        "every Friday at 08:30"
        in run_cli("chat", "--lang", "en", stdin=set_up, data_dir=data).stdout
    )
    (path,) = (data / "users").glob("*/console*.json")
    stored = json.loads(path.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    due_now_in_utc(stored["user"]["1"], now)
    path.write_text(json.dumps(stored), encoding="utf-8")
    week = now.isocalendar().week

    offered = run_cli("chat", "--lang", "en", stdin="/quit\n", data_dir=data)
    skipped = run_cli("chat", "--lang", "en", stdin="e\n/quit\n", data_dir=data)  # skip
    later = run_cli("chat", "--lang", "en", stdin="/quit\n", data_dir=data)

    assert f"Time for your focus check-in (week {week})" in offered.stdout
    assert "[e] ⏭ Skip this week" in offered.stdout
    assert "we will skip this week" in skipped.stdout
    assert "Time for your focus check-in" not in later.stdout
    reminder = json.loads(path.read_text(encoding="utf-8"))["user"]["1"]["reminder"]
    assert reminder["sending"] is None and reminder["sent_weeks"] == []  # no claim written


def test_cli_history_saves_the_picture_and_prints_its_path_and_a_sparkline(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    checkin = "/checkin\na\nc\n2\na\nf\n"  # LinkedIn on plan ([b]: its 🎯), 2 h, energy 1, no plan

    result = run_cli(
        "chat", "--lang", "en", stdin=ONBOARD_EN + checkin + "/history\n/quit\n", data_dir=data
    )

    assert result.returncode == 0, result.stderr
    (shown,) = re.findall(r"^(/\S+\.png)$", result.stdout, re.MULTILINE)
    path = Path(shown)
    charts = (data / "charts").absolute()
    assert path.parent == charts
    assert re.fullmatch(
        r"fokus-coach-progress-console-[\w-]+-\d{4}-\d\d-\d\d-\d{6}\.png", path.name
    )
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(charts.stat().st_mode) == 0o700
    assert "Hours per week, oldest first: █\n" in result.stdout
    # The caption in words comes first, the path right under it.
    words = result.stdout.index("Your weeks in a picture")
    assert words < result.stdout.index("The picture is saved here") < result.stdout.index(shown)
    assert "1 of 1 week on plan" in result.stdout


def test_cli_history_into_an_unusable_charts_folder_says_so_and_carries_on(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "charts").write_text("not a folder")
    checkin = "/checkin\na\nc\n2\na\nf\n"

    result = run_cli(
        "chat", "--lang", "en", stdin=ONBOARD_EN + checkin + "/history\n/quit\n", data_dir=data
    )

    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    folder = (data / "charts").absolute()
    assert f"I could not save the picture in {folder} (Not a directory)" in result.stdout
    assert "Hours per week, oldest first: █" in result.stdout
