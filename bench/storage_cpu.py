"""CPU of a user document's get and put on disk, in-process: the storage part of a check-in.

``python -m bench.storage_cpu`` writes realistic documents (``bench.datagen.DocumentFactory``,
about 12 KB each after a year of check-ins) for ``--users`` users into a fresh data folder with
``TinyDBUserRepository``, then, per round, reads each user (``get``) and writes the document
straight back (``put``: temp file, fsync, rename, folder fsync), as a claim does, and times each
call with ``time.process_time`` (this process's user + system CPU; waiting for the disk is not
counted). ``--data-root /dev/shm`` puts the users' folder on tmpfs, where fsync costs nothing:
what is left is the Python and the system calls themselves. It also times the document's JSON
alone (``json_codec.encode`` / ``decode``, one document, hot). With ``--due-tick N`` it adds
``bench.inprocess.measure_due_tick`` over a fresh folder of N due users (claim and confirm,
send stubbed; on tmpfs too with ``--data-root /dev/shm``): the tick's wall time per due user,
as the benchmark reports it, and the CPU of the whole call per due user (with its set-up:
loading the index, reading every user back to check, the journal's compaction).

Where the store keeps older check-ins aside (``storage.history_archive``), the rounds also
time ``get_recent`` and the put of what it read: the claim's read and write.

With ``--baseline REF`` the ``storage`` and ``bot`` packages of that git commit are measured
too, in their own process, interleaved run by run with the worktree's (``--runs`` pairs); each
figure is the median of a run's rounds, and the table gives min / median / max over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_ANCHOR = datetime(2026, 12, 4, 12, tzinfo=UTC)
_DUE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
_CODEC_LOOPS = 2_000
_FIGURES = (
    ("get_us", "get, per document (µs CPU)"),
    ("put_us", "put, per document (µs CPU)"),
    ("recent_get_us", "get_recent (the claim's read), per document (µs CPU)"),
    ("recent_put_us", "put of that document, per document (µs CPU)"),
    ("encode_us", "json_codec.encode alone (µs CPU)"),
    ("decode_us", "json_codec.decode alone (µs CPU)"),
    ("tick_ms", "due tick per due user (ms wall)"),
    ("tick_cpu_ms", "measure_due_tick, CPU per due user (ms, with set-up and check)"),
)


def _measure(
    users: int, rounds: int, due_tick: int, work: Path, data_root: Path
) -> dict[str, Any]:
    """One run in this process: medians of the rounds, in µs per operation."""
    from bench.datagen import DocumentFactory, _content, user_ids
    from storage import TinyDBUserRepository, json_codec

    factory = DocumentFactory(_content())
    ids = user_ids(users)
    documents = {user_id: factory.document(user_id, _ANCHOR) for user_id in ids}
    data_dir = data_root / f"storage-cpu-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    passes: dict[str, list[float]] = {"get_us": [], "put_us": []}
    clock = time.process_time
    with TinyDBUserRepository(data_dir) as repo:
        for user_id, document in documents.items():
            repo.put(user_id, document)
        del documents  # as in the bot: a document lives from its get to its put
        # As a claim reads and writes (``get_recent``: without the older check-ins, where the
        # store keeps them aside), and as a dialogue step does (``get``: the whole document).
        reads = {"": repo.get}
        recent = getattr(repo, "get_recent", None)
        if recent is not None:
            reads["recent_"] = recent
            passes.update({"recent_get_us": [], "recent_put_us": []})
        for _ in range(rounds):
            for prefix, read in reads.items():
                get_seconds = put_seconds = 0.0
                for user_id in ids:  # a get and a put per user, as a claim does them
                    started = clock()
                    document = read(user_id) or {}
                    got = clock()
                    repo.put(user_id, document)
                    get_seconds += got - started
                    put_seconds += clock() - got
                passes[f"{prefix}get_us"].append(get_seconds / users * 1e6)
                passes[f"{prefix}put_us"].append(put_seconds / users * 1e6)
    shutil.rmtree(data_dir, ignore_errors=True)
    tables = {"user": {"1": factory.document(ids[0], _ANCHOR)}}
    raw = json_codec.encode(tables)
    started = time.process_time()
    for _ in range(_CODEC_LOOPS):
        json_codec.encode(tables)
    encode_us = (time.process_time() - started) / _CODEC_LOOPS * 1e6
    started = time.process_time()
    for _ in range(_CODEC_LOOPS):
        json_codec.decode(raw)
    decode_us = (time.process_time() - started) / _CODEC_LOOPS * 1e6
    result: dict[str, Any] = {
        "storage": str(Path(json_codec.__file__).resolve().parent),
        "bytes": len(raw),
        **{key: statistics.median(values) for key, values in passes.items()},
        "encode_us": encode_us,
        "decode_us": decode_us,
    }
    if due_tick:
        from bench.datagen import due_folder
        from bench.inprocess import measure_due_tick

        folder = due_folder(data_root / f"storage-cpu-due-{os.getpid()}", due_tick, _DUE)
        started = time.process_time()
        tick = measure_due_tick(folder.path, user_ids(due_tick), _DUE)
        cpu = time.process_time() - started
        if tick.claimed != due_tick or tick.confirmed_on_disk != due_tick:
            raise SystemExit(f"due tick lost check-ins: {tick}")
        result["tick_ms"] = tick.tick_seconds / due_tick * 1e3
        result["tick_cpu_ms"] = cpu / due_tick * 1e3
        shutil.rmtree(folder.path, ignore_errors=True)
    return result


def _baseline_tree(ref: str, into: Path) -> Path:
    """The ``storage`` and ``bot`` packages of ``ref`` in a folder of their own; that folder.

    ``bot`` too: the worktree's documents may be read by code the older ``storage`` lacks.
    """
    packages = ["storage", "bot", "prompts"]
    archive = subprocess.run(
        ["git", "archive", ref, *packages], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _child(tree: Path | None, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process, on the worktree's storage or ``tree``'s."""
    command = [
        sys.executable,
        "-m",
        "bench.storage_cpu",
        "--child",
        f"--users={args.users}",
        f"--rounds={args.rounds}",
        f"--due-tick={args.due_tick}",
        f"--work={work}",
        f"--data-root={args.data_root}",
    ]
    env = dict(os.environ)
    cwd = ROOT
    if tree is not None:
        # ``-m`` puts the working folder first on sys.path: its ``storage`` wins over ours.
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(ROOT)])
        cwd = tree
    done = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def main() -> None:
    """Parse the options and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--due-tick", type=int, default=0)
    parser.add_argument("--baseline")
    parser.add_argument(
        "--data-root",
        type=Path,
        help="where the users' data folder goes (say /dev/shm: fsync costs nothing there, which "
        "leaves the Python and the system calls themselves); default: a temp folder",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data_root = args.work if args.data_root in (None, Path("None")) else args.data_root
        print(json.dumps(_measure(args.users, args.rounds, args.due_tick, args.work, data_root)))
        return
    with tempfile.TemporaryDirectory(prefix="storage-cpu-") as scratch:
        work = Path(scratch)
        variants: dict[str, Path | None] = {"worktree": None}
        if args.baseline:
            variants[args.baseline] = _baseline_tree(args.baseline, work / "baseline")
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for run in range(args.runs):
            for name, tree in variants.items():
                result = _child(tree, args, work / "run")
                results[name].append(result)
                print(f"run {run + 1} {name}: {json.dumps(result)}", file=sys.stderr)
    size = results["worktree"][0]["bytes"]
    print(f"{args.users} users, {size:,} bytes per file, {args.rounds} rounds per run, ", end="")
    print(f"{args.runs} interleaved runs; min / median / max of the runs' medians")
    print("| Figure | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for key, label in _FIGURES:
        if key not in results["worktree"][0]:
            continue
        cells = [
            _spread([run[key] for run in runs]) if key in runs[0] else "-"
            for runs in results.values()
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
