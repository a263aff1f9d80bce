"""A writer SIGKILLed at random instants never leaves a torn or foreign document behind."""

from __future__ import annotations

import inspect
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from storage import open_repository
from storage.tinydb_repo import shard_of

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 60
USER = "writer"


def document(n: int) -> dict[str, Any]:
    """Alternate large (over 64 KiB) and tiny documents, so a torn or stale write shows."""
    return {"n": n, "body": [n] * (20_000 if n % 2 == 0 else 1), "end": n}


# Puts document(n), document(n + 1), ... and prints n after each put has returned.
WRITER = f"""
import pathlib, sys
from typing import Any
sys.path.insert(0, {str(ROOT)!r})
from storage import open_repository
{inspect.getsource(document)}
repo = open_repository(pathlib.Path(sys.argv[1]))
n = int(sys.argv[2])
while True:
    repo.put({USER!r}, document(n))
    print(n, flush=True)
    n += 1
"""


def run_and_kill(data_dir: Path, first: int, rng: random.Random) -> list[int]:
    """Start a writer, kill it after a few acknowledged puts plus a random delay; return acks."""
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        lines = [child.stdout.readline() for _ in range(rng.randint(1, 6))]
        assert lines[-1], child.stderr.read()
        time.sleep(rng.uniform(0, 0.004))
        child.kill()
        lines += child.stdout.readlines()
        child.wait()
    return [int(line) for line in lines if line.endswith("\n")]


def test_sigkill_during_writes_leaves_acknowledged_or_in_flight_document(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    path = data_dir / "users" / shard_of(USER) / f"{USER}.json"
    rng = random.Random(5338)
    outcomes = {"acknowledged": 0, "in flight": 0}
    for round_number in range(ROUNDS):
        acks = run_and_kill(data_dir, first=round_number * 1_000_000, rng=rng)
        last = acks[-1]

        on_disk = json.loads(path.read_bytes())  # readable JSON before anything cleans up
        record = on_disk["user"]["1"]
        assert record["n"] in {last, last + 1}, (round_number, last, record["n"])
        assert record == {**document(record["n"]), "schema": 1}
        outcomes["acknowledged" if record["n"] == last else "in flight"] += 1

        with open_repository(data_dir) as repo:
            assert repo.get(USER) == record
            assert list(repo.user_ids()) == [USER]
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert sum(outcomes.values()) == ROUNDS
