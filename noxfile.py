"""Developer sessions: ``tests`` (the CI command), ``lint``, ``typecheck``, ``demo``, ``bench``."""

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_venv = "yes"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (slow cases included); extra arguments go to pytest."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """pyright on the package."""
    session.install("-e", ".[demo]", "pyright")
    session.run("pyright", "pmm")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: ``python -m pmm.demo``; extra arguments go to the demo (try ``-- --help``)."""
    session.install("-e", ".[demo]")
    session.run("python", "-m", "pmm.demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against raw JAX, Flax NNX and Equinox; writes benchmarks/results.md."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
