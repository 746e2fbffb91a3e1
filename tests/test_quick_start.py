"""The README's quick start: CI runs its test command, and it works where pip is refused (PEP 668).

A system Python that refuses ``pip install`` is reproduced with a virtual environment that pip
cannot tell from one: its ``sitecustomize`` makes the base prefix its own prefix (so pip does not
see a virtual environment) and its standard-library directory holds an ``EXTERNALLY-MANAGED``
marker, exactly as on recent Debian and Ubuntu.
"""

import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).parents[1]
COMMANDS = re.search(r"## Quick start.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def quick_start() -> dict[str, str]:
    """The quick start's commands by the nox session they end with (``demo``, ``tests``)."""
    assert COMMANDS, "README.md has no Quick start bash block"
    lines = [line.split("#")[0].strip() for line in COMMANDS.group(1).splitlines()]
    return {line.rsplit(" ", 1)[-1]: line for line in lines if line}


def test_ci_runs_exactly_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quick_start()["tests"] in ci


def test_both_commands_run_nox_from_a_virtual_environment_of_their_own():
    for command in quick_start().values():
        assert command.startswith("python3 -m venv .venv && .venv/bin/python -m pip install nox")


def externally_managed_python(directory: pathlib.Path) -> pathlib.Path:
    """A Python whose pip refuses to install, as a PEP 668 system Python does."""
    subprocess.run([sys.executable, "-m", "venv", directory], check=True)
    python = directory / "bin" / "python"
    paths = subprocess.run(
        [python, "-c", "import site, sysconfig; print(site.getsitepackages()[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    (pathlib.Path(paths[0]) / "sitecustomize.py").write_text(
        textwrap.dedent("""
            import sys
            sys.base_prefix = sys.base_exec_prefix = sys.prefix
        """)
    )
    stdlib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    pathlib.Path(stdlib).mkdir(parents=True, exist_ok=True)
    (pathlib.Path(stdlib) / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=this Python is managed by the system\n"
    )
    return python


@pytest.mark.slow
def test_the_quick_start_works_where_the_system_python_refuses_pip(tmp_path):
    system = externally_managed_python(tmp_path / "system")
    refused = subprocess.run(
        [system, "-m", "pip", "install", "nox"], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr
    command = quick_start()["tests"].replace("-s tests", "--version")
    bin_directory = tmp_path / "bin"
    bin_directory.mkdir()
    (bin_directory / "python3").symlink_to(system)
    environment = {**os.environ, "PATH": f"{bin_directory}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
