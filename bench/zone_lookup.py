"""What "share my location" costs: timezonefinder's install size and its lookup time.

``python -m bench.zone_lookup`` (``--table`` for Markdown) prints, as JSON:

* the install size of timezonefinder and each package it pulled in, summed from each
  distribution's file list in site-packages (what ``du`` would count, byte sizes); numpy is
  listed apart, matplotlib needs it anyway;
* per mode (polygons read from their files as needed, as ``bot.core.zone_finder`` does, or
  loaded into memory with ``in_memory=True``), each in a fresh interpreter: the import, the
  first lookup (opening or loading the data) and what both add to the resident memory;
* later lookups: median and 95th percentile over ``--runs`` well-known cities and as many
  uniformly random points (sea included, where the answer is an ``Etc/GMT`` zone).

Figures only, never a pass/fail on time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["install_sizes", "main", "measure"]

_MB = 1024 * 1024
_PACKAGES = ("timezonefinder", "timezonefinder-data", "h3", "flatbuffers", "cffi", "pycparser")
_SHARED = ("numpy",)
_CITIES = (
    (48.2082, 16.3738),  # Wien
    (52.52, 13.405),  # Berlin
    (51.9607, 7.6261),  # Münster
    (45.764, 4.8357),  # Lyon
    (32.7767, -96.797),  # Dallas
    (22.5726, 88.3639),  # Kolkata
    (-33.8688, 151.2093),  # Sydney
    (40.7128, -74.006),  # New York
)


def _rss() -> int:
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _size(name: str) -> int:
    try:
        files = metadata.distribution(name).files or []
    except metadata.PackageNotFoundError:
        return 0
    total = 0
    for file in files:
        path = Path(str(file.locate()))
        if path.is_file():
            total += path.stat().st_size
    return total


def install_sizes() -> dict[str, float]:
    """Megabytes per installed distribution (its files in site-packages)."""
    return {name: round(_size(name) / _MB, 2) for name in (*_PACKAGES, *_SHARED)}


def _median_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return (
        round(statistics.median(times) * 1e6, 1),
        round(times[int(0.95 * (len(times) - 1))] * 1e6, 1),
    )


def measure(runs: int, *, in_memory: bool, seed: int = 13) -> dict[str, Any]:
    """One mode's figures, measured in this interpreter (call it in a fresh one)."""
    import bot.core.schedule  # noqa: F401  (Babel: loaded by the bot anyway, not counted)

    rss_before = _rss()
    started = time.perf_counter()
    from timezonefinder import TimezoneFinder

    imported = time.perf_counter()
    finder = TimezoneFinder(in_memory=in_memory)
    first_zone = finder.timezone_at(lat=_CITIES[0][0], lng=_CITIES[0][1])
    first = time.perf_counter() - imported
    rss_after = _rss()
    rng = random.Random(seed)
    cities, anywhere = [], []
    for i in range(runs):
        lat, lng = _CITIES[i % len(_CITIES)]
        began = time.perf_counter()
        finder.timezone_at(lat=lat, lng=lng)
        cities.append(time.perf_counter() - began)
        lat, lng = rng.uniform(-90, 90), rng.uniform(-180, 180)
        began = time.perf_counter()
        finder.timezone_at(lat=lat, lng=lng)
        anywhere.append(time.perf_counter() - began)
    city_median, city_p95 = _median_p95(cities)
    any_median, any_p95 = _median_p95(anywhere)
    return {
        "in_memory": in_memory,
        "import_s": round(imported - started, 3),
        "first_lookup_s": round(first, 3),
        "first_zone": first_zone,
        "rss_added_mb": round((rss_after - rss_before) / _MB, 1),
        "runs": runs,
        "cities_median_us": city_median,
        "cities_p95_us": city_p95,
        "random_median_us": any_median,
        "random_p95_us": any_p95,
    }


def _in_fresh_interpreter(runs: int, *, in_memory: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.zone_lookup", "--one", "--runs", str(runs)]
    if in_memory:
        command.append("--in-memory")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--table", action="store_true", help="a Markdown table instead of JSON")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # one mode, in the fresh interpreter the parent started
        sys.stdout.write(json.dumps(measure(args.runs, in_memory=args.in_memory)) + "\n")
        return 0
    sizes = install_sizes()
    modes = [_in_fresh_interpreter(args.runs, in_memory=mode) for mode in (False, True)]
    if args.table:
        out = ["| package | MB |", "|---|---|"]
        out += [f"| {name} | {size} |" for name, size in sizes.items()]
        out += [
            "",
            "| figure | " + " | ".join(f"in_memory={m['in_memory']}" for m in modes) + " |",
        ]
        out += ["|---|" + "---|" * len(modes)]
        out += [
            f"| {key} | " + " | ".join(str(m[key]) for m in modes) + " |"
            for key in modes[0]
            if key != "in_memory"
        ]
        sys.stdout.write("\n".join(out) + "\n")
    else:
        new = round(sum(sizes[name] for name in _PACKAGES), 2)
        report = {"install_mb": sizes, "install_mb_new": new, "modes": modes}
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
