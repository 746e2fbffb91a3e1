"""Developer sessions: ``tests`` (the CI command), ``docs``, ``lint``, ``typecheck``, ``demo``,
``bench``."""

import logging

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "venv"
# nox looks for uv even for venv environments and logs "uv binary not found." when there is none,
# which reads like an error on a machine that needs no uv.
logging.getLogger("nox").addFilter(lambda record: record.getMessage() != "uv binary not found.")

#: Where the documentation site is built.
SITE = "docs/_build/html"


def build_docs(session: nox.Session) -> None:
    """Build the site strictly (every warning, a missing reference included, is an error), then
    check every link and anchor of the built HTML."""
    session.run("sphinx-build", "-b", "html", "-W", "--keep-going", "-n", "-q", "docs", SITE)
    session.run("linkchecker", "--config", "docs/linkchecker.cfg", f"{SITE}/index.html")


@nox.session
def tests(session: nox.Session) -> None:
    """Build the documentation site, then run the whole test suite (slow cases included, the
    checks of the built site too); extra arguments go to pytest."""
    session.install("-e", ".[test,docs]")
    build_docs(session)
    session.run("pytest", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build and check the documentation site into docs/_build/html, then run what the site
    shows: every docstring example, every code block of every page, and the check that the API
    reference lists every public name with its docstring."""
    session.install("-e", ".[test,docs]")
    build_docs(session)
    session.run("pytest", "-q", "pmm", "tests/test_docs_site.py", "tests/test_docs_examples.py")


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
