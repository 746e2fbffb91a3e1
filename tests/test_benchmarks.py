"""The benchmarks: the interleaved timer, the results table, and a quick smoke run of every case.

No assertion here is about speed: timings on a shared machine are noise. The smoke runs check
that every case runs at tiny sizes and reports a positive median for every contender.
"""

import math
import os
from collections.abc import Callable

import pytest

from benchmarks import __main__ as cli
from benchmarks import bench_step
from benchmarks.report import duration, headline, table
from benchmarks.timing import Row, Unavailable, interleaved


class FakeClock:
    """A clock that only moves when a contender's work says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def work(self, durations: list[float], log: list[str], name: str) -> Callable[[], None]:
        """Work that takes the next of ``durations`` seconds and logs ``name`` per call."""

        def call() -> None:
            log.append(name)
            self.now += durations.pop(0)

        return call


def test_interleaved_alternates_contenders_rotating_who_goes_first() -> None:
    clock, log = FakeClock(), []
    contenders = {name: clock.work([1.0] * 3, log, name) for name in "ab"}
    interleaved(contenders, warmup=0, rounds=3, number=1, clock=clock)
    assert log == ["a", "b", "b", "a", "a", "b"]


def test_interleaved_reports_the_median_over_rounds() -> None:
    clock, log = FakeClock(), []
    interleaved_medians = interleaved(
        {"a": clock.work([1.0, 9.0, 2.0], log, "a")}, warmup=0, rounds=3, number=1, clock=clock
    )
    assert interleaved_medians == {"a": 2.0}


def test_interleaved_leaves_warm_up_calls_out_of_the_median() -> None:
    clock, log = FakeClock(), []
    work = clock.work([100.0, 100.0, 3.0, 3.0, 3.0], log, "a")
    assert interleaved({"a": work}, warmup=2, rounds=3, number=1, clock=clock) == {"a": 3.0}


def test_interleaved_divides_each_batch_by_its_number_of_calls() -> None:
    clock, log = FakeClock(), []
    work = clock.work([1.0, 3.0, 2.0, 2.0], log, "a")
    assert interleaved({"a": work}, warmup=0, rounds=2, number=2, clock=clock) == {"a": 2.0}


def test_interleaved_batches_fast_work_to_last_long_enough() -> None:
    clock, log = FakeClock(), []
    work = clock.work([0.001] * 100, log, "a")
    interleaved({"a": work}, warmup=1, rounds=1, clock=clock)
    assert len(log) == 1 + 10  # MIN_BATCH_SECONDS = 0.01 of 1 ms calls


def test_interleaved_refuses_an_empty_mapping() -> None:
    with pytest.raises(ValueError, match="at least one contender"):
        interleaved({})


def test_row_ratio_is_subject_over_reference_against_the_target() -> None:
    row = Row("e", "io", {"pmm": 3.0, "numpy": 2.0}, reference="numpy", target=1.4)
    assert (row.ratio, row.meets_target) == (1.5, False)


def test_duration_picks_the_unit_with_three_significant_digits() -> None:
    assert [duration(s) for s in (2.5, 0.01234, 4.2e-5)] == ["2.5 s", "12.3 ms", "42 us"]


def test_table_marks_a_missed_target_and_lists_other_libraries_against_the_reference() -> None:
    row = Row("a", "step", {"pmm": 2e-4, "raw": 1e-4, "flax_nnx": 9e-4}, target=1.05)
    assert table([row]).splitlines()[2] == (
        "| a | step | 200 us | raw 100 us | 2.00 | <= 1.05 | **no** | Flax NNX 9.00x |"
    )


def test_headline_shows_each_library_of_the_train_step_rows_only() -> None:
    rows = [
        Row("a", "Adam train step, MLP", {"pmm": 1e-4, "raw": 1e-4, "equinox": 3e-4}),
        Row("e", "save + load", {"pmm": 1.0, "numpy": 1.0}, reference="numpy"),
    ]
    assert headline(rows).splitlines()[2:] == [
        "| MLP | 100 us (1.00x) | 100 us (1.00x) | n/a | 300 us (3.00x) |"
    ]


def test_a_library_that_is_not_installed_is_skipped_with_a_note(monkeypatch) -> None:
    def missing(sizes: object) -> None:
        raise ImportError("No module named 'equinox'")

    # Flax stands in as installed whether or not it is: the test extra does not install it.
    monkeypatch.setitem(bench_step.LIBRARIES, "flax_nnx", bench_step.raw_library)
    monkeypatch.setitem(bench_step.LIBRARIES, "equinox", missing)
    libraries, note = bench_step.available((2, 3, 1))
    assert sorted(libraries) == ["flax_nnx", "pmm", "raw"]
    assert note == "equinox not installed (pip install -e .[bench])"


@pytest.mark.slow
@pytest.mark.parametrize("suite", [suite for suite in cli.SUITES if suite != "scaling"])
def test_quick_run_reports_a_positive_median_for_every_contender(suite: str, tmp_path) -> None:
    try:
        rows = cli.run_suite(suite, quick=True, output=str(tmp_path))
    except Unavailable as reason:
        pytest.skip(str(reason))
    if isinstance(rows, tuple):  # rows and a markdown section with charts
        rows, section = rows
        assert all(f"({name})" in section for name in os.listdir(tmp_path))
    assert isinstance(rows, list) and rows
    for row in rows:
        assert all(math.isfinite(s) and s > 0 for s in row.medians.values()), row
        assert math.isfinite(row.ratio)


@pytest.mark.slow
def test_quick_scaling_run_writes_both_log_log_charts(tmp_path) -> None:
    section = cli.run_suite("scaling", quick=True, output=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scaling_batch.png", "scaling_matrix.png"]
    assert "(scaling_batch.png)" in section and "(scaling_matrix.png)" in section


def test_main_writes_results_with_machine_versions_and_table(tmp_path, capsys) -> None:
    cli.main(["--quick", "--only", "e", "--output", str(tmp_path)])
    text = (tmp_path / "results.md").read_text()
    assert "- Machine: " in text and "jax " in text and "| e | save + load" in text
