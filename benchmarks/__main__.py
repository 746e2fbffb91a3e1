"""``python -m benchmarks``: run every case, print the table, write ``results.md`` and the charts.

Options: ``--quick`` (tiny sizes, a smoke run), ``--only CASE`` (repeatable; a suite name or a
case letter, see ``--help``), ``--output DIR`` (default: this package's directory).
"""

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from benchmarks.report import document, table
from benchmarks.timing import Row, Unavailable

#: Suite name -> (the module that measures it, the case letters it covers).
SUITES = {
    "step": ("benchmarks.bench_step", "ab"),
    "fit": ("benchmarks.bench_fit", "c"),
    "checks": ("benchmarks.bench_checks", "d"),
    "io": ("benchmarks.bench_io", "e"),
    "scaling": ("benchmarks.bench_scaling", "f"),
    "graph": ("benchmarks.bench_graph", "g"),
    "sequence": ("benchmarks.bench_sequence", "hi"),
    "conv": ("benchmarks.bench_conv", "j"),
    "eigensolver": ("benchmarks.bench_eigensolver", "klm"),
}
LETTERS = {letter: suite for suite, (_, letters) in SUITES.items() for letter in letters}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few rounds (smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*SUITES, *LETTERS],
        metavar="CASE",
        help=f"run only this suite ({', '.join(SUITES)}) or case letter ({''.join(LETTERS)}); "
        "repeatable",
    )
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--output", default=here, help="where results.md and the PNGs go")
    return parser.parse_args(argv)


def run_suite(suite: str, quick: bool, output: str) -> list[Row] | str | tuple[list[Row], str]:
    """The suite's rows, or its markdown section with charts written (``scaling``), or both
    (suites whose module sets ``WRITES_CHARTS``)."""
    module_name, _ = SUITES[suite]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise Unavailable(f"{module_name} is not written yet") from None
    if suite == "scaling" or getattr(module, "WRITES_CHARTS", False):
        return module.run(quick=quick, directory=output)
    return module.run(quick=quick)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen suites in order, then write ``<output>/results.md``."""
    arguments = parse(argv)
    chosen = {LETTERS.get(name, name) for name in arguments.only or SUITES}
    os.makedirs(arguments.output, exist_ok=True)
    rows: list[Row] = []
    sections: list[str] = []
    skipped: list[str] = []
    for suite in SUITES:
        if suite not in chosen:
            continue
        print(f"running {suite} ...", file=sys.stderr, flush=True)
        try:
            result = run_suite(suite, arguments.quick, arguments.output)
        except Unavailable as reason:
            skipped.append(f"{suite} (case {SUITES[suite][1]}): {reason}")
            continue
        if isinstance(result, tuple):
            result, section = result
            sections.append(section)
        if isinstance(result, str):
            sections.append(result)
        else:
            rows.extend(result)
            print(table(result), flush=True)
    path = os.path.join(arguments.output, "results.md")
    with open(path, "w") as file:
        file.write(document(rows, sections, skipped))
    for reason in skipped:
        print(f"not measured: {reason}", file=sys.stderr)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
