"""Loading files in a fresh Python process, measuring each load's time and peak memory growth.

Each case's numbers come from the child itself: ``time.perf_counter`` around the load, and the
growth of the peak resident set over its value just before. The peak is the largest resident
size a watchdog thread samples every millisecond from ``/proc/self/statm`` (not
``getrusage``'s ``ru_maxrss``, which a child inherits from the parent it was forked from: after a
long test session that alone can pass the cap). The watchdog ends the child if its peak passes
``MEMORY_CAP_MB``, so a regression cannot exhaust the machine, and the parent's timeout ends a
child that hangs.
"""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[2]
MEMORY_CAP_MB = 1500

_CHILD = """
import json, sys, threading, time, os
import jax, numpy as np, pmm

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
PEAK = [0.0]

def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_MB

def peak_mb():
    PEAK[0] = max(PEAK[0], resident_mb())
    return PEAK[0]

def watchdog():
    while True:
        if peak_mb() > {cap}:
            print(json.dumps({{"watchdog": PEAK[0]}}), flush=True)
            os._exit(99)
        time.sleep(0.001)

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
