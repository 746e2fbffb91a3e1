"""Loading files in a fresh Python process, measuring each load's time and peak memory growth.

Each case's numbers come from the child itself: ``time.perf_counter`` around the load, and
the growth of ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the peak resident set) over its
value just before. A watchdog thread ends the child if its peak passes ``MEMORY_CAP_MB``, so a
regression cannot exhaust the machine, and the parent's timeout ends a child that hangs.
"""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[2]
MEMORY_CAP_MB = 1500

_CHILD = """
import json, resource, sys, threading, time, os
import jax, numpy as np, pmm

SCALE = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / SCALE

def watchdog():
    while True:
        if peak_mb() > {cap}:
            print(json.dumps({{"watchdog": peak_mb()}}), flush=True)
            os._exit(99)
        time.sleep(0.005)

threading.Thread(target=watchdog, daemon=True).start()
for case, path in json.loads(sys.argv[1]):
    before, start = peak_mb(), time.perf_counter()
    try:
        pmm.load(path)
        outcome = "loaded"
    except Exception as error:
        outcome = f"{{type(error).__name__}}: {{error}}"
    seconds, grown = time.perf_counter() - start, peak_mb() - before
    report = {{"case": case, "outcome": outcome[:600], "seconds": seconds, "grown_mb": grown}}
    print(json.dumps(report), flush=True)
"""


def load_in_child(cases, timeout=180):
    """``{case: {"outcome", "seconds", "grown_mb"}}`` for ``cases`` (``[(case, path)]``).

    ``pmm.load`` runs once per case, in order, in one fresh process started from the repository
    root (so it imports this checkout of pmm). A case that never reported (the child hung, was
    killed or ended by the watchdog) is missing; ``"unfinished"`` says why.
    """
    script = _CHILD.format(cap=MEMORY_CAP_MB)
    argument = json.dumps([(case, str(path)) for case, path in cases])
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, argument],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output, reason = done.stdout, f"exit code {done.returncode}: {done.stderr[-2000:]}"
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        reason = f"no report within {timeout} s (hung)"
    results = {}
    for line in (output or "").splitlines():
        record = json.loads(line)
        if "watchdog" in record:
            reason = f"peak memory passed {MEMORY_CAP_MB} MB"
        else:
            results[record.pop("case")] = record
    results["unfinished"] = reason
    return results
