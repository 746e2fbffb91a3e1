"""Interleaved timing: warm every contender up, then alternate them round by round; report medians.

Timing contenders one after another lets a change in machine load (another process, a thermal
step, a cache flush) land on one of them only. ``interleaved`` instead runs one timed batch of
each contender per round, rotating who goes first, so slow patches hit all of them alike, and
reports the median over rounds. Every benchmark file builds its rows with it.

Examples
--------
>>> import jax.numpy as jnp
>>> x = jnp.ones((64, 64))
>>> medians = interleaved({"matmul": lambda: x @ x, "add": lambda: x + x}, rounds=3)
>>> sorted(medians)
['add', 'matmul']
"""

import dataclasses
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import jax

#: Each timed batch repeats a contender until it lasts about this long (seconds), so that the
#: clock's resolution and the per-batch overhead stay negligible.
MIN_BATCH_SECONDS = 0.01


class Unavailable(Exception):
    """A case cannot run yet: the pmm feature it measures is missing. The message says which."""


def require(namespace: Any, name: str) -> Any:
    """``namespace.name`` (e.g. ``require(pmm.nn, "MLP")``), or ``Unavailable`` naming it."""
    try:
        return getattr(namespace, name)
    except AttributeError:
        raise Unavailable(f"{namespace.__name__}.{name} is not available yet") from None


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table: the median seconds of each contender in one case.

    ``ratio`` is ``medians[subject] / medians[reference]``; ``target`` is the largest ratio the
    issue accepts (``None``: no target). ``note`` explains a skipped contender or a unit.

    Examples
    --------
    >>> row = Row("a", "Adam step", {"pmm": 1.0e-4, "raw": 1.0e-4}, target=1.05)
    >>> row.ratio, row.meets_target
    (1.0, True)
    """

    case: str
    title: str
    medians: Mapping[str, float]
    subject: str = "pmm"
    reference: str = "raw"
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        """``subject`` median over ``reference`` median (below 1: the subject is faster)."""
        return self.medians[self.subject] / self.medians[self.reference]

    def ratio_to(self, other: str) -> float:
        """``other``'s median over the reference median, e.g. Flax NNX's slowdown versus raw."""
        return self.medians[other] / self.medians[self.reference]

    @property
    def meets_target(self) -> bool | None:
        """Whether ``ratio <= target``; ``None`` when there is no target."""
        return None if self.target is None else self.ratio <= self.target


def interleaved(
    contenders: Mapping[str, Callable[[], object]],
    *,
    warmup: int = 3,
    rounds: int = 15,
    number: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each contender, measured interleaved.

    Parameters
    ----------
    contenders
        Name to a no-argument callable doing one unit of work (one train step, one save + load).
        Whatever it returns is waited for with ``jax.block_until_ready`` before the clock stops,
        so asynchronous dispatch cannot hide work.
    warmup
        Untimed calls of each contender first (compilation, caches, allocator).
    rounds
        Timed rounds. In each round every contender runs one batch of ``number`` calls; the
        order rotates by one each round so that none is always first or last.
    number
        Calls per batch. ``None`` picks, per contender, enough calls to last about
        ``MIN_BATCH_SECONDS`` judging by the slowest warm-up call (at least one).
    clock
        The timer (injectable for tests).

    Returns
    -------
    dict[str, float]
        The median over rounds of each batch's seconds per call, by contender name.

    Examples
    --------
    >>> interleaved({"noop": lambda: None}, warmup=1, rounds=2, number=5)["noop"] >= 0.0
    True
    """
    if not contenders:
        raise ValueError("interleaved needs at least one contender; got an empty mapping")
    if rounds < 1 or warmup < 0:
        raise ValueError(f"rounds must be >= 1 and warmup >= 0; got {rounds=}, {warmup=}")
    names = list(contenders)
    calls = {name: number or 1 for name in names}
    for name in names:
        slowest = 0.0
        for _ in range(warmup):
            start = clock()
            jax.block_until_ready(contenders[name]())
            slowest = max(slowest, clock() - start)
        if number is None and slowest > 0.0:
            calls[name] = max(1, int(MIN_BATCH_SECONDS / slowest))
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_batch(contenders[name], calls[name], clock))
    return {name: statistics.median(samples[name]) for name in names}


def _batch(work: Callable[[], object], calls: int, clock: Callable[[], float]) -> float:
    """Seconds per call of ``calls`` back-to-back calls, each one waited for."""
    start = clock()
    for _ in range(calls):
        jax.block_until_ready(work())
    return (clock() - start) / calls
