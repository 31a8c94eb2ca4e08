#!/usr/bin/env python
"""CPU time of each process a command starts, by kind, while it runs (Linux /proc).

    python bench/cpu_by_process.py -- .venv/bin/python bench/ingest.py --rss-only --sizes 100000 ...

Samples every process's user + system time every 0.3 s while the command runs and prints, by
kind (a sync's process, its pull process, the simulated feed, PostgreSQL backends, the rest),
the CPU seconds spent during the run: where a first sync's CPU goes, and so what bounds it on a
machine of N cores (the sum over N). A process that ends between two samples loses at most its
last 0.3 s.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
KINDS = (
    ("child_main", "pull process"),
    ("--worker sync", "sync's process"),
    ("--worker baseline", "baseline"),
    ("tests.partners.serve", "feed server"),
    ("postgres:", "postgres"),
    ("bench/ingest.py", "bench driver"),
)


def kind(cmdline: str) -> str:
    return next((name for marker, name in KINDS if marker in cmdline), "other")


def sample(into: dict[str, tuple[str, float]]) -> None:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        previous = into.get(pid)
        into[pid] = (previous[0] if previous and cmdline == "" else kind(cmdline), seconds)


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print(__doc__)
        return 2
    before: dict[str, tuple[str, float]] = {}
    sample(before)
    seen: dict[str, tuple[str, float]] = {}
    started = time.perf_counter()
    process = subprocess.Popen(command)
    while process.poll() is None:
        sample(seen)
        time.sleep(0.3)
    sample(seen)
    totals: collections.Counter[str] = collections.Counter()
    for pid, (name, seconds) in seen.items():
        totals[name] += seconds - before.get(pid, (name, 0.0))[1]
    print(f"wall {time.perf_counter() - started:.1f} s")
    for name, seconds in totals.most_common():
        print(f"{name:16s} {seconds:7.1f} s CPU")
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
