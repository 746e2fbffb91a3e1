"""``results.md``: the table of rows, the README headline table, machine, package versions, date.

Examples
--------
>>> from benchmarks.timing import Row
>>> print(table([Row("a", "step", {"pmm": 1e-4, "raw": 1e-4}, target=1.05)]).splitlines()[2])
| a | step | 100 us | raw 100 us | 1.00 | <= 1.05 | yes |  |
"""

import datetime
import importlib.metadata
import os
import platform
import sys
from collections.abc import Sequence

import jax

from benchmarks.timing import Row

PACKAGES = ("pmm", "jax", "jaxlib", "optax", "numpy", "flax", "equinox", "matplotlib")
#: How the table names each contender.
NAMES = {"raw": "raw", "flax_nnx": "Flax NNX", "equinox": "Equinox", "numpy": "numpy"}


def duration(seconds: float) -> str:
    """Seconds as ``"12.3 us"``, ``"4.56 ms"`` or ``"1.23 s"`` (three significant digits)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale or unit == "us":
            return f"{seconds / scale:.3g} {unit}"
    raise AssertionError("unreachable")


def table(rows: Sequence[Row]) -> str:
    """Every row: the pmm median, the reference, their ratio, the target, and the other
    contenders as multiples of the reference."""
    lines = [
        "| case | benchmark | pmm | reference | pmm / ref | target | met | others / ref |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        others = ", ".join(
            f"{NAMES.get(name, name)} {row.ratio_to(name):.2f}x"
            for name in row.medians
            if name not in (row.subject, row.reference)
        )
        if row.note:
            others = f"{others}; {row.note}" if others else row.note
        target = "" if row.target is None else f"<= {row.target:g}"
        met = {None: "", True: "yes", False: "**no**"}[row.meets_target]
        reference = f"{NAMES.get(row.reference, row.reference)} "
        lines.append(
            f"| {row.case} | {row.title} | {duration(row.medians[row.subject])} | "
            f"{reference}{duration(row.medians[row.reference])} | {row.ratio:.2f} | {target} | "
            f"{met} | {others} |"
        )
    return "\n".join(lines)


def headline(rows: Sequence[Row]) -> str:
    """The README's table: each train-step row (case a) with every library's median and its
    multiple of raw JAX."""
    libraries = ("pmm", "raw", "flax_nnx", "equinox")
    lines = [
        "| Adam train step (CPU) | pmm | raw JAX + optax | Flax NNX | Equinox |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row.case != "a":
            continue
        cells = [
            f"{duration(row.medians[name])} ({row.ratio_to(name):.2f}x)"
            if name in row.medians
            else "n/a"
            for name in libraries
        ]
        lines.append(f"| {row.title.removeprefix('Adam train step, ')} | {' | '.join(cells)} |")
    return "\n".join(lines)


def machine() -> str:
    """One line: OS, CPU, core count, JAX backend and devices, load average at the end."""
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as info:
            models = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
        cpu = models[0] if models else cpu
    load = (
        ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    )
    return (
        f"{platform.platform()}; {cpu}; {os.cpu_count()} logical cores; JAX backend "
        f"{jax.default_backend()} ({len(jax.devices())} device(s)); load average {load}"
    )


def versions() -> str:
    """Python and the installed versions of ``PACKAGES`` (``absent`` when not installed)."""
    found = [f"Python {platform.python_version()}"]
    for package in PACKAGES:
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} absent")
    return ", ".join(found)


def document(rows: Sequence[Row], sections: Sequence[str], skipped: Sequence[str]) -> str:
    """The whole ``results.md``."""
    command = " ".join(["python -m benchmarks", *sys.argv[1:]])
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# pmm benchmarks",
        "",
        f"`{command}` on {now}.",
        "",
        f"- Machine: {machine()}",
        f"- Versions: {versions()}",
        "- Method: every number is a median of seconds per call; the contenders of a row run in "
        "the same process, warmed up, then interleaved round by round with the order rotating "
        "(`benchmarks/timing.py`). `pmm / ref` below 1 means pmm is faster; `others / ref` gives "
        "the other libraries as multiples of the same reference.",
        "",
        table(rows),
        "",
        "## Headline (README)",
        "",
        headline(rows),
        "",
        *sections,
    ]
    if skipped:
        parts += ["## Not measured", "", *(f"- {reason}" for reason in skipped), ""]
    return "\n".join(parts)
