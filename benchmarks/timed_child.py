"""Running a benchmark's child process under ``/usr/bin/time -v``: its peak resident
memory, wall time and the number it prints after ``PASSAGES``."""

from __future__ import annotations

import re
import subprocess
import sys


def peak(script: str, *args: str) -> tuple[float, float, int]:
    """(peak RSS MiB, seconds, passages) of ``python script --child ARGS``."""
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, script, "--child", *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    seconds = int(wall[1] or 0) * 3600 + int(wall[2]) * 60 + float(wall[3])
    passages = int(re.search(r"PASSAGES (\d+)", proc.stdout)[1])
    return rss / 1024, seconds, passages
